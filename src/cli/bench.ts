/** `prune-gate bench`: latency of a model, or of two compared in the same process, with intervals. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../util/errors.js';
import { CONFIG_DEFAULTS, loadConfig, parseDuration } from '../config/index.js';
import { loadDataset } from '../evaluate/data.js';
import { benchLatency, type BenchOptions, type BenchResult } from '../evaluate/latency.js';
import { isTargetName, namesTargets, setWebThreads, TARGET_NAMES, type TargetName } from '../evaluate/targets.js';
import { describeMachine, machineInfo, type MachineDetails } from '../evaluate/machine.js';
import { runBenchPart } from '../pipeline/bench-part.js';
import { runAction } from './command-runner.js';
import { progress } from './progress.js';

interface BenchCliOptions {
  model?: string;
  candidate?: string;
  out?: string;
  runner?: string;
  quiet?: boolean;
  vs?: string;
  config?: string;
  batchSizes?: string;
  timeBudget?: string;
  threads?: string;
  minRuns?: string;
  precision?: string;
  json?: boolean;
  target?: string;
  vsTarget?: string;
}

export function registerBenchCommand(program: Command): Command {
  return program
    .command('bench')
    .description('Measure latency (P50/P95/P99, throughput); with --vs, compare two models interleaved in one process; with --candidate and --out, write a bench part of the config\'s model against the candidate for merge.')
    .option('--model <file>', 'model A (the baseline when comparing)')
    .option('--candidate <file>', "with --config and --out: the candidate (search's model.onnx), timed against the config's model as run times it")
    .option('-o, --out <dir>', 'with --candidate: output folder for bench.json')
    .option('--runner <kind>', 'with --candidate: the runner kind the part is tagged with (default RUNNER_OS-RUNNER_ARCH, else platform-arch)')
    .option('-q, --quiet', 'no progress messages on stderr', false)
    .option('--vs <file>', 'model B: ratios are B / A with bootstrap 95% intervals')
    .option('--config <file>', 'prune-gate.yml: bench settings and real evaluation inputs')
    .option('--batch-sizes <list>', 'comma-separated, e.g. 1,32')
    .option('--time-budget <duration>', 'per model and batch size, e.g. 10s, 2m')
    .option('--threads <n>', 'intra-op threads (inter-op is 1)')
    .option('--min-runs <n>', 'minimum measured runs per model and batch size')
    .option('--precision <fraction>', 'stop early when the 95% CI half-width of the P95 (ratio) is below this fraction')
    .option('--target <name>', 'runtime target of model A: native (default) or wasm (onnxruntime-web, --threads threads)')
    .option('--vs-target <name>', "runtime target of model B (default: --target's); --vs A --vs-target wasm gives A's WASM/native ratio")
    .option('--json', 'print JSON instead of a table')
    .action(runAction(async (options: BenchCliOptions) => {
      if (options.candidate !== undefined || options.out !== undefined) {
        if (options.candidate === undefined || options.out === undefined || options.config === undefined) throw new InputError('bench --candidate writes a part for merge: give --candidate, --config and --out together', '--candidate');
        const { file, part } = await runBenchPart({ configPath: options.config, candidate: options.candidate, outDir: options.out, runner: options.runner, log: progress(Boolean(options.quiet)) });
        process.stdout.write(`wrote ${file}: ${part.runner.kind} (machine ${part.runner.fingerprint}), batch sizes ${part.latency.map((l) => l.batchSize).join(', ')}\n`);
        return;
      }
      process.stdout.write(await runBench(options));
    }));
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`${flag} must be a positive integer (got '${value}')`, flag);
  return n;
}

export async function runBench(options: BenchCliOptions): Promise<string> {
  if (options.model === undefined) throw new InputError("bench: give --model (and --vs to compare), or --candidate with --config and --out for a merge part", '--model');
  const model = options.model;
  const config = options.config ? loadConfig(options.config) : undefined;
  const bench = config?.bench ?? CONFIG_DEFAULTS.bench;
  for (const [flag, file] of [['--model', model], ['--vs', options.vs]] as const) {
    if (file !== undefined && !fs.existsSync(file)) throw new InputError(`${flag} ${file}: no such file`, file);
  }
  const batchSizes = options.batchSizes ? options.batchSizes.split(',').map((s) => positiveInt(s.trim(), '--batch-sizes')) : bench.batchSizes;
  const timeBudgetMs = options.timeBudget ? parseDuration(/^\d+(\.\d+)?$/.test(options.timeBudget) ? Number(options.timeBudget) : options.timeBudget, '--time-budget') : bench.timeBudgetMs;
  const threads = options.threads ? positiveInt(options.threads, '--threads') : bench.threads;
  const minRuns = options.minRuns ? positiveInt(options.minRuns, '--min-runs') : bench.minRuns;
  let precision = bench.precision;
  if (options.precision !== undefined) {
    precision = Number(options.precision);
    if (!(precision >= 0 && precision < 1)) throw new InputError(`--precision must be a fraction in [0, 1) (got '${options.precision}')`, '--precision');
  }
  const target = targetOption(options.target, '--target') ?? 'native';
  const vsTarget = targetOption(options.vsTarget, '--vs-target') ?? target;
  const named = namesTargets([target, vsTarget]);
  if (target === 'wasm' || vsTarget === 'wasm') setWebThreads(threads);
  const inputs = config?.data.eval ? loadDataset(config.data.eval) : undefined;
  const a = { model: path.resolve(model), label: named ? `${model} (${target})` : model, target };
  const models: BenchOptions['models'] = options.vs ? [a, { model: path.resolve(options.vs), label: named ? `${options.vs} (${vsTarget})` : options.vs, target: vsTarget }] : [a];
  const result = await benchLatency({ models, batchSizes, timeBudgetMs, threads, minRuns, precision, warmup: bench.warmup, inputs, seed: config?.seed ?? 0 });
  const machine = machineInfo({ intraOpThreads: threads, interOpThreads: 1 });
  if (options.json) {
    const batches = result.batches.map(({ samplesMs: _samples, ...rest }) => rest);
    return JSON.stringify({ machine, inputs: inputs ? 'evaluation data' : 'generated', ...result, batches }, null, 2) + '\n';
  }
  return formatBench(result, machine, inputs ? 'evaluation data' : 'generated random inputs');
}

export function formatBench(result: BenchResult, machine: MachineDetails, inputs: string): string {
  const lines: string[] = [];
  lines.push(`machine: ${describeMachine(machine)} (fingerprint ${machine.fingerprint})`);
  lines.push(`inputs: ${inputs}; threads: ${result.intraOpThreads} intra-op, ${result.interOpThreads} inter-op`);
  lines.push('');
  const labelWidth = Math.max(5, ...result.labels.map((l) => l.length));
  const head = `${'batch'.padStart(5)}  ${'model'.padEnd(labelWidth)}  ${'P50 ms'.padStart(9)}  ${'P95 ms'.padStart(9)}  ${'P99 ms'.padStart(9)}  ${'mean ms'.padStart(9)}  ${'items/s'.padStart(10)}  ${'runs'.padStart(6)}  ${'energy/run'.padStart(13)}`;
  lines.push(head);
  for (const b of result.batches) {
    b.stats.forEach((s, i) => {
      const e = b.energy[i];
      const energy = e.joulesPerRequest !== undefined ? `${(e.joulesPerRequest * 1000).toFixed(3)} mJ` : `${(e.cpuSecondsPerRequest * 1000).toFixed(3)} CPU ms`;
      lines.push(
        `${String(b.batchSize).padStart(5)}  ${result.labels[i].padEnd(labelWidth)}  ${ms(s.p50)}  ${ms(s.p95)}  ${ms(s.p99)}  ${ms(s.mean)}  ${s.throughput.toFixed(1).padStart(10)}  ${String(s.runs).padStart(6)}  ${energy.padStart(13)}`,
      );
    });
    if (b.comparison) {
      const r = b.comparison.ratios;
      const f = (x: { value: number; interval: { low: number; high: number } }) => `${x.value.toFixed(3)} [${x.interval.low.toFixed(3)}, ${x.interval.high.toFixed(3)}]`;
      lines.push(`${''.padStart(5)}  ${'B/A'.padEnd(labelWidth)}  P50 ${f(r.p50)}  P95 ${f(r.p95)}  P99 ${f(r.p99)}  (95% bootstrap CI; stopped by ${b.stoppedBy})`);
    } else lines.push(`${''.padStart(5)}  ${''.padEnd(labelWidth)}  (stopped by ${b.stoppedBy})`);
  }
  return lines.join('\n') + '\n';
}

function targetOption(value: string | undefined, flag: string): TargetName | undefined {
  if (value === undefined) return undefined;
  if (!isTargetName(value)) throw new InputError(`${flag} ${value}: not a runtime target; use ${TARGET_NAMES.join(' or ')}`, flag);
  return value;
}

function ms(v: number): string {
  return (v >= 100 ? v.toFixed(1) : v >= 1 ? v.toFixed(3) : v.toFixed(4)).padStart(9);
}
