/**
 * Latency of one model, or of two models compared in the same process: same session options
 * (pinned intra-op threads, inter-op 1, optimization 'all', no spinning), warm-up, then
 * interleaved runs on the same feeds in ABBA order so drift (thermal, other tenants) hits both
 * alike. Stops at the time budget once `minRuns` are in, or earlier when the 95% interval of the
 * P95 (ratio) is narrower than `precision`.
 */
import { InputError } from '../util/errors.js';
import { castArray, sampleSize, type Dataset } from './data.js';
import { RunEnergy, type EnergyPerRequest } from './energy.js';
import { bitwiseUniform } from './rng.js';
import { ModelSession, type ElementType, type Feeds, type IoInfo, type SessionOptions } from './session.js';
import { webThreadCount, type TargetName } from './targets.js';
import { percentileInterval, percentileRatios, quantileSorted } from './stats.js';
import type { LatencyComparison, LatencyStats } from './types.js';

/** A model, or a model with its label and runtime target (default: the options' target; two targets of one model give the runtimes' ratio). */
export type BenchModel = string | Uint8Array | { model: string | Uint8Array; label?: string; target?: TargetName };

export interface BenchOptions {
  /**
   * [A] alone, or [A, B]: ratios are B / A (A is the reference). [A, B, C]: C is a second
   * reference for A, measured interleaved with both (the base branch's model against the PR's):
   * `comparison` is still B / A, and `firstVsThird` is A / C.
   */
  models: [BenchModel] | [BenchModel, BenchModel] | [BenchModel, BenchModel, BenchModel];
  batchSizes: number[];
  /** Per model and batch size. */
  timeBudgetMs: number;
  minRuns?: number;
  /** Upper bound on measured runs per model and batch size (default 50,000: bounds memory and the bootstrap). */
  maxRuns?: number;
  /** Warm-up runs per model and batch size (not measured). */
  warmup?: number;
  /**
   * Sessions are created afresh this many times (default 8 when comparing, 1 alone), alternating
   * which model's session is created first; budget and minimum runs are split between rounds.
   * A session carries a small effect of its own (memory placement, creation order: 1-3 %, at
   * times 5 %) that more runs of the same session never average out: over 30 A/A trials with 2
   * rounds the P95 ratio's spread was 1.25x what a bootstrap over runs predicted. So the rounds
   * are also the bootstrap's clusters: each resample draws rounds with replacement, then blocks of
   * runs within them, and the interval carries the round-to-round spread. With 4 rounds the A/A
   * bench still saw 2 false alarms in 20 (4 clusters estimate that spread poorly); with 8, none
   * in 40, and a 15 % slowdown was still caught 40 times in 40.
   */
  rounds?: number;
  /** Relative half-width of the 95% CI of the P95 (ratio) below which to stop early; 0 disables. */
  precision?: number;
  threads?: number;
  /** The runtime the models run on (default native); wasm runs the threads set once per process (setWebThreads), not `threads`. */
  target?: TargetName;
  /** Real inputs (the first samples, tiled to the batch size); otherwise seeded random feeds. */
  inputs?: Dataset;
  /** Sizes for symbolic non-batch dimensions of generated feeds, by dimension name. */
  dims?: Record<string, number>;
  seed?: number;
  session?: Omit<SessionOptions, 'intraOpThreads' | 'interOpThreads' | 'target'>;
  /** Progress: after each round (elapsed, and an estimate of what is left), then each batch size's P50s. */
  onProgress?: (message: string) => void;
}

export type StopReason = 'precision' | 'budget' | 'hard-cap' | 'max-runs';

export interface BatchLatency {
  batchSize: number;
  /** One per model, in the order given. */
  stats: LatencyStats[];
  comparison?: LatencyComparison;
  /** With three models: the first against the third (ratios A / C). */
  firstVsThird?: LatencyComparison;
  stoppedBy: StopReason;
  /** Per-run milliseconds, per model (for reports and further statistics). */
  samplesMs: number[][];
  /** Energy per run (one batch), per model: RAPL joules where readable, else CPU seconds as the proxy. */
  energy: EnergyPerRequest[];
}

export interface BenchResult {
  target: TargetName;
  labels: string[];
  intraOpThreads: number;
  interOpThreads: number;
  batches: BatchLatency[];
}

/** Stop regardless of precision after this many budgets, once a handful of runs are in. */
const HARD_CAP_BUDGETS = 4;
const HARD_CAP_MIN_RUNS = 5;
const MAX_RUNS = 50_000;
const COMPARISON_ROUNDS = 8;

