import { ModelSession, type Feeds, type HostTensor } from '../../../src/evaluate/session.js';
import { mulberry32 } from '../../helpers/seeded-random.js';
import { encodeModel, type Model } from '../../../src/onnx/index.js';

export function randomFeeds(inputs: Record<string, number[]>, seed = 11, shift = 0): Feeds {
  const rand = mulberry32(seed);
  const feeds: Feeds = {};
  for (const [k, dims] of Object.entries(inputs)) {
    feeds[k] = { type: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1 + shift) };
  }
  return feeds;
}

export async function run(model: Model, feeds: Feeds): Promise<Record<string, HostTensor>> {
  const s = await ModelSession.create(encodeModel(model), { label: model.graph.name });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

export function maxAbsDiff(a: HostTensor, b: HostTensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  if (x.length !== y.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

export function relError(pruned: HostTensor, ref: HostTensor): number {
  const x = pruned.data as Float32Array;
  const y = ref.data as Float32Array;
  let num = 0;
  let den = 0;
  for (let i = 0; i < y.length; i++) {
    num += (x[i] - y[i]) ** 2;
    den += y[i] ** 2;
  }
  return Math.sqrt(num / den);
}
