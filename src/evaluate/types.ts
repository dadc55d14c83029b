/**
 * The measurement records that flow from evaluation to the gate and the report. Plain JSON-able
 * data: they are stored in baseline.json and report.json (see schemas/).
 */

/** Named metric values. Percentages are in points (0-100): a drift of 2 points means 2 points. */
export type MetricValues = Record<string, number>;

export interface PerSampleResults {
  /** For classification: 1 if top-1 correct else 0; for regression: absolute error; for fidelity: 1 if top-1 agrees with the reference. */
  correct?: number[];
  /** Predicted class (top-1) per sample, for McNemar and per-class breakdowns. */
  predicted?: number[];
  /** Label per sample when labels exist. */
  labels?: number[];
  /** Absolute error per sample (regression). */
  absError?: number[];
  /** Cosine similarity to the reference per sample (fidelity). */
  cosine?: number[];
}

export interface EvalResult {
  task: 'classification' | 'regression' | 'fidelity';
  samples: number;
  /**
   * Named as in the config's `metrics:` list: classification accuracy, top1, top3/top5/top10, f1,
   * worst-class-accuracy; regression mae, rmse; fidelity agreement, cosine, sqnr (dB, capped at 200),
   * max-abs-error (and `<metric>:<output>` per output when the model has several).
   */
  metrics: MetricValues;
  /** Per-class accuracy in points, keyed by class id. */
  perClass?: Record<string, number>;
  /** confusion[label][predicted] counts. */
  confusion?: number[][];
  perSample: PerSampleResults;
  /** Metrics under seeded Gaussian input noise, when configured. */
  robustness?: { sigma: number; seed: number; metrics: MetricValues };
}

export interface Interval {
  low: number;
  high: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
}

export interface LatencyStats {
  batchSize: number;
  /** Milliseconds per batch. */
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  /** Samples per second. */
  throughput: number;
  runs: number;
}

/** Baseline vs candidate, interleaved in one process. */
export interface LatencyComparison {
  batchSize: number;
  baseline: LatencyStats;
  candidate: LatencyStats;
  /** candidate / baseline, with bootstrap intervals. */
  ratios: { p50: { value: number; interval: Interval }; p95: { value: number; interval: Interval }; p99: { value: number; interval: Interval } };
}

export interface MemoryStats {
  /** Peak resident set of a child process that loads the model and runs one batch, in bytes. */
  peakRssBytes: number;
  fileBytes: number;
  gzipBytes: number;
  /** Bytes of weights per data type name, e.g. { float32: 123, int8: 45 }. */
  weightBytesByType: Record<string, number>;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  isa: { avx2: boolean; avx512: boolean; vnni: boolean; amx: boolean; neon?: boolean };
  ortVersion: string;
  nodeVersion: string;
  platform: string;
  intraOpThreads: number;
  interOpThreads: number;
  /** Energy source: RAPL counters where readable, otherwise CPU seconds as the proxy. */
  energySource: 'rapl' | 'cpu-seconds';
}
