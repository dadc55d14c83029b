/**
 * Training-free repair of a consumer whose input channels are about to be removed. It runs on the
 * full-size weights before the slices are cut: the removed rows are zeroed, the kept rows (and the
 * bias) are refitted, and the removal then drops the zero rows.
 *
 *  - least-squares (Gemm/MatMul consumers with calibration rows): the change D to the kept rows
 *    and bias minimises ||[X_kept 1] D - X_removed W_removed||^2 + lambda ||D||^2, i.e. the kept
 *    channels and the bias take over what the removed ones contributed. Solved in the primal
 *    ([K+1]^2 system) or, when there are fewer rows than channels, the dual (n^2) form.
 *  - bias-correction (any Conv/Gemm/MatMul consumer): the removed channels' mean contribution
 *    E[x_removed] W_removed moves into the bias.
 */
import { getFloat, getInt, GraphIndex, NameGenerator, type Graph, type Node, type Tensor } from '../../onnx/index.js';
import type { ChannelStats } from './calibration.js';
import { addRowTimes, frobenius, gramCols, gramRows, matmul, matmulTN, solveSpd, trace } from './linalg.js';
import { adoptValues, floats, withValues } from './tensors.js';

export type RepairMode = 'none' | 'least-squares' | 'bias-correction';

export interface RepairOutcome {
  node: string;
  method: RepairMode;
  /** Relative output reconstruction error on the calibration rows without repair and with it. */
  errorBefore?: number;
  errorAfter?: number;
  note?: string;
}

/** Ridge strength relative to the mean diagonal of the Gram matrix. */
const RIDGE = 1e-2;

interface Linear {
  /** Weight as row-major [K, N] (a transposed copy for Gemm transB=1). */
  w: Float64Array;
  k: number;
  n: number;
  bias?: Float64Array;
  /** New weights as float32 [K, N] (taken over, not copied), and the bias. */
  write(w: Float32Array, bias: Float64Array | undefined): void;
}

export function repairConsumer(graph: Graph, node: Node, removed: Set<number>, stats: ChannelStats | undefined, mode: RepairMode): RepairOutcome {
  if (mode === 'none' || removed.size === 0) return { node: node.name, method: 'none' };
  if (!stats) return { node: node.name, method: 'none', note: 'no calibration statistics for the input' };
  if (node.opType === 'Conv') return convBiasCorrection(graph, node, removed, stats);
  const lin = asLinear(graph, node);
  if (!lin) return { node: node.name, method: 'none', note: `${node.opType} form not repairable` };
  const rows = stats.rows && stats.rows.length ? stats.rows : undefined;
  if (mode === 'least-squares' && rows && lin.bias) return leastSquares(lin, node, removed, stats);
  if (mode === 'least-squares' && rows) return leastSquares(lin, node, removed, stats);
  return linearBiasCorrection(lin, node, removed, stats);
}

function leastSquares(lin: Linear, node: Node, removed: Set<number>, stats: ChannelStats): RepairOutcome {
  const { k, n: outN, w } = lin;
  const rows = stats.rows as Float32Array[];
  const nRows = rows.length;
  const kept: number[] = [];
  const gone: number[] = [];
  for (let p = 0; p < k; p++) (removed.has(p) ? gone : kept).push(p);
  const withBias = !!lin.bias;
  const d = kept.length + (withBias ? 1 : 0);
  // A = [X_kept, 1], R = X_removed W_removed: what the kept channels must make up for.
  const a = new Float64Array(nRows * d);
  const xr = new Float64Array(nRows * gone.length);
  rows.forEach((row, i) => {
    kept.forEach((p, j) => (a[i * d + j] = row[p]));
    if (withBias) a[i * d + d - 1] = 1;
    gone.forEach((p, j) => (xr[i * gone.length + j] = row[p]));
  });
  const wr = new Float64Array(gone.length * outN);
  gone.forEach((p, j) => wr.set(w.subarray(p * outN, (p + 1) * outN), j * outN));
  const r = matmul(xr, nRows, gone.length, wr, outN);
  let delta: Float64Array;
  if (nRows < d) {
    const g = gramRows(a, nRows, d);
    const alpha = solveSpd(g, nRows, r, outN, (RIDGE * trace(g, nRows)) / nRows + 1e-12);
    delta = matmulTN(a, nRows, d, alpha, outN);
  } else {
    const g = gramCols(a, nRows, d);
    delta = solveSpd(g, d, matmulTN(a, nRows, d, r, outN), outN, (RIDGE * trace(g, d)) / d + 1e-12);
  }
  const residual = matmul(a, nRows, d, delta, outN);
  for (let i = 0; i < residual.length; i++) residual[i] = r[i] - residual[i];
  const yNorm = outputNorm(rows, lin);
  // Straight to float32: each weight is w + delta in double, rounded once on the store (as before,
  // when a Float64 copy was rounded on the way out).
  const next = Float32Array.from(w);
  kept.forEach((p, j) => {
    for (let o = 0; o < outN; o++) next[p * outN + o] = w[p * outN + o] + delta[j * outN + o];
  });
  for (const p of gone) next.fill(0, p * outN, (p + 1) * outN);
  let bias = lin.bias;
  if (bias && withBias) {
    bias = Float64Array.from(bias);
    for (let o = 0; o < outN; o++) bias[o] += delta[(d - 1) * outN + o];
  }
  lin.write(next, bias);
  return { node: node.name, method: 'least-squares', errorBefore: frobenius(r) / yNorm, errorAfter: frobenius(residual) / yNorm };
}

