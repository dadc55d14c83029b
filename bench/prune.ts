/**
 * Pruning pass benchmarks on a generated BERT-base-like model (12 layers, hidden 768, 12 heads,
 * FFN 3072, 30522-token embedding: ~110M parameters, seeded random weights). Each task runs in a
 * child process so its peak RSS is its own; each runs BENCH_RUNS times (default 3): time is the
 * median, peak RSS the worst run. Run alone with `npx tsx bench/prune.ts`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DataType, fromTypedArray, GraphBuilder, int64Tensor, type Model } from '../src/onnx/index.js';
import { uniform as mulberry32 } from '../src/evaluate/rng.js';
import { loadRuntime, type Feeds } from '../src/evaluate/session.js';
import { pruneStructured, pruneUnstructured } from '../src/passes/prune/index.js';
import { warmRuntime } from './quantize-models.js';
import type { BenchRow } from './types.js';
import { peakRss } from './peak-rss.js';

const SELF = fileURLToPath(import.meta.url);
const D = 768;
const HEADS = 12;
const FFN = 3072;
const LAYERS = 12;
const VOCAB = 30522;
const SEQ = 16;

export function bertLike(): Model {
  const rand = mulberry32(42);
  const b = new GraphBuilder('bert_like');
  let id = 0;
  const w = (dims: number[], scale: number) => {
    const n = dims.reduce((a, c) => a * c, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * scale;
    return b.constant(fromTypedArray(`p${id++}`, DataType.FLOAT, dims, data));
  };
  const ones = (n: number) => b.constant(fromTypedArray(`p${id++}`, DataType.FLOAT, [n], new Float32Array(n).fill(1)));
  const ids = b.input('ids', DataType.INT64, ['B', SEQ]);
  let h = b.op('Gather', [w([VOCAB, D], 0.05), ids], { axis: 0 });
  const split = b.constant(int64Tensor('split_heads', [4], [0, 0, HEADS, D / HEADS]));
  const merge = b.constant(int64Tensor('merge_heads', [3], [0, 0, D]));
  const scale = b.constant(fromTypedArray('sqrt_dh', DataType.FLOAT, [], Float32Array.from([Math.sqrt(D / HEADS)])));
  const s = 1 / Math.sqrt(D);
  for (let l = 0; l < LAYERS; l++) {
    const proj = (name: string) => b.op('Reshape', [b.op('Add', [b.op('MatMul', [h, w([D, D], s)], {}, { name: `l${l}_${name}` }), w([D], 0.02)]), split]);
    const q = b.op('Transpose', [proj('q')], { perm: [0, 2, 1, 3] });
    const k = b.op('Transpose', [proj('k')], { perm: [0, 2, 3, 1] });
    const v = b.op('Transpose', [proj('v')], { perm: [0, 2, 1, 3] });
    const probs = b.op('Softmax', [b.op('Div', [b.op('MatMul', [q, k]), scale])], { axis: -1 });
    const ctx = b.op('Reshape', [b.op('Transpose', [b.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), merge]);
    const att = b.op('Add', [b.op('MatMul', [ctx, w([D, D], s)], {}, { name: `l${l}_o` }), w([D], 0.02)]);
    h = b.op('LayerNormalization', [b.op('Add', [att, h]), ones(D), w([D], 0.02)], { axis: -1 });
    const f1 = b.op('Relu', [b.op('Add', [b.op('MatMul', [h, w([D, FFN], s)], {}, { name: `l${l}_ffn1` }), w([FFN], 0.02)])]);
    const f2 = b.op('Add', [b.op('MatMul', [f1, w([FFN, D], 1 / Math.sqrt(FFN))], {}, { name: `l${l}_ffn2` }), w([D], 0.02)]);
    h = b.op('LayerNormalization', [b.op('Add', [f2, h]), ones(D), w([D], 0.02)], { axis: -1 });
  }
  b.graph.nodes[b.graph.nodes.length - 1].outputs = ['y'];
  b.output('y', DataType.FLOAT, ['B', SEQ, D]);
  return b.model({ opset: 17 });
}

function modelBytes(m: Model): number {
  return m.graph.initializers.reduce((a, t) => a + t.raw.byteLength, 0);
}

function calibration(rows: number): Feeds[] {
  const rand = mulberry32(7);
  const batch = 8;
  const out: Feeds[] = [];
  for (let r = 0; r < rows; r += batch * SEQ) {
    const data = BigInt64Array.from({ length: batch * SEQ }, () => BigInt(Math.floor(rand() * VOCAB)));
    out.push({ ids: { type: 'int64', dims: [batch, SEQ], data } });
  }
  return out;
}

interface TaskResult {
  seconds: number;
  modelBytes: number;
  peakRss: number;
  baselineRss: number;
  paramsBefore: number;
  paramsAfter: number;
  flopsBefore?: number;
  flopsAfter?: number;
}


async function task(name: string): Promise<TaskResult> {
  loadRuntime();
  await warmRuntime();
  const baselineRss = peakRss();
  const model = bertLike();
  const bytes = modelBytes(model);
  const batches = calibration(256);
  const t0 = performance.now();
  const r =
    name === 'magnitude'
      ? await pruneUnstructured(model, { target: 0.5 }, { seed: 1 })
      : await pruneStructured(model, { target: 0.3, importance: 'l1', repair: 'least-squares' }, { seed: 1, calibration: batches });
  const seconds = (performance.now() - t0) / 1000;
  const s = r.summary;
  return { seconds, modelBytes: bytes, peakRss: peakRss(), baselineRss, paramsBefore: s.paramsBefore, paramsAfter: s.paramsAfter, flopsBefore: s.flopsBefore, flopsAfter: s.flopsAfter };
}

function child(name: string): TaskResult {
  const res = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--task', name], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = res.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`bench task ${name} failed: ${res.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(7)) as TaskResult;
}

/** Runs per task (each in a fresh child); BENCH_RUNS overrides. */
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3);

