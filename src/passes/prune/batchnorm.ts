/**
 * BatchNormalization re-estimation after pruning. A BatchNormalization fed by a layer that lost
 * input channels sees inputs whose per-channel mean and spread moved: bias correction restores
 * only the mean, least squares only what a linear fit reaches, and Conv consumers get bias
 * correction alone. Its running mean and variance are re-estimated so that its output over the
 * calibration data has, channel by channel, the mean and spread it had before pruning:
 *
 *   s' = s * sigma_after / sigma_before,   m' = mu_after - (mu_before - m) * s' / s
 *
 * where s = sqrt(var + eps) and (mu, sigma) are the input's calibration statistics. Plain
 * re-estimation from calibration data (m' = mu_after) would also move the output wherever the
 * calibration set differs from the training data; matching the before/after shift does not.
 */
import { getFloat, type Graph, type Node } from '../../onnx/index.js';
import type { LayerChange } from '../types.js';
import type { ChannelStats } from './calibration.js';
import { floats, withValues } from './tensors.js';

/** BatchNormalization nodes whose input is produced by one of `producers`. */
export function batchNormsFedBy(graph: Graph, producers: Set<string>): Node[] {
  const producerOf = new Map<string, string>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producerOf.set(o, n.name);
  return graph.nodes.filter((n) => n.opType === 'BatchNormalization' && producers.has(producerOf.get(n.inputs[0]) ?? '\u0000'));
}

/**
 * Rewrites `bn`'s running mean and variance in place. `kept[c]` is the pre-pruning channel of
 * current channel c (statistics `before` are indexed by it, `after` by c).
 */
export function reestimateBatchNorm(graph: Graph, bn: Node, before: ChannelStats, after: ChannelStats, kept: number[]): LayerChange | undefined {
  const meanT = graph.initializers.find((t) => t.name === bn.inputs[3]);
  const varT = graph.initializers.find((t) => t.name === bn.inputs[4]);
  if (!meanT || !varT || kept.length !== after.sum.length) return undefined;
  const eps = getFloat(bn, 'epsilon', 1e-5);
  const mean = floats(meanT);
  const variance = floats(varT);
  const newMean = new Float64Array(kept.length);
  const newVar = new Float64Array(kept.length);
  let moved = 0;
  for (let c = 0; c < kept.length; c++) {
    const [muB, sdB] = moments(before, kept[c]);
    const [muA, sdA] = moments(after, c);
    const s = Math.sqrt(variance[c] + eps);
    // A channel that was constant before has no spread to restore: keep its scale.
    const s2 = sdB > 1e-12 && sdA > 1e-12 ? (s * sdA) / sdB : s;
    newMean[c] = muA - ((muB - mean[c]) * s2) / s;
    newVar[c] = Math.max(0, s2 * s2 - eps);
    moved = Math.max(moved, Math.abs(s2 / s - 1));
  }
  replace(graph, meanT.name, withValues(meanT, meanT.dims, newMean));
  replace(graph, varT.name, withValues(varT, varT.dims, newVar));
  return { name: bn.name, opType: bn.opType, change: `running mean and variance re-estimated on calibration data (largest scale change ${(100 * moved).toFixed(1)} %)`, error: moved };
}

function moments(s: ChannelStats, c: number): [number, number] {
  const mu = s.sum[c] / s.count;
  return [mu, Math.sqrt(Math.max(0, s.sumSq[c] / s.count - mu * mu))];
}

function replace(graph: Graph, name: string, t: ReturnType<typeof withValues>): void {
  const i = graph.initializers.findIndex((x) => x.name === name);
  graph.initializers[i] = t;
}