function linearBiasCorrection(lin: Linear, node: Node, removed: Set<number>, stats: ChannelStats): RepairOutcome {
  const { k, n: outN, w } = lin;
  if (!lin.bias) return { node: node.name, method: 'none', note: 'no bias to correct' };
  const bias = Float64Array.from(lin.bias);
  const next = Float32Array.from(w);
  for (const p of removed) {
    const mean = stats.sum[p] / Math.max(1, stats.count);
    for (let o = 0; o < outN; o++) bias[o] += mean * w[p * outN + o];
    next.fill(0, p * outN, (p + 1) * outN);
  }
  let errorBefore: number | undefined;
  let errorAfter: number | undefined;
  if (stats.rows?.length) {
    const yNorm = outputNorm(stats.rows, lin);
    let before = 0;
    let after = 0;
    for (const row of stats.rows) {
      for (let o = 0; o < outN; o++) {
        let lost = 0;
        let shift = 0;
        for (const p of removed) {
          lost += row[p] * w[p * outN + o];
          shift += (stats.sum[p] / Math.max(1, stats.count)) * w[p * outN + o];
        }
        before += lost * lost;
        after += (lost - shift) * (lost - shift);
      }
    }
    errorBefore = Math.sqrt(before) / yNorm;
    errorAfter = Math.sqrt(after) / yNorm;
  }
  void k;
  lin.write(next, bias);
  return { node: node.name, method: 'bias-correction', errorBefore, errorAfter };
}

function convBiasCorrection(graph: Graph, node: Node, removed: Set<number>, stats: ChannelStats): RepairOutcome {
  const index = new GraphIndex(graph);
  const wt = index.initializer.get(node.inputs[1]) as Tensor;
  const [outC, inC] = wt.dims;
  const kernel = wt.dims.slice(2).reduce((a, b) => a * b, 1);
  const w = floats(wt);
  const biasT = node.inputs[2] ? index.initializer.get(node.inputs[2]) : undefined;
  const bias = biasT ? Float64Array.from(floats(biasT)) : new Float64Array(outC);
  for (const c of removed) {
    const mean = stats.sum[c] / Math.max(1, stats.count);
    for (let o = 0; o < outC; o++) {
      let s = 0;
      for (let q = 0; q < kernel; q++) s += w[(o * inC + c) * kernel + q];
      // Padding sees zeros at the borders, so this is exact only away from them.
      bias[o] += mean * s;
    }
  }
  setBias(graph, node, 2, biasT ?? { ...wt, dims: [outC] }, bias);
  return { node: node.name, method: 'bias-correction', note: 'mean shift moved into the bias (exact away from padded borders)' };
}

/** ||X W + b|| over the calibration rows (each output summed from the bias over p ascending). */
function outputNorm(rows: Float32Array[], lin: Linear): number {
  let s = 0;
  const y = new Float64Array(lin.n);
  const x = new Float64Array(lin.k);
  const nz = new Int32Array(lin.k);
  for (const row of rows) {
    if (lin.bias) y.set(lin.bias);
    else y.fill(0);
    x.set(row.subarray(0, lin.k));
    addRowTimes(x, 0, lin.k, lin.w, lin.n, y, 0, nz);
    for (let o = 0; o < lin.n; o++) s += y[o] * y[o];
  }
  return Math.sqrt(s) || 1;
}

