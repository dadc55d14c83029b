/**
 * Fine-grained pruning: magnitude (exact target, per layer or global) and N:M along the reduction
 * axis, optionally scored Wanda-style. Shapes stay; zeros only pay off once stored sparsely or
 * compressed, which is what the note in the summary says.
 */
import { InputError } from '../../util/errors.js';
import { cloneModel, countParams, DataType, elementCount, getInt, int64Tensor, type Model, type Node, type SparseTensor, type Tensor } from '../../onnx/index.js';
import type { LayerChange, PassContext, PassResult, Skipped } from '../types.js';
import { collectStats, validateCalibration } from './calibration.js';
import { checkChoice, checkLayerNames, checkTarget, FINE_GRAINED_NOTE, measure, selected } from './common.js';
import { zeroSmallest } from './select.js';
import { adoptValues, floats, isFloatTensor } from './tensors.js';

export interface UnstructuredOptions {
  target: number;
  scope?: 'per-layer' | 'global';
  layers?: string[];
  exclude?: string[];
  /** Store pruned weights as sparse_initializer when that is smaller (ORT densifies them at load). */
  sparseStorage?: boolean;
}

export interface NMOptions {
  n: number;
  m: number;
  importance?: 'magnitude' | 'wanda';
  layers?: string[];
  exclude?: string[];
  sparseStorage?: boolean;
}

interface WeightLayer {
  node: Node;
  tensor: Tensor;
}

