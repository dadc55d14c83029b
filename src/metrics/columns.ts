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

/** Decision threshold of single-value outputs and probability maps when the config sets none. */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * Where the classes sit in one sample's values: `classes` along the class axis, with `outer`
 * positions before it and `inner` after it (a [T, C] sequence: T x 1 positions of C classes; a
 * [C, H, W] map: 1 x HW positions).
 */
export function classLayout(s: ScoreInput): { classes: number; outer: number; inner: number } {
  const shape = s.shape ?? [s.per];
  if (shape.length === 0) return { classes: 1, outer: 1, inner: 1 };
  const axis = s.params?.classAxis ?? defaultClassAxis(shape);
  const a = axis < 0 ? shape.length + axis : axis;
  const prod = (dims: number[]) => dims.reduce((x, y) => x * y, 1);
  return { classes: shape[a], outer: prod(shape.slice(0, a)), inner: prod(shape.slice(a + 1)) };
}

/** The class axis of a per-sample shape: the last, or the first for maps of rank 3 and more ([C, H, W]). */
export function defaultClassAxis(shape: ArrayLike<unknown>): number {
  return shape.length >= 3 ? 0 : Math.max(0, shape.length - 1);
}

/**
 * Per sample, the share (0-1) of its positions whose decision matches the reference's: the top
 * class along the class axis, or for a single value per position the side of the threshold.
 */
function positionAgreement(s: ScoreInput, sample: number): { agreeing: number; positions: number } {
  const { classes, outer, inner } = classLayout(s);
  const base = sample * s.per;
  const t = s.params?.threshold ?? DEFAULT_THRESHOLD;
  let agreeing = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const start = base + o * classes * inner + i;
      if (classes === 1) {
        if (s.values[start] > t === s.reference![start] > t) agreeing++;
        continue;
      }
      let best = 0;
      let bestRef = 0;
      for (let c = 1; c < classes; c++) {
        if (s.values[start + c * inner] > s.values[start + best * inner]) best = c;
        if (s.reference![start + c * inner] > s.reference![start + bestRef * inner]) bestRef = c;
      }
      if (best === bestRef) agreeing++;
    }
  }
  return { agreeing, positions: outer * inner };
}

/** Share of the sample's positions (1 for a plain class vector) whose decision agrees with the reference: 0/1 per sample for classifiers. */
export const agrees: Column = (s) =>
  Array.from({ length: s.n }, (_, i) => {
    const a = positionAgreement(s, i);
    return a.positions ? a.agreeing / a.positions : 1;
  });

/** 1 when every position of the sample agrees with the reference (a whole sequence decoded the same), else 0. */
export const exactMatch: Column = (s) =>
  Array.from({ length: s.n }, (_, i) => {
    const a = positionAgreement(s, i);
    return a.agreeing === a.positions ? 1 : 0;
  });

/** Elements above the threshold in both the output and the reference (a probability map's mask). */
export const maskIntersection: Column = (s) => maskCounts(s).intersection;

/** Elements above the threshold in the output or the reference. */
export const maskUnion: Column = (s) => maskCounts(s).union;

const maskCache = new WeakMap<ScoreInput, { intersection: number[]; union: number[] }>();
function maskCounts(s: ScoreInput): { intersection: number[]; union: number[] } {
  let counts = maskCache.get(s);
  if (!counts) {
    const t = s.params?.threshold ?? DEFAULT_THRESHOLD;
    const intersection = new Array<number>(s.n).fill(0);
    const union = new Array<number>(s.n).fill(0);
    for (let i = 0; i < s.n; i++) {
      for (let k = i * s.per; k < (i + 1) * s.per; k++) {
        const a = s.values[k] > t;
        const b = s.reference![k] > t;
        if (a && b) intersection[i]++;
        if (a || b) union[i]++;
      }
    }
    counts = { intersection, union };
    maskCache.set(s, counts);
  }
  return counts;
}

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
