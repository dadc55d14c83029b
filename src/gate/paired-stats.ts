/**
 * The statistics the gate needs, kept here so the gate does not wait on the evaluation engine:
 * a paired bootstrap of a metric difference over the same evaluation samples, and McNemar's test
 * on top-1 correctness. Both models saw the same samples, so resampling sample indices (not each
 * model separately) keeps the pairing and gives a much tighter interval than two independent ones.
 */
import type { Interval, PerSampleResults } from '../evaluate/types.js';

/**
 * Deterministic PRNG (xorshift32): the same seed gives the same interval, so reruns agree. Only
 * bitwise operators, no Math.* calls: jest runs tests in a VM realm where calls to builtins cost
 * ~100x more, and this loop runs millions of times.
 */
export function xorshift32(seed: number): () => number {
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** A metric computed on a subset (multiset) of sample indices. */
// Plain arrays, not typed arrays: under jest's VM realm host typed arrays are ~60x slower to index.
export type SampleStatistic = (perSample: PerSampleResults, indices: readonly number[]) => number;

export interface BootstrapOptions {
  resamples?: number;
  level?: number;
  seed?: number;
}

/**
 * Percentile bootstrap interval of `diff(a, b) = stat(a) - stat(b)` over paired samples.
 * Returns undefined when the two sides do not have the same number of samples (not paired).
 */
export function pairedBootstrap(
  a: PerSampleResults,
  b: PerSampleResults,
  n: number,
  stat: SampleStatistic,
  options: BootstrapOptions = {},
): Interval | undefined {
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  if (n < 2) return undefined;
  const rand = xorshift32(options.seed ?? 0x5eed);
  const idx: number[] = new Array<number>(n).fill(0);
  const diffs: number[] = new Array<number>(resamples).fill(0);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) idx[i] = (rand() * n) | 0;
    diffs[r] = stat(a, idx) - stat(b, idx);
  }
  diffs.sort((x, y) => x - y);
  const alpha = (1 - level) / 2;
  return { low: quantileSorted(diffs, alpha), high: quantileSorted(diffs, 1 - alpha), level };
}

function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface McNemarResult {
  /** Samples the first model got right and the second wrong. */
  baselineOnly: number;
  /** Samples the second model got right and the first wrong. */
  candidateOnly: number;
  pValue: number;
}

/**
 * McNemar's test on paired 0/1 correctness. Exact two-sided binomial for fewer than 50 discordant
 * pairs (the χ² approximation is poor there), χ² with continuity correction above.
 */
export function mcnemar(baselineCorrect: number[], candidateCorrect: number[]): McNemarResult | undefined {
  if (baselineCorrect.length !== candidateCorrect.length || baselineCorrect.length === 0) return undefined;
  let b = 0;
  let c = 0;
  for (let i = 0; i < baselineCorrect.length; i++) {
    const x = baselineCorrect[i] > 0;
    const y = candidateCorrect[i] > 0;
    if (x && !y) b++;
    else if (!x && y) c++;
  }
  const n = b + c;
  let pValue: number;
  if (n === 0) pValue = 1;
  else if (n < 50) pValue = Math.min(1, 2 * binomialCdf(Math.min(b, c), n));
  else {
    const chi2 = (Math.abs(b - c) - 1) ** 2 / n;
    pValue = erfc(Math.sqrt(chi2 / 2));
  }
  return { baselineOnly: b, candidateOnly: c, pValue: Math.min(1, Math.max(0, pValue)) };
}

/** P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so large n does not overflow. */
function binomialCdf(k: number, n: number): number {
  let logCoef = 0; // log C(n, 0)
  let sum = 0;
  const logHalfN = n * Math.log(0.5);
  for (let i = 0; i <= k; i++) {
    if (i > 0) logCoef += Math.log(n - i + 1) - Math.log(i);
    sum += Math.exp(logCoef + logHalfN);
  }
  return sum;
}

/** Complementary error function (Numerical Recipes' erfcc, fractional error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851629 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
