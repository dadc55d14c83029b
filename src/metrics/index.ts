/** Metrics: the registry of every metric and task, per-sample columns, and scoring. Pure; no runtime. */
export * from './types.js';
export { METRICS, SQNR_CEILING_DB, canonicalMetric, higherIsBetter, metricColumns, metricDef, metricValue, metricsOfTask, type MetricName } from './registry.js';
export { fidelityDefaults, TASKS, type TaskDef } from './tasks.js';
export { applicableMetrics, classBreakdown, metricValues, scoreColumns, scoreOutput } from './score.js';
