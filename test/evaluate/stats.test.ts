import { mcnemar, pairedBootstrap, percentileRatio, percentileRatios, quantile } from '../../src/evaluate/stats.js';

test('McNemar exact and mid-p', () => {
  // b = 5 (A right, B wrong), c = 1: P(X<=1) = 7/64 for Binomial(6, 1/2).
  const a = [1, 1, 1, 1, 1, 0, 1, 0];
  const b = [0, 0, 0, 0, 0, 1, 1, 0];
  const r = mcnemar(a, b);
  expect([r.b, r.c]).toEqual([5, 1]);
  expect(r.pExact).toBeCloseTo(14 / 64, 12);
  expect(r.pMid).toBeCloseTo(8 / 64, 12);
  expect(mcnemar([1, 0], [1, 0])).toEqual({ b: 0, c: 0, pExact: 1, pMid: 1 });
});

/** mean(b) - mean(a) over the resampled indices, and its bootstrap interval. */
function meanDifference(a: number[], b: number[], options: { seed?: number } = {}) {
  const diff = (idx: readonly number[]) => idx.reduce((s, i) => s + b[i] - a[i], 0) / idx.length;
  const all = a.map((_, i) => i);
  return { value: diff(all), interval: pairedBootstrap(a.length, diff, options) };
}

test('paired bootstrap: exact for constant differences, seeded, covers the truth', () => {
  const a = Array.from({ length: 50 }, (_, i) => i % 3);
  expect(meanDifference(a, a).interval).toMatchObject({ low: 0, high: 0, level: 0.95 });
  expect(meanDifference(a, a.map((v) => v + 1)).interval).toMatchObject({ low: 1, high: 1 });
  const noisyA = Array.from({ length: 400 }, (_, i) => (i * 7919) % 2);
  const noisyB = noisyA.map((v, i) => (i % 10 === 0 ? 1 - v : v));
  const d1 = meanDifference(noisyA, noisyB, { seed: 3 });
  const d2 = meanDifference(noisyA, noisyB, { seed: 3 });
  expect(d1).toEqual(d2);
  expect(d1.interval.low).toBeLessThan(d1.value);
  expect(d1.interval.high).toBeGreaterThan(d1.value);
  const small = pairedBootstrap(40, (idx) => idx.reduce((s, i) => s + noisyB[i] - noisyA[i], 0) / idx.length, { seed: 3 });
  expect(small.high - small.low).toBeGreaterThan(d1.interval.high - d1.interval.low);
});

test('percentile ratio and its interval', () => {
  const a = Array.from({ length: 200 }, (_, i) => 1 + (i % 17) / 10);
  expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
  const r = percentileRatio(a, a.map((v) => 2 * v), 0.95, { resamples: 300 });
  expect(r.value).toBeCloseTo(2, 12);
  expect(r.interval.low).toBeCloseTo(2, 12);
  expect(r.interval.high).toBeCloseTo(2, 12);
  const same = percentileRatio(a, [...a].reverse(), 0.95, { resamples: 300 });
  expect(same.interval.low).toBeLessThanOrEqual(1);
  expect(same.interval.high).toBeGreaterThanOrEqual(1);
});

test('the counting bootstrap of percentile ratios equals resampling and sorting', async () => {
  const { bitwiseUniform } = await import('../../src/evaluate/rng.js');
  const { quantileSorted } = await import('../../src/evaluate/stats.js');
  const a = Array.from({ length: 97 }, (_, i) => Math.sin(i) + 2);
  const b = Array.from({ length: 97 }, (_, i) => Math.cos(i * 1.3) + 2.5);
  const qs = [0.5, 0.95, 0.99];
  const fast = percentileRatios(a, b, qs, { seed: 9, resamples: 50 });
  const rand = bitwiseUniform(9);
  const stats = qs.map(() => [] as number[]);
  for (let r = 0; r < 50; r++) {
    const ra = new Float64Array(97);
    const rb = new Float64Array(97);
    for (let i = 0; i < 97; i++) {
      const j = Math.floor(rand() * 97);
      ra[i] = a[j];
      rb[i] = b[j];
    }
    ra.sort();
    rb.sort();
    qs.forEach((q, k) => stats[k].push(quantileSorted(rb, q) / quantileSorted(ra, q)));
  }
  qs.forEach((_, k) => {
    const sorted = Float64Array.from(stats[k]).sort();
    expect(fast[k].interval.low).toBeCloseTo(quantileSorted(sorted, 0.025), 12);
    expect(fast[k].interval.high).toBeCloseTo(quantileSorted(sorted, 0.975), 12);
  });
});

test('block bootstrap keeps exact ratios exact and widens intervals for autocorrelated series', () => {
  const a = Array.from({ length: 400 }, (_, i) => 1 + (i % 23) / 10);
  const r = percentileRatios(a, a.map((v) => 1.5 * v), [0.5, 0.95], { blockLength: 20, resamples: 300 });
  for (const x of r) expect([x.interval.low, x.interval.high].map((v) => +v.toFixed(12))).toEqual([1.5, 1.5]);
  // Slow stretches hitting B only: runs 0-99 of B are twice as slow, a burst that spans many runs.
  const b = a.map((v, i) => (i < 100 ? 2 * v : v));
  const iid = percentileRatios(a, b, [0.5], { resamples: 400, seed: 2 })[0].interval;
  const blocked = percentileRatios(a, b, [0.5], { resamples: 400, seed: 2, blockLength: 40 })[0].interval;
  expect(blocked.high - blocked.low).toBeGreaterThan(iid.high - iid.low);
});

test('cluster bootstrap: a shift that holds for one whole round widens the interval; equal rounds change nothing', () => {
  const round = Array.from({ length: 200 }, (_, i) => 1 + ((i * 7) % 31) / 100);
  const a = [...round, ...round, ...round, ...round];
  // B's session in round 2 ran 6 % slower throughout, the others exactly like A's.
  const b = a.map((v, i) => (i >= 200 && i < 400 ? 1.06 * v : v));
  const clusters = [0, 200, 400, 600];
  const plain = percentileRatios(a, b, [0.5], { resamples: 400, seed: 3, blockLength: 14 })[0].interval;
  const clustered = percentileRatios(a, b, [0.5], { resamples: 400, seed: 3, blockLength: 14, clusters })[0].interval;
  expect(clustered.high - clustered.low).toBeGreaterThan(2 * (plain.high - plain.low));
  expect(clustered.low).toBeLessThanOrEqual(1);
  // Identical rounds: every resample is a ratio of exact copies.
  const same = percentileRatios(a, a.map((v) => 1.2 * v), [0.5, 0.95], { resamples: 200, blockLength: 14, clusters });
  for (const x of same) expect([x.interval.low, x.interval.high].map((v) => +v.toFixed(12))).toEqual([1.2, 1.2]);
});