/** Weight inputs of Conv/ConvTranspose/Gemm/MatMul that are float initializers. */
export function weightLayers(model: Model, layers?: string[], exclude?: string[]): { found: WeightLayer[]; skipped: Skipped[] } {
  const inits = new Map(model.graph.initializers.map((t) => [t.name, t]));
  const found: WeightLayer[] = [];
  const skipped: Skipped[] = [];
  const seen = new Set<string>();
  for (const node of model.graph.nodes) {
    if (!['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(node.opType) || node.domain !== '') continue;
    const t = inits.get(node.inputs[1]);
    if (!t || !isFloatTensor(t)) continue;
    if (!selected([node.name], layers, exclude)) continue;
    if (seen.has(t.name)) {
      skipped.push({ what: node.name, reason: `weight '${t.name}' is shared with another layer (pruned once)` });
      continue;
    }
    seen.add(t.name);
    found.push({ node, tensor: t });
  }
  return { found, skipped };
}

export async function pruneUnstructured(model: Model, options: UnstructuredOptions, ctx: PassContext): Promise<PassResult> {
  const target = checkTarget(options.target);
  const scope = checkChoice(options.scope ?? 'per-layer', ['per-layer', 'global'] as const, 'scope');
  checkLayerNames(model, { layers: options.layers, exclude: options.exclude });
  const work = cloneModel(model);
  const before = await measure(work, ctx.calibration?.[0], ctx.log);
  const { found, skipped } = weightLayers(work, options.layers, options.exclude);
  const sparse = options.sparseStorage ?? false;
  let zeroed: number[];
  const sizes = found.map((l) => elementCount(l.tensor.dims));
  if (scope === 'global') {
    // The threshold is global: every layer's copy exists at once (that is the output's size anyway).
    const data = found.map((l) => Float32Array.from(floats(l.tensor)));
    const total = data.reduce((a, d) => a + d.length, 0);
    zeroed = zeroSmallest(data, Math.floor(target * total));
    writeBack(work, found, data, sparse);
  } else {
    // One layer at a time: its copy is zeroed and becomes the output tensor before the next is made.
    zeroed = found.map((l) => {
      const d = Float32Array.from(floats(l.tensor));
      const z = zeroSmallest([d], Math.floor(target * d.length))[0];
      writeBack(work, [l], [d], sparse);
      return z;
    });
  }
  const changed: LayerChange[] = found.map((l, i) => ({ name: l.node.name, opType: l.node.opType, change: `${fmtPct(zeroed[i] / sizes[i])} of weights zeroed (magnitude)` }));
  return summarize('unstructured', work, before, zeroed, changed, skipped, [`magnitude, ${scope}, target ${target}`]);
}

export async function pruneNM(model: Model, options: NMOptions, ctx: PassContext): Promise<PassResult> {
  const { n, m } = options;
  if (!Number.isInteger(m) || m < 1 || !Number.isInteger(n) || n < 0 || n >= m) throw new InputError(`N:M needs integers 0 <= n < m (n weights kept... of every m), got ${n}:${m}`, 'n');
  const importance = checkChoice(options.importance ?? 'magnitude', ['magnitude', 'wanda'] as const, 'importance');
  checkLayerNames(model, { layers: options.layers, exclude: options.exclude });
  const work = cloneModel(model);
  const before = await measure(work, ctx.calibration?.[0], ctx.log);
  const { found, skipped } = weightLayers(work, options.layers, options.exclude);
  let norms = new Map<string, Float64Array>();
  if (importance === 'wanda') {
    const batches = validateCalibration(model, ctx.calibration, "N:M importance 'wanda'");
    const reqs = found.map((l) => ({ value: l.node.inputs[0], axis: l.node.opType === 'MatMul' ? -1 : 1, keepRows: false }));
    const shapes = before.shapes;
    const fixed = reqs.map((r) => ({ ...r, axis: r.axis < 0 ? (shapes?.get(r.value)?.length ?? 2) - 1 : r.axis }));
    const stats = await collectStats(work, fixed, batches);
    norms = new Map([...stats].map(([v, s]) => [v, s.sumSq.map(Math.sqrt)]));
  }
  const kept: WeightLayer[] = [];
  const data: Float32Array[] = [];
  const zeroed: number[] = [];
  const changed: LayerChange[] = [];
  for (const l of found) {
    const view = reductionView(l.node, l.tensor);
    if (!view) {
      skipped.push({ what: l.node.name, reason: `${l.node.opType} weight layout not supported for N:M` });
      continue;
    }
    if (view.k % m !== 0) {
      skipped.push({ what: l.node.name, reason: `reduction axis ${view.k} is not a multiple of ${m}` });
      continue;
    }
    const d = Float32Array.from(floats(l.tensor));
    const xn = norms.get(l.node.inputs[0]);
    zeroed.push(applyNM(d, view, n, m, xn));
    kept.push(l);
    data.push(d);
    changed.push({ name: l.node.name, opType: l.node.opType, change: `${n}:${m} along the reduction axis (${importance})` });
  }
  writeBack(work, kept, data, options.sparseStorage ?? false);
  return summarize('n:m', work, before, zeroed, changed, skipped, [`${n}:${m} sparsity, importance ${importance}`]);
}

/**
 * Element (o, r) of the weight viewed as [outputs, reduction]: index = o * oStride + r * rStride.
 * `inChannel(r)` maps a reduction index to the input channel it multiplies (for Wanda norms).
 */
interface ReductionView {
  outputs: number;
  k: number;
  oStride: number;
  rStride: number;
  inChannel: (r: number) => number;
}

function reductionView(node: Node, t: Tensor): ReductionView | undefined {
  if (node.opType === 'Conv' && t.dims.length >= 3) {
    const k = t.dims.slice(1).reduce((a, b) => a * b, 1);
    const spatial = t.dims.slice(2).reduce((a, b) => a * b, 1);
    return { outputs: t.dims[0], k, oStride: k, rStride: 1, inChannel: (r) => Math.floor(r / spatial) };
  }
  if (t.dims.length !== 2) return undefined;
  const transB = node.opType === 'Gemm' && getInt(node, 'transB', 0) === 1;
  if (node.opType === 'Gemm' && getInt(node, 'transA', 0) === 1) return undefined;
  if (node.opType === 'ConvTranspose') return undefined;
  const [k, outputs] = transB ? [t.dims[1], t.dims[0]] : [t.dims[0], t.dims[1]];
  return transB ? { outputs, k, oStride: k, rStride: 1, inChannel: (r) => r } : { outputs, k, oStride: 1, rStride: outputs, inChannel: (r) => r };
}

/** In every run of m along the reduction axis keep the n best (ties: lower index kept). */
function applyNM(d: Float32Array, v: ReductionView, n: number, m: number, xNorm?: Float64Array): number {
  let zeroed = 0;
  const score = new Float64Array(m);
  const order = Array.from({ length: m }, (_, i) => i);
  for (let o = 0; o < v.outputs; o++) {
    for (let r0 = 0; r0 < v.k; r0 += m) {
      for (let j = 0; j < m; j++) {
        const w = Math.abs(d[o * v.oStride + (r0 + j) * v.rStride]);
        score[j] = xNorm ? w * (xNorm[v.inChannel(r0 + j)] ?? 1) : w;
      }
      order.sort((a, b) => score[b] - score[a] || a - b);
      for (let j = n; j < m; j++) {
        const idx = o * v.oStride + (r0 + order[j]) * v.rStride;
        if (d[idx] !== 0) zeroed++;
        d[idx] = 0;
      }
      for (let j = 0; j < m; j++) order[j] = j;
    }
  }
  return zeroed;
}

function writeBack(model: Model, layers: WeightLayer[], data: Float32Array[], sparse: boolean): void {
  const g = model.graph;
  const position = new Map(g.initializers.map((t, i) => [t.name, i]));
  const drop = new Set<string>();
  layers.forEach((l, i) => {
    // The data arrays are this pass's own copies: the tensor takes them over without another copy.
    const t = adoptValues(l.tensor, l.tensor.dims, data[i]);
    const asSparse = sparse ? toSparse(t, data[i]) : undefined;
    if (asSparse) {
      drop.add(t.name);
      g.sparseInitializers.push(asSparse);
    } else g.initializers[position.get(t.name) as number] = t;
  });
  if (drop.size) g.initializers = g.initializers.filter((t) => !drop.has(t.name));
}

/** COO form with flat int64 indices, when it is smaller than the dense bytes. */
export function toSparse(t: Tensor, values: Float32Array): SparseTensor | undefined {
  if (t.dataType !== DataType.FLOAT) return undefined;
  let nnz = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) nnz++;
  if (nnz * 12 >= values.length * 4) return undefined;
  const vals = new Float32Array(nnz);
  const idx: number[] = [];
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== 0) {
      vals[j++] = values[i];
      idx.push(i);
    }
  }
  return { values: adoptValues(t, [nnz], vals), indices: int64Tensor(`${t.name}_indices`, [nnz], idx), dims: [...t.dims] };
}

async function summarize(pass: string, work: Model, before: { params: number; flops?: number }, zeroed: number[], changed: LayerChange[], skipped: Skipped[], notes: string[]): Promise<PassResult> {
  const removed = zeroed.reduce((a, b) => a + b, 0);
  return {
    model: work,
    summary: {
      pass,
      paramsBefore: before.params,
      paramsAfter: countParams(work) - removed,
      flopsBefore: before.flops,
      flopsAfter: before.flops,
      changed,
      skipped,
      notes: [...notes, 'params after = non-zero parameters (the tensors keep their shapes)', FINE_GRAINED_NOTE],
    },
  };
}

const fmtPct = (x: number) => `${(100 * x).toFixed(1)}%`;
