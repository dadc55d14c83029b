/**
 * What the optimization loop records: one row per step it tried, kept or rolled back, and the
 * decisions that rebuild its model without measuring (loop/replay.ts).
 */
import type { Interval } from '../evaluate/types.js';
import type { RecipeStage } from '../stages/types.js';

/**
 * A step's P95 against the model before it, measured interleaved in the loop's short probe:
 * candidate / current. It decides whether the step is kept; the shipped candidate's latency is the
 * final benchmark's (the report's latency rows), which the comment shows beside the step table.
 */
export interface StepLatency {
  /** The runtime target it was measured on, when the config lists another than native alone. */
  target?: string;
  batchSize: number;
  ratio: number;
  interval: Interval;
}

export interface StepRow {
  index: number;
  /** e.g. prune, quantize. */
  stage: string;
  /** e.g. "structured 0.2", "int8-static". */
  action: string;
  params: Record<string, string | number | boolean>;
  /** The gated metric after this step. */
  metric: number;
  /** Drift of the gated metric after this step against the PR model on the search samples, in points (positive = worse). */
  drift: number;
  driftInterval?: Interval;
  /** P95 against the model before the step, per batch size (steps that can change latency). */
  latency?: StepLatency[];
  sizeBytes?: number;
  kept: boolean;
  reason: string;
}

/**
 * One kept step, as needed to apply it again with no measurement: the stage as it ran (defaults
 * filled), where its schedule stood, the per-layer ratios a sensitivity scan set, and the nodes a
 * quantization fallback left in float. Same model, data and decisions: the same bytes.
 */
export interface StepDecision {
  /** Index of the stage in the recipe (steps of one stage share its starting units). */
  stageIndex: number;
  stage: RecipeStage;
  goal: number;
  reached: number;
  layerRatios?: Record<string, number>;
  /** Nodes the quantization fallback excluded, in the order it excluded them. */
  excluded?: string[];
}