export async function benchLatency(options: BenchOptions): Promise<BenchResult> {
  const target = options.target ?? 'native';
  // Native threads as asked; the WebAssembly runtime's are process-wide (targets.ts, setWebThreads).
  const threads = options.threads ?? 1;
  const specs = options.models.map((m, i) =>
    typeof m === 'string' || m instanceof Uint8Array
      ? { model: m, label: typeof m === 'string' ? m : `model ${String.fromCharCode(65 + i)}`, target }
      : { model: m.model, label: m.label ?? `model ${String.fromCharCode(65 + i)}`, target: m.target ?? target },
  );
  const rounds = Math.max(1, options.rounds ?? (specs.length >= 2 ? COMPARISON_ROUNDS : 1));
  const acc: Accumulator[] = options.batchSizes.map(() => ({ samples: specs.map(() => []), roundStarts: [], energy: specs.map(() => new RunEnergy()), stoppedBy: 'budget' }));
  const started = performance.now();
  for (let r = 0; r < rounds; r++) {
    // The session created second ran 1-3% faster than an identical one created first (measured,
    // order-independent): alternate the creation order between rounds so that bias cancels.
    const creation = r % 2 === 1 ? specs.map((_, k) => specs.length - 1 - k) : specs.map((_, k) => k);
    const sessions: ModelSession[] = new Array(specs.length);
    try {
      for (const k of creation) sessions[k] = await ModelSession.create(specs[k].model, { ...options.session, label: specs[k].label, intraOpThreads: threads, interOpThreads: 1, target: specs[k].target });
      for (let b = 0; b < options.batchSizes.length; b++) {
        const batchSize = options.batchSizes[b];
        const feeds = sessions.map((s) => feedsFor(s.inputs, s.label, batchSize, options));
        await measureRound(sessions, feeds, acc[b], options, rounds, r === rounds - 1);
      }
    } finally {
      for (const s of sessions) await s?.release();
    }
    const elapsed = (performance.now() - started) / 1000;
    if (rounds > 1) options.onProgress?.(`benchmark round ${r + 1}/${rounds} (${specs.length} models, ${options.batchSizes.length} batch size${options.batchSizes.length > 1 ? 's' : ''}): ${elapsed.toFixed(1)} s, about ${((elapsed / (r + 1)) * (rounds - r - 1)).toFixed(1)} s left`);
  }
  const batches = options.batchSizes.map((batchSize, b) => summarize(acc[b], batchSize, options.seed ?? 0));
  for (const b of batches) options.onProgress?.(`batch ${b.batchSize}: ${b.stats.map((st) => `${st.p50.toFixed(3)} ms`).join(' vs ')}`);
  return { target, labels: specs.map((s) => s.label), intraOpThreads: target === 'native' ? threads : webThreadCount(), interOpThreads: 1, batches };
}

interface Accumulator {
  samples: number[][];
  /** Index of each round's first run in `samples` (the bootstrap's clusters). */
  roundStarts: number[];
  energy: RunEnergy[];
  stoppedBy: StopReason;
}

async function timeRun(session: ModelSession, feeds: Feeds, energy: RunEnergy): Promise<number> {
  // The energy counters are read outside the timed window.
  let ms = 0;
  await energy.around(async () => {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
  });
  return ms;
}

/** One round: its share of the budget and of the minimum runs; the precision rule only in the last round (balanced rounds). */
async function measureRound(sessions: ModelSession[], feeds: Feeds[], acc: Accumulator, options: BenchOptions, rounds: number, last: boolean): Promise<void> {
  const warmup = options.warmup ?? 10;
  const minRuns = Math.max(2, options.minRuns ?? 30);
  const roundMinRuns = Math.max(1, Math.ceil(minRuns / rounds));
  const maxRuns = Math.max(minRuns, options.maxRuns ?? MAX_RUNS);
  const roundMaxRuns = Math.max(roundMinRuns, Math.ceil(maxRuns / rounds));
  const precision = options.precision ?? 0.02;
  const budgetNs = (BigInt(Math.round(options.timeBudgetMs * 1e6)) * BigInt(sessions.length)) / BigInt(rounds);
  for (let w = 0; w < warmup; w++) for (let m = 0; m < sessions.length; m++) await sessions[m].run(feeds[m]);
  const samples = acc.samples;
  acc.roundStarts.push(samples[0].length);
  const start = process.hrtime.bigint();
  let nextCheck = minRuns;
  for (let i = 0; ; i++) {
    // ABBA (ABC CBA with three): alternate which model goes first, so none always runs on a cache warmed by another.
    const order = i % 2 === 1 ? sessions.map((_, k) => sessions.length - 1 - k) : sessions.map((_, k) => k);
    for (const m of order) samples[m].push(await timeRun(sessions[m], feeds[m], acc.energy[m]));
    const runs = i + 1;
    const elapsed = process.hrtime.bigint() - start;
    if (runs >= roundMinRuns && elapsed >= budgetNs) break;
    if (runs >= HARD_CAP_MIN_RUNS && elapsed >= budgetNs * BigInt(HARD_CAP_BUDGETS)) {
      acc.stoppedBy = 'hard-cap';
      return;
    }
    if (runs >= roundMaxRuns) {
      acc.stoppedBy = 'max-runs';
      return;
    }
    const total = samples[0].length;
    if (last && precision > 0 && total >= nextCheck) {
      // Checking costs a bootstrap; do it at geometrically spaced run counts.
      nextCheck = Math.ceil(total * 1.25);
      if (relativeHalfWidth(samples, acc.roundStarts, options.seed ?? 0) < precision) {
        acc.stoppedBy = 'precision';
        return;
      }
    }
  }
  if (acc.stoppedBy !== 'hard-cap') acc.stoppedBy = 'budget';
}

