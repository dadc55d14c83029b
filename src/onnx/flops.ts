/**
 * FLOPs and parameter counts per node, from concrete shapes (see evaluate/shapes.ts). Pure.
 *
 * A multiply-add counts as 2 FLOPs. Conv, ConvTranspose, Gemm and the MatMul family are exact
 * (bias adds included); recurrent and attention ops, elementwise, pooling and normalisation ops get
 * a cheap estimate and are flagged `estimated`. Data movement (Reshape, Transpose, Gather...) is 0.
 */
import type { Graph, Node } from './ir.js';
import { getInt, getInts } from './graph-ops.js';
import { elementCount } from './tensor-data.js';

export interface NodeCost {
  node: string;
  opType: string;
  domain: string;
  /** undefined when the shapes needed are unknown. */
  flops?: number;
  /** Elements of the node's initializer inputs. */
  params: number;
  /** True when `flops` is an estimate rather than an exact count. */
  estimated: boolean;
}

export interface GraphCost {
  nodes: NodeCost[];
  /** Sum over nodes whose FLOPs are known. */
  totalFlops: number;
  /** Elements of every distinct initializer some node reads (shared weights counted once). */
  totalParams: number;
  /** Nodes whose FLOPs could not be computed (shapes unknown). */
  unknownNodes: number;
}

export type ShapeLookup = (value: string) => readonly number[] | undefined;

/** Costs of every node of the graph (main graph only; subgraph bodies are not unrolled). */
export function graphCost(graph: Graph, shapes: Map<string, readonly number[]> | ShapeLookup): GraphCost {
  const lookup: ShapeLookup = typeof shapes === 'function' ? shapes : (v) => shapes.get(v);
  const inits = new Map(graph.initializers.map((t) => [t.name, elementCount(t.dims)]));
  for (const s of graph.sparseInitializers) inits.set(s.values.name, elementCount(s.dims));
  // Some exporters (Paddle, older PyTorch) store weights as Constant nodes rather than initializers.
  for (const n of graph.nodes) {
    const value = n.opType === 'Constant' && n.domain === '' ? n.attributes.find((a) => a.name === 'value') : undefined;
    if (value?.type === 'tensor' && n.outputs[0]) inits.set(n.outputs[0], elementCount(value.value.dims));
  }
  const initDims = new Map(graph.initializers.map((t) => [t.name, t.dims]));
  const shapeOf: ShapeLookup = (v) => lookup(v) ?? initDims.get(v);
  const nodes: NodeCost[] = [];
  const used = new Set<string>();
  let totalFlops = 0;
  let unknownNodes = 0;
  for (const n of graph.nodes) {
    let params = 0;
    for (const i of new Set(n.inputs)) {
      const count = inits.get(i);
      if (count !== undefined) {
        params += count;
        used.add(i);
      }
    }
    const f = nodeFlops(n, shapeOf);
    if (f === undefined) unknownNodes++;
    else totalFlops += f.flops;
    nodes.push({ node: n.name, opType: n.opType, domain: n.domain, flops: f?.flops, params, estimated: f?.estimated ?? false });
  }
  let totalParams = 0;
  for (const name of used) totalParams += inits.get(name) as number;
  return { nodes, totalFlops, totalParams, unknownNodes };
}

const ZERO_COST = new Set([
  'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Flatten', 'Concat', 'Split', 'Slice', 'Gather', 'GatherElements', 'GatherND',
  'Shape', 'Size', 'Identity', 'Cast', 'CastLike', 'Constant', 'ConstantOfShape', 'Expand', 'Tile', 'Pad', 'Range', 'Dropout',
  'DepthToSpace', 'SpaceToDepth', 'ScatterND', 'ScatterElements', 'NonZero', 'OneHot', 'If', 'Loop', 'Scan', 'QuantizeLinear',
  'DequantizeLinear', 'DynamicQuantizeLinear', 'EyeLike', 'Trilu', 'Where',
]);

const TRANSCENDENTAL = new Set(['Sigmoid', 'Tanh', 'Exp', 'Log', 'Erf', 'Gelu', 'FastGelu', 'BiasGelu', 'QuickGelu', 'Softplus', 'Softsign', 'Elu', 'Selu', 'HardSwish', 'Mish', 'Pow', 'Sqrt', 'Reciprocal']);

const NORMALISATION: Record<string, number> = {
  BatchNormalization: 2,
  InstanceNormalization: 5,
  LayerNormalization: 5,
  SimplifiedLayerNormalization: 4,
  SkipLayerNormalization: 6,
  SkipSimplifiedLayerNormalization: 5,
  GroupNormalization: 5,
  LpNormalization: 3,
  Softmax: 5,
  LogSoftmax: 5,
};

