/**
 * Statistics for comparing two models on the same samples: paired bootstrap intervals for metric
 * differences, McNemar's test for paired top-1, and bootstrap intervals for latency percentile
 * ratios. Seeded: the same inputs give the same intervals.
 */
import { bitwiseUniform } from './rng.js';
import type { Interval } from './types.js';

export interface BootstrapOptions {
  resamples?: number;
  level?: number;
  seed?: number;
  /**
   * Moving-block bootstrap: resample runs of this many consecutive samples (default 1, i.i.d.).
   * Latency series are autocorrelated (a noisy neighbour slows many consecutive runs); resampling
   * single runs then gives intervals that are too narrow.
   */
  blockLength?: number;
  /**
   * Cluster (two-stage) bootstrap: the series is made of consecutive clusters starting at these
   * indices (latency: one per round of freshly created sessions). Each resample draws as many
   * clusters as there are, with replacement, then blocks within each; so a shift that holds for a
   * whole cluster (one session placed a little better than another) widens the interval, where
   * resampling runs alone would treat it as signal.
   */
  clusters?: number[];
}

/** Percentile with linear interpolation between order statistics (numpy's default); `q` in [0, 1]. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function quantile(values: ArrayLike<number>, q: number): number {
  return quantileSorted(Float64Array.from(values).sort(), q);
}

function interval(stats: Float64Array, level: number): Interval {
  stats.sort();
  const alpha = (1 - level) / 2;
  return { low: quantileSorted(stats, alpha), high: quantileSorted(stats, 1 - alpha), level };
}

/**
 * Paired bootstrap CI of `statistic(indices)` (e.g. metric(B) - metric(A) on the resampled
 * samples). The statistic receives the resampled sample indices.
 */
export function pairedBootstrap(n: number, statistic: (indices: readonly number[]) => number, options: BootstrapOptions = {}): Interval {
  const resamples = options.resamples ?? 2000;
  const rand = bitwiseUniform(options.seed ?? 0);
  const stats: number[] = new Array<number>(resamples).fill(0);
  // Plain arrays, `| 0` and a bitwise generator: this loop runs n x 2000 times, and under jest's VM
  // realm typed arrays and Math.* calls cost far more than in plain Node (gate tests ran 70x slower).
  const idx: number[] = new Array<number>(n).fill(0);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) idx[i] = (rand() * n) | 0;
    stats[r] = statistic(idx);
  }
  return interval(Float64Array.from(stats), options.level ?? 0.95);
}

export interface McNemarResult {
  /** A right, B wrong. */
  b: number;
  /** A wrong, B right. */
  c: number;
  /** Two-sided exact binomial p-value. */
  pExact: number;
  /** Two-sided mid-p (less conservative, recommended by Fagerland et al. 2013). */
  pMid: number;
}

/** McNemar's test on paired 0/1 correctness. */
export function mcnemar(correctA: ArrayLike<number>, correctB: ArrayLike<number>): McNemarResult {
  if (correctA.length !== correctB.length) throw new Error('paired samples differ in length');
  let b = 0;
  let c = 0;
  for (let i = 0; i < correctA.length; i++) {
    if (correctA[i] && !correctB[i]) b++;
    else if (!correctA[i] && correctB[i]) c++;
  }
  const n = b + c;
  if (n === 0) return { b, c, pExact: 1, pMid: 1 };
  const k = Math.min(b, c);
  // Binomial(n, 1/2) probabilities in log space: exact for the n of any evaluation set.
  const logPmf = (x: number) => logChoose(n, x) - n * Math.LN2;
  let cdf = 0;
  for (let x = 0; x <= k; x++) cdf += Math.exp(logPmf(x));
  const pk = Math.exp(logPmf(k));
  return { b, c, pExact: Math.min(1, 2 * cdf), pMid: Math.min(1, 2 * (cdf - pk / 2)) };
}

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * Bootstrap CI of quantile(b, q) / quantile(a, q). Samples are resampled in pairs when the two
 * series have equal length (interleaved runs share drift), independently otherwise.
 */
export function percentileRatio(a: ArrayLike<number>, b: ArrayLike<number>, q: number, options: BootstrapOptions = {}): { value: number; interval: Interval } {
  return percentileRatios(a, b, [q], options)[0];
}

/** Values sorted ascending with, for each sorted position, the original index. */
function sortWithOrder(values: ArrayLike<number>): { sorted: Float64Array; order: Uint32Array } {
  const order = Uint32Array.from({ length: values.length }, (_, i) => i).sort((i, j) => values[i] - values[j]);
  return { sorted: Float64Array.from(order, (i) => values[i]), order };
}

/**
 * Quantiles of a bootstrap resample given as multiplicities per original index (`total` of them):
 * one linear walk in sorted order instead of sorting the resample (O(n), not O(n log n)).
 */