function summarize(acc: Accumulator, batchSize: number, seed: number): BatchLatency {
  const samples = acc.samples;
  const stats = samples.map((s) => latencyStats(s, batchSize));
  const compare = (ref: number, other: number): LatencyComparison => {
    const [p50, p95, p99] = percentileRatios(samples[ref], samples[other], [0.5, 0.95, 0.99], { seed, resamples: 2000, blockLength: blockLength(samples[0].length), clusters: acc.roundStarts });
    return { batchSize, reference: stats[ref], candidate: stats[other], ratios: { p50, p95, p99 } };
  };
  const comparison = samples.length >= 2 ? compare(0, 1) : undefined;
  const firstVsThird = samples.length === 3 ? compare(2, 0) : undefined;
  return { batchSize, stats, comparison, ...(firstVsThird && { firstVsThird }), stoppedBy: acc.stoppedBy, samplesMs: samples, energy: acc.energy.map((e) => e.result()) };
}

/** Blocks of about sqrt(n) consecutive runs: long enough to keep a burst of interference together. */
export function blockLength(n: number): number {
  return Math.max(1, Math.round(Math.sqrt(n)));
}

/** The widest of the P95 intervals reported (each ratio with two or three models, the P95 alone with one). */
function relativeHalfWidth(samples: number[][], clusters: number[], seed: number): number {
  const options = { seed, resamples: 200, blockLength: blockLength(samples[0].length), clusters };
  const half = (r: { value: number; interval: { low: number; high: number } }) => (r.interval.high - r.interval.low) / 2 / r.value;
  if (samples.length === 1) return half(percentileInterval(samples[0], 0.95, options));
  const pairs = samples.length === 3 ? [[0, 1], [2, 0]] : [[0, 1]];
  return Math.max(...pairs.map(([a, b]) => half(percentileRatios(samples[a], samples[b], [0.95], options)[0])));
}

export function latencyStats(samplesMs: number[], batchSize: number): LatencyStats {
  const sorted = Float64Array.from(samplesMs).sort();
  const mean = samplesMs.reduce((a, b) => a + b, 0) / samplesMs.length;
  return {
    batchSize,
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    mean,
    throughput: (batchSize * 1000) / mean,
    runs: samplesMs.length,
  };
}

/** Feeds of `batchSize` samples: real data (first samples, tiled) or seeded random values. */
export function feedsFor(inputs: IoInfo[], label: string, batchSize: number, options: Pick<BenchOptions, 'inputs' | 'dims' | 'seed'>): Feeds {
  if (options.inputs) {
    const ds = options.inputs.forModel(inputs, label);
    if (ds.fixedBatch !== undefined && ds.fixedBatch !== batchSize) {
      throw new InputError(`${label}: the model's batch dimension is fixed at ${ds.fixedBatch}; benchmark it with --batch-sizes ${ds.fixedBatch}`, label);
    }
    return tile(ds, batchSize);
  }
  const rand = bitwiseUniform(options.seed ?? 0);
  const feeds: Feeds = {};
  for (const input of inputs) {
    const dims = input.shape.map((d, k) => {
      if (typeof d === 'number' && d > 0) {
        if (k === 0 && d !== batchSize) throw new InputError(`${label}: input '${input.name}' fixes the batch dimension at ${d}; benchmark it with --batch-sizes ${d}`, label);
        return d;
      }
      if (k === 0) return batchSize;
      const named = typeof d === 'string' ? options.dims?.[d] : undefined;
      if (named === undefined) throw new InputError(`${label}: input '${input.name}' has a free dimension ${k} ('${String(d)}'); give evaluation data (--config) so real shapes are used`, label);
      return named;
    });
    const n = sampleSize(dims);
    const type = input.type as ElementType;
    const floats = Float64Array.from({ length: n }, () => rand());
    const data = type === 'float32' || type === 'float64' ? castArray(floats, type) : castArray(new Float64Array(n), type);
    feeds[input.name] = { type, dims, data: data as Feeds[string]['data'] };
  }
  return feeds;
}

/** The first `batchSize` samples as one run (cycling through the data when it has fewer); a test_data_set's first set as it is. */
function tile(ds: Dataset, batchSize: number): Feeds {
  const data = ds.count >= batchSize || ds.sets ? ds : ds.cycled(batchSize);
  return data.batches(batchSize).next().value as Feeds;
}
