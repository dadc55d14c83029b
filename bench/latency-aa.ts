/**
 * The latency gate's own check. A/A: the same model against a byte-identical copy of itself,
 * `REPEATS` independent bench runs with the product's default stopping rule, each judged by the
 * gate's latency rule with a goal of 1.0 ("no slower than the reference": fail only when the whole
 * 95% interval of the P95 ratio is above it). A false alarm is a red build from noise: at most 1 in
 * 20. The interval's two-sided coverage is reported too (a calibrated 95 % interval misses 1 in 20
 * on average, so 18 of 20 happens by chance). Power: a candidate with ~15% more real work (15
 * identical layers instead of 13) should be detected (the same rule fails it).
 *
 *   npx tsx bench/latency-aa.ts            (PG_AA_REPEATS=20 PG_AA_BUDGET_MS=1000 by default)
 *
 * Other processes on the machine widen the intervals and shift the A/A ratio; run it on a quiet
 * machine for the figures that count.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataType, GraphBuilder, encodeModel, float32Tensor } from '../src/onnx/index.js';
import { benchLatency } from '../src/evaluate/latency.js';
import { CONFIG_DEFAULTS } from '../src/config/index.js';
import { latencyRow } from '../src/gate/verdict.js';
import type { BenchRow } from './types.js';

const WIDTH = 512;
/**
 * The slower candidate has more identical layers rather than wider ones: a different width can
 * land on a different GEMM kernel path (hidden 1178 vs 1024 ran 1.55x; 1024 vs 896 ran 0.9x on
 * AVX-512), while 15 layers of the same shape are 15/13 of the work by construction.
 */
const LAYERS = 13;
const LAYERS_SLOWER = 15;
const BATCH = 8;

/** x[8,512] -> (MatMul [512,512] -> Relu) x layers. */
function mlp(layers: number): Uint8Array {
  const b = new GraphBuilder('aa');
  let h = b.input('x', DataType.FLOAT, ['N', WIDTH]);
  let s = 12345;
  for (let l = 0; l < layers; l++) {
    const data = new Float32Array(WIDTH * WIDTH);
    for (let i = 0; i < data.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      data[i] = (s / 4294967296 - 0.5) * 0.1;
    }
    const w = b.constant(float32Tensor(`w${l}`, [WIDTH, WIDTH], data));
    h = b.op('Relu', [b.op('MatMul', [h, w])], {}, l === layers - 1 ? { outputs: ['y'] } : {});
  }
  b.output('y', DataType.FLOAT, ['N', WIDTH]);
  return encodeModel(b.model({ opset: 17 }));
}

interface Trial {
  p95: { value: number; low: number; high: number };
  /** The gate's latency status for a goal of 1.0. */
  gate: string;
  p50: number;
  runs: number;
  stoppedBy: string;
}

async function trial(a: Uint8Array, b: Uint8Array, budgetMs: number, seed: number): Promise<Trial> {
  const r = await benchLatency({
    models: [{ model: a, label: 'A' }, { model: b, label: 'B' }],
    batchSizes: [BATCH],
    timeBudgetMs: budgetMs,
    minRuns: CONFIG_DEFAULTS.bench.minRuns,
    warmup: CONFIG_DEFAULTS.bench.warmup,
    precision: CONFIG_DEFAULTS.bench.precision,
    threads: 1,
    seed,
  });
  const batch = r.batches[0];
  const c = batch.comparison!;
  return { gate: latencyRow(c, 1).status, p95: { value: c.ratios.p95.value, low: c.ratios.p95.interval.low, high: c.ratios.p95.interval.high }, p50: c.ratios.p50.value, runs: batch.stats[0].runs, stoppedBy: batch.stoppedBy };
}

function median(v: number[]): number {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export async function runLatencyAABench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const repeats = Number(process.env.PG_AA_REPEATS ?? 20);
  const budgetMs = Number(process.env.PG_AA_BUDGET_MS ?? 1000);
  const base = mlp(LAYERS);
  const copy = Uint8Array.from(base);
  const slower = mlp(LAYERS_SLOWER);

  const aa: Trial[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = await trial(base, copy, budgetMs, i);
    aa.push(t);
    log(`A/A ${i + 1}/${repeats}: P95 ratio ${t.p95.value.toFixed(3)} [${t.p95.low.toFixed(3)}, ${t.p95.high.toFixed(3)}] runs ${t.runs} (${t.stoppedBy})`);
  }
  const slow: Trial[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = await trial(base, slower, budgetMs, 1000 + i);
    slow.push(t);
    log(`A/B+15% ${i + 1}/${repeats}: P95 ratio ${t.p95.value.toFixed(3)} [${t.p95.low.toFixed(3)}, ${t.p95.high.toFixed(3)}], P50 ratio ${t.p50.toFixed(3)} runs ${t.runs} (${t.stoppedBy})`);
  }
  const falseAlarms = aa.filter((t) => t.gate === 'fail').length;
  const covered = aa.filter((t) => t.p95.low <= 1 && t.p95.high >= 1).length;
  const detected = slow.filter((t) => t.gate === 'fail').length;
  const maxFalseAlarms = Math.floor(repeats * 0.05);
  const needDetected = Math.ceil(repeats * 0.9);
  return [
    { name: `A/A: latency gate fails (false alarms; batch ${BATCH}, ${budgetMs} ms budget)`, value: falseAlarms, unit: `of ${repeats}`, target: `<= ${maxFalseAlarms} of ${repeats}`, pass: falseAlarms <= maxFalseAlarms },
    { name: 'A/A: 95% CI of the P95 ratio contains 1.0', value: covered, unit: `of ${repeats}` },
    { name: 'A/A: median |P95 ratio - 1|', value: 100 * median(aa.map((t) => Math.abs(t.p95.value - 1))), unit: '%' },
    { name: 'A/A: median relative CI half-width of the P95 ratio', value: 100 * median(aa.map((t) => (t.p95.high - t.p95.low) / 2 / t.p95.value)), unit: '%' },
    { name: '+15% work: latency gate fails (detected)', value: detected, unit: `of ${repeats}`, target: `>= ${needDetected} of ${repeats}`, pass: detected >= needDetected },
    { name: '+15% work: median measured P50 ratio', value: median(slow.map((t) => t.p50)), unit: 'x', reference: LAYERS_SLOWER / LAYERS },
    { name: 'runs per model per trial (median)', value: median([...aa, ...slow].map((t) => t.runs)), unit: 'runs' },
  ];
}

function formatRows(rows: BenchRow[]): string {
  return rows.map((r) => `${r.name.padEnd(72)} ${r.value.toFixed(r.unit === 'x' ? 3 : r.unit === '%' ? 2 : 0).padStart(8)} ${r.unit.padEnd(6)} ${r.target ?? ''} ${r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL'}`.trimEnd()).join('\n');
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const rows = await runLatencyAABench((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${formatRows(rows)}\n`);
}
