/**
 * Every quantization form on the MNIST example CNN: accuracy drift against float32 on the eval
 * set, P95 latency at batch 1 and 32 (interleaved with the float model in one process, same
 * session options), and file size. Needs examples/mnist/model.onnx (trained separately).
 * Run with `npx tsx bench/quantize-accuracy.ts`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModel, loadModel, type Model } from '../src/onnx/index.js';
import { ModelSession, type Feeds } from '../src/evaluate/session.js';
import { benchLatency } from '../src/evaluate/latency.js';
import { readNpy } from '../src/evaluate/npy.js';
import type { PassResult } from '../src/passes/types.js';
import { convertWeightsFloat16, quantizeDynamicInt8, quantizeInt4WeightOnly, quantizeStaticInt8 } from '../src/passes/quantize/index.js';
import type { BenchRow } from './types.js';

const DIR = path.resolve(import.meta.dirname, '../examples/mnist');

function batches(x: { shape: number[]; data: Float32Array }, name: string, size: number): Feeds[] {
  const per = x.data.length / x.shape[0];
  const out: Feeds[] = [];
  for (let s = 0; s < x.shape[0]; s += size) {
    const n = Math.min(size, x.shape[0] - s);
    out.push({ [name]: { type: 'float32', dims: [n, ...x.shape.slice(1)], data: x.data.subarray(s * per, (s + n) * per) } });
  }
  return out;
}

async function accuracy(model: Model, feeds: Feeds[], labels: ArrayLike<number | bigint>): Promise<number> {
  const s = await ModelSession.create(encodeModel(model));
  let correct = 0;
  let i = 0;
  for (const f of feeds) {
    const out = Object.values(await s.run(f))[0];
    const d = out.data as Float32Array;
    const k = out.dims[out.dims.length - 1];
    for (let r = 0; r < d.length / k; r++, i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (d[r * k + j] > d[r * k + best]) best = j;
      if (best === Number(labels[i])) correct++;
    }
  }
  await s.release();
  return (100 * correct) / i;
}

export async function runQuantizeAccuracyBench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const modelFile = path.join(DIR, 'model.onnx');
  if (!fs.existsSync(modelFile)) {
    log(`quantize-accuracy: ${modelFile} not found (the MNIST example model is trained separately); skipped`);
    return [];
  }
  const model = loadModel(modelFile);
  const inputName = model.graph.inputs[0].name;
  const evalX = readNpy(path.join(DIR, 'data/eval_x.npy'));
  const evalY = readNpy(path.join(DIR, 'data/eval_y.npy'));
  const calibX = readNpy(path.join(DIR, 'data/calib_x.npy'));
  const evalFeeds = batches(evalX as { shape: number[]; data: Float32Array }, inputName, 100);
  const ctx = { seed: 1, calibration: batches(calibX as { shape: number[]; data: Float32Array }, inputName, 64) };
  const labels = evalY.data as ArrayLike<number | bigint>;
  const floatAcc = await accuracy(model, evalFeeds, labels);
  const floatBytes = encodeModel(model).byteLength;
  const forms: Array<[string, () => Promise<PassResult>]> = [
    ['static int8 (percentile, machine default bits)', () => quantizeStaticInt8(model, { calibration: 'percentile' }, ctx)],
    ['static int8 (minmax, 7-bit weights)', () => quantizeStaticInt8(model, { calibration: 'minmax', weightBits: 7 }, ctx)],
    ['static int8 (entropy)', () => quantizeStaticInt8(model, { calibration: 'entropy' }, ctx)],
    ['dynamic int8', () => quantizeDynamicInt8(model, {}, ctx)],
    ['int4 weight-only (block 32, calibrated)', () => quantizeInt4WeightOnly(model, { blockSize: 32, symmetric: false, method: 'calibrated' }, ctx)],
    ['fp16 weights', () => convertWeightsFloat16(model, {}, ctx)],
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bench-qacc-'));
  const rows: BenchRow[] = [{ name: 'mnist float32 accuracy', value: floatAcc, unit: '%' }];
  try {
    const floatFile = path.join(dir, 'float.onnx');
    fs.writeFileSync(floatFile, encodeModel(model));
    for (const [name, run] of forms) {
      const res = await run();
      if (!res.summary.changed.length) {
        log(`quantize-accuracy: ${name}: nothing quantized (${res.summary.skipped.length} skipped)`);
        continue;
      }
      const acc = await accuracy(res.model, evalFeeds, labels);
      const drift = floatAcc - acc;
      const bytes = encodeModel(res.model);
      const file = path.join(dir, 'candidate.onnx');
      fs.writeFileSync(file, bytes);
      const isStatic = name.startsWith('static int8 (percentile');
      rows.push({ name: `mnist ${name}: accuracy drift`, value: drift, unit: 'pt', reference: floatAcc, target: isStatic ? '<= 0.5 pt' : undefined, pass: isStatic ? drift <= 0.5 : undefined });
      rows.push({ name: `mnist ${name}: size`, value: bytes.byteLength / 1e6, unit: 'MB', reference: floatBytes / 1e6, ratio: bytes.byteLength / floatBytes });
      const lat = await benchLatency({ models: [{ model: floatFile, label: 'float' }, { model: file, label: name }], batchSizes: [1, 32], timeBudgetMs: 3000, seed: 1, dims: {} });
      for (const b of lat.batches) {
        const c = b.comparison;
        if (!c) continue;
        const goal = isStatic && b.batchSize === 32;
        rows.push({ name: `mnist ${name}: P95 batch ${b.batchSize}`, value: c.candidate.p95, unit: 'ms', reference: c.baseline.p95, ratio: c.ratios.p95.value, target: goal ? 'speedup >= 1.3x (ratio <= 0.77)' : undefined, pass: goal ? c.ratios.p95.value <= 0.77 : undefined });
      }
      log(`quantize-accuracy: ${name}: ${acc.toFixed(2)} % (drift ${drift.toFixed(2)}); ${res.summary.notes[0] ?? ''}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printRows } = await import('./table.js');
  printRows(await runQuantizeAccuracyBench((l) => process.stderr.write(`${l}\n`)));
}
