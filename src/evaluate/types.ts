/**
 * The measurement records that flow from evaluation to the gate and the report. Plain JSON-able
 * data: they are stored in baseline.json and report.json (see schemas/).
 */
import type { MetricValues, PerSampleResults, Task } from '../metrics/index.js';

export interface EvalResult {
  task: Task;
  samples: number;
  /**
   * Every metric of the task that applies (see metrics/registry.ts), by name; fidelity also as
   * `<metric>:<output>` per output when the model has several.
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
  reference: LatencyStats;
  candidate: LatencyStats;
  /** candidate / reference, with bootstrap intervals. */
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
