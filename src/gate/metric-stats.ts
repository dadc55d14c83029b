/**
 * Which way each metric points, how to read it from an EvalResult, and how to recompute it on a
 * bootstrap resample from per-sample results. Metric names arrive both as config spells them
 * (`worst-class-accuracy`) and as evaluation records them (`worst_class_accuracy`); both work.
 */
import type { MetricValues, PerSampleResults } from '../evaluate/types.js';
import type { SampleStatistic } from './paired-stats.js';

const LOWER_IS_BETTER = new Set(['mae', 'rmse', 'max-abs-error']);

export function canonicalMetric(name: string): string {
  return name.trim().toLowerCase().replace(/_/g, '-');
}

export function higherIsBetter(metric: string): boolean {
  return !LOWER_IS_BETTER.has(canonicalMetric(metric));
}

/** The metric's value under either spelling, or undefined when the record lacks it. */
export function metricValue(values: MetricValues, metric: string): number | undefined {
  const want = canonicalMetric(metric);
  for (const [k, v] of Object.entries(values)) if (canonicalMetric(k) === want) return v;
  // top1 and accuracy are the same number for classification.
  if (want === 'top1') return metricValue(values, 'accuracy');
  return undefined;
}

const meanCorrect: SampleStatistic = (ps, idx) => {
  const c = ps.correct!;
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += c[idx[i]];
  return (100 * s) / idx.length;
};

const meanAbsError: SampleStatistic = (ps, idx) => {
  const e = ps.absError!;
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += e[idx[i]];
  return s / idx.length;
};

const rootMeanSquare: SampleStatistic = (ps, idx) => {
  const e = ps.absError!;
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += e[idx[i]] * e[idx[i]];
  return Math.sqrt(s / idx.length);
};

const meanCosine: SampleStatistic = (ps, idx) => {
  const c = ps.cosine!;
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += c[idx[i]];
  return s / idx.length;
};

/** Number of class ids (max label or prediction + 1), computed once per record. */
const classCountCache = new WeakMap<PerSampleResults, number>();
function classCount(ps: PerSampleResults): number {
  let k = classCountCache.get(ps);
  if (k === undefined) {
    k = 0;
    for (const y of ps.labels!) if (y + 1 > k) k = y + 1;
    for (const p of ps.predicted!) if (p + 1 > k) k = p + 1;
    classCountCache.set(ps, k);
  }
  return k;
}

/**
 * Per-class true positives, predicted counts and support over the resample, in arrays indexed by
 * class id (class ids are small non-negative integers; a Map here was 10x slower).
 */
function classCounts(ps: PerSampleResults, idx: ArrayLike<number>): { tp: number[]; pred: number[]; support: number[] } {
  const k = classCount(ps);
  const tp: number[] = new Array<number>(k).fill(0);
  const pred: number[] = new Array<number>(k).fill(0);
  const support: number[] = new Array<number>(k).fill(0);
  const labels = ps.labels!;
  const predicted = ps.predicted!;
  for (let i = 0; i < idx.length; i++) {
    const y = labels[idx[i]];
    const p = predicted[idx[i]];
    support[y]++;
    pred[p]++;
    if (y === p) tp[y]++;
  }
  return { tp, pred, support };
}

/** Macro F1 over the classes seen in labels or predictions (as scikit-learn does), in points. */
const macroF1: SampleStatistic = (ps, idx) => {
  const { tp, pred, support } = classCounts(ps, idx);
  let sum = 0;
  let seen = 0;
  for (let c = 0; c < tp.length; c++) {
    const denom = pred[c] + support[c];
    if (denom === 0) continue;
    seen++;
    sum += (2 * tp[c]) / denom;
  }
  return seen === 0 ? 0 : (100 * sum) / seen;
};

/** Accuracy of the worst class present in the resample's labels, in points. */
const worstClass: SampleStatistic = (ps, idx) => {
  const { tp, support } = classCounts(ps, idx);
  let worst = 100;
  for (let c = 0; c < tp.length; c++) {
    if (support[c] === 0) continue;
    const acc = (100 * tp[c]) / support[c];
    if (acc < worst) worst = acc;
  }
  return worst;
};

/**
 * The statistic to bootstrap for `metric`, when both sides carry the per-sample data it needs;
 * undefined otherwise (the metric is then judged on its point estimate alone).
 */
export function sampleStatistic(metric: string, a: PerSampleResults, b: PerSampleResults): SampleStatistic | undefined {
  const has = (key: keyof PerSampleResults) => Array.isArray(a[key]) && Array.isArray(b[key]);
  switch (canonicalMetric(metric)) {
    case 'accuracy':
    case 'top1':
    case 'agreement':
      return has('correct') ? meanCorrect : undefined;
    case 'f1':
      return has('labels') && has('predicted') ? macroF1 : undefined;
    case 'worst-class-accuracy':
      return has('labels') && has('predicted') ? worstClass : undefined;
    case 'mae':
      return has('absError') ? meanAbsError : undefined;
    case 'rmse':
      return has('absError') ? rootMeanSquare : undefined;
    case 'cosine':
      return has('cosine') ? meanCosine : undefined;
    default:
      return undefined;
  }
}

/** Metrics whose per-sample record is top-1 correctness, where McNemar's test applies. */
export function isTop1Correctness(metric: string): boolean {
  return ['accuracy', 'top1', 'agreement'].includes(canonicalMetric(metric));
}
