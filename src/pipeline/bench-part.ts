/**
 * `prune-gate bench --candidate --out`: the committed model and the candidate timed interleaved on
 * this runner, as `run` times them (the config's bench settings, its evaluation inputs), written
 * as bench.json tagged with the runner kind and the machine's fingerprint. `merge` keeps one
 * latency section per runner kind: timings from different machines are never pooled.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchLatency } from '../evaluate/latency.js';
import { machineInfo } from '../evaluate/machine.js';
import { InputError } from '../util/errors.js';
import { partFingerprint } from './fingerprint.js';
import { writePart, type BenchPart } from './parts.js';
import { prepare } from './prepare.js';
import { benchSettings } from './search.js';
import { comparisons } from './ship.js';

export interface BenchPartOptions {
  configPath: string;
  candidate: string;
  outDir: string;
  /** The runner kind, e.g. linux-arm64; default RUNNER_OS-RUNNER_ARCH on Actions, else platform-arch. */
  runner?: string;
  log?: (message: string) => void;
}

export async function runBenchPart(options: BenchPartOptions): Promise<{ file: string; part: BenchPart }> {
  const runner = options.runner ?? defaultRunnerKind();
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(runner)) throw new InputError(`--runner ${runner}: use letters, digits, '.', '_' and '-' (e.g. linux-arm64)`, '--runner');
  if (!fs.existsSync(options.candidate) || !fs.statSync(options.candidate).isFile()) throw new InputError(`--candidate ${options.candidate}: no such file; pass the model.onnx \`prune-gate search\` wrote`, options.candidate);
  const p = await prepare(options.configPath, { calibration: false });
  const { config } = p;
  options.log?.(`benchmarking ${path.basename(config.model)} against ${options.candidate} on ${runner} (batch sizes ${config.bench.batchSizes.join(', ')})`);
  const bench = await benchLatency({ ...benchSettings(p), models: [{ model: config.model, label: 'original' }, { model: path.resolve(options.candidate), label: 'candidate' }] });
  const machine = machineInfo({ intraOpThreads: bench.intraOpThreads, interOpThreads: bench.interOpThreads });
  const { arch: _arch, ...info } = machine;
  const part: BenchPart = {
    schemaVersion: 1,
    kind: 'bench',
    fingerprint: partFingerprint(config, options.candidate),
    runner: { kind: runner, fingerprint: machine.fingerprint, machine: info },
    latency: comparisons(bench),
  };
  const file = writePart(options.outDir, part);
  options.log?.(`wrote ${file}`);
  return { file, part };
}

/** linux-x64, linux-arm64, ...: GitHub's RUNNER_OS and RUNNER_ARCH when set, else Node's platform and arch. */
export function defaultRunnerKind(env: NodeJS.ProcessEnv = process.env): string {
  const os = env.RUNNER_OS ?? process.platform;
  const arch = env.RUNNER_ARCH ?? process.arch;
  return `${os}-${arch}`.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
}
