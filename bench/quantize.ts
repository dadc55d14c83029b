/**
 * Quantization pass benchmarks: pass wall time and peak memory on generated models (each in a
 * child process, so peak RSS belongs to that pass alone; BENCH_RUNS runs, default 3: the median
 * time, the worst peak), and the latency of the forms ORT runs.
 * Run alone with `npx tsx bench/quantize.ts`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataType, encodeModel, fromTypedArray, GraphBuilder, type Model } from '../src/onnx/index.js';
import { benchLatency } from '../src/evaluate/latency.js';
import { loadRuntime } from '../src/evaluate/session.js';
import { uniform as mulberry32 } from '../src/evaluate/rng.js';
import type { Feeds } from '../src/evaluate/session.js';
import { quantizeInt8Dynamic, quantizeInt4WeightOnly, quantizeInt8Static } from '../src/passes/quantize/index.js';
import { cnn25m, matmulChain, modelBytes, warmRuntime } from './quantize-models.js';
import type { BenchRow } from './types.js';
import { peakRss } from './peak-rss.js';

interface TaskResult {
  seconds: number;
  modelBytes: number;
  /** Peak RSS of the child, and its RSS before the model existed (node + tsx + ORT loaded and started: warmRuntime). */
  peakRss: number;
  baselineRss: number;
  changed: number;
  files?: { float: string; quant: string };
}

const SELF = fileURLToPath(import.meta.url);


async function taskDynamic(): Promise<TaskResult> {
  loadRuntime();
  await warmRuntime();
  const baselineRss = peakRss();
  const model = matmulChain();
  const t0 = performance.now();
  const res = await quantizeInt8Dynamic(model, {}, { seed: 1 });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, modelBytes: modelBytes(model), peakRss: peakRss(), baselineRss, changed: res.summary.changed.length };
}

function cnnFeeds(samples: number, batch: number): Feeds[] {
  const rand = mulberry32(7);
  const out: Feeds[] = [];
  for (let s = 0; s < samples; s += batch) {
    const n = Math.min(batch, samples - s);
    const data = new Float32Array(n * 3 * 32 * 32);
    for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
    out.push({ x: { type: 'float32', dims: [n, 3, 32, 32], data } });
  }
  return out;
}

async function taskStatic(dir: string | undefined): Promise<TaskResult> {
  loadRuntime();
  await warmRuntime();
  const baselineRss = peakRss();
  const model = cnn25m();
  const calibration = cnnFeeds(256, 32);
  const t0 = performance.now();
  const res = await quantizeInt8Static(model, { calibration: 'percentile' }, { seed: 1, calibration });
  const seconds = (performance.now() - t0) / 1000;
  const peak = peakRss();
  let files: TaskResult['files'];
  if (dir) {
    files = { float: path.join(dir, 'cnn-float.onnx'), quant: path.join(dir, 'cnn-int8.onnx') };
    fs.writeFileSync(files.float, encodeModel(model));
    fs.writeFileSync(files.quant, encodeModel(res.model));
  }
  return { seconds, modelBytes: modelBytes(model), peakRss: peak, baselineRss, changed: res.summary.changed.length, files };
}

function runTask(name: string, dir?: string): TaskResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--task', name, ...(dir ? [dir] : [])], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench task ${name} failed: ${r.stderr.slice(-2000)}`);
  const line = r.stdout.trim().split('\n').pop() as string;
  return JSON.parse(line) as TaskResult;
}

/** Runs per pass task (each in a fresh child); BENCH_RUNS overrides. */
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3);

/** The task `RUNS` times: time is the median run, peak RSS the highest; the first run writes the files. */
function repeated(name: string, dir: string, log: (line: string) => void): TaskResult & { runs: number } {
  const results: TaskResult[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = runTask(name, i === 0 ? dir : undefined);
    results.push(r);
    log(`quantize: ${name} run ${i + 1}/${RUNS}: ${r.seconds.toFixed(2)} s, peak RSS ${((r.peakRss - r.baselineRss) / r.modelBytes).toFixed(2)}x model bytes`);
  }
  const times = results.map((r) => r.seconds).sort((a, b) => a - b);
  const worst = results.reduce((a, r) => (r.peakRss - r.baselineRss > a.peakRss - a.baselineRss ? r : a));
  return { ...worst, seconds: times[Math.floor((times.length - 1) / 2)], files: results[0].files, runs: RUNS };
}

