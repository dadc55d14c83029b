/**
 * Per-sample columns the metrics are computed from. Pure functions of a ScoreInput; the evaluator
 * computes each column once per output however many metrics read it.
 */
import type { Column, ScoreInput } from './types.js';

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

const perSample = (s: ScoreInput, f: (offset: number, i: number) => number): number[] => {
  const out = new Array<number>(s.n);
  for (let i = 0; i < s.n; i++) out[i] = f(i * s.per, i);
  return out;
};

/** Top-1 class of the output. */
export const predicted: Column = (s) => perSample(s, (o) => argmax(s.values, o, s.per));

/** The labels as stored (class ids). */
export const labels: Column = (s) => Array.from(s.labels!);

/** 1 when the top-1 class is the label, else 0. */
export const correct: Column = (s) => perSample(s, (o, i) => (argmax(s.values, o, s.per) === s.labels![i] ? 1 : 0));

/** Rank of the label among the class scores (0 = top-1); ties are counted against the label. */
export const labelRank: Column = (s) =>
  perSample(s, (o, i) => {
    const label = s.labels![i];
    const own = s.values[o + label];
    let rank = 0;
    for (let k = 0; k < s.per; k++) if (k !== label && (s.values[o + k] > own || (s.values[o + k] === own && k < label))) rank++;
    return rank;
  });

/** |prediction - target| (one prediction per sample). */
export const absError: Column = (s) => perSample(s, (o, i) => Math.abs(s.values[o] - s.labels![i]));

/** 1 when the top-1 class is the reference's top-1 class, else 0. */
export const agrees: Column = (s) => perSample(s, (o) => (argmax(s.values, o, s.per) === argmax(s.reference!, o, s.per) ? 1 : 0));

/** Cosine similarity of the sample's values to the reference's (two zero vectors: 1). */
export const cosine: Column = (s) =>
  perSample(s, (o) => {
    let dot = 0;
    let nc = 0;
    let nr = 0;
    for (let k = 0; k < s.per; k++) {
      const c = s.values[o + k];
      const r = s.reference![o + k];
      dot += c * r;
      nc += c * c;
      nr += r * r;
    }
    return nc === 0 && nr === 0 ? 1 : nc === 0 || nr === 0 ? 0 : dot / Math.sqrt(nc * nr);
  });

/** Energy of the reference: sum of its squared values. */
export const signalEnergy: Column = (s) =>
  perSample(s, (o) => {
    let e = 0;
    for (let k = 0; k < s.per; k++) e += s.reference![o + k] * s.reference![o + k];
    return e;
  });

/** Energy of the difference to the reference: sum of squared errors. */
export const noiseEnergy: Column = (s) =>
  perSample(s, (o) => {
    let e = 0;
    for (let k = 0; k < s.per; k++) {
      const d = s.reference![o + k] - s.values[o + k];
      e += d * d;
    }
    return e;
  });

/** Largest absolute difference to the reference within the sample. */
export const maxAbsDifference: Column = (s) =>
  perSample(s, (o) => {
    let m = 0;
    for (let k = 0; k < s.per; k++) m = Math.max(m, Math.abs(s.reference![o + k] - s.values[o + k]));
    return m;
  });
