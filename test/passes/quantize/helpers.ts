/** Tiny models built in code, seeded feeds, and ORT runs for the quantization tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataType, encodeModel, float32Tensor, GraphBuilder, loadModel, type Model } from '../../../src/onnx/index.js';
import { ModelSession, type Feeds } from '../../../src/evaluate/session.js';
import { uniformArray } from '../../helpers/seeded-random.js';

export const rand = (n: number, seed: number, scale = 1) => uniformArray(n, seed, -scale, scale);

/** Conv(3->8) Relu MaxPool Conv(8->8) Add(residual) Relu GAP Flatten Gemm(transB) MatMul. */
export function tinyCnn(): Model {
  const b = new GraphBuilder('cnn');
  const x = b.input('x', DataType.FLOAT, ['N', 3, 16, 16]);
  let h = b.op('Conv', [x, b.constant(float32Tensor('w1', [8, 3, 3, 3], rand(216, 1, 0.5))), b.constant(float32Tensor('b1', [8], rand(8, 2, 0.1)))], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  h = b.op('Relu', [h], {}, { name: 'relu1' });
  h = b.op('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool1' });
  const h2 = b.op('Conv', [h, b.constant(float32Tensor('w2', [8, 8, 3, 3], rand(576, 3, 0.3))), b.constant(float32Tensor('b2', [8], rand(8, 4, 0.1)))], { pads: [1, 1, 1, 1] }, { name: 'conv2' });
  h = b.op('Add', [h, h2], {}, { name: 'add' });
  h = b.op('Relu', [h], {}, { name: 'relu2' });
  h = b.op('GlobalAveragePool', [h], {}, { name: 'gap' });
  h = b.op('Flatten', [h], {}, { name: 'flat' });
  h = b.op('Gemm', [h, b.constant(float32Tensor('wf', [10, 8], rand(80, 5, 0.5))), b.constant(float32Tensor('bf', [10], rand(10, 6, 0.1)))], { transB: 1 }, { name: 'fc' });
  b.op('MatMul', [h, b.constant(float32Tensor('wm', [10, 5], rand(50, 7, 0.5)))], {}, { name: 'mm', outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['N', 5]);
  return b.model({ opset: 17 });
}

/** MatMul + bias Add + Relu, Gemm(transB=1), Gemm(transB=0): the transformer-FFN shapes. */
export function tinyMlp(k = 64, hidden = 128): Model {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', DataType.FLOAT, ['N', k]);
  let h = b.op('MatMul', [x, b.constant(float32Tensor('w1', [k, hidden], rand(k * hidden, 11, 0.3)))], {}, { name: 'mm1' });
  h = b.op('Add', [h, b.constant(float32Tensor('b1', [hidden], rand(hidden, 12, 0.1)))], {}, { name: 'add1' });
  h = b.op('Relu', [h], {}, { name: 'relu1' });
  h = b.op('Gemm', [h, b.constant(float32Tensor('w2', [32, hidden], rand(32 * hidden, 13, 0.3))), b.constant(float32Tensor('b2', [32], rand(32, 14, 0.1)))], { transB: 1 }, { name: 'fc2' });
  b.op('Gemm', [h, b.constant(float32Tensor('w3', [32, 10], rand(320, 15, 0.3))), b.constant(float32Tensor('b3', [10], rand(10, 16, 0.1)))], {}, { name: 'fc3', outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['N', 10]);
  return b.model({ opset: 17 });
}

export function feedsFor(name: string, dims: number[], batches: number, seed: number, scale = 1): Feeds[] {
  const n = dims.reduce((a, c) => a * c, 1);
  return Array.from({ length: batches }, (_, i) => ({ [name]: { type: 'float32' as const, dims, data: rand(n, seed + i, scale) } }));
}

/** Runs both models on every batch; returns the SQNR (dB) of the first output over all batches. */
export async function outputSqnr(reference: Model, candidate: Model, feeds: Feeds[]): Promise<{ sqnr: number; agree: number; total: number }> {
  const a = await ModelSession.create(encodeModel(reference));
  const b = await ModelSession.create(encodeModel(candidate));
  let signal = 0;
  let noise = 0;
  let agree = 0;
  let total = 0;
  try {
    for (const f of feeds) {
      const name = a.outputNames[0];
      const x = (await a.run(f))[name];
      const y = (await b.run(f))[name];
      const xd = x.data as Float32Array;
      const yd = y.data as Float32Array;
      for (let i = 0; i < xd.length; i++) {
        signal += xd[i] * xd[i];
        noise += (xd[i] - yd[i]) ** 2;
      }
      const classes = x.dims[x.dims.length - 1];
      for (let r = 0; r < xd.length / classes; r++) {
        total++;
        if (argmax(xd, r * classes, classes) === argmax(yd, r * classes, classes)) agree++;
      }
    }
  } finally {
    await a.release();
    await b.release();
  }
  return { sqnr: 10 * Math.log10(signal / noise), agree, total };
}

function argmax(d: Float32Array, off: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (d[off + i] > d[off + best]) best = i;
  return best;
}

/** The graph as ORT optimizes it (level all), with op counts. */
export async function optimizedGraph(model: Model): Promise<{ model: Model; counts: Record<string, number> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-quant-'));
  const file = path.join(dir, 'optimized.onnx');
  try {
    const s = await ModelSession.create(encodeModel(model), { optimizedModelFilePath: file });
    await s.release();
    const m = loadModel(file);
    return { model: m, counts: opCounts(m) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function opCounts(m: Model): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of m.graph.nodes) c[n.opType] = (c[n.opType] ?? 0) + 1;
  return c;
}

/**
 * What ORT left unfused in the optimized graph: `unfused` lists nodes we quantized (by name) still
 * running in float between a DequantizeLinear and a QuantizeLinear; `dqToQ` lists DQ -> Q round
 * trips. Float nodes at region boundaries (DQ -> float op -> Q) are legitimate and not listed.
 */
export function strayQdq(m: Model, quantized: Iterable<string>): { unfused: string[]; dqToQ: string[] } {
  const names = new Set(quantized);
  const producer = new Map<string, { opType: string; name: string; inputs: string[] }>();
  for (const n of m.graph.nodes) for (const o of n.outputs) producer.set(o, n);
  const unfused: string[] = [];
  const dqToQ: string[] = [];
  for (const n of m.graph.nodes) {
    if (n.opType === 'QuantizeLinear') {
      const p = producer.get(n.inputs[0]);
      if (p?.opType === 'DequantizeLinear') dqToQ.push(`${p.name} -> ${n.name}`);
    }
    if (names.has(n.name) && !n.opType.startsWith('QLinear') && n.inputs.some((i) => producer.get(i)?.opType === 'DequantizeLinear')) unfused.push(`${n.opType} ${n.name}`);
  }
  return { unfused, dqToQ };
}
