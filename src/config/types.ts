/**
 * The typed configuration after validation and defaults. YAML keys are kebab-case
 * (`batch-size`); here they are camelCase. Every path is absolute (resolved against the config
 * file's folder).
 */
import type { MetricName, MetricRule, Task } from '../metrics/index.js';
import type { RecipeStage } from '../stages/types.js';
import type { DataSource } from '../evaluate/data.js';
import type { TargetName } from '../evaluate/targets.js';

export type { MetricName, MetricRule, Task } from '../metrics/index.js';
export type { PruneKind, PruneParams, QuantizeKind, QuantizeParams, RecipeStage } from '../stages/types.js';
export type { DataSource } from '../evaluate/data.js';

export interface DataConfig {
  eval?: DataSource;
  calibration?: DataSource;
  /** Explicit search and test data (both or neither); absent: a split of `eval`. */
  search?: DataSource;
  test?: DataSource;
  /** Share of `eval` searched when it is split (0: no split). */
  searchFraction: number;
  batchSize: number;
  /** Gaussian input noise for the robustness metrics; absent: no robustness run. */
  noiseSigma?: number;
  /** Input name -> model axis its samples stack along, or 'none' (the file is the whole input). */
  batchAxes: Record<string, number | 'none'>;
  /** Recurrent state: input name -> the previous run's output that feeds it. */
  carry: Record<string, string>;
}

/** How one model output is compared in the label-free task (`outputs.<name>`). */
export interface OutputConfig {
  metrics?: MetricName[];
  threshold?: number;
  classAxis?: number;
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

export interface GateConfig {
  /** Points (or percent of the baseline when `relative`). */
  accuracyDrop: number;
  use: 'point' | 'interval';
  p95Ratio?: number;
  /** The PR model's P95 over the base branch's at most this; absent: the base branch is shown, not gated. */
  p95Regression?: number;
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
  /**
   * The first one is gated. `<metric>:<output>` names one output of a multi-output model; plain
   * names are the first output's. For fidelity without `metrics:`, prepare chooses them from the
   * outputs' shapes (`metricsFromShapes`).
   */
  metrics: string[];
  /** True when the config gives no `metrics:` (the task's defaults stand until the model's outputs are known). */
  metricsFromShapes: boolean;
  /** Fidelity: per output name. */
  outputs: Record<string, OutputConfig>;
  /** Fidelity with a baseline whose outputs were not stored: the frozen model, to recompute them. */
  referenceModel?: string;
  bench: BenchConfig;
  /** undefined: the default recipe chosen from the model's profile; []: no change. */
  recipe?: RecipeStage[];
  gate: GateConfig;
  /** What the optimization is for: a faster model (latency, default; a slower candidate never ships) or a smaller file (size). */
  objective: 'latency' | 'size';
  budget: { wallTimeMs?: number; keep: 'confident' | 'point' | 'auto' };
  /**
   * The runtimes the candidate is validated and measured on (evaluate/targets.ts), in the config's
   * order; default [native]. The search measures latency on each of them.
   */
  targets: TargetName[];
}
