/**
 * Scoring one model output: every metric of the task that applies to it, from per-sample columns
 * computed once each, plus the classification breakdown (per class, confusion matrix).
 */
import { metricsOfTask } from './registry.js';
import type { Column, MetricDef, MetricValues, PerSampleResults, ScoreInput, Task } from './types.js';

/** The task's metrics that exist for this output (top-5 needs more than 5 classes). */
export function applicableMetrics(task: Task, s: ScoreInput): MetricDef[] {
  return metricsOfTask(task).filter((def) => !def.applies || def.applies(s));
}

/** The per-sample columns of `defs` for this output, each computed once however many metrics read it. */
export function scoreColumns(defs: MetricDef[], s: ScoreInput): PerSampleResults {
  const computed = new Map<Column, number[]>();
  const perSample: PerSampleResults = {};
  for (const def of defs) {
    for (const [key, column] of Object.entries(def.perSample)) {
      let values = computed.get(column);
      if (!values) {
        values = column(s);
        computed.set(column, values);
      }
      perSample[key] = values;
    }
  }
  return perSample;
}

/** Each metric over all `n` samples of its columns. */
export function metricValues(defs: MetricDef[], perSample: PerSampleResults, n: number): MetricValues {
  const all = Array.from({ length: n }, (_, i) => i);
  return Object.fromEntries(defs.map((def) => [def.name, def.over(perSample, all)]));
}

/** Every applicable metric of the task on one output, with the per-sample columns behind them. */
export function scoreOutput(task: Task, s: ScoreInput): { metrics: MetricValues; perSample: PerSampleResults } {
  const defs = applicableMetrics(task, s);
  const perSample = scoreColumns(defs, s);
  return { metrics: metricValues(defs, perSample, s.n), perSample };
}

/** Accuracy (recall) per class in points, for classes present in the labels, and confusion[label][predicted]. */
export function classBreakdown(labels: number[], predicted: number[], classes: number): { perClass: Record<string, number>; confusion: number[][] } {
  let size = classes;
  for (const l of labels) if (l + 1 > size) size = l + 1;
  const confusion = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (let i = 0; i < labels.length; i++) confusion[labels[i]][predicted[i]]++;
  const perClass: Record<string, number> = {};
  for (let c = 0; c < size; c++) {
    const support = confusion[c].reduce((a, b) => a + b, 0);
    if (support > 0) perClass[String(c)] = (100 * confusion[c][c]) / support;
  }
  return { perClass, confusion };
}
