/**
 * What the gate produces: one row per metric and per batch size, each with its status and the
 * reason, and the verdict. The report carries these rows as they are.
 */
import type { Interval, LatencyStats } from '../evaluate/types.js';
import type { MetricUnit } from '../metrics/index.js';

/** `error`: the run could not measure (bad config, unreadable model); the report says what to fix. */
export type Verdict = 'pass' | 'fail' | 'warn' | 'error';

/** Per-row mark: ✅ pass, ❌ fail, ⚠️ warn (noise could put it beyond the limit), info = not gated. */
export type RowStatus = 'pass' | 'fail' | 'warn' | 'info';

export interface MetricRow {
  metric: string;
  /** True for the metric(s) the verdict depends on. */
  gated: boolean;
  higherIsBetter: boolean;
  /** The metric's unit (from the metric registry): points, fraction, dB, ... */
  unit: MetricUnit;
  /** The reference: the frozen baseline, or the original model measured in the same run. */
  reference: number;
  candidate: number;
  /** The PR's model as committed, only when it differs from the frozen baseline. */
  prModel?: number;
  /** candidate - reference, in the metric's units (points for percentages); for scripts: the comment shows `drift` only. */
  delta: number;
  /** How much worse the candidate is (positive = worse), in the unit the rule uses (points or % of the reference). */
  drift: number;
  /** Paired 95 % bootstrap interval of `drift`. */
  interval?: Interval;
  /** McNemar's exact/χ² test on top-1 correctness (accuracy and agreement only). */
  mcnemar?: { pValue: number; referenceOnly: number; candidateOnly: number };
  /** The rule applied, when gated. */
  rule?: { maxDrift: number; use: 'point' | 'interval'; relative: boolean };
  status: RowStatus;
  /** Why this status, for the annotation and the reason line. */
  explanation?: string;
}

export interface LatencyRow {
  /** The runner kind it was measured on, when `merge` combined bench parts of several (never pooled). */
  runner?: string;
  /** The runtime target it was measured on (evaluate/targets.ts), when the config lists another than native alone. */
  target?: string;
  batchSize: number;
  /** The PR's model as committed, measured interleaved with the candidate in this run. */
  original: Pick<LatencyStats, 'p50' | 'p95' | 'p99'>;
  candidate: Pick<LatencyStats, 'p50' | 'p95' | 'p99'>;
  ratios: {
    p50: { value: number; interval: Interval };
    p95: { value: number; interval: Interval };
    p99: { value: number; interval: Interval };
  };
  /** The p95-ratio goal (candidate / original at most this), when configured. */
  goal?: number;
  status: RowStatus;
  /** Runs per model behind these numbers: a P99 over few runs rests on one or two of them. */
  runs?: number;
  /** The base branch's model, measured interleaved with the PR model and the candidate in this run. */
  base?: Pick<LatencyStats, 'p50' | 'p95' | 'p99'>;
  /** The PR model against the base branch's (PR model / base branch), and its limit (`gate.p95-regression`). */
  vsBase?: {
    ratios: LatencyRow['ratios'];
    limit?: number;
    status: RowStatus;
  };
}

