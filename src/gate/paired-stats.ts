/**
 * The gate's view of the paired statistics in evaluate/stats: both models saw the same samples,
 * so resampling sample indices (not each model separately) keeps the pairing and gives a much
 * tighter interval than two independent ones.
 */
import { mcnemar as mcnemarTest, pairedBootstrap as bootstrap, type BootstrapOptions } from '../evaluate/stats.js';
import type { Interval } from '../evaluate/types.js';
import { metricColumns, metricDef, type PerSampleResults } from '../metrics/index.js';

/** Default seed of the gate's bootstrap: the same inputs give the same interval, so reruns agree. */
const GATE_SEED = 0x5eed;

/**
 * Percentile bootstrap interval of `metric(a) - metric(b)` over paired samples, from the metric's
 * per-sample columns (the registry's `over`); undefined when either record lacks them or there are
 * too few samples to resample.
 */
export function metricDifference(metric: string, a: PerSampleResults, b: PerSampleResults, n: number, options: BootstrapOptions = {}): Interval | undefined {
  const def = metricDef(metric);
  const columnsA = metricColumns(metric, a);
  const columnsB = metricColumns(metric, b);
  if (!def || !columnsA || !columnsB || n < 2) return undefined;
  return bootstrap(n, (idx) => def.over(columnsA, idx) - def.over(columnsB, idx), { seed: GATE_SEED, ...options });
}

export interface McNemarResult {
  /** Samples the first model got right and the second wrong. */
  referenceOnly: number;
  /** Samples the second model got right and the first wrong. */
  candidateOnly: number;
  /** Two-sided exact binomial p-value. */
  pValue: number;
}

/** McNemar's exact test on paired 0/1 correctness; undefined when the two sides are not paired. */
export function mcnemar(referenceCorrect: ArrayLike<number>, candidateCorrect: ArrayLike<number>): McNemarResult | undefined {
  if (referenceCorrect.length !== candidateCorrect.length || referenceCorrect.length === 0) return undefined;
  const m = mcnemarTest(referenceCorrect, candidateCorrect);
  return { referenceOnly: m.b, candidateOnly: m.c, pValue: m.pExact };
}