function asLinear(graph: Graph, node: Node): Linear | undefined {
  const index = new GraphIndex(graph);
  const wt = index.initializer.get(node.inputs[1]);
  if (!wt || wt.dims.length !== 2) return undefined;
  const raw = floats(wt);
  const transB = node.opType === 'Gemm' && getInt(node, 'transB', 0) === 1;
  // transA only changes which axis of A holds the channels (the calibration statistics follow it);
  // alpha scales A B, which the fitted rows would have to undo.
  if (node.opType === 'Gemm' && getFloat(node, 'alpha', 1) !== 1) return undefined;
  const [k, n] = transB ? [wt.dims[1], wt.dims[0]] : wt.dims;
  const w = new Float64Array(k * n);
  if (transB) for (let o = 0; o < n; o++) for (let p = 0; p < k; p++) w[p * n + o] = raw[o * k + p];
  else w.set(raw);
  let biasT: Tensor | undefined;
  let biasNode: Node = node;
  let biasInput = 2;
  if (node.opType === 'Gemm') {
    biasT = node.inputs[2] ? index.initializer.get(node.inputs[2]) : undefined;
    if (node.inputs[2] && (!biasT || biasT.dims.reduce((a, b) => a * b, 1) !== n)) return { k, n, w, write: (nw) => writeW(nw) };
    if (getFloat(node, 'beta', 1) !== 1) return { k, n, w, write: (nw) => writeW(nw) };
  } else {
    // MatMul followed by a bias Add: that Add's constant is the bias.
    const users = index.consumersOf(node.outputs[0]);
    const add = users.length === 1 && users[0].opType === 'Add' ? users[0] : undefined;
    const other = add ? add.inputs.find((v) => v !== node.outputs[0]) : undefined;
    const t = other ? index.initializer.get(other) : undefined;
    if (add && t && t.dims.reduce((a, b) => a * b, 1) === n && t.dims[t.dims.length - 1] === n) {
      biasT = t;
      biasNode = add;
      biasInput = add.inputs.indexOf(other as string);
    } else return { k, n, w, write: (nw) => writeW(nw) };
  }
  const bias = biasT ? Float64Array.from(floats(biasT)) : new Float64Array(n);
  function writeW(nw: Float32Array) {
    let out = nw;
    if (transB) {
      out = new Float32Array(k * n);
      for (let o = 0; o < n; o++) for (let p = 0; p < k; p++) out[o * k + p] = nw[p * n + o];
    }
    replaceTensor(graph, node, 1, adoptValues(wt as Tensor, (wt as Tensor).dims, out));
  }
  return {
    k,
    n,
    w,
    bias,
    write(nw, nb) {
      writeW(nw);
      if (nb) setBias(graph, biasNode, biasInput, biasT ?? { ...(wt as Tensor), dims: [n] }, nb);
    },
  };
}

/** Writes a bias tensor; creates the input when the node had none. */
function setBias(graph: Graph, node: Node, input: number, like: Tensor, values: Float64Array): void {
  const name = node.inputs[input] || new NameGenerator(graph).next(`${node.name || node.opType}_bias`);
  const t = withValues({ ...like, name }, [...like.dims], values, name);
  while (node.inputs.length <= input) node.inputs.push('');
  if (!node.inputs[input]) {
    node.inputs[input] = name;
    graph.initializers.push(t);
  } else replaceTensor(graph, node, input, t);
}

/** Replaces a node's constant input; a constant other nodes also read is copied instead. */
function replaceTensor(graph: Graph, node: Node, input: number, t: Tensor): void {
  const name = node.inputs[input];
  const shared = graph.nodes.filter((n) => n.inputs.includes(name)).length > 1;
  if (shared) {
    const fresh = new NameGenerator(graph).next(`${name}_repaired`);
    graph.initializers.push({ ...t, name: fresh });
    node.inputs[input] = fresh;
    return;
  }
  const i = graph.initializers.findIndex((x) => x.name === name);
  graph.initializers[i] = { ...t, name };
}