/** FLOPs of one node, or undefined when a needed shape is unknown. */
export function nodeFlops(n: Node, shapeOf: ShapeLookup): { flops: number; estimated: boolean } | undefined {
  const out = shapeOf(n.outputs[0] ?? '');
  const input = (k: number) => (n.inputs[k] ? shapeOf(n.inputs[k]) : undefined);
  const exact = (flops: number) => ({ flops, estimated: false });
  const estimate = (flops: number) => ({ flops, estimated: true });
  const op = n.opType;
  if (ZERO_COST.has(op)) return exact(0);
  switch (op) {
    case 'Conv':
    case 'ConvInteger':
    case 'QLinearConv':
    case 'NhwcConv':
    case 'FusedConv': {
      const w = input(op === 'QLinearConv' ? 3 : 1);
      if (!out || !w) return undefined;
      // W is [M, C/group, k...]: each output element takes C/group x kernel multiply-adds.
      const hasBias = op === 'QLinearConv' ? Boolean(n.inputs[8]) : op === 'ConvInteger' ? false : Boolean(n.inputs[2]);
      const outCount = elementCount(out);
      return exact(2 * outCount * elementCount(w.slice(1)) + (hasBias ? outCount : 0));
    }
    case 'ConvTranspose': {
      const x = input(0);
      const w = input(1);
      if (!x || !w || !out) return undefined;
      // Every input element scatters into (M/group) x kernel outputs.
      const perInput = elementCount(w.slice(1));
      return exact(2 * elementCount(x) * perInput + (n.inputs[2] ? elementCount(out) : 0));
    }
    case 'Gemm': {
      const a = input(0);
      if (!a || !out || a.length !== 2) return undefined;
      const k = getInt(n, 'transA', 0) ? a[0] : a[1];
      return exact(2 * elementCount(out) * k + (n.inputs[2] ? elementCount(out) : 0));
    }
    case 'MatMul':
    case 'MatMulInteger':
    case 'QLinearMatMul':
    case 'FusedMatMul':
    case 'MatMulIntegerToFloat':
    case 'DynamicQuantizeMatMul':
    case 'MatMulNBits':
    case 'MatMulBnb4':
    case 'QAttention': {
      if (op === 'QAttention') return undefined;
      const a = input(0);
      if (!a || !out || a.length === 0) return undefined;
      let k = a[a.length - 1];
      if (op === 'MatMulNBits' || op === 'MatMulBnb4') k = getInt(n, 'K', k);
      else if (op === 'FusedMatMul' && getInt(n, 'transA', 0) && a.length >= 2) k = a[a.length - 2];
      return exact(2 * elementCount(out) * k);
    }
    case 'LSTM':
    case 'GRU':
    case 'RNN': {
      const x = input(0);
      const w = input(1);
      const r = input(2);
      if (!x || !w || !r || x.length !== 3) return undefined;
      const layout = getInt(n, 'layout', 0);
      const [seq, batch] = layout ? [x[1], x[0]] : [x[0], x[1]];
      const [dirs, gatesTimesHidden, inputSize] = w;
      const hidden = r[2];
      return estimate(2 * seq * batch * dirs * gatesTimesHidden * (inputSize + hidden) + 4 * seq * batch * dirs * gatesTimesHidden);
    }
    case 'Attention':
    case 'MultiHeadAttention':
    case 'GroupQueryAttention': {
      const q = input(0);
      if (!q || q.length !== 3) return undefined;
      const [b, s, hidden] = q;
      const w = op === 'Attention' ? input(1) : undefined;
      const projection = w ? 2 * b * s * elementCount(w) : 0;
      const kv = op === 'Attention' ? s : (input(1)?.[1] ?? s);
      const heads = getInt(n, 'num_heads', 1);
      const headSize = w ? w[1] / 3 / heads : hidden / heads;
      // Q.K^T and P.V, plus the softmax.
      return estimate(projection + 4 * b * heads * s * kv * headSize + 5 * b * heads * s * kv);
    }
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool':
    case 'QLinearAveragePool': {
      const kernel = getInts(n, 'kernel_shape');
      if (!out || !kernel) return undefined;
      return estimate(elementCount(out) * elementCount(kernel));
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'QLinearGlobalAveragePool':
    case 'GlobalLpPool': {
      const x = input(0);
      return x ? estimate(elementCount(x)) : undefined;
    }
  }
  if (op.startsWith('Reduce') || op === 'ArgMax' || op === 'ArgMin' || op === 'TopK' || op === 'CumSum') {
    const x = input(0);
    return x ? estimate(elementCount(x)) : undefined;
  }
  const biggest = [out, ...n.inputs.map((_, k) => input(k))].reduce<number | undefined>((m, s) => (s ? Math.max(m ?? 0, elementCount(s)) : m), undefined);
  if (biggest === undefined) return undefined;
  if (NORMALISATION[op] !== undefined) return estimate(NORMALISATION[op] * biggest);
  return estimate((TRANSCENDENTAL.has(op) ? 4 : 1) * biggest);
}
