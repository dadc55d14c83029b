/**
 * Energy per request. Intel/AMD RAPL package counters (/sys/class/powercap/intel-rapl:N/energy_uj)
 * when readable (often root-only, absent in most VMs); otherwise the CPU seconds the process used,
 * labelled as a proxy: on a shared runner it is the quantity that scales with energy.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const POWERCAP = '/sys/class/powercap';

interface RaplDomain {
  file: string;
  maxUj: number;
}

/** Top-level package domains only (intel-rapl:N): their sub-domains (cores, dram) are inside them. */
export function raplDomains(root = POWERCAP): RaplDomain[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return [];
  }
  const out: RaplDomain[] = [];
  for (const e of entries.filter((d) => /^intel-rapl:\d+$/.test(d)).sort()) {
    const file = path.join(root, e, 'energy_uj');
    try {
      Number(fs.readFileSync(file, 'utf8'));
      const maxUj = Number(fs.readFileSync(path.join(root, e, 'max_energy_range_uj'), 'utf8')) || Number.MAX_SAFE_INTEGER;
      out.push({ file, maxUj });
    } catch {
      // Not readable (permissions): RAPL is not available to us.
    }
  }
  return out;
}

export function raplAvailable(root = POWERCAP): boolean {
  return raplDomains(root).length > 0;
}

export interface EnergyReading {
  source: 'rapl' | 'cpu-seconds';
  /** Joules over the interval (RAPL only; whole package, so other processes count too). */
  joules?: number;
  /** User + system CPU seconds of this process over the interval. */
  cpuSeconds: number;
  wallSeconds: number;
}

export class EnergyMeter {
  private constructor(
    private readonly domains: RaplDomain[],
    private readonly startUj: number[],
    private readonly startCpu: NodeJS.CpuUsage,
    private readonly startWall: bigint,
  ) {}

  static start(root = POWERCAP): EnergyMeter {
    const domains = raplDomains(root);
    return new EnergyMeter(domains, domains.map(readUj), process.cpuUsage(), process.hrtime.bigint());
  }

  stop(): EnergyReading {
    const cpu = process.cpuUsage(this.startCpu);
    const wallSeconds = Number(process.hrtime.bigint() - this.startWall) / 1e9;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    if (!this.domains.length) return { source: 'cpu-seconds', cpuSeconds, wallSeconds };
    let uj = 0;
    this.domains.forEach((d, i) => {
      const now = readUj(d);
      // The counter wraps at max_energy_range_uj.
      uj += now >= this.startUj[i] ? now - this.startUj[i] : now + d.maxUj - this.startUj[i];
    });
    return { source: 'rapl', joules: uj / 1e6, cpuSeconds, wallSeconds };
  }
}

function readUj(d: RaplDomain): number {
  return Number(fs.readFileSync(d.file, 'utf8'));
}

export interface EnergyPerRequest {
  source: 'rapl' | 'cpu-seconds';
  requests: number;
  joulesPerRequest?: number;
  cpuSecondsPerRequest: number;
}

/** Runs `request` `count` times and divides. */
export async function measureEnergy(request: () => Promise<unknown>, count: number, root = POWERCAP): Promise<EnergyPerRequest> {
  const meter = EnergyMeter.start(root);
  for (let i = 0; i < count; i++) await request();
  const r = meter.stop();
  return { source: r.source, requests: count, joulesPerRequest: r.joules !== undefined ? r.joules / count : undefined, cpuSecondsPerRequest: r.cpuSeconds / count };
}

/**
 * Accumulates energy per model across interleaved runs: call `around` with each run. CPU time
 * is read outside the timed window by the caller's convention (this adds a few microseconds).
 */
export class RunEnergy {
  private cpuMicros = 0;
  private uj = 0;
  private runs = 0;
  private readonly domains: RaplDomain[];

  constructor(root = POWERCAP) {
    this.domains = raplDomains(root);
  }

  async around<T>(run: () => Promise<T>): Promise<T> {
    const e0 = this.domains.map(readUj);
    const c0 = process.cpuUsage();
    const out = await run();
    const c = process.cpuUsage(c0);
    this.domains.forEach((d, i) => {
      const now = readUj(d);
      this.uj += now >= e0[i] ? now - e0[i] : now + d.maxUj - e0[i];
    });
    this.cpuMicros += c.user + c.system;
    this.runs++;
    return out;
  }

  result(): EnergyPerRequest {
    return {
      source: this.domains.length ? 'rapl' : 'cpu-seconds',
      requests: this.runs,
      joulesPerRequest: this.domains.length && this.runs ? this.uj / 1e6 / this.runs : undefined,
      cpuSecondsPerRequest: this.runs ? this.cpuMicros / 1e6 / this.runs : 0,
    };
  }
}