/** The two dynamic forms of one 768x3072 MatMul: DynamicQuantizeMatMul, and DQL + MatMulInteger + Cast + Mul. */
function dynamicForms(): { fused: Model; standard: Model; float: Model } {
  const K = 768;
  const N = 3072;
  const rand = mulberry32(3);
  const w = new Float32Array(K * N).map(() => rand() - 0.5);
  const q = Int8Array.from(w, (v) => Math.round(v * 254));
  const scale = Float32Array.from({ length: N }, () => 1 / 254);
  const build = (kind: 'fused' | 'standard' | 'float') => {
    const b = new GraphBuilder(kind);
    const x = b.input('x', DataType.FLOAT, ['N', K]);
    if (kind === 'float') b.op('MatMul', [x, b.constant(fromTypedArray('w', DataType.FLOAT, [K, N], w))], {}, { outputs: ['y'] });
    else {
      const wq = b.constant(fromTypedArray('wq', DataType.INT8, [K, N], q));
      const ws = b.constant(fromTypedArray('ws', DataType.FLOAT, [N], scale));
      const wz = b.constant(fromTypedArray('wz', DataType.INT8, [N], new Int8Array(N)));
      if (kind === 'fused') b.op('DynamicQuantizeMatMul', [x, wq, ws, wz], {}, { domain: 'com.microsoft', outputs: ['y'] });
      else {
        const [xq, xs, xz] = b.opMulti('DynamicQuantizeLinear', [x], {}, { outputs: 3 });
        const acc = b.op('Cast', [b.op('MatMulInteger', [xq, wq, xz, b.constant(fromTypedArray('wz0', DataType.INT8, [], Int8Array.of(0)))])], { to: DataType.FLOAT });
        b.op('Mul', [b.op('Mul', [acc, xs]), ws], {}, { outputs: ['y'] });
      }
    }
    b.output('y', DataType.FLOAT, ['N', N]);
    return b.model({ opset: 17, extraOpsets: [{ domain: 'com.microsoft', version: 1 }] });
  };
  return { fused: build('fused'), standard: build('standard'), float: build('float') };
}

/** One 4096x4096 MatMul in float: the size where 4-bit weights pay (the weights dwarf the cache). */
function largeMatMul(): Model {
  const K = 4096;
  const rand = mulberry32(5);
  const b = new GraphBuilder('large-matmul');
  const x = b.input('x', DataType.FLOAT, ['N', K]);
  b.op('MatMul', [x, b.constant(fromTypedArray('w', DataType.FLOAT, [K, K], new Float32Array(K * K).map(() => (rand() - 0.5) * 0.05)))], {}, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['N', K]);
  return b.model({ opset: 17 });
}

/** Our int4 weight-only pass on the large MatMul, at accuracy_level 4 (int8 compute) and 0 (ORT's default), against float. */
async function int4Rows(dir: string): Promise<BenchRow[]> {
  const float = largeMatMul();
  const floatFile = path.join(dir, 'large-float.onnx');
  fs.writeFileSync(floatFile, encodeModel(float));
  const rows: BenchRow[] = [];
  for (const accuracyLevel of [4, 0] as const) {
    const q = await quantizeInt4WeightOnly(float, { blockSize: 32, symmetric: true, accuracyLevel, method: 'rtn' }, { seed: 1 });
    const file = path.join(dir, `large-int4-${accuracyLevel}.onnx`);
    fs.writeFileSync(file, encodeModel(q.model));
    const lat = await benchLatency({ models: [{ model: floatFile, label: 'float' }, { model: file, label: 'int4' }], batchSizes: [1, 32], timeBudgetMs: 2000, seed: 1 });
    for (const r of lat.batches) {
      const c = r.comparison;
      if (c) rows.push({ name: `quantize: 4096x4096 MatMulNBits (int4, accuracy_level ${accuracyLevel}) vs float P95, batch ${r.batchSize}`, value: c.candidate.p95, unit: 'ms', reference: c.reference.p95, ratio: c.ratios.p95.value });
    }
  }
  return rows;
}

