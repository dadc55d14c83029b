/**
 * The static profile the default recipe is chosen from: parameters and where the FLOPs are
 * (convolutions or matrix products), from shapes probed with one batch-1 run.
 */
import { probeShapes } from '../evaluate/shapes.js';
import { graphCost, type GraphCost } from '../onnx/flops.js';
import type { Model } from '../onnx/index.js';
import type { ModelTraits } from './recipe.js';

const CONV_OPS = new Set(['Conv', 'ConvTranspose', 'QLinearConv', 'ConvInteger']);
const MATMUL_OPS = new Set(['MatMul', 'Gemm', 'MatMulInteger', 'QLinearMatMul', 'MatMulNBits', 'FusedMatMul', 'DynamicQuantizeMatMul']);

export async function modelTraits(model: Model): Promise<{ traits: ModelTraits; cost: GraphCost }> {
  let shapes = new Map<string, number[]>();
  try {
    shapes = await probeShapes(model);
  } catch {
    // Without shapes the FLOPs are unknown; parameters still tell conv from matmul models.
  }
  const cost = graphCost(model.graph, shapes);
  const weight = (n: (typeof cost.nodes)[number]) => (cost.totalFlops > 0 ? (n.flops ?? 0) : n.params);
  const total = cost.nodes.reduce((s, n) => s + weight(n), 0) || 1;
  const share = (ops: Set<string>) => cost.nodes.filter((n) => ops.has(n.opType)).reduce((s, n) => s + weight(n), 0) / total;
  const hasAttention = model.graph.nodes.some((n) => n.opType === 'Softmax') && model.graph.nodes.some((n) => n.opType === 'Transpose');
  return { traits: { params: cost.totalParams, convShare: share(CONV_OPS), matmulShare: share(MATMUL_OPS), hasAttention }, cost };
}

/** Each node's share of the model's FLOPs (what structured pruning's per-layer ratios lean on). */
export function flopShares(cost: GraphCost): Record<string, number> {
  const out: Record<string, number> = {};
  if (cost.totalFlops <= 0) return out;
  for (const n of cost.nodes) if (n.flops) out[n.node] = n.flops / cost.totalFlops;
  return out;
}
