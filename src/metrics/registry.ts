/**
 * The metric registry: every metric prune-gate computes, one entry each. Config validation (names,
 * tasks), evaluation (per-sample columns and values), the gate (direction, bootstrap statistic,
 * McNemar, default rule) and the report (unit, meaning) all read it here; schemas/config.schema.json
 * lists the same names (a test checks). Adding a metric is an entry here and its tests.
 */
import { classCounts, max, mean, meanPoints, percentWhere, sum } from './aggregates.js';
import * as col from './columns.js';
import type { MetricDef, MetricRule, MetricValues, PerSampleResults, ScoreInput, Task } from './types.js';

/** SQNR of identical outputs is infinite; reports store this ceiling instead (JSON has no Infinity). */
export const SQNR_CEILING_DB = 200;
/** The default floor of a gated SQNR. */
export const SQNR_FLOOR_DB = 20;

/** A drift limit of `accuracy-drop` in the metric's direction: the rule of a gated metric nobody configured. */
const driftLimit =
  (higherIsBetter: boolean) =>
  (accuracyDrop: number): MetricRule =>
    higherIsBetter ? { maxDrop: accuracyDrop } : { maxIncrease: accuracyDrop };

function topK<K extends number>(k: K): MetricDef & { name: `top${K}` } {
  return {
    name: `top${k}`,
    tasks: ['classification'],
    higherIsBetter: true,
    unit: 'points',
    meaning: `the share of samples whose label is among the model's ${k} highest scores, in points`,
    perSample: { rank: col.labelRank },
    over: (ps, idx) => percentWhere(ps.rank, idx, (r) => r < k),
    applies: (s: ScoreInput) => k < s.per,
    defaultRule: driftLimit(true),
  };
}

/** Macro F1 and per-class accuracy are recomputed from labels and predictions. */
const classes = { predicted: col.predicted, labels: col.labels };

const ACCURACY = {
  name: 'accuracy' as const,
  tasks: ['classification'],
  higherIsBetter: true,
  unit: 'points',
  meaning: 'the share of samples whose top-1 class is the label, in points',
  perSample: { correct: col.correct },
  over: (ps, idx) => meanPoints(ps.correct, idx),
  mcnemar: true,
  defaultRule: driftLimit(true),
} satisfies MetricDef;

