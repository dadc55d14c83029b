/**
 * Low-rank factorization: a MatMul/Gemm weight W [K, N] becomes A [K, r] B [r, N] from a truncated
 * SVD, only when r < K N / (K + N) (fewer multiply-adds). Rank per layer from retained energy
 * (sum of squared singular values) or given explicitly. Activation-aware mode scales W's rows by
 * the calibration RMS of the input channels before the SVD and unscales A after (ASVD-style), so
 * the error is measured where the inputs are large.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { InputError } from '../../util/errors.js';
import { cloneModel, getInt, NameGenerator, cleanup, toposort, type Model, type Node } from '../../onnx/index.js';
import type { LayerChange, PassContext, PassResult, Skipped } from '../types.js';
import { collectStats, validateCalibration } from './calibration.js';
import { checkLayerNames, measure, selected } from './common.js';
import { floats, withValues } from './tensors.js';

export interface LowRankOptions {
  /** Retained energy, default 0.95. */
  energy?: number;
  /** Explicit rank per layer (node name -> r). */
  rank?: Record<string, number>;
  activationAware?: boolean;
  layers?: string[];
  exclude?: string[];
}

export async function pruneLowRank(model: Model, options: LowRankOptions, ctx: PassContext): Promise<PassResult> {
  const energy = options.energy ?? 0.95;
  if (!(energy > 0 && energy <= 1)) throw new InputError(`energy must be in (0, 1], got ${energy}`, 'energy');
  checkLayerNames(model, { layers: options.layers, exclude: options.exclude, rank: Object.keys(options.rank ?? {}) });
  for (const [name, r] of Object.entries(options.rank ?? {})) {
    if (!Number.isInteger(r) || r < 1) throw new InputError(`rank.${name} must be a positive integer, got ${r}`, `rank.${name}`);
  }
  const work = cloneModel(model);
  const before = await measure(work, ctx.calibration?.[0], ctx.log);
  const g = work.graph;
  const inits = new Map(g.initializers.map((t) => [t.name, t]));
  const skipped: Skipped[] = [];
  const changed: LayerChange[] = [];
  const targets = g.nodes.filter((n) => (n.opType === 'MatMul' || n.opType === 'Gemm') && n.domain === '' && selected([n.name], options.layers, options.exclude));
  const candidates = targets.filter((n) => {
    const w = inits.get(n.inputs[1]);
    const ok = w && w.dims.length === 2 && !inits.has(n.inputs[0]) && !(n.opType === 'Gemm' && getInt(n, 'transA', 0));
    if (!ok && w) skipped.push({ what: n.name, reason: 'weight is not a 2-D constant B of an activation' });
    return ok;
  });
  let rms = new Map<string, Float64Array>();
  if (options.activationAware) {
    const batches = validateCalibration(model, ctx.calibration, 'activation-aware factorization');
    const reqs = candidates.map((n) => ({ value: n.inputs[0], axis: (before.shapes?.get(n.inputs[0])?.length ?? 2) - 1, keepRows: false }));
    const stats = await collectStats(work, reqs, batches);
    rms = new Map([...stats].map(([v, s]) => [v, s.sumSq.map((q) => Math.sqrt(q / Math.max(1, s.count)) || 1e-6)]));
  }
  const names = new NameGenerator(g);
  for (const n of candidates) {
    const wt = inits.get(n.inputs[1]);
    if (!wt) continue;
    const transB = n.opType === 'Gemm' && getInt(n, 'transB', 0) === 1;
    const [k, outN] = transB ? [wt.dims[1], wt.dims[0]] : wt.dims;
    const raw = floats(wt);
    const scale = rms.get(n.inputs[0]);
    const rows: number[][] = [];
    for (let p = 0; p < k; p++) {
      const row = new Array<number>(outN);
      for (let o = 0; o < outN; o++) row[o] = (transB ? raw[o * k + p] : raw[p * outN + o]) * (scale ? scale[p] : 1);
      rows.push(row);
    }
    const svd = new SingularValueDecomposition(new Matrix(rows), { autoTranspose: true });
    const sigma = svd.diagonal;
    const limit = Math.floor((k * outN) / (k + outN) - 1e-9);
    let r = options.rank?.[n.name];
    if (r === undefined) {
      const total = sigma.reduce((a, s) => a + s * s, 0);
      let acc = 0;
      r = 0;
      while (r < sigma.length && acc < energy * total) acc += sigma[r] * sigma[r++];
    }
    r = Math.max(1, Math.min(r, sigma.length));
    if (r > limit) {
      skipped.push({ what: n.name, reason: `rank ${r} for ${energy} energy is not below ${limit} (K N / (K + N)): no FLOPs saved` });
      continue;
    }
    const u = svd.leftSingularVectors;
    const v = svd.rightSingularVectors;
    const a = new Float32Array(k * r);
    const b = new Float32Array(r * outN);
    for (let p = 0; p < k; p++) for (let j = 0; j < r; j++) a[p * r + j] = (u.get(p, j) * sigma[j]) / (scale ? scale[p] : 1);
    for (let j = 0; j < r; j++) for (let o = 0; o < outN; o++) b[j * outN + o] = v.get(o, j);
    let kept = 0;
    for (let j = 0; j < r; j++) kept += sigma[j] * sigma[j];
    const all = sigma.reduce((acc, s) => acc + s * s, 0) || 1;
    const ta = withValues(wt, [k, r], a, names.next(`${wt.name}_lr_a`));
    const tb = withValues(wt, [r, outN], b, names.next(`${wt.name}_lr_b`));
    g.initializers.push(ta, tb);
    const mid = names.next(`${n.name}_lowrank`);
    const first: Node = { name: names.next(`${n.name}_lr_a`), opType: 'MatMul', domain: '', inputs: [n.inputs[0], ta.name], outputs: [mid], attributes: [] };
    g.nodes.splice(g.nodes.indexOf(n), 0, first);
    n.inputs[0] = mid;
    n.inputs[1] = tb.name;
    if (n.opType === 'Gemm') n.attributes = n.attributes.filter((x) => x.name !== 'transB');
    changed.push({ name: n.name, opType: n.opType, change: `[${k}x${outN}] -> [${k}x${r}][${r}x${outN}] (rank ${r}, ${(100 * (kept / all)).toFixed(1)}% energy${scale ? ', activation-weighted' : ''})`, error: Math.sqrt(Math.max(0, 1 - kept / all)) });
  }
  cleanup(g);
  toposort(g);
  const after = await measure(work, ctx.calibration?.[0], ctx.log);
  return {
    model: work,
    summary: { pass: 'low-rank', paramsBefore: before.params, paramsAfter: after.params, flopsBefore: before.flops, flopsAfter: after.flops, changed, skipped, notes: [`energy ${energy}${options.activationAware ? ', activation-aware' : ''}`] },
  };
}
