/**
 * Automatic fallback: quantize everything, and while the accuracy drift is over budget exclude the
 * node with the worst SQNR and try again; then leave in float every region the latency check says
 * is slower quantized (latency-check.ts: a region goes whole, so no new Q/DQ boundary is made).
 */
import type { Model } from '../../onnx/index.js';
import type { PassContext, PassResult, Skipped } from '../types.js';
import type { SlowerRegion } from './latency-check.js';
import { rankQuantSensitivity } from './sensitivity.js';

export interface FallbackOptions {
  maxExcluded?: number;
  /** Quantized regions of `quant` that run slower than in `float` (latency-check.ts). */
  latencyCheck?: (float: Model, quant: PassResult) => Promise<SlowerRegion[]>;
}

export async function quantizeWithFallback(
  model: Model,
  quantize: (m: Model, exclude: string[]) => Promise<PassResult>,
  evaluateDrift: (m: Model) => Promise<number>,
  budget: number,
  ctx: PassContext,
  options: FallbackOptions = {},
): Promise<PassResult & { excluded: Skipped[] }> {
  const excluded: string[] = [];
  const reasons = new Map<string, string>();
  let result = await quantize(model, excluded);
  let drift = await evaluateDrift(result.model);
  const trail = [`all quantized: drift ${drift.toFixed(2)} points (budget ${budget})`];
  if (drift > budget) {
    const ranking = await rankQuantSensitivity(model, result.model, ctx);
    const max = Math.min(options.maxExcluded ?? 10, ranking.length);
    for (const r of ranking) {
      if (drift <= budget || excluded.length >= max) break;
      excluded.push(r.node);
      reasons.set(r.node, `fallback: SQNR ${r.sqnrDb.toFixed(1)} dB, among the worst while drift was ${drift.toFixed(2)} > ${budget} points`);
      result = await quantize(model, excluded);
      drift = await evaluateDrift(result.model);
      trail.push(`excluded ${r.node} (${r.opType}, ${r.sqnrDb.toFixed(1)} dB): drift ${drift.toFixed(2)}`);
      ctx.log?.(`fallback: ${trail[trail.length - 1]}`);
    }
  }
  if (options.latencyCheck) {
    const slower = (await options.latencyCheck(model, result)).map((r) => ({ ...r, nodes: r.nodes.filter((n) => !excluded.includes(n)) })).filter((r) => r.nodes.length);
    if (slower.length) {
      for (const r of slower) {
        const times = `(${r.quantUs.toFixed(0)} us) than float (${r.floatUs.toFixed(0)} us)`;
        const what = r.nodes.length === 1 ? r.nodes[0] : `the region ${r.nodes.join(', ')}`;
        for (const node of r.nodes) reasons.set(node, r.nodes.length === 1 ? `fallback: slower quantized ${times} in the profile` : `fallback: its region (${r.nodes.join(', ')}) ran slower quantized ${times} in the profile`);
        excluded.push(...r.nodes);
        ctx.log?.(`fallback: ${what} is slower quantized ${times}: left in float`);
      }
      const candidate = await quantize(model, excluded);
      const candidateDrift = await evaluateDrift(candidate.model);
      const left = slower.flatMap((r) => r.nodes);
      trail.push(`left ${left.length} node(s) in ${slower.length} region(s) that ran slower quantized in float (${left.join(', ')}): drift ${candidateDrift.toFixed(2)}`);
      result = candidate;
      drift = candidateDrift;
    }
  }
  const summary = { ...result.summary, skipped: result.summary.skipped.map((s) => ({ ...s })), notes: [...result.summary.notes] };
  for (const s of summary.skipped) {
    const name = s.what.replace(/ \([^)]*\)$/, '');
    const why = reasons.get(name);
    if (why) s.reason = why;
  }
  summary.notes.push(`fallback: ${trail.join('; ')}`);
  if (drift > budget) summary.notes.push(`fallback: drift ${drift.toFixed(2)} points still over the ${budget}-point budget after excluding ${excluded.length} node(s)`);
  return { model: result.model, summary, excluded: excluded.map((what) => ({ what, reason: reasons.get(what) as string })) };
}
