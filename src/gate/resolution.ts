/**
 * What an evaluation set of n samples can tell the optimization loop about a 0/1-per-sample metric
 * (accuracy, top-k, exact match), stated before the loop starts.
 *
 * A step that flips k predictions each way has a drift of 0 but a per-sample difference of ±1 on
 * 2k of the n samples, so the standard error of its drift (in points) is 100·sqrt(2k)/n and the
 * upper end of its 95 % interval is about 196·sqrt(2k)/n. The loop keeps a step only when that
 * upper end is inside the budget B, which holds while 2k <= (B·n/196)². (The gate's interval is a
 * paired bootstrap; this normal approximation is what it converges to and is easier to state.)
 *
 * A pruning step on a real model typically changes a few percent of its predictions. When the set
 * cannot confirm even a step that changes CHURN_TO_CONFIRM of them with no net effect, confident
 * step decisions would roll back every step, including ones that improve accuracy (PaddleOCR's
 * direction classifier with 600 labels). `keep: auto` (the default) then judges steps on their
 * point estimate within half the budget and says so; the gate itself keeps its interval rule.
 */

import { metricDef } from '../metrics/index.js';

/** The share of predictions a step may change (with no net effect) that a set must be able to confirm. */
export const CHURN_TO_CONFIRM = 0.1;

/** z for a two-sided 95 % interval, times 100 points. */
const Z95_POINTS = 196;

export interface SetResolution {
  samples: number;
  /** What one sample is worth, in points. */
  pointsPerSample: number;
  /** The most predictions a step may change, with no net effect, and still be confirmed inside the budget. */
  confirmableChanges: number;
  /** Whether that is fewer than CHURN_TO_CONFIRM of the samples. */
  small: boolean;
  /** The set size at which it would not be. */
  samplesNeeded: number;
}

/** The resolution for the gated metric when it is 0/1 per sample in points (accuracy, top-k, exact match); else undefined. */
export function metricResolution(metric: string, samples: number, budgetPoints: number): SetResolution | undefined {
  const def = metricDef(metric);
  return def?.mcnemar && def.unit === 'points' && samples > 0 ? setResolution(samples, budgetPoints) : undefined;
}

/** Resolution of a set of `samples` paired 0/1 results against a drift budget in points. */
export function setResolution(samples: number, budgetPoints: number): SetResolution {
  const limit = ((budgetPoints * samples) / Z95_POINTS) ** 2;
  // 2k = (B n / 196)^2 reaches CHURN_TO_CONFIRM * n at n = CHURN_TO_CONFIRM * (196 / B)^2.
  const samplesNeeded = Math.ceil(CHURN_TO_CONFIRM * (Z95_POINTS / budgetPoints) ** 2);
  return {
    samples,
    pointsPerSample: 100 / samples,
    confirmableChanges: Math.min(samples, Math.floor(limit)),
    small: limit < CHURN_TO_CONFIRM * samples,
    samplesNeeded,
  };
}

export type KeepRule = 'confident' | 'point';

/** The loop's keep rule for a configured one ('auto' follows the set's resolution), and the sentence that says why. */
/**
 * Under `auto` on a small set the point rule spends only this share of the budget: a step kept at
 * a point drift near the whole budget would leave the verdict's interval across the limit (a warning
 * on nearly every run); half of it leaves the interval room on the test split.
 */
export const POINT_RULE_BUDGET_SHARE = 0.5;

export function chooseKeepRule(configured: KeepRule | 'auto', r: SetResolution | undefined, budgetPoints: number): { keep: KeepRule; budget: number; note?: string } {
  if (!r) return { keep: configured === 'auto' ? 'confident' : configured, budget: budgetPoints };
  const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
  const pts = (x: number) => `${Number(x.toPrecision(2))}`;
  const stated =
    `Search samples: ${r.samples} (one is ${pts(r.pointsPerSample)} pt). A step is confirmed inside the ${pts(budgetPoints)}-point budget ` +
    `only while it changes at most ${r.confirmableChanges} predictions (${pct(r.confirmableChanges / r.samples)}) with no net effect`;
  if (configured === 'point') return { keep: 'point', budget: budgetPoints, note: `${stated}; steps are kept on the point estimate of their drift (budget.keep: point).` };
  if (configured === 'confident' || !r.small) return { keep: 'confident', budget: budgetPoints, note: r.small ? `${stated}: steps that change more are rolled back even when accuracy holds (budget.keep: confident).` : undefined };
  const budget = budgetPoints * POINT_RULE_BUDGET_SHARE;
  return {
    keep: 'point',
    budget,
    note:
      `⚠️ ${stated}, fewer than the ${pct(CHURN_TO_CONFIRM)} a pruning step typically changes, so steps are kept while the point estimate of their drift ` +
      `stays within half the budget (${pts(budget)} pt; budget.keep: auto). The verdict still uses the interval; about ${r.samplesNeeded} search samples (a larger data.search-fraction, or more data) would make step decisions confident.`,
  };
}
