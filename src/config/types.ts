/**
 * The typed configuration after validation and defaults. YAML keys are kebab-case
 * (`batch-size`); here they are camelCase. Every path is absolute (resolved against the config
 * file's folder).
 */
import type { MetricName, MetricRule, Task } from '../metrics/index.js';
import type { RecipeStage } from '../stages/types.js';
import type { DataSource } from '../evaluate/data.js';

export type { MetricName, MetricRule, Task } from '../metrics/index.js';
export type { PruneKind, PruneParams, QuantizeKind, QuantizeParams, RecipeStage } from '../stages/types.js';
export type { DataSource } from '../evaluate/data.js';

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
