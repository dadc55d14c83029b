/**
 * Runs the float model over the calibration batches once and turns the streamed statistics of the
 * requested tensors into quantization ranges (MinMax, Percentile or Entropy).
 *
 * Memory: a large model is handed to ORT as a file with external data (ORT maps the weights
 * instead of copying a serialized buffer, which costs 3x the weights while encoding), and its
 * batches are split into slices of a few samples so the captured activations stay small.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModel, saveModel, type Model } from '../../onnx/index.js';
import { ModelSession, type Feeds, type HostTensor, type SessionOptions } from '../../evaluate/session.js';
import { withExtraOutputs } from '../../evaluate/activations.js';
import { entropyRange, percentileRange, StreamingHistogram } from './histogram.js';
import { initializerBytes } from './model-utils.js';

/**
 * Calibration runs each batch once: 'basic' optimization skips the NCHWc layout rewrite and
 * disabling pre-packing skips the packed weight copies, which otherwise double or triple the
 * session's memory for no gain. Values are the same float32 math either way.
 */
export const CALIBRATION_SESSION: SessionOptions = { graphOptimizationLevel: 'basic', configEntries: { 'session.disable_prepacking': '1' }, label: 'calibration' };

/** Above this many bytes of weights, the memory-saving path is taken. */
const LARGE_MODEL_BYTES = 64 * 1024 * 1024;
const LARGE_MODEL_SLICE = 8;

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';

export interface TensorRange {
  min: number;
  max: number;
  /** The range to quantize to after clipping by the method. */
  lo: number;
  hi: number;
}

/** Per-tensor ranges over all batches; tensors that never carried float data are absent. */
export async function calibrateRanges(model: Model, tensors: string[], batches: Feeds[], method: CalibrationMethod, percentile = 99.999): Promise<Map<string, TensorRange>> {
  const stats = new Map<string, StreamingHistogram>();
  for (const t of tensors) stats.set(t, new StreamingHistogram(method !== 'minmax'));
  await forEachCalibrationBatch(model, tensors, batches, (batch) => {
    for (const [name, value] of Object.entries(batch)) {
      if (value.type !== 'float32') continue;
      stats.get(name)?.add(value.data as Float32Array);
    }
  });
  const out = new Map<string, TensorRange>();
  for (const [name, h] of stats) {
    if (h.count === 0) continue;
    // A non-negative tensor spends all 256 codes on [0, T]; a signed one 128 per side.
    const [lo, hi] = method === 'minmax' ? [h.min, h.max] : method === 'percentile' ? percentileRange(h, percentile) : entropyRange(h, h.min >= 0 ? 256 : 128);
    out.set(name, { min: h.min, max: h.max, lo, hi });
  }
  return out;
}

/** Like forEachActivationBatch, with the large-model memory savings described above. */
export async function forEachCalibrationBatch(model: Model, values: string[], batches: Feeds[], onBatch: (batch: Record<string, HostTensor>) => void): Promise<void> {
  const inputNames = new Set(model.graph.inputs.map((i) => i.name));
  const fromModel = values.filter((v) => !inputNames.has(v));
  const large = initializerBytes(model) > LARGE_MODEL_BYTES;
  const withOutputs = withExtraOutputs(model, fromModel);
  let dir: string | undefined;
  let source: string | Uint8Array;
  if (large) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-calibration-'));
    source = path.join(dir, 'model.onnx');
    saveModel(withOutputs, source, { externalThreshold: 1024 });
  } else source = encodeModel(withOutputs);
  try {
    const session = await ModelSession.create(source, CALIBRATION_SESSION);
    try {
      for (const batch of batches) {
        for (const slice of large ? sliceBatch(model, batch, LARGE_MODEL_SLICE) : [batch]) {
          const outputs = fromModel.length ? await session.run(slice, fromModel) : {};
          for (const v of values) if (inputNames.has(v)) outputs[v] = slice[v];
          onBatch(outputs);
        }
      }
    } finally {
      await session.release();
    }
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Splits a batch along axis 0 when every input's first dimension is the (symbolic) batch axis. */
function sliceBatch(model: Model, batch: Feeds, size: number): Feeds[] {
  const entries = Object.entries(batch);
  const n = entries[0]?.[1].dims[0];
  const batchAxis = model.graph.inputs.every((i) => i.type?.kind !== 'tensor' || typeof i.type.shape?.[0] !== 'number');
  if (!batchAxis || n === undefined || n <= size || entries.some(([, t]) => t.dims[0] !== n || Array.isArray(t.data))) return [batch];
  const out: Feeds[] = [];
  for (let s = 0; s < n; s += size) {
    const e = Math.min(n, s + size);
    const slice: Feeds = {};
    for (const [name, t] of entries) {
      const per = t.data.length / n;
      slice[name] = { type: t.type, dims: [e - s, ...t.dims.slice(1)], data: (t.data as Float32Array).subarray(s * per, e * per) };
    }
    out.push(slice);
  }
  return out;
}
