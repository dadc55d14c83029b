/**
 * The report written to report.json (schema: schemas/report.schema.json). It is the one record of a
 * run: the Markdown comment, the job summary and the `mode: comment` step are all rendered from it,
 * so it carries every number the comment shows and nothing that needs the models to re-derive.
 */
import type { Interval, LatencyStats, MachineInfo, MemoryStats } from '../evaluate/types.js';
import type { PassSummary, Skipped } from '../passes/types.js';

export const REPORT_SCHEMA_VERSION = 1;

/** `error`: the run could not measure (bad config, unreadable model); the report says what to fix. */
export type Verdict = 'pass' | 'fail' | 'warn' | 'error';

/** Per-row mark: ✅ pass, ❌ fail, ⚠️ warn (noise could put it beyond the limit), info = not gated. */
export type RowStatus = 'pass' | 'fail' | 'warn' | 'info';

export interface MetricRow {
  metric: string;
  /** True for the metric(s) the verdict depends on. */
  gated: boolean;
  higherIsBetter: boolean;
  /** The reference: the frozen baseline, or the original model measured in the same run. */
  baseline: number;
  candidate: number;
  /** The PR's model as committed, only when it differs from the frozen baseline. */
  prModel?: number;
  /** candidate - baseline, in the metric's units (points for percentages). */
  delta: number;
  /** How much worse the candidate is (positive = worse), in the unit the rule uses (points or % of baseline). */
  drift: number;
  /** Paired 95 % bootstrap interval of `drift`. */
  interval?: Interval;
  /** McNemar's exact/χ² test on top-1 correctness (accuracy and agreement only). */
  mcnemar?: { pValue: number; baselineOnly: number; candidateOnly: number };
  /** The rule applied, when gated. */
  rule?: { maxDrift: number; use: 'point' | 'interval'; relative: boolean };
  status: RowStatus;
  /** Why this status, for the annotation and the reason line. */
  explanation?: string;
}

export interface LatencyRow {
  batchSize: number;
  baseline: Pick<LatencyStats, 'p50' | 'p95' | 'p99'>;
  candidate: Pick<LatencyStats, 'p50' | 'p95' | 'p99'>;
  ratios: {
    p50: { value: number; interval: Interval };
    p95: { value: number; interval: Interval };
    p99: { value: number; interval: Interval };
  };
  /** The p95-ratio goal (candidate / baseline at most this), when configured. */
  goal?: number;
  status: RowStatus;
}

export interface StoredLatency {
  batchSize: number;
  p50: number;
  p95: number;
  p99: number;
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
  /** Drift of the gated metric vs the reference after this step, in points. */
  drift: number;
  driftInterval?: Interval;
  p95Ms?: number;
  sizeBytes?: number;
  kept: boolean;
  reason: string;
}

export interface ProfileRow {
  name: string;
  opType: string;
  /** Mean milliseconds per run. */
  ms: number;
  /** Fraction of the model's node time, 0-1. */
  share: number;
}

export interface ReportError {
  kind: 'config' | 'model' | 'data' | 'baseline' | 'internal';
  message: string;
  /** File, field or node the message is about. */
  where?: string;
}

export interface Report {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  toolVersion: string;
  verdict: Verdict;
  /** One sentence: the verdict and why. */
  reason: string;
  configPath: string;
  models: { original: string; candidate?: string };
  /** The metric the verdict is about (the first configured metric). */
  gatedMetric: string;
  /** Where the reference numbers come from. */
  reference: 'frozen-baseline' | 'original-model';
  /** Set when the PR's model differs from the frozen baseline's: rows then carry `prModel`. */
  prModelChanged?: boolean;
  metrics: MetricRow[];
  latency: LatencyRow[];
  /** The frozen baseline's own latency, for information only: it was measured on another run. */
  storedBaselineLatency?: { rows: StoredLatency[]; note?: string };
  resources?: { baseline: MemoryStats; candidate: MemoryStats };
  steps: StepRow[];
  passes: PassSummary[];
  /** Nodes a quantization pass left in float, with the reason. */
  fallbackNodes: Skipped[];
  profile?: { batchSize: number; top: ProfileRow[] };
  machine?: MachineInfo & { fingerprint?: string };
  notes: string[];
  /** Seconds per stage, e.g. { optimize: 12.3, evaluate: 4.5 }. */
  timings: Record<string, number>;
  error?: ReportError;
  /** The pull request the run measured; `mode: measure` fills it for the comment workflow. */
  pullRequest?: { number: number; headSha: string; runId?: number; runAttempt?: number };
}
