/**
 * Calibration statistics for activation-aware pruning and repair: per-position sums and sums of
 * squares of chosen activations along one axis, and (for 2-D consumers) a bounded sample of rows.
 * One ORT pass over the calibration batches, accumulating as it goes.
 */
import { InputError } from '../../util/errors.js';
import { forEachActivationBatch } from '../../evaluate/activations.js';
import type { Feeds, HostTensor } from '../../evaluate/session.js';
import type { Model } from '../../onnx/index.js';

export interface ChannelStats {
  axis: number;
  sum: Float64Array;
  sumSq: Float64Array;
  /** Elements per position seen (batch x spatial). */
  count: number;
  /** Rows of the activation viewed as [rows, size] (only when the axis is the last one). */
  rows?: Float32Array[];
}

export interface StatsRequest {
  value: string;
  axis: number;
  keepRows: boolean;
}

/** Most rows kept per activation for least-squares repair (bounds memory on large calibration sets). */
export const MAX_ROWS = 4096;

/** Checks calibration batches against the model's declared inputs: names, element types, ranks, fixed dims. */
export function validateCalibration(model: Model, batches: Feeds[] | undefined, what: string): Feeds[] {
  if (!batches || batches.length === 0) throw new InputError(`${what} needs calibration data (calibration batches are empty)`, 'calibration');
  const inits = new Set(model.graph.initializers.map((t) => t.name));
  batches.forEach((b, i) => {
    for (const input of model.graph.inputs) {
      if (inits.has(input.name)) continue;
      const t = b[input.name];
      if (!t) throw new InputError(`calibration batch ${i} lacks model input '${input.name}'`, `calibration[${i}].${input.name}`);
      const shape = input.type?.kind === 'tensor' ? input.type.shape : undefined;
      if (shape && shape.length !== t.dims.length) {
        throw new InputError(`calibration batch ${i}: input '${input.name}' has rank ${t.dims.length}, the model expects [${shape.join(',')}]`, `calibration[${i}].${input.name}`);
      }
      shape?.forEach((d, k) => {
        if (typeof d === 'number' && d > 0 && t.dims[k] !== d) {
          throw new InputError(`calibration batch ${i}: input '${input.name}' has shape [${t.dims.join(',')}], the model expects [${shape.join(',')}]`, `calibration[${i}].${input.name}`);
        }
      });
      const n = t.dims.reduce((a, c) => a * c, 1);
      if (t.data.length !== n) throw new InputError(`calibration batch ${i}: input '${input.name}' holds ${t.data.length} values for shape [${t.dims.join(',')}]`, `calibration[${i}].${input.name}`);
    }
  });
  return batches;
}

export async function collectStats(model: Model, requests: StatsRequest[], batches: Feeds[]): Promise<Map<string, ChannelStats>> {
  const out = new Map<string, ChannelStats>();
  const byValue = new Map<string, StatsRequest>();
  for (const r of requests) {
    const prev = byValue.get(r.value);
    byValue.set(r.value, prev ? { ...prev, keepRows: prev.keepRows || r.keepRows } : r);
  }
  if (!byValue.size) return out;
  await forEachActivationBatch(model, [...byValue.keys()], batches, (batch) => {
    for (const [value, req] of byValue) {
      const t = batch[value];
      if (!t) continue;
      accumulate(out, value, req, t);
    }
  });
  return out;
}

function accumulate(out: Map<string, ChannelStats>, value: string, req: StatsRequest, t: HostTensor): void {
  const data = t.data as Float32Array;
  const dims = t.dims;
  const size = dims[req.axis];
  let s = out.get(value);
  if (!s) out.set(value, (s = { axis: req.axis, sum: new Float64Array(size), sumSq: new Float64Array(size), count: 0, rows: req.keepRows && req.axis === dims.length - 1 ? [] : undefined }));
  if (s.sum.length !== size) throw new Error(`activation '${value}' changed size between batches`);
  const inner = dims.slice(req.axis + 1).reduce((a, b) => a * b, 1);
  const outer = dims.slice(0, req.axis).reduce((a, b) => a * b, 1);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < size; c++) {
      const base = (o * size + c) * inner;
      let a = 0;
      let q = 0;
      for (let i = 0; i < inner; i++) {
        const x = data[base + i];
        a += x;
        q += x * x;
      }
      s.sum[c] += a;
      s.sumSq[c] += q;
    }
  }
  s.count += outer * inner;
  if (s.rows) {
    let have = s.rows.reduce((a, r) => a + r.length / size, 0);
    // The batch's buffer is this call's own (a fresh ORT output): when every row of it is kept, the
    // rows are views into it instead of copies; when only some are, copies let the rest go.
    const whole = have + outer <= MAX_ROWS;
    for (let o = 0; o < outer && have < MAX_ROWS; o++, have++) s.rows.push(whole ? data.subarray(o * size, (o + 1) * size) : data.slice(o * size, (o + 1) * size));
  }
}
