/**
 * The gate's view of the paired statistics in evaluate/stats: both models saw the same samples,
 * so resampling sample indices (not each model separately) keeps the pairing and gives a much
 * tighter interval than two independent ones.
 */
import { mcnemar as mcnemarTest, pairedBootstrap as bootstrap, type BootstrapOptions } from '../evaluate/stats.js';
import type { Interval, PerSampleResults } from '../evaluate/types.js';

/** A metric computed on a subset (multiset) of sample indices. */
export type SampleStatistic = (perSample: PerSampleResults, indices: ArrayLike<number>) => number;

/** Default seed of the gate's bootstrap: the same inputs give the same interval, so reruns agree. */
const GATE_SEED = 0x5eed;

/**
 * Percentile bootstrap interval of `stat(a) - stat(b)` over paired samples; undefined when there
 * are too few samples to resample.
 */
export function pairedBootstrap(a: PerSampleResults, b: PerSampleResults, n: number, stat: SampleStatistic, options: BootstrapOptions = {}): Interval | undefined {
  if (n < 2) return undefined;
  return bootstrap(n, (idx) => stat(a, idx) - stat(b, idx), { seed: GATE_SEED, ...options });
}

export interface McNemarResult {
  /** Samples the first model got right and the second wrong. */
  baselineOnly: number;
  /** Samples the second model got right and the first wrong. */
  candidateOnly: number;
  /** Two-sided exact binomial p-value. */
  pValue: number;
}

/** McNemar's exact test on paired 0/1 correctness; undefined when the two sides are not paired. */
export function mcnemar(baselineCorrect: ArrayLike<number>, candidateCorrect: ArrayLike<number>): McNemarResult | undefined {
  if (baselineCorrect.length !== candidateCorrect.length || baselineCorrect.length === 0) return undefined;
  const m = mcnemarTest(baselineCorrect, candidateCorrect);
  return { baselineOnly: m.b, candidateOnly: m.c, pValue: m.pExact };
}
