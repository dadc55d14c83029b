/**
 * What a metric is, as data: the registry (registry.ts) holds one MetricDef per metric, and
 * config validation, evaluation, the gate and the report all read it there.
 */

export type Task = 'classification' | 'regression' | 'fidelity';

/** Named metric values. Percentages are in points (0-100): a drift of 2 points means 2 points. */
export type MetricValues = Record<string, number>;

/**
 * Per-sample results: named columns with one value per sample (e.g. `correct`, `predicted`,
 * `labels`, `absError`, `cosine`). They are stored in baseline.json and resampled by the gate's
 * paired bootstrap, so every metric can be recomputed on any subset of the samples.
 */
export type PerSampleResults = Record<string, number[]>;

/** What a metric is computed from: one output of a model over `n` samples. */
export interface ScoreInput {
  n: number;
  /** The output's values, [n, per] row-major. */
  values: Float32Array;
  /** Values per sample. */
  per: number;
  /** The shape of one sample's values (their product is `per`); absent: [per]. */
  shape?: number[];
  /** Per-output settings of the fidelity metrics. */
  params?: OutputParams;
  /** One label per sample (classification: class ids; regression: targets). */
  labels?: Float64Array;
  /** The reference model's values for the same output (fidelity), [n, per]. */
  reference?: Float32Array;
}

/** How a model output is read by the fidelity metrics (config: `outputs.<name>`). */
export interface OutputParams {
  /** Axis of the per-sample shape that holds the classes (default: the last; 0 for maps [C, H, W]). */
  classAxis?: number;
  /** Decision threshold for single-value outputs and probability maps (mask-iou), default 0.5. */
  threshold?: number;
}

/** A per-sample column computed from a ScoreInput (one value per sample). */
export type Column = (s: ScoreInput) => number[];

/** The unit a metric and its drift are stated in. */
export type MetricUnit = 'points' | 'fraction' | 'dB' | 'label units' | 'output units';

/** A rule on one metric: drift limits, absolute bounds, and which end of the interval decides. */
export interface MetricRule {
  /** Largest allowed drop (higher-is-better metrics), in the metric's unit or % of the reference when relative. */
  maxDrop?: number;
  /** Largest allowed increase (lower-is-better metrics such as mae). */
  maxIncrease?: number;
  /** Absolute floor / ceiling for the candidate's value. */
  min?: number;
  max?: number;
  use?: 'point' | 'interval';
  relative?: boolean;
}

export interface MetricDef {
  /** As the config spells it. */
  name: string;
  tasks: readonly Task[];
  higherIsBetter: boolean;
  unit: MetricUnit;
  /** One sentence: what the number means, for the report. */
  meaning: string;
  /** The per-sample columns the metric is computed from, by the name they are stored under. */
  perSample: Readonly<Record<string, Column>>;
  /**
   * The metric over the samples `indices` (with repeats) from its columns: over all samples for
   * the value, over a resample for the bootstrap. The one definition of the metric.
   */
  over(ps: PerSampleResults, indices: ArrayLike<number>): number;
  /** Whether the metric exists for this output (top-5 needs more than 5 classes). Default: yes. */
  applies?(s: ScoreInput): boolean;
  /** McNemar's test applies when its first column is 0/1 per sample (not for per-position shares). */
  mcnemar?: boolean;
  /**
   * The rule when this metric is gated and the config sets none (`accuracyDrop` is
   * `gate.accuracy-drop`); undefined when only the user can set one (a tolerance in output units).
   */
  defaultRule(accuracyDrop: number): MetricRule | undefined;
}