function resampleQuantiles(s: { sorted: Float64Array; order: Uint32Array }, counts: Uint32Array, total: number, qs: number[], out: Float64Array): void {
  const n = s.sorted.length;
  // Ranks needed in the resample: floor and ceil of (total-1)q for each q, visited in ascending order.
  const need: Array<{ rank: number; k: number; hi: boolean }> = [];
  qs.forEach((q, k) => {
    const pos = (total - 1) * q;
    need.push({ rank: Math.floor(pos), k, hi: false }, { rank: Math.min(total - 1, Math.floor(pos) + 1), k, hi: true });
  });
  need.sort((x, y) => x.rank - y.rank);
  const lo = new Float64Array(qs.length);
  const hi = new Float64Array(qs.length);
  let t = 0;
  let cum = 0;
  for (let p = 0; p < n && t < need.length; p++) {
    const c = counts[s.order[p]];
    if (c === 0) continue;
    cum += c;
    while (t < need.length && need[t].rank < cum) {
      (need[t].hi ? hi : lo)[need[t].k] = s.sorted[p];
      t++;
    }
  }
  qs.forEach((q, k) => {
    const pos = (total - 1) * q;
    out[k] = lo[k] + (hi[k] - lo[k]) * (pos - Math.floor(pos));
  });
}

/** One resample as counts per index; returns how many were drawn (n, or the drawn clusters' sizes). */
function draw(counts: Uint32Array, rand: () => number, block = 1, clusters?: number[]): number {
  counts.fill(0);
  const n = counts.length;
  if (!clusters || clusters.length < 2) {
    fillBlocks(counts, rand, block, 0, n);
    return n;
  }
  let total = 0;
  for (let k = 0; k < clusters.length; k++) {
    const c = Math.floor(rand() * clusters.length);
    const lo = clusters[c];
    const len = (c + 1 < clusters.length ? clusters[c + 1] : n) - lo;
    fillBlocks(counts, rand, block, lo, len);
    total += len;
  }
  return total;
}

/** `len` draws from [lo, lo + len): single indices, or moving blocks of `block` consecutive ones. */
function fillBlocks(counts: Uint32Array, rand: () => number, block: number, lo: number, len: number): void {
  if (block <= 1 || len <= block) {
    for (let i = 0; i < len; i++) counts[lo + Math.floor(rand() * len)]++;
    return;
  }
  let filled = 0;
  while (filled < len) {
    const start = lo + Math.floor(rand() * (len - block + 1));
    for (let k = 0; k < block && filled < len; k++, filled++) counts[start + k]++;
  }
}

/** `percentileRatio` for several quantiles from the same resamples. */
export function percentileRatios(a: ArrayLike<number>, b: ArrayLike<number>, qs: number[], options: BootstrapOptions = {}): Array<{ value: number; interval: Interval }> {
  const sa = sortWithOrder(a);
  const sb = sortWithOrder(b);
  const values = qs.map((q) => quantileSorted(sb.sorted, q) / quantileSorted(sa.sorted, q));
  const resamples = options.resamples ?? 2000;
  const rand = bitwiseUniform(options.seed ?? 0);
  const paired = a.length === b.length;
  const ca = new Uint32Array(a.length);
  const cb = paired ? ca : new Uint32Array(b.length);
  const qa = new Float64Array(qs.length);
  const qb = new Float64Array(qs.length);
  const stats = qs.map(() => new Float64Array(resamples));
  for (let r = 0; r < resamples; r++) {
    // Clusters index the paired series; unpaired series are resampled as one cluster each.
    const ta = draw(ca, rand, options.blockLength, paired ? options.clusters : undefined);
    const tb = paired ? ta : draw(cb, rand, options.blockLength);
    resampleQuantiles(sa, ca, ta, qs, qa);
    resampleQuantiles(sb, cb, tb, qs, qb);
    for (let k = 0; k < qs.length; k++) stats[k][r] = qb[k] / qa[k];
  }
  return qs.map((_, k) => ({ value: values[k], interval: interval(stats[k], options.level ?? 0.95) }));
}

/** Bootstrap CI of one series' quantile (the precision rule for a single model). */
export function percentileInterval(a: ArrayLike<number>, q: number, options: BootstrapOptions = {}): { value: number; interval: Interval } {
  const sa = sortWithOrder(a);
  const resamples = options.resamples ?? 2000;
  const rand = bitwiseUniform(options.seed ?? 0);
  const counts = new Uint32Array(a.length);
  const out = new Float64Array(1);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const total = draw(counts, rand, options.blockLength, options.clusters);
    resampleQuantiles(sa, counts, total, [q], out);
    stats[r] = out[0];
  }
  return { value: quantileSorted(sa.sorted, q), interval: interval(stats, options.level ?? 0.95) };
}
