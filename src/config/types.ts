/**
 * The typed configuration after validation and defaults. YAML keys are kebab-case
 * (`batch-size`); here they are camelCase. Every path is absolute (resolved against the config
 * file's folder).
 */

export type Task = 'classification' | 'regression' | 'fidelity';

export type MetricName =
  | 'accuracy'
  | 'top1'
  | 'top3'
  | 'top5'
  | 'top10'
  | 'f1'
  | 'worst-class-accuracy'
  | 'mae'
  | 'rmse'
  | 'agreement'
  | 'cosine'
  | 'sqnr'
  | 'max-abs-error';

export interface DataSource {
  /** Input name -> .npy file, or one .npz / .jsonl file / test_data_set folder. Absolute paths. */
  inputs: string | Record<string, string>;
  labels?: string;
}

export interface DataConfig {
  eval?: DataSource;
  calibration?: DataSource;
  batchSize: number;
  /** Gaussian input noise for the robustness metrics; absent: no robustness run. */
  noiseSigma?: number;
}

export interface BenchConfig {
  batchSizes: number[];
  /** Per model and batch size. */
  timeBudgetMs: number;
  threads: number;
  minRuns: number;
  /** Relative 95% CI half-width of the P95 ratio below which measuring stops early. */
  precision: number;
  warmup: number;
}

export type PruneKind = 'structured' | 'unstructured' | 'n:m' | 'low-rank';

export interface PruneParams {
  kind: PruneKind;
  /** Fraction removed, in [0, 1). Absent only for low-rank with `energy`. */
  target?: number;
  step?: number;
  importance?: 'l1' | 'l2' | 'activation' | 'reconstruction';
  repair?: 'none' | 'least-squares' | 'bias-correction';
  /** Round kept channel counts to a multiple of this. */
  multiple?: number;
  n?: number;
  m?: number;
  scope?: 'per-layer' | 'global';
  layers?: string[];
  exclude?: string[];
  /** Low-rank: fraction of spectral energy to keep. */
  energy?: number;
  /** Structured, per-layer: scan each layer alone first and hold back the sensitive ones (default true). */
  sensitivity?: boolean;
}

export type QuantizeKind = 'int8-static' | 'int8-dynamic' | 'int4-weight-only' | 'fp16';

export interface QuantizeParams {
  kind: QuantizeKind;
  calibration?: 'minmax' | 'percentile' | 'entropy';
  percentile?: number;
  fallback?: 'auto' | 'none';
  activationType?: 'uint8' | 'int8' | 'auto';
  perChannel?: boolean;
  blockSize?: 32 | 64 | 128;
  symmetric?: boolean;
  accuracyLevel?: 0 | 1 | 2 | 3 | 4;
  /** From `nodes_to_exclude` or `nodes-to-exclude` (both accepted, merged). */
  nodesToExclude?: string[];
  /** From `op_types_to_quantize` or `op-types-to-quantize`. */
  opTypesToQuantize?: string[];
}

export type RecipeStage = { stage: 'prune'; prune: PruneParams } | { stage: 'quantize'; quantize: QuantizeParams };

export interface MetricRule {
  /** Largest allowed drop (higher-is-better metrics), points or % of baseline when relative. */
  maxDrop?: number;
  /** Largest allowed increase (lower-is-better metrics such as mae). */
  maxIncrease?: number;
  /** Absolute floor / ceiling for the candidate's value. */
  min?: number;
  max?: number;
  use?: 'point' | 'interval';
  relative?: boolean;
}

export interface GateConfig {
  /** Points (or percent of the baseline when `relative`). */
  accuracyDrop: number;
  use: 'point' | 'interval';
  p95Ratio?: number;
  relative: boolean;
  metrics: Partial<Record<MetricName, MetricRule>>;
}

export interface Config {
  /** The config file (absolute), or the label given to configFromObject. */
  file: string;
  baseDir: string;
  model: string;
  baseline?: string;
  task: Task;
  seed: number;
  data: DataConfig;
  /** The first one is gated. */
  metrics: MetricName[];
  bench: BenchConfig;
  /** undefined: the default recipe chosen from the model's profile; []: no change. */
  recipe?: RecipeStage[];
  gate: GateConfig;
  budget: { wallTimeMs?: number; keep: 'confident' | 'point' };
}
