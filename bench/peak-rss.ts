import * as fs from 'node:fs';

/**
 * Peak RSS of this process in bytes. VmHWM belongs to the current address space; getrusage's
 * maxrss survives exec, so a benchmark child spawned by a parent that had grown to 900 MB reported
 * 900 MB before it did anything, and a pass's growth above that baseline read as zero.
 */
export function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS * 1024;
}
