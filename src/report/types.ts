/**
 * The report written to report.json (schema: schemas/report.schema.json). It is the one record of a
 * run: the Markdown comment, the job summary and the `mode: comment` step are all rendered from it,
 * so it carries every number the comment shows and nothing that needs the models to re-derive.
 */
import type { MachineInfo, MemoryStats } from '../evaluate/types.js';
import type { LatencyRow, MetricRow, Verdict } from '../gate/types.js';
import type { StepDecision, StepRow } from '../loop/types.js';
import type { PassSummary, Skipped } from '../passes/types.js';

export const REPORT_SCHEMA_VERSION = 1;

export interface StoredLatency {
  batchSize: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface ProfileRow {
  name: string;
  opType: string;
  /** Mean milliseconds per run. */
  ms: number;
  /** Fraction of the model's node time, 0-1. */
  share: number;
}

/** A model run on a non-native runtime target, its outputs scored against the native run's. */
export interface TargetOutputs {
  /** The runtime target (evaluate/targets.ts), e.g. wasm. */
  target: string;
  /** Its runtime and version, e.g. onnxruntime-web 1.30.0. */
  runtime: string;
  model: 'original' | 'candidate';
  /** The candidate's is gated; the PR model's is shown. */
  verdict: Exclude<Verdict, 'error'>;
  /** Fidelity metrics against the native outputs, each under the registry's default limit. */
  metrics: MetricRow[];
}

export interface SplitRecord {
  /** split: data.eval split by data.search-fraction; explicit: data.search and data.test; none: one set for both. */
  how: 'split' | 'explicit' | 'none';
  fraction?: number;
  searchSamples: number;
  testSamples: number;
}

export interface ReportError {
  kind: 'config' | 'model' | 'data' | 'baseline' | 'runtime' | 'parts' | 'internal';
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
  models: { original: string; candidate?: string; candidateSha256?: string };
  /** The metric the verdict is about (the first configured metric). */
  gatedMetric: string;
  /** One sentence on what the gated number is (from the metric registry). */
  gatedMeaning?: string;
  /** Where the reference numbers come from. */
  reference: 'frozen-baseline' | 'original-model';
  /** Set when the PR's model differs from the frozen baseline's: rows then carry `prModel`. */
  prModelChanged?: boolean;
  /** The base branch's model measured in this run (latency rows then carry `base` and `vsBase`). */
  baseBranch?: { model: string; commit?: string; /** The PR's model differs from the base branch's (sha256). */ changed?: boolean };
  /** When the run finished measuring (ISO 8601). */
  created?: string;
  /** The workflow run that measured it and the artifact holding report and model (set by the Action). */
  run?: { url: string; artifact?: string };
  metrics: MetricRow[];
  /** Which samples the loop searched on and the gate judged (the metrics rows are over the test samples). */
  split?: SplitRecord;
  latency: LatencyRow[];
  /** The PR model and the candidate on each runtime target beyond native (config `targets:`). */
  targets?: TargetOutputs[];
  /** The frozen baseline's own latency, for information only: it was measured on another run. */
  storedBaselineLatency?: { rows: StoredLatency[]; note?: string };
  resources?: { original: MemoryStats; candidate: MemoryStats };
  steps: StepRow[];
  /** The kept steps as decisions: `prune-gate optimize --replay report.json` rebuilds the candidate from them, byte for byte. */
  decisions?: StepDecision[];
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
  /** The Action's gate id, recorded so a later `mode: comment` run posts to this gate's comment. */
  gate?: string;
}

/**
 * The default branch's recent values, for the PR comment's trend line. Computed by src/history
 * from a history store and handed to the renderer as data.
 */
export interface Trend {
  /** The branch the values come from, e.g. main. */
  branch: string;
  metric: string;
  /** The optimized model's value of `metric` per recorded commit, oldest first. */
  values: number[];
  /** The optimized model's P95 in ms per batch, per batch size, over the same commits (null: not measured then). */
  p95: { batchSize: number; values: (number | null)[] }[];
}