export async function runQuantizeBench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bench-quant-'));
  const rows: BenchRow[] = [];
  try {
    log('quantize: dynamic int8 of a 113M-parameter MatMul chain');
    const dyn = repeated('dynamic', dir, log);
    rows.push({ name: `quantize: dynamic int8, ${(dyn.modelBytes / 4e6).toFixed(0)}M params (${dyn.changed} MatMul, median of ${dyn.runs})`, value: dyn.seconds, unit: 's', target: '< 10 s', pass: dyn.seconds < 10 });
    rows.push(rssRow('quantize: dynamic int8 peak RSS above baseline (ORT started) / model bytes', dyn));
    log('quantize: static int8 of a 25M-parameter CNN, 256 calibration samples');
    const st = repeated('static', dir, log);
    rows.push({ name: `quantize: static int8 (percentile), ${(st.modelBytes / 4e6).toFixed(1)}M-param CNN, 256 samples (median of ${st.runs})`, value: st.seconds, unit: 's', target: '< 120 s', pass: st.seconds < 120 });
    rows.push(rssRow('quantize: static int8 peak RSS above baseline (ORT started) / model bytes', st));
    if (st.files) {
      const lat = await benchLatency({ models: [{ model: st.files.float, label: 'float' }, { model: st.files.quant, label: 'int8' }], batchSizes: [1, 32], timeBudgetMs: 3000, seed: 1 });
      for (const b of lat.batches) {
        const c = b.comparison;
        if (!c) continue;
        rows.push({ name: `quantize: 25M CNN static int8 P95, batch ${b.batchSize}`, value: c.candidate.p95, unit: 'ms', reference: c.reference.p95, ratio: c.ratios.p95.value, target: 'speedup >= 1.3x (ratio <= 0.77)', pass: c.ratios.p95.value <= 0.77 });
      }
    }
    const forms = dynamicForms();
    const files = Object.fromEntries(Object.entries(forms).map(([k, m]) => {
      const f = path.join(dir, `${k}.onnx`);
      fs.writeFileSync(f, encodeModel(m));
      return [k, f];
    }));
    // float vs the fused contrib op, then the two dynamic forms head to head (ratio: standard / fused).
    const pairs: Array<[string, string, string]> = [
      ['float', 'fused', 'DynamicQuantizeMatMul vs float'],
      ['fused', 'standard', 'DQL+MatMulInteger vs DynamicQuantizeMatMul'],
    ];
    for (const [a, b, label] of pairs) {
      const lat = await benchLatency({ models: [{ model: files[a], label: a }, { model: files[b], label: b }], batchSizes: [1, 32], timeBudgetMs: 2000, seed: 1 });
      for (const r of lat.batches) {
        const c = r.comparison;
        if (!c) continue;
        rows.push({ name: `quantize: 768x3072 ${label} P95, batch ${r.batchSize}`, value: c.candidate.p95, unit: 'ms', reference: c.reference.p95, ratio: c.ratios.p95.value });
      }
    }
    rows.push(...(await int4Rows(dir)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function rssRow(name: string, r: TaskResult & { runs: number }): BenchRow {
  const ratio = (r.peakRss - r.baselineRss) / r.modelBytes;
  return { name: `${name} (worst of ${r.runs}; peak ${(r.peakRss / 1e6).toFixed(0)} MB, baseline ${(r.baselineRss / 1e6).toFixed(0)} MB, model ${(r.modelBytes / 1e6).toFixed(0)} MB)`, value: ratio, unit: 'x', target: '< 2.5x', pass: ratio < 2.5 };
}

if (process.argv[1] === SELF) {
  const taskAt = process.argv.indexOf('--task');
  if (taskAt > 0) {
    const name = process.argv[taskAt + 1];
    const dir = process.argv[taskAt + 2];
    const result = name === 'dynamic' ? await taskDynamic() : await taskStatic(dir);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const { printRows } = await import('./table.js');
    printRows(await runQuantizeBench((l) => process.stderr.write(`${l}\n`)));
  }
}
