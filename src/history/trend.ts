/** The PR comment's trend, from a history store: the last N recorded values of the gated metric and P95. */
import type { Report, Trend } from '../report/types.js';
import type { HistoryStore } from './types.js';

/** Values in the trend line: enough to see a direction, short enough for one line. */
export const TREND_LENGTH = 5;

/**
 * The last `count` entries that measured the report's gated metric, oldest first; P95 for the
 * report's batch sizes. Undefined when the history has none (nothing to compare with yet).
 */
export function trendFor(report: Report, store: HistoryStore, count = TREND_LENGTH): Trend | undefined {
  const recent = store.entries.filter((e) => e.metrics.some((m) => m.metric === report.gatedMetric)).slice(-count);
  if (recent.length === 0) return undefined;
  return {
    branch: recent[recent.length - 1].branch ?? 'the default branch',
    metric: report.gatedMetric,
    values: recent.map((e) => e.metrics.find((m) => m.metric === report.gatedMetric)!.candidate),
    p95: report.latency.map((l) => ({ batchSize: l.batchSize, values: recent.map((e) => e.p95.find((p) => p.batchSize === l.batchSize)?.candidate ?? null) })),
  };
}
