/** What the optimization loop records: one row per step it tried, kept or rolled back. */
import type { Interval } from '../evaluate/types.js';

export interface StepRow {
  index: number;
  /** e.g. prune, quantize. */
  stage: string;
  /** e.g. "structured 0.2", "int8-static". */
  action: string;
  params: Record<string, string | number | boolean>;
  /** The gated metric after this step. */
  metric: number;
  /** Drift of the gated metric vs the reference after this step, in points. */
  drift: number;
  driftInterval?: Interval;
  p95Ms?: number;
  sizeBytes?: number;
  kept: boolean;
  reason: string;
}

