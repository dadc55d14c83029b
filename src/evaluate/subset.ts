/**
 * Evaluation results over part of the samples, and parts put back together. Every metric is a
 * statistic of per-sample columns (metrics/registry.ts), so the metrics of a subset, or of shards
 * joined in order, are recomputed from the columns exactly as an evaluation of those samples
 * computes them: the same numbers, not an approximation.
 */
import { classBreakdown, metricColumns, metricDef, type MetricValues, type PerSampleResults } from '../metrics/index.js';
import type { EvalResult } from './types.js';

/** The result over these sample indices (in this order); input-noise metrics are dropped (they are of the whole run). */
export function subsetResult(result: EvalResult, samples: number[]): EvalResult {
  const perSample: PerSampleResults = Object.fromEntries(Object.entries(result.perSample).map(([k, column]) => [k, samples.map((s) => column[s])]));
  return withMetrics(result, perSample, samples.length, result.confusion?.length);
}

/** Results over consecutive parts of one sample order, joined: equal to a result over all of them. */
export function concatResults(parts: EvalResult[]): EvalResult {
  // An empty shard (more shards than batches) has no columns: the first with samples is the template.
  const first = parts.find((p) => p.samples > 0) ?? parts[0];
  const perSample: PerSampleResults = Object.fromEntries(Object.keys(first.perSample).map((k) => [k, parts.flatMap((p) => p.perSample[k] ?? [])]));
  return withMetrics(first, perSample, parts.reduce((a, p) => a + p.samples, 0), Math.max(0, ...parts.map((p) => p.confusion?.length ?? 0)));
}

/** The record's metrics recomputed over `perSample`; classification's per-class table too. */
function withMetrics(template: EvalResult, perSample: PerSampleResults, samples: number, classes = 0): EvalResult {
  const all = Array.from({ length: samples }, (_, i) => i);
  const metrics: MetricValues = {};
  for (const name of Object.keys(template.metrics)) {
    const def = metricDef(name);
    const columns = def && metricColumns(name, perSample);
    if (def && columns) metrics[name] = def.over(columns, all);
  }
  const result: EvalResult = { task: template.task, samples, metrics, perSample };
  if (template.confusion && perSample.labels && perSample.predicted) {
    Object.assign(result, classBreakdown(perSample.labels, perSample.predicted, classes));
  }
  return result;
}
