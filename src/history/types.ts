/**
 * The performance history of the default branch (schema: schemas/history.schema.json): one entry
 * per measured commit, appended in order and never rewritten. An entry is a summary of one
 * report.json, small enough that the capped file stays readable through GitHub's contents API.
 */
import type { MetricUnit } from '../metrics/index.js';
import type { Verdict } from '../gate/types.js';

export const HISTORY_SCHEMA_VERSION = 1;

/**
 * Entries a store keeps; appending beyond it drops the oldest. An entry is about 1-2 KB, so 500
 * keep the file well under the 1 MB that GitHub's contents API returns inline.
 */
export const HISTORY_CAP = 500;

export interface HistoryInterval {
  low: number;
  high: number;
}

export interface HistoryMetric {
  metric: string;
  unit: MetricUnit;
  higherIsBetter: boolean;
  gated: boolean;
  /** The original model's value (or the frozen baseline's, see `reference` of the entry). */
  reference: number;
  /** The optimized model's value. */
  candidate: number;
  /** How much worse the optimized model is (positive = worse), with its paired 95 % interval. */
  drift: number;
  interval?: HistoryInterval;
}

export interface HistoryLatency {
  batchSize: number;
  /** P95 in milliseconds per batch of the original and of the optimized model, measured interleaved. */
  original: number;
  candidate: number;
  /** Optimized / original P95, with its 95 % interval. */
  ratio: number;
  interval: HistoryInterval;
}

export interface HistorySize {
  fileBytes: number;
  gzipBytes: number;
}

/** One kept step of the recipe (what the optimized model is made of). */
export interface HistoryRecipeStep {
  stage: 'prune' | 'quantize';
  kind: string;
  goal: number;
  reached: number;
}

export interface HistoryEntry {
  commit: string;
  /** ISO 8601: the commit's time when known, else the time the entry was made. */
  time: string;
  branch?: string;
  /** The workflow run that measured it. */
  run?: { id: number; attempt: number };
  toolVersion: string;
  verdict: Verdict;
  reference: 'frozen-baseline' | 'original-model';
  models: { originalSha256?: string; candidateSha256?: string };
  gatedMetric: string;
  metrics: HistoryMetric[];
  p95: HistoryLatency[];
  size?: { original: HistorySize; candidate: HistorySize };
  recipe: HistoryRecipeStep[];
  /** Where the latency was measured: GitHub's runner kind, and the CPU. */
  runner?: { environment?: string; os?: string; arch?: string; name?: string };
  machine?: { cpuModel: string; cores: number; platform: string; fingerprint?: string };
}

export interface HistoryStore {
  schemaVersion: typeof HISTORY_SCHEMA_VERSION;
  entries: HistoryEntry[];
}
