/** Metrics: the registry of every metric and task, per-sample columns, and scoring. Pure; no runtime. */
export * from './types.js';
export { METRICS, SQNR_CEILING_DB, canonicalMetric, higherIsBetter, metricColumns, metricDef, metricValue, metricsOfTask, outputSuffix, type MetricName } from './registry.js';
export { TASKS, type TaskDef } from './tasks.js';
export { scoreOutput, classBreakdown } from './score.js';
