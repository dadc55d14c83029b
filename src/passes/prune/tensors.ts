/**
 * Small tensor helpers shared by the pruning passes: float views of weights, removing positions
 * along axes, constant lookup (initializers and Constant nodes), parameter counts.
 */
import { DataType, fromFloat32, fromTypedArray, getAttr, toFloat32, toTypedArray, type Graph, type Tensor } from '../../onnx/index.js';

export const FLOAT_TYPES = new Set<DataType>([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);

export function isFloatTensor(t: Tensor): boolean {
  return FLOAT_TYPES.has(t.dataType);
}

/** Integer elements of an int32/int64 tensor as numbers (shape constants, split sizes, axes). */
export function intValues(t: Tensor): number[] {
  if (t.dataType !== DataType.INT64 && t.dataType !== DataType.INT32) return [];
  return Array.from(toTypedArray(t) as ArrayLike<number | bigint>, Number);
}

/**
 * Moves Constant-node values into initializers so that every constant a pass reads or slices lives
 * in one place. Outputs are unchanged (cleanup later drops the dead Constant nodes).
 */
export function materializeConstants(graph: Graph): void {
  const keep = [];
  for (const n of graph.nodes) {
    const attr = n.opType === 'Constant' && n.domain === '' ? getAttr(n, 'value') : undefined;
    if (attr && attr.type === 'tensor' && n.outputs.length === 1) {
      graph.initializers.push({ ...attr.value, name: n.outputs[0] });
      continue;
    }
    keep.push(n);
  }
  graph.nodes = keep;
}

/** A copy of `data` (row-major, `dims`) without the given positions along each listed axis. */
export function removePositions(data: Float32Array, dims: number[], removed: Map<number, Set<number>>): { data: Float32Array; dims: number[] } {
  const keepPerAxis = dims.map((d, axis) => {
    const r = removed.get(axis);
    const keep: number[] = [];
    for (let i = 0; i < d; i++) if (!r || !r.has(i)) keep.push(i);
    return keep;
  });
  const newDims = keepPerAxis.map((k) => k.length);
  const total = newDims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(total);
  const strides = stridesOf(dims);
  const rank = dims.length;
  if (rank === 0) return { data: Float32Array.from(data), dims: [] };
  const idx = new Array<number>(rank).fill(0);
  // Walk the kept index space; the innermost axis is copied in one loop.
  const inner = keepPerAxis[rank - 1];
  let o = 0;
  for (;;) {
    let base = 0;
    for (let a = 0; a < rank - 1; a++) base += keepPerAxis[a][idx[a]] * strides[a];
    for (let k = 0; k < inner.length; k++) out[o++] = data[base + inner[k]];
    let a = rank - 2;
    while (a >= 0) {
      idx[a]++;
      if (idx[a] < keepPerAxis[a].length) break;
      idx[a] = 0;
      a--;
    }
    if (a < 0 || total === 0) break;
  }
  return { data: out, dims: newDims };
}

export function stridesOf(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** A tensor with the same name and element type holding new float values (always a fresh copy). */
export function withValues(t: Tensor, dims: number[], values: ArrayLike<number>, name = t.name): Tensor {
  return fromFloat32(name, t.dataType, dims, values);
}

/**
 * Like withValues, for a Float32Array the caller hands over and never touches again: a float32
 * tensor is built over its bytes (no copy); other element types are converted as withValues does.
 * The bytes are the same either way.
 */
export function adoptValues(t: Tensor, dims: number[], values: Float32Array, name = t.name): Tensor {
  return t.dataType === DataType.FLOAT ? fromTypedArray(name, DataType.FLOAT, dims, values) : fromFloat32(name, t.dataType, dims, values);
}

export function floats(t: Tensor): Float32Array {
  return toFloat32(t);
}
