/**
 * Automatic fallback: quantize everything, and while the accuracy drift is over budget exclude the
 * node with the worst SQNR and try again; then leave in float every node the latency check says is
 * slower quantized (shared README: a 1-input-channel Conv got 3.6x slower quantized).
 */
import type { Model } from '../../onnx/index.js';
import type { PassContext, PassResult } from '../types.js';
import { rankQuantSensitivity } from './sensitivity.js';

export interface FallbackOptions {
  maxExcluded?: number;
  latencyCheck?: (float: Model, quant: Model) => Promise<string[]>;
}

export async function quantizeWithFallback(
  model: Model,
  quantize: (m: Model, exclude: string[]) => Promise<PassResult>,
  evaluateDrift: (m: Model) => Promise<number>,
  budget: number,
  ctx: PassContext,
  options: FallbackOptions = {},
): Promise<PassResult & { excluded: string[] }> {
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
    const slower = (await options.latencyCheck(model, result.model)).filter((n) => !excluded.includes(n));
    if (slower.length) {
      for (const n of slower) {
        excluded.push(n);
        reasons.set(n, 'slower quantized than float (latency check)');
      }
      const candidate = await quantize(model, excluded);
      const candidateDrift = await evaluateDrift(candidate.model);
      trail.push(`left ${slower.length} slower-quantized node(s) in float: drift ${candidateDrift.toFixed(2)}`);
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
  return { model: result.model, summary, excluded };
}
