/**
 * Runs the float model over the calibration batches once and turns the streamed statistics of the
 * requested tensors into quantization ranges (MinMax, Percentile or Entropy).
 *
 * Memory: the weights ORT can read in place (weightsReadInPlace) are fed from the model's own
 * bytes, so ORT holds no copy of them; the rest go to ORT as a file with external data when the
 * model is large (`openSession`: ORT maps them instead of copying a serialized buffer, which costs
 * 3x the weights while encoding). Batches of a large model are split into slices of a few samples
 * so the captured activations stay small.
 */
import { GraphIndex, initializerBytes, subgraphsOf, type Model } from '../../onnx/index.js';
import type { Feeds, HostTensor, SessionOptions } from '../../evaluate/session.js';
import { LARGE_MODEL_BYTES, openSession, withExtraOutputs } from '../../evaluate/activations.js';
import { entropyRange, percentileRange, StreamingHistogram } from './histogram.js';

/**
 * Calibration runs each batch once: 'basic' optimization skips the NCHWc layout rewrite and
 * disabling pre-packing skips the packed weight copies, which otherwise double or triple the
 * session's memory for no gain. Values are the same float32 math either way.
 */
export const CALIBRATION_SESSION: SessionOptions = { graphOptimizationLevel: 'basic', configEntries: { 'session.disable_prepacking': '1' }, label: 'calibration' };

/** Batches of models above LARGE_MODEL_BYTES run in slices of this many samples. */
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
  const inPlace = weightsReadInPlace(model);
  const { run, close } = await openSession(withExtraOutputs(model, fromModel), { ...CALIBRATION_SESSION, feedAsInput: (t) => inPlace.has(t.name) });
  try {
    for (const batch of batches) {
      for (const slice of large ? sliceBatch(model, batch, LARGE_MODEL_SLICE) : [batch]) {
        const outputs = fromModel.length ? await run(slice, fromModel) : {};
        for (const v of values) if (inputNames.has(v)) outputs[v] = slice[v];
        onBatch(outputs);
      }
    }
  } finally {
    await close();
  }
}

/** Ops whose constant operand a 'basic'-level fusion folds into the Conv/MatMul/Gemm before them. */
const FOLDED_AFTER: Record<string, Set<string>> = {
  // ConvAddFusion, ConvMulFusion, ConvBNFusion
  Conv: new Set(['Add', 'Sub', 'Mul', 'Div', 'BatchNormalization', 'Sum', 'Transpose']),
  // MatMulAddFusion
  MatMul: new Set(['Add', 'Sub', 'Mul', 'Div', 'Sum', 'Transpose']),
  // GemmSumFusion
  Gemm: new Set(['Add', 'Sub', 'Mul', 'Div', 'Sum', 'Transpose']),
};

/**
 * Weights ORT can read in place, as graph inputs fed from the model's own bytes, instead of holding
 * a copy for calibration (openSession's feedAsInput): float initializers read only as input 1 (the
 * weight) of Conv, MatMul or Gemm nodes whose activation input is computed at run time and whose
 * output goes to no op a 'basic'-level fusion could fold a constant weight into (FOLDED_AFTER), nor
 * from or to a Transpose. At 'basic' with pre-packing off, nothing else ORT does depends on such a
 * weight being constant: the same kernels run on the same values, and the activations are the same
 * bits. Weights that fail a condition stay initializers.
 */
export function weightsReadInPlace(model: Model): Set<string> {
  const g = model.graph;
  const index = new GraphIndex(g);
  const out = new Set<string>();
  const graphValues = new Set([...g.inputs.map((v) => v.name), ...g.outputs.map((v) => v.name)]);
  for (const t of g.initializers) {
    if (graphValues.has(t.name)) continue;
    const readers = index.consumersOf(t.name);
    const ok =
      readers.length > 0 &&
      readers.every((n) => {
        const folded = FOLDED_AFTER[n.opType];
        if (!folded || n.domain !== '' || subgraphsOf(n).length) return false;
        if (n.inputs.some((v, i) => v === t.name && i !== 1)) return false;
        const x = n.inputs[0];
        if (!x || index.initializer.has(x) || index.producer.get(x)?.opType === 'Transpose') return false;
        return n.outputs.every((o) => !o || index.consumersOf(o).every((c) => !folded.has(c.opType)));
      });
    if (ok) out.add(t.name);
  }
  return out;
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
