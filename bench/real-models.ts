/**
 * The three real models of the repository, trained on real MNIST digits (examples/README.md), with
 * their held-out evaluation digits and calibration batches, and top-1 accuracy on ONNX Runtime:
 * the CNN (examples/mnist), the MLP (test/fixtures/models/mnist-mlp.onnx, the same digits
 * flattened to 784 values) and the transformer encoder (examples/transformer).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readNpy } from '../src/evaluate/npy.js';
import { ModelSession, type Feeds } from '../src/evaluate/session.js';
import { encodeModel, loadModel, type Model } from '../src/onnx/index.js';

export interface RealModel {
  name: string;
  model: Model;
  evalFeeds: Feeds[];
  labels: ArrayLike<number | bigint>;
  calibration: Feeds[];
  /** One batch of 32 evaluation samples, for latency. */
  batch32: Feeds;
}

const ROOT = path.resolve(import.meta.dirname, '..');

const SOURCES = [
  { name: 'CNN', model: 'examples/mnist/model.onnx', data: 'examples/mnist/data', sampleShape: undefined },
  { name: 'MLP', model: 'test/fixtures/models/mnist-mlp.onnx', data: 'examples/mnist/data', sampleShape: [784] },
  { name: 'transformer', model: 'examples/transformer/model.onnx', data: 'examples/transformer/data', sampleShape: undefined },
];

export function batches(x: { shape: number[]; data: Float32Array }, name: string, size: number): Feeds[] {
  const per = x.data.length / x.shape[0];
  const out: Feeds[] = [];
  for (let s = 0; s < x.shape[0]; s += size) {
    const n = Math.min(size, x.shape[0] - s);
    out.push({ [name]: { type: 'float32', dims: [n, ...x.shape.slice(1)], data: x.data.subarray(s * per, (s + n) * per) } });
  }
  return out;
}

/** The models whose files exist (all three in a checkout), with their data. */
export function loadRealModels(log: (line: string) => void = () => {}): RealModel[] {
  const out: RealModel[] = [];
  for (const src of SOURCES) {
    const file = path.join(ROOT, src.model);
    if (!fs.existsSync(file)) {
      log(`${src.model} not found; ${src.name} skipped`);
      continue;
    }
    const model = loadModel(file);
    const input = model.graph.inputs[0].name;
    const read = (f: string) => {
      const a = readNpy(path.join(ROOT, src.data, f));
      const shape = src.sampleShape ? [a.shape[0], ...src.sampleShape] : a.shape;
      return { shape, data: a.data as Float32Array };
    };
    const x = read('eval_x.npy');
    out.push({
      name: src.name,
      model,
      evalFeeds: batches(x, input, 100),
      labels: readNpy(path.join(ROOT, src.data, 'eval_y.npy')).data as ArrayLike<number | bigint>,
      calibration: batches(read('calib_x.npy'), input, 64),
      batch32: batches({ shape: [32, ...x.shape.slice(1)], data: x.data.subarray(0, (32 * x.data.length) / x.shape[0]) }, input, 32)[0],
    });
  }
  return out;
}

/** Top-1 accuracy (%) of `model` on the evaluation batches. */
export async function accuracy(model: Model, feeds: Feeds[], labels: ArrayLike<number | bigint>): Promise<number> {
  const s = await ModelSession.create(encodeModel(model));
  let correct = 0;
  let i = 0;
  try {
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
  } finally {
    await s.release();
  }
  return (100 * correct) / i;
}
