/**
 * What an evaluation set can confirm (gate/resolution.ts): the statement before the loop and the
 * keep rule `budget.keep: auto` picks from it.
 */
import { pairedBootstrap } from '../../src/evaluate/stats.js';
import { chooseKeepRule, metricResolution, setResolution } from '../../src/gate/resolution.js';

test('600 samples at a 2-point budget: one sample is 0.17 pt, a step may change 37 predictions with no net effect, so the set is small', () => {
  const r = setResolution(600, 2);
  expect(r.pointsPerSample).toBeCloseTo(0.1667, 3);
  expect(r.confirmableChanges).toBe(37);
  expect(r.small).toBe(true);
  expect(r.samplesNeeded).toBe(961);
  expect(setResolution(961, 2).small).toBe(false);
  expect(setResolution(10000, 2).small).toBe(false);
  // A looser budget needs fewer samples.
  expect(setResolution(600, 3).small).toBe(false);
});

test('the stated limit agrees with the paired bootstrap the gate uses: at the limit the interval ends near the budget, well past it it does not', () => {
  const n = 600;
  const upperEnd = (changed: number) => {
    // `changed` predictions flipped, half each way: drift 0, per-sample differences of ±100 points.
    const diff = Float64Array.from({ length: n }, (_, i) => (i < changed / 2 ? 100 : i < changed ? -100 : 0));
    return pairedBootstrap(n, (idx) => idx.reduce((s, i) => s + diff[i], 0) / idx.length, { seed: 1, resamples: 2000 }).high;
  };
  const { confirmableChanges } = setResolution(n, 2);
  expect(upperEnd(confirmableChanges - 1)).toBeLessThan(2.2);
  expect(upperEnd(2 * confirmableChanges)).toBeGreaterThan(2);
});

test('keep: auto is confident on a large set and point on a small one, with a warning that names the numbers; explicit rules stay', () => {
  const small = setResolution(600, 2);
  const auto = chooseKeepRule('auto', small, 2);
  expect(auto).toMatchObject({ keep: 'point', budget: 1 });
  expect(auto.note).toMatch(/^⚠️ Search samples: 600 \(one is 0\.17 pt\)\. .* at most 37 predictions \(6\.2 %\) .* within half the budget \(1 pt; .* about 961 search samples/);
  expect(chooseKeepRule('confident', small, 2)).toEqual({ keep: 'confident', budget: 2, note: expect.stringMatching(/rolled back even when accuracy holds/) });
  expect(chooseKeepRule('auto', setResolution(5000, 2), 2)).toEqual({ keep: 'confident', budget: 2, note: undefined });
  expect(chooseKeepRule('point', setResolution(5000, 2), 2).keep).toBe('point');
  // Metrics that are not 0/1 per sample have no such statement: auto means confident.
  expect(metricResolution('mae', 600, 2)).toBeUndefined();
  expect(metricResolution('accuracy', 600, 2)?.small).toBe(true);
  expect(chooseKeepRule('auto', undefined, 2)).toEqual({ keep: 'confident', budget: 2 });
});
