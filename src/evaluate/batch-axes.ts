/**
 * Where the batch sits in a model's inputs and outputs. Exporters name the batch dimension
 * (`batch`, `N`, `p2o.DynamicDimension.0`); a recurrent state such as Silero VAD's `h`
 * [2, batch, 64] carries it at axis 1, a sample rate `sr` [] not at all. Data files always hold
 * samples along their first axis; these helpers move that axis to where the model wants it and back.
 */
import type { NpyArray } from './npy.js';
import type { IoInfo } from './session.js';

/**
 * The symbol of the batch dimension: a named first axis of some input, else the named dimension
 * most inputs share (a model whose only input is a state [2, N, 64]).
 */
export function batchSymbol(values: IoInfo[]): string | undefined {
  for (const v of values) if (typeof v.shape[0] === 'string') return v.shape[0];
  const counts = new Map<string, number>();
  for (const v of values) for (const d of new Set(v.shape)) if (typeof d === 'string') counts.set(d, (counts.get(d) ?? 0) + 1);
  let best: string | undefined;
  for (const [d, n] of counts) if (best === undefined || n > counts.get(best)!) best = d;
  return best;
}

/**
 * The batch axis of a model input or output: where the batch symbol stands, else a free first
 * axis (named or -1), else a fixed first axis (a model exported for one batch size); null for a
 * scalar.
 */
export function inferBatchAxis(v: IoInfo, symbol: string | undefined): number | null {
  if (symbol !== undefined) {
    const k = v.shape.indexOf(symbol);
    if (k >= 0) return k;
  }
  return v.shape.length ? 0 : null;
}

/** Whether the axis is free (named or unknown), as opposed to fixed by the exporter. */
export function isFreeAxis(v: IoInfo, axis: number): boolean {
  const d = v.shape[axis];
  return typeof d === 'string' || d === -1;
}

/**
 * Samples stacked along the first axis ([n, ...rest], row-major) rearranged with the sample axis
 * at `axis` ([rest[0..axis), n, rest[axis..]]). A view when `axis` is 0 or n is 1.
 */
export function moveSampleAxisTo(data: NpyArray, n: number, rest: number[], axis: number): NpyArray {
  if (axis === 0 || n === 1) return data;
  const outer = rest.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = rest.slice(axis).reduce((a, b) => a * b, 1);
  const out = new (data.constructor as new (len: number) => NpyArray)(data.length);
  for (let s = 0; s < n; s++) {
    for (let o = 0; o < outer; o++) {
      // Sample s, block o of `inner` values goes to block (o, s).
      (out as Float32Array).set((data as Float32Array).subarray((s * outer + o) * inner, (s * outer + o + 1) * inner), (o * n + s) * inner);
    }
  }
  return out;
}

/** The inverse for outputs: values with the batch at `axis` of `dims`, as [n, ...rest] with the samples first. */
export function moveAxisToFront(data: Float32Array, dims: number[], axis: number): Float32Array {
  const n = dims[axis];
  if (axis === 0 || n === 1) return data;
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < n; s++) out.set(data.subarray((o * n + s) * inner, (o * n + s + 1) * inner), (s * outer + o) * inner);
  }
  return out;
}
