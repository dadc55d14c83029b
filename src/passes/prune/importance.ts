/**
 * Channel importance for a dependency group, summed over its members.
 *  - l1 / l2: norm of every weight slice the channel owns (producer rows, consumer columns, BN scale).
 *  - activation (Wanda-style): for each consumer, sum over the channel's positions of
 *    |W[:, p]|_1 * ||X_p||_2, X from the calibration set.
 *  - reconstruction: the output error removing the channel alone adds to each consumer,
 *    ||W[:, p]||^2 * E[x_p^2] summed (cross-channel correlations ignored).
 */
import { positionsOf } from './layout.js';
import type { ChannelStats } from './calibration.js';
import type { PruneGroup } from './depgraph.js';
import { floats } from './tensors.js';
import type { Tensor } from '../../onnx/index.js';

export type Importance = 'l1' | 'l2' | 'activation' | 'reconstruction';

/** Sum of |x|^power over each hyperplane of `axis`. */
export function axisNorms(data: Float32Array, dims: number[], axis: number, power: 1 | 2): Float64Array {
  const size = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const out = new Float64Array(size);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < size; c++) {
      const base = (o * size + c) * inner;
      let acc = 0;
      if (power === 1) for (let i = 0; i < inner; i++) acc += Math.abs(data[base + i]);
      else
        for (let i = 0; i < inner; i++) {
          const x = data[base + i];
          acc += x * x;
        }
      out[c] += acc;
    }
  }
  return out;
}

/** Scores per channel of the group (higher = more important). */
export function channelScores(group: PruneGroup, kind: Importance, constant: (name: string) => Tensor | undefined, stats: Map<string, ChannelStats>): Float64Array {
  const scores = new Float64Array(group.channels);
  const cache = new Map<string, Float64Array>();
  const norms = (t: Tensor, axis: number, power: 1 | 2) => {
    const key = `${t.name}|${axis}|${power}`;
    let v = cache.get(key);
    if (!v) cache.set(key, (v = axisNorms(floats(t), t.dims, axis, power)));
    return v;
  };
  const useActivations = kind === 'activation' || kind === 'reconstruction';
  const withStats = group.slices.filter((s) => s.role === 'in' && s.activation && stats.has(s.activation));
  if (useActivations && withStats.length) {
    for (const s of withStats) {
      const t = constant(s.node.inputs[s.input]) as Tensor;
      const st = stats.get(s.activation as string) as ChannelStats;
      const w = norms(t, s.axis, kind === 'activation' ? 1 : 2);
      for (let c = 0; c < group.channels; c++) {
        for (const p of positionsOf(s.seg, c)) {
          scores[c] += kind === 'activation' ? w[p] * Math.sqrt(st.sumSq[p]) : (w[p] * st.sumSq[p]) / Math.max(1, st.count);
        }
      }
    }
    return scores;
  }
  const power = kind === 'l2' || kind === 'reconstruction' ? 2 : 1;
  for (const s of group.slices) {
    if (s.role === 'aux') continue;
    const t = constant(s.node.inputs[s.input]);
    if (!t) continue;
    const w = norms(t, s.axis, power);
    for (let c = 0; c < group.channels; c++) for (const p of positionsOf(s.seg, c)) scores[c] += w[p];
  }
  if (power === 2) for (let c = 0; c < scores.length; c++) scores[c] = Math.sqrt(scores[c]);
  return scores;
}

/** Scores per unit (a run of `granule` channels, e.g. one attention head). */
export function unitScores(scores: Float64Array, granule: number): Float64Array {
  const out = new Float64Array(scores.length / granule);
  for (let c = 0; c < scores.length; c++) out[Math.floor(c / granule)] += scores[c];
  return out;
}

/** Indices of the `k` lowest scores; ties broken by index so results are deterministic. */
export function lowest(scores: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[a] - scores[b] || a - b);
  return idx.slice(0, k).sort((a, b) => a - b);
}
