/**
 * Scoring one model output: every metric of the task that applies to it, from per-sample columns
 * computed once each, plus the classification breakdown (per class, confusion matrix).
 */
import { metricsOfTask } from './registry.js';
import type { Column, MetricValues, PerSampleResults, ScoreInput, Task } from './types.js';

export function scoreOutput(task: Task, s: ScoreInput): { metrics: MetricValues; perSample: PerSampleResults } {
  const computed = new Map<Column, number[]>();
  const perSample: PerSampleResults = {};
  const metrics: MetricValues = {};
  const all = Array.from({ length: s.n }, (_, i) => i);
  for (const def of metricsOfTask(task)) {
    if (def.applies && !def.applies(s)) continue;
    const columns: PerSampleResults = {};
    for (const [key, column] of Object.entries(def.perSample)) {
      let values = computed.get(column);
      if (!values) {
        values = column(s);
        computed.set(column, values);
      }
      columns[key] = values;
      perSample[key] = values;
    }
    metrics[def.name] = def.over(columns, all);
  }
  return { metrics, perSample };
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
