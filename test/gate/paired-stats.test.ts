import { mcnemar, metricDifference } from '../../src/gate/paired-stats.js';
import { metricDef } from '../../src/metrics/index.js';

describe('McNemar', () => {
  test('exact binomial below 50 discordant pairs', () => {
    // b=10, c=0: p = 2 * 0.5^10.
    const base = Array(30).fill(1);
    const cand = [...Array(10).fill(0), ...Array(20).fill(1)];
    const r = mcnemar(base, cand)!;
    expect(r).toMatchObject({ referenceOnly: 10, candidateOnly: 0 });
    expect(r.pValue).toBeCloseTo(2 * 0.5 ** 10, 12);
  });

  test('exact binomial also above 50 discordant pairs (no chi-square approximation)', () => {
    // b=60, c=40: p = 2 * P(X <= 40), X ~ Binomial(100, 1/2) = 0.05689 (chi-square with
    // continuity correction would say 0.0574).
    const base = [...Array(60).fill(1), ...Array(40).fill(0)];
    const cand = [...Array(60).fill(0), ...Array(40).fill(1)];
    expect(mcnemar(base, cand)!.pValue).toBeCloseTo(0.056887, 5);
  });

  test('no discordant pairs: p = 1; mismatched lengths: undefined', () => {
    expect(mcnemar([1, 0, 1], [1, 0, 1])!.pValue).toBe(1);
    expect(mcnemar([1, 0], [1])).toBeUndefined();
  });

});

describe('paired bootstrap', () => {
  const n = 1000;
  const base = { correct: Array.from({ length: n }, () => 1) };
  const cand = { correct: Array.from({ length: n }, (_, i) => (i % 20 === 0 ? 0 : 1)) }; // 5 points lower

  test('covers the observed difference, is deterministic, and narrows with more samples', () => {
    const a = metricDifference('accuracy', base, cand, n, { seed: 1 })!;
    expect(a.low).toBeLessThan(5);
    expect(a.high).toBeGreaterThan(5);
    // Binomial SE at p=0.05, n=1000 is 0.69 points: the 95 % interval is about ±1.35.
    expect(a.high - a.low).toBeGreaterThan(2);
    expect(a.high - a.low).toBeLessThan(3.5);
    expect(metricDifference('accuracy', base, cand, n, { seed: 1 })).toEqual(a);
    const big = 16 * n;
    const b2 = { correct: Array.from({ length: big }, () => 1) };
    const c2 = { correct: Array.from({ length: big }, (_, i) => (i % 20 === 0 ? 0 : 1)) };
    const w = metricDifference('accuracy', b2, c2, big, { seed: 1, resamples: 500 })!;
    expect(w.high - w.low).toBeLessThan((a.high - a.low) / 2.5);
  });

  test('pairing matters: identical per-sample results give a zero-width interval', () => {
    expect(metricDifference('accuracy', cand, cand, n, { resamples: 200 })).toEqual({ low: 0, high: 0, level: 0.95 });
  });

  test('macro F1 is recomputed on resamples from labels and predictions', () => {
    const labels = [0, 0, 1, 1];
    const correct = [1, 1, 1, 1];
    // class 0: tp 1, pred 1, support 2 -> 2/3; class 1: tp 2, pred 3, support 2 -> 0.8: F1 drops by 100 - 73.33.
    const all = [0, 1, 2, 3];
    const f1 = metricDef('f1')!;
    expect(f1.over({ labels, predicted: [0, 0, 1, 1] }, all)).toBeCloseTo(100, 10);
    expect(f1.over({ labels, predicted: [0, 1, 1, 1] }, all)).toBeCloseTo(((2 / 3 + 0.8) / 2) * 100, 10);
    const d = metricDifference('f1', { labels, predicted: [0, 0, 1, 1], correct }, { labels, predicted: [0, 1, 1, 1], correct }, 4, { resamples: 300 })!;
    expect(d.low).toBeLessThanOrEqual(100 - ((2 / 3 + 0.8) / 2) * 100);
    expect(d.high).toBeGreaterThanOrEqual(100 - ((2 / 3 + 0.8) / 2) * 100);
    expect(metricDifference('f1', { correct: [1, 1] }, { correct: [1, 1] }, 2)).toBeUndefined();
  });
});
