/**
 * What the measurements ran on: CPU model, cores, the ISA features that decide which int8/int4
 * kernels ORT picks (AVX2, AVX-512, VNNI, AMX; NEON/dot-product on ARM), runtime versions, and a
 * stable fingerprint so a baseline measured elsewhere is recognised as not comparable.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { raplAvailable } from './energy.js';
import { runtimeVersion } from './session.js';
import type { MachineInfo } from './types.js';

export interface MachineDetails extends MachineInfo {
  arch: string;
  /** Short hash of CPU model, cores, ISA flags, ORT version, Node major version and platform. */
  fingerprint: string;
}

export function cpuFlags(cpuinfo?: string): Set<string> {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return new Set();
    }
  }
  const line = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(text)?.[1] ?? '';
  return new Set(line.split(/\s+/).filter(Boolean));
}

export function isaFromFlags(flags: Set<string>, arch = process.arch): MachineInfo['isa'] {
  return {
    avx2: flags.has('avx2'),
    avx512: flags.has('avx512f'),
    vnni: flags.has('avx512_vnni') || flags.has('avx_vnni') || flags.has('avx512vnni'),
    amx: flags.has('amx_tile') || flags.has('amx_int8'),
    ...(arch === 'arm64' ? { neon: flags.has('asimd') || flags.size === 0 } : {}),
  };
}

export function machineInfo(options: { intraOpThreads?: number; interOpThreads?: number; cpuinfo?: string } = {}): MachineDetails {
  const cpus = os.cpus();
  const text = options.cpuinfo;
  const modelFromProc = text !== undefined ? /^model name\s*:\s*(.*)$/m.exec(text)?.[1] : undefined;
  const cpuModel = (modelFromProc ?? cpus[0]?.model ?? 'unknown').trim();
  const isa = isaFromFlags(cpuFlags(text));
  let ortVersion = 'unavailable';
  try {
    ortVersion = runtimeVersion();
  } catch {
    // The report still names the machine when the native runtime is missing.
  }
  const info: MachineInfo = {
    cpuModel,
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    isa,
    ortVersion,
    nodeVersion: process.version,
    platform: `${process.platform}-${process.arch}`,
    intraOpThreads: options.intraOpThreads ?? 1,
    interOpThreads: options.interOpThreads ?? 1,
    energySource: raplAvailable() ? 'rapl' : 'cpu-seconds',
  };
  return { ...info, arch: process.arch, fingerprint: machineFingerprint(info) };
}

/**
 * Equal fingerprints: latency numbers are comparable. Thread counts are part of it (they change
 * latency); the Node version is not (ONNX Runtime's native code does the work).
 */
export function machineFingerprint(info: MachineInfo): string {
  const isa = Object.entries(info.isa)
    .filter(([, v]) => v)
    .map(([k]) => k)
    .sort()
    .join('+');
  const canonical = [info.cpuModel.trim(), info.cores, isa, `ort${info.ortVersion}`, info.platform, `t${info.intraOpThreads}x${info.interOpThreads}`].join('|');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** One line for reports: "AMD EPYC 7B13, 2 cores, AVX2, ORT 1.30.0, Node v20.19.2, linux-x64, 1 thread". */
export function describeMachine(info: MachineInfo): string {
  const isa = [info.isa.avx512 ? 'AVX-512' : info.isa.avx2 ? 'AVX2' : undefined, info.isa.vnni ? 'VNNI' : undefined, info.isa.amx ? 'AMX' : undefined, info.isa.neon ? 'NEON' : undefined].filter(Boolean).join('+') || 'no AVX2';
  return `${info.cpuModel}, ${info.cores} cores, ${isa}, ORT ${info.ortVersion}, Node ${info.nodeVersion}, ${info.platform}, ${info.intraOpThreads} intra-op thread${info.intraOpThreads === 1 ? '' : 's'}`;
}