export const METRICS = [
  ACCURACY,
  { ...ACCURACY, name: 'top1', meaning: 'the share of samples whose top-1 class is the label (the same number as accuracy), in points' },
  {
    name: 'f1',
    tasks: ['classification'],
    higherIsBetter: true,
    unit: 'points',
    meaning: 'macro F1 over the classes seen in labels or predictions, in points',
    perSample: classes,
    over: (ps, idx) => {
      const { tp, pred, support } = classCounts(ps, idx);
      let total = 0;
      let seen = 0;
      for (let c = 0; c < tp.length; c++) {
        const denom = pred[c] + support[c];
        if (denom === 0) continue;
        seen++;
        total += (2 * tp[c]) / denom;
      }
      return seen === 0 ? 0 : (100 * total) / seen;
    },
    defaultRule: driftLimit(true),
  },
  {
    name: 'worst-class-accuracy',
    tasks: ['classification'],
    higherIsBetter: true,
    unit: 'points',
    meaning: 'the accuracy of the class the model gets right least often, in points',
    perSample: classes,
    over: (ps, idx) => {
      const { tp, support } = classCounts(ps, idx);
      let worst = 100;
      for (let c = 0; c < tp.length; c++) if (support[c] > 0) worst = Math.min(worst, (100 * tp[c]) / support[c]);
      return worst;
    },
    defaultRule: driftLimit(true),
  },
  topK(2),
  topK(3),
  topK(5),
  topK(10),
  {
    name: 'mae',
    tasks: ['regression'],
    higherIsBetter: false,
    unit: 'label units',
    meaning: 'the mean absolute difference between prediction and target, in the targets\' units',
    perSample: { absError: col.absError },
    over: (ps, idx) => mean(ps.absError, idx),
    defaultRule: driftLimit(false),
  },
  {
    name: 'rmse',
    tasks: ['regression'],
    higherIsBetter: false,
    unit: 'label units',
    meaning: 'the root mean squared difference between prediction and target, in the targets\' units',
    perSample: { absError: col.absError },
    over: (ps, idx) => {
      const e = ps.absError;
      let s = 0;
      for (let i = 0; i < idx.length; i++) s += e[idx[i]] * e[idx[i]];
      return Math.sqrt(s / idx.length);
    },
    defaultRule: driftLimit(false),
  },
  {
    name: 'agreement',
    tasks: ['fidelity'],
    higherIsBetter: true,
    unit: 'points',
    meaning:
      "the share of decisions that match the reference model's: the top class of a class vector, of each position of a sequence or map, or the side of the threshold of a single value; in points",
    perSample: { correct: col.agrees },
    over: (ps, idx) => meanPoints(ps.correct, idx),
    mcnemar: true,
    defaultRule: driftLimit(true),
  },
  {
    name: 'exact-match',
    tasks: ['fidelity'],
    higherIsBetter: true,
    unit: 'points',
    meaning: "the share of samples whose every position (a whole decoded sequence) matches the reference model's decisions, in points",
    perSample: { exact: col.exactMatch },
    over: (ps, idx) => meanPoints(ps.exact, idx),
    mcnemar: true,
    defaultRule: driftLimit(true),
  },
  {
    name: 'mask-iou',
    tasks: ['fidelity'],
    higherIsBetter: true,
    unit: 'points',
    meaning: "the intersection over union of the output's mask (values above the threshold) with the reference model's, pooled over samples, in points",
    perSample: { intersection: col.maskIntersection, union: col.maskUnion },
    over: (ps, idx) => {
      const union = sum(ps.union, idx);
      return union === 0 ? 100 : (100 * sum(ps.intersection, idx)) / union;
    },
    defaultRule: driftLimit(true),
  },
  {
    name: 'cosine',
    tasks: ['fidelity'],
    higherIsBetter: true,
    unit: 'fraction',
    meaning: "the mean cosine similarity of each sample's output to the reference model's (1 = same direction)",
    perSample: { cosine: col.cosine },
    over: (ps, idx) => mean(ps.cosine, idx),
    // A fraction: accuracy-drop's points read as hundredths (2 -> a drop of 0.02).
    defaultRule: (accuracyDrop) => ({ maxDrop: accuracyDrop / 100 }),
  },
  {
    name: 'sqnr',
    tasks: ['fidelity'],
    higherIsBetter: true,
    unit: 'dB',
    meaning: `the signal-to-noise ratio of the output against the reference model's, 10 log10(signal energy / error energy), in dB (identical outputs: ${SQNR_CEILING_DB})`,
    perSample: { signal: col.signalEnergy, noise: col.noiseEnergy },
    over: (ps, idx) => {
      const noise = sum(ps.noise, idx);
      return noise === 0 ? SQNR_CEILING_DB : Math.min(SQNR_CEILING_DB, 10 * Math.log10(sum(ps.signal, idx) / noise));
    },
    // The reference against itself is the ceiling, so a drift from it means nothing: a floor does.
    // 20 dB keeps the error energy at 1 % of the signal's.
    defaultRule: () => ({ min: SQNR_FLOOR_DB }),
  },
  {
    name: 'max-abs-error',
    tasks: ['fidelity'],
    higherIsBetter: false,
    unit: 'output units',
    meaning: "the largest absolute difference between any output value and the reference model's, in the output's units",
    perSample: { maxAbsError: col.maxAbsDifference },
    over: (ps, idx) => max(ps.maxAbsError, idx),
    // A tolerance only the user can know: gating it needs `gate.metrics.max-abs-error.max`.
    defaultRule: () => undefined,
  },
] as const satisfies readonly MetricDef[];

export type MetricName = (typeof METRICS)[number]['name'];

const BY_NAME = new Map<string, MetricDef>(METRICS.map((m) => [m.name, m]));

/** A metric name as config and records spell it (`worst_class_accuracy` = `worst-class-accuracy`). */
export function canonicalMetric(name: string): string {
  return name.trim().toLowerCase().replace(/_/g, '-');
}

/** The entry of `name` or `name:output` (a metric of one output), or undefined for an unknown name. */
export function metricDef(name: string): MetricDef | undefined {
  const canonical = canonicalMetric(name);
  return BY_NAME.get(canonical) ?? BY_NAME.get(canonical.split(':')[0]);
}

export function higherIsBetter(metric: string): boolean {
  return metricDef(metric)?.higherIsBetter ?? true;
}

/** The metrics a task computes, in registry order. */
export function metricsOfTask(task: Task): MetricDef[] {
  return METRICS.filter((m) => (m.tasks as readonly Task[]).includes(task));
}

/** The metric's value under either spelling, or undefined when the record lacks it. */
export function metricValue(values: MetricValues, metric: string): number | undefined {
  const want = canonicalMetric(metric);
  for (const [k, v] of Object.entries(values)) if (canonicalMetric(k) === want) return v;
  // top1 and accuracy are the same number for classification.
  if (want === 'top1') return metricValue(values, 'accuracy');
  return undefined;
}

/** The per-sample columns of `metric` in a record (`cosine:out` reads `cosine:out`), or undefined when any is missing. */
export function metricColumns(metric: string, ps: PerSampleResults): PerSampleResults | undefined {
  const def = metricDef(metric);
  if (!def) return undefined;
  const suffix = outputSuffix(metric);
  const view: PerSampleResults = {};
  for (const key of Object.keys(def.perSample)) {
    const column = ps[key + suffix];
    if (!Array.isArray(column)) return undefined;
    view[key] = column;
  }
  return view;
}

/** `:output` of a per-output metric name, or ''. */
function outputSuffix(metric: string): string {
  const i = metric.indexOf(':');
  return i < 0 ? '' : metric.slice(i);
}
