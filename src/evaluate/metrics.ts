/**
 * Metrics from model outputs. Pure functions over flat arrays: outputs are [samples, ...] in C
 * order. Percentages are in points (0-100).
 */

/** Index of the largest of `n` values starting at `offset` (first one on ties). */
export function argmax(values: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let k = 0; k < n; k++) {
    const v = values[offset + k];
    if (v > bestValue) {
      bestValue = v;
      best = k;
    }
  }
  return best;
}

/** Rank of the label among the class scores (0 = top-1); ties are counted against the label. */
function labelRank(values: ArrayLike<number>, offset: number, n: number, label: number): number {
  const own = values[offset + label];
  let rank = 0;
  for (let k = 0; k < n; k++) if (k !== label && (values[offset + k] > own || (values[offset + k] === own && k < label))) rank++;
  return rank;
}

export interface ClassificationMetrics {
  /** Top-1 accuracy in points. */
  accuracy: number;
  /** Top-k accuracy in points, by k. */
  topK: Record<number, number>;
  /** Macro F1 in points over the classes present in labels or predictions. */
  f1: number;
  /** Accuracy (recall) per class in points, for classes present in the labels. */
  perClass: Record<string, number>;
  worstClassAccuracy: number;
  /** confusion[label][predicted]. */
  confusion: number[][];
  predicted: number[];
  correct: number[];
}

/** `scores` is [n, classes]; labels are class ids. */
export function classificationMetrics(scores: ArrayLike<number>, classes: number, labels: ArrayLike<number>, ks: number[] = [5]): ClassificationMetrics {
  const n = labels.length;
  if (scores.length !== n * classes) throw new Error(`scores hold ${scores.length} values for ${n} samples x ${classes} classes`);
  const predicted: number[] = new Array(n);
  const correct: number[] = new Array(n);
  const topHits: Record<number, number> = Object.fromEntries(ks.map((k) => [k, 0]));
  const size = Math.max(classes, ...Array.from(labels, (l) => l + 1));
  const confusion = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (let i = 0; i < n; i++) {
    const p = argmax(scores, i * classes, classes);
    const y = labels[i];
    predicted[i] = p;
    correct[i] = p === y ? 1 : 0;
    confusion[y][p]++;
    if (ks.length && y < classes) {
      const r = labelRank(scores, i * classes, classes, y);
      for (const k of ks) if (r < k) topHits[k]++;
    }
  }
  const perClass: Record<string, number> = {};
  let f1Sum = 0;
  let f1Count = 0;
  for (let c = 0; c < size; c++) {
    const tp = confusion[c][c];
    let support = 0;
    let predictedC = 0;
    for (let k = 0; k < size; k++) {
      support += confusion[c][k];
      predictedC += confusion[k][c];
    }
    if (support > 0) perClass[String(c)] = (100 * tp) / support;
    if (support > 0 || predictedC > 0) {
      f1Sum += (2 * tp) / (support + predictedC);
      f1Count++;
    }
  }
  const perClassValues = Object.values(perClass);
  return {
    accuracy: n ? (100 * correct.reduce((a, b) => a + b, 0)) / n : 0,
    topK: Object.fromEntries(ks.map((k) => [k, n ? (100 * topHits[k]) / n : 0])),
    f1: f1Count ? (100 * f1Sum) / f1Count : 0,
    perClass,
    worstClassAccuracy: perClassValues.length ? Math.min(...perClassValues) : 0,
    confusion,
    predicted,
    correct,
  };
}

export interface RegressionMetrics {
  mae: number;
  rmse: number;
  absError: number[];
}

/** One prediction per sample against one target per sample. */
export function regressionMetrics(predictions: ArrayLike<number>, targets: ArrayLike<number>): RegressionMetrics {
  const n = targets.length;
  if (predictions.length !== n) throw new Error(`${predictions.length} predictions for ${n} targets`);
  const absError = new Array<number>(n);
  let sumAbs = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const e = predictions[i] - targets[i];
    absError[i] = Math.abs(e);
    sumAbs += Math.abs(e);
    sumSq += e * e;
  }
  return { mae: n ? sumAbs / n : 0, rmse: n ? Math.sqrt(sumSq / n) : 0, absError };
}

export interface FidelityMetrics {
  /** Top-1 agreement with the reference in points (over the last axis per sample). */
  agreement: number;
  /** Mean per-sample cosine similarity. */
  cosine: number;
  /** Signal-to-quantization-noise ratio in dB: 10 log10(sum ref^2 / sum (ref - x)^2); Infinity when identical. */
  sqnr: number;
  maxAbsError: number;
  agree: number[];
  cosinePerSample: number[];
}

/** `candidate` and `reference` are [n, per] (per = values per sample). */
export function fidelityMetrics(candidate: ArrayLike<number>, reference: ArrayLike<number>, n: number): FidelityMetrics {
  if (candidate.length !== reference.length) throw new Error(`output sizes differ: ${candidate.length} vs ${reference.length}`);
  const per = n ? candidate.length / n : 0;
  const agree = new Array<number>(n);
  const cosinePerSample = new Array<number>(n);
  let signal = 0;
  let noise = 0;
  let maxAbs = 0;
  for (let i = 0; i < n; i++) {
    const o = i * per;
    agree[i] = argmax(candidate, o, per) === argmax(reference, o, per) ? 1 : 0;
    let dot = 0;
    let nc = 0;
    let nr = 0;
    for (let k = 0; k < per; k++) {
      const c = candidate[o + k];
      const r = reference[o + k];
      dot += c * r;
      nc += c * c;
      nr += r * r;
      signal += r * r;
      noise += (r - c) * (r - c);
      maxAbs = Math.max(maxAbs, Math.abs(r - c));
    }
    // Two zero vectors are identical: similarity 1, not 0/0.
    cosinePerSample[i] = nc === 0 && nr === 0 ? 1 : nc === 0 || nr === 0 ? 0 : dot / Math.sqrt(nc * nr);
  }
  return {
    agreement: n ? (100 * agree.reduce((a, b) => a + b, 0)) / n : 0,
    cosine: n ? cosinePerSample.reduce((a, b) => a + b, 0) / n : 0,
    sqnr: noise === 0 ? Infinity : 10 * Math.log10(signal / noise),
    maxAbsError: maxAbs,
    agree,
    cosinePerSample,
  };
}