/** The task `RUNS` times: time is the median run, peak RSS the highest (each run's own child). */
function repeated(name: string, log: (line: string) => void): TaskResult & { runs: number; times: number[] } {
  const results: TaskResult[] = [];
  for (let i = 0; i < RUNS; i++) {
    results.push(child(name));
    const r = results[results.length - 1];
    log(`prune: ${name} run ${i + 1}/${RUNS}: ${r.seconds.toFixed(2)} s, peak RSS ${((r.peakRss - r.baselineRss) / r.modelBytes).toFixed(2)}x model bytes`);
  }
  const times = results.map((r) => r.seconds).sort((a, b) => a - b);
  const worst = results.reduce((a, r) => (r.peakRss - r.baselineRss > a.peakRss - a.baselineRss ? r : a));
  return { ...worst, seconds: times[Math.floor((times.length - 1) / 2)], runs: RUNS, times };
}

export async function runPruneBench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const mag = repeated('magnitude', log);
  rows.push({ name: `prune: magnitude 50% of a 110M-param BERT-like model (median of ${mag.runs})`, value: mag.seconds, unit: 's', target: '< 5 s', pass: mag.seconds < 5 });
  rows.push(rssRow('prune: magnitude peak RSS above baseline (ORT started) / model bytes', mag));
  const st = repeated('structured', log);
  rows.push({ name: `prune: structured 30% + least-squares repair, 256 calibration rows (median of ${st.runs})`, value: st.seconds, unit: 's', target: '< 60 s', pass: st.seconds < 60 });
  rows.push(rssRow('prune: structured peak RSS above baseline (ORT started) / model bytes', st));
  rows.push({ name: 'prune: structured params after / before', value: st.paramsAfter / st.paramsBefore, unit: 'ratio' });
  if (st.flopsBefore && st.flopsAfter) rows.push({ name: 'prune: structured FLOPs after / before', value: st.flopsAfter / st.flopsBefore, unit: 'ratio' });
  return rows;
}

/** Peak RSS of the child above its RSS before the model existed (node + tsx + ORT loaded and started: warmRuntime), in model bytes; the worst run. */
function rssRow(name: string, r: TaskResult & { runs: number }): BenchRow {
  const ratio = (r.peakRss - r.baselineRss) / r.modelBytes;
  return {
    name: `${name} (worst of ${r.runs}; peak ${(r.peakRss / 1e6).toFixed(0)} MB, baseline ${(r.baselineRss / 1e6).toFixed(0)} MB, model ${(r.modelBytes / 1e6).toFixed(0)} MB)`,
    value: ratio,
    unit: 'x',
    target: '< 2.5x',
    pass: ratio < 2.5,
  };
}

if (process.argv[1] === SELF) {
  const at = process.argv.indexOf('--task');
  if (at >= 0) {
    const r = await task(process.argv[at + 1]);
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
  } else {
    for (const r of await runPruneBench((l) => process.stderr.write(`${l}\n`))) console.log(`${r.name}: ${r.value.toFixed(3)} ${r.unit}${r.target ? ` (target ${r.target}: ${r.pass ? 'pass' : 'FAIL'})` : ''}`);
  }
}
