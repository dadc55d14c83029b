/**
 * Per-layer ratios for a structured stage from a sensitivity scan: before the first step, each
 * prunable group is cut alone to the stage's target and judged. A group whose solo cut already
 * costs more than half the budget would spend it on its own, so it is held back (to half the
 * target when half alone costs at most that, else not cut at all) while the groups that can carry
 * the cut follow the schedule. When no group can, the scan says nothing the schedule's uniform
 * steps and rollbacks do not already handle, and nothing is held back.
 *
 * Measured on the example transformer (4 heads per layer): removing one head of layer 0 alone cost
 * 1.1 points, one head of layer 1 0.3 points; cutting both, as a uniform ratio does, cost 1.6 and
 * was rolled back every time, so no head was ever removed.
 */
import type { PruneParams } from '../stages/types.js';
import type { Model } from '../onnx/index.js';
import { scanLayerSensitivity } from '../passes/prune/index.js';
import type { PassContext } from '../passes/types.js';

export interface SensitivityPlan {
  /** Held-back layers (first producer node) -> their share of the stage's schedule (0 or 0.5). */
  scale: Record<string, number>;
  /** One line per held-back layer, for the report. */
  notes: string[];
  /** Each group's drift when cut alone to the target (first producer -> points). */
  solo: Record<string, number>;
}

/** A solo cut may spend at most this fraction of the budget. */
const SOLO_SHARE = 0.5;

export async function planSensitivity(model: Model, prune: PruneParams, budget: number, drift: (m: Model) => Promise<number>, ctx: PassContext): Promise<SensitivityPlan> {
  const target = prune.target ?? 0;
  // The same cut the stage will make, channel rounding included.
  const options = { importance: prune.importance ?? 'activation', repair: prune.repair ?? 'least-squares', multiple: prune.multiple, channelBlock: prune.channelBlock, layers: prune.layers, exclude: prune.exclude } as const;
  const limit = budget * SOLO_SHARE;
  const full = await scanLayerSensitivity(model, [target], drift, ctx, options);
  let sensitive = full.filter((r) => r.metric > limit);
  if (sensitive.length === full.length) sensitive = [];
  const half = sensitive.length ? await scanLayerSensitivity(model, [target / 2], drift, ctx, { ...options, layers: sensitive.map((r) => r.layer) }) : [];
  const scale: Record<string, number> = {};
  const notes: string[] = [];
  for (const r of sensitive) {
    const h = half.find((x) => x.layer === r.layer);
    const share = h && h.metric <= limit ? 0.5 : 0;
    scale[r.layer] = share;
    const halfText = h ? `, to ${pct(target / 2)} ${fmt(h.metric)} pt` : '';
    notes.push(`Sensitivity scan: ${r.layer} cut alone to ${pct(target)} drifts ${fmt(r.metric)} pt${halfText} (over ${fmt(limit)} pt, half the budget): ${share ? `cut to ${pct(target * share)} at most` : 'not cut'}.`);
  }
  return { scale, notes, solo: Object.fromEntries(full.map((r) => [r.layer, r.metric])) };
}

/** The layer ratios of one scheduled step (cumulative `goal` of the stage's `target`). */
export function stepLayerRatios(plan: SensitivityPlan | undefined, goal: number): Record<string, number> | undefined {
  if (!plan || !Object.keys(plan.scale).length) return undefined;
  return Object.fromEntries(Object.entries(plan.scale).map(([layer, share]) => [layer, Math.round(goal * share * 1e6) / 1e6]));
}

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
const fmt = (x: number) => (Math.round(x * 100) / 100).toString();
