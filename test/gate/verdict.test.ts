import { decideVerdict, optimizationBudget, type GateInput, type GateRules } from '../../src/gate/verdict.js';
import type { Baseline } from '../../src/gate/baseline.js';
import type { EvalResult } from '../../src/evaluate/types.js';
import { classification, labelsOf, latency, range } from './fixtures.js';

const point: GateRules = { accuracyDrop: 2, use: 'point' };
const interval: GateRules = { accuracyDrop: 2, use: 'interval' };

function gate(original: EvalResult, candidate: EvalResult, rules: GateRules, extra: Partial<GateInput> = {}) {
  return decideVerdict({ metrics: ['accuracy'], rules, original, candidate, latency: [], seed: 7, ...extra });
}

describe('accuracy rule', () => {
  test('a small, clearly measured drop passes and says so in one sentence', () => {
    const labels = labelsOf(2000);
    const d = gate(classification(labels, []), classification(labels, range(0, 10)), point);
    expect(d.verdict).toBe('pass');
    const row = d.metrics[0];
    expect(row.drift).toBeCloseTo(0.5, 10);
    expect(row.delta).toBeCloseTo(-0.5, 10);
    expect(row.interval!.low).toBeGreaterThan(0);
    expect(row.interval!.high).toBeLessThan(2);
    expect(row.status).toBe('pass');
    expect(d.reason).toMatch(/^Accuracy dropped 0\.50 points .*within the 2-point limit against the PR model\.$/);
    expect(d.reference).toBe('original-model');
  });

  test('use: point fails as soon as the point estimate is beyond the limit', () => {
    const labels = labelsOf(200);
    const d = gate(classification(labels, []), classification(labels, range(0, 5)), point);
    expect(d.metrics[0].drift).toBeCloseTo(2.5, 10);
    expect(d.verdict).toBe('fail');
    expect(d.metrics[0].status).toBe('fail');
    expect(d.reason).toContain('above the 2-point limit');
  });

  test('use: interval with an interval straddling the limit warns instead of failing', () => {
    const labels = labelsOf(200);
    const d = gate(classification(labels, []), classification(labels, range(0, 5)), interval);
    const row = d.metrics[0];
    expect(row.interval!.low).toBeLessThan(2);
    expect(row.interval!.high).toBeGreaterThan(2);
    expect(row.status).toBe('warn');
    expect(d.verdict).toBe('warn');
  });

  test('use: interval fails when the whole interval is beyond the limit', () => {
    const labels = labelsOf(2000);
    const d = gate(classification(labels, []), classification(labels, range(0, 100)), interval);
    expect(d.metrics[0].interval!.low).toBeGreaterThan(2);
    expect(d.verdict).toBe('fail');
    expect(d.reason).toContain('the whole interval is above the 2-point limit');
  });

  test('use: point warns when the point is inside the limit but the interval reaches beyond it', () => {
    const labels = labelsOf(200);
    const d = gate(classification(labels, []), classification(labels, range(0, 3)), point);
    expect(d.metrics[0].drift).toBeCloseTo(1.5, 10);
    expect(d.metrics[0].interval!.high).toBeGreaterThan(2);
    expect(d.verdict).toBe('warn');
    expect(d.reason).toContain('more evaluation samples would settle it');
  });

  test('an improvement passes and is described as one', () => {
    const labels = labelsOf(1000);
    const d = gate(classification(labels, range(0, 50)), classification(labels, range(0, 10)), point);
    expect(d.metrics[0].drift).toBeCloseTo(-4, 10);
    expect(d.verdict).toBe('pass');
    expect(d.reason).toContain('improved by 4.00 points (drift -4.00, 95 % CI -');
    // One sign convention: the interval is the drift's, so its numbers share the drift's sign.
    expect(d.metrics[0].interval!.high).toBeLessThan(0);
  });

  test('relative: the limit is a percentage of the reference value', () => {
    // Reference 50 %, candidate 48.5 %: 1.5 points absolute (passes 2), 3 % relative (fails 2).
    const labels = labelsOf(2000);
    const ref = classification(labels, range(0, 1000));
    const cand = classification(labels, range(0, 1030));
    expect(gate(ref, cand, { ...point, relative: false }).verdict).not.toBe('fail');
    const rel = gate(ref, cand, { ...point, relative: true });
    expect(rel.metrics[0].drift).toBeCloseTo(3, 10);
    expect(rel.metrics[0].rule).toEqual({ maxDrift: 2, use: 'point', relative: true });
    expect(rel.verdict).toBe('fail');
    expect(rel.reason).toContain('% of the reference');
  });

  test('different sample counts cannot be paired: no interval, the point estimate decides', () => {
    const d = gate(classification(labelsOf(1000), []), classification(labelsOf(900), range(0, 9)), interval);
    expect(d.metrics[0].interval).toBeUndefined();
    expect(d.metrics[0].mcnemar).toBeUndefined();
    expect(d.verdict).toBe('pass');
    expect(d.metrics[0].explanation).toContain('point estimate used');
  });

  test('McNemar counts discordant pairs in both directions', () => {
    const labels = labelsOf(500);
    const d = gate(classification(labels, range(0, 20)), classification(labels, range(10, 40)), point);
    expect(d.metrics[0].mcnemar).toMatchObject({ referenceOnly: 20, candidateOnly: 10 });
    expect(d.metrics[0].mcnemar!.pValue).toBeGreaterThan(0.05);
  });
});

describe('per-metric rules', () => {
  function withExtras(r: EvalResult, extras: Record<string, number>): EvalResult {
    return { ...r, metrics: { ...r.metrics, ...extras } };
  }

  test('f1 with its own tighter limit fails while accuracy passes', () => {
    const labels = labelsOf(1000);
    // Samples 0-9 (one per class) wrong, each predicted as the next class: every class has
    // tp 99, support 100, predicted 100, so F1 = 198/200 = 99 % per class and macro.
    const ref = withExtras(classification(labels, []), { f1: 100 });
    const cand = withExtras(classification(labels, range(0, 10)), { f1: 99 });
    const d = decideVerdict({ metrics: ['accuracy', 'f1'], rules: { ...point, metrics: { f1: { maxDrop: 0.5 } } }, original: ref, candidate: cand, latency: [] });
    const [acc, f1] = d.metrics;
    expect(acc.status).toBe('pass');
    expect(f1.gated).toBe(true);
    expect(f1.status).toBe('fail');
    expect(f1.interval).toBeDefined();
    expect(d.verdict).toBe('fail');
    expect(f1.interval!.low).toBeLessThan(1);
    expect(f1.interval!.high).toBeGreaterThan(1);
    expect(d.reason).toMatch(/^F1 dropped 1\.00 points .*above the 0\.5-point limit/);
  });

  test('ungated metrics are shown for information only', () => {
    const labels = labelsOf(1000);
    const d = decideVerdict({
      metrics: ['accuracy', 'f1'],
      rules: point,
      original: withExtras(classification(labels, []), { f1: 100 }),
      candidate: withExtras(classification(labels, range(0, 300)), { f1: 50 }),
      latency: [],
    });
    expect(d.metrics[1]).toMatchObject({ metric: 'f1', gated: false, status: 'info' });
    expect(d.metrics[0].status).toBe('fail');
  });

  test('worst-class drop: one class collapsing fails even though accuracy moves little', () => {
    const labels = labelsOf(4000);
    // 40 of class 3's 400 samples wrong: accuracy drops 1 point overall, class 3 drops 10.
    const class3 = range(0, 4000).filter((i) => labels[i] === 3).slice(0, 40);
    const ref = withExtras(classification(labels, []), { worst_class_accuracy: 100 });
    const cand = withExtras(classification(labels, class3), { worst_class_accuracy: 90 });
    const d = decideVerdict({
      metrics: ['accuracy'],
      rules: { accuracyDrop: 2, use: 'point', metrics: { 'worst-class-accuracy': { maxDrop: 5 } } },
      original: ref,
      candidate: cand,
      latency: [],
    });
    const worst = d.metrics.find((m) => m.metric === 'worst-class-accuracy')!;
    expect(d.metrics[0].status).toBe('pass');
    expect(worst.drift).toBeCloseTo(10, 10);
    // The bootstrap recomputes per-class accuracy on each resample (SE about 1.5 points here).
    expect(worst.interval!.low).toBeGreaterThan(5);
    expect(worst.status).toBe('fail');
    expect(d.verdict).toBe('fail');
  });

  test('lower-is-better metrics gate on the increase (mae with maxIncrease)', () => {
    const n = 500;
    const refErr = Array.from({ length: n }, (_, i) => 0.1 + (i % 5) * 0.01);
    const candErr = refErr.map((e) => e + 0.05);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const reg = (e: number[]): EvalResult => ({ task: 'regression', samples: n, metrics: { mae: mean(e) }, perSample: { absError: e } });
    const d = decideVerdict({ metrics: ['mae'], rules: { accuracyDrop: 2, use: 'interval', metrics: { mae: { maxIncrease: 0.01 } } }, original: reg(refErr), candidate: reg(candErr), latency: [] });
    const row = d.metrics[0];
    expect(row.higherIsBetter).toBe(false);
    expect(row.drift).toBeCloseTo(0.05, 10);
    expect(row.interval!.low).toBeCloseTo(0.05, 6);
    expect(row.status).toBe('fail');
    expect(d.reason).toMatch(/^Mae rose 0\.05/);
  });

  test('a floor on the candidate value fails below it', () => {
    const labels = labelsOf(1000);
    const d = decideVerdict({ metrics: ['agreement'], rules: { accuracyDrop: 5, use: 'point', metrics: { agreement: { min: 99 } } }, original: fidelity(labels, []), candidate: fidelity(labels, range(0, 20)), latency: [] });
    expect(d.metrics[0].candidate).toBeCloseTo(98, 10);
    expect(d.metrics[0].status).toBe('fail');
    expect(d.reason).toContain('below the minimum 99.00');
  });

  function fidelity(labels: number[], wrong: number[]): EvalResult {
    const c = classification(labels, wrong);
    return { ...c, task: 'fidelity', metrics: { agreement: c.metrics.accuracy } };
  }
});

describe('latency goal', () => {
  const labels = labelsOf(2000);
  const same = () => gate(classification(labels, []), classification(labels, []), { ...point, p95Ratio: 0.7 }, {});

  test('no goal: a faster candidate is information; a slower one is marked (⚠️ above 1, ❌ when the whole interval is) without failing the verdict', () => {
    const d = gate(classification(labels, []), classification(labels, []), point, { latency: [latency(1, 0.8, 0.75, 0.85), latency(16, 1.02, 0.98, 1.06), latency(32, 1.5, 1.4, 1.6)] });
    expect(d.latency.map((l) => l.status)).toEqual(['info', 'warn', 'fail']);
    expect(d.verdict).toBe('pass');
    expect(same().latency).toEqual([]);
  });

  test('objective size: the verdict states the slowdown it allows', () => {
    const d = gate(classification(labels, []), classification(labels, []), point, { latency: [latency(1, 1.3, 1.2, 1.4)], objective: 'size' });
    expect(d.verdict).toBe('pass');
    expect(d.reason).toMatch(/; with objective size, the candidate is slower: 1\.30× P95 at batch 1\.$/);
  });

  test('steps were found but none made the model faster: the original ships, and the verdict is a warning that says so', () => {
    const d = gate(classification(labels, []), classification(labels, []), point, { latency: [latency(1, 1, 0.98, 1.02)], candidateIsOriginal: 'not-faster' });
    expect(d.verdict).toBe('warn');
    expect(d.reason).toMatch(/^No optimization step made the model faster on this machine, so the candidate is the PR model, unchanged; accuracy/);
  });

  test('steps were kept but none held on the test split: the original ships, and the verdict is a warning that says why', () => {
    const d = gate(classification(labels, []), classification(labels, []), point, { latency: [latency(1, 1, 0.98, 1.02)], candidateIsOriginal: 'drifted' });
    expect(d.verdict).toBe('warn');
    expect(d.reason).toMatch(/^No optimization step kept by the search stayed inside the accuracy rule on the test split, so the candidate is the PR model, unchanged; accuracy/);
  });

  test('fails only when the whole p95-ratio interval is above the goal', () => {
    const rules = { ...point, p95Ratio: 0.7 };
    const fail = gate(classification(labels, []), classification(labels, []), rules, { latency: [latency(1, 0.5, 0.45, 0.55), latency(32, 0.8, 0.75, 0.85)] });
    expect(fail.latency.map((l) => l.status)).toEqual(['pass', 'fail']);
    expect(fail.verdict).toBe('fail');
    expect(fail.reason).toContain('batch 32');
    const straddle = gate(classification(labels, []), classification(labels, []), rules, { latency: [latency(32, 0.75, 0.65, 0.85)] });
    expect(straddle.latency[0].status).toBe('warn');
    expect(straddle.verdict).toBe('warn');
    expect(straddle.reason).toContain('may be noise');
    const ok = gate(classification(labels, []), classification(labels, []), rules, { latency: [latency(32, 0.6, 0.55, 0.72)] });
    expect(ok.verdict).toBe('pass');
    expect(ok.reason).toContain('meets the 0.7× goal at batch 32 (0.60×)');
  });

  test('an accuracy failure is the reason even when latency also fails', () => {
    const d = gate(classification(labels, []), classification(labels, range(0, 200)), { ...point, p95Ratio: 0.7 }, { latency: [latency(1, 0.9, 0.85, 0.95)] });
    expect(d.verdict).toBe('fail');
    expect(d.reason).toMatch(/^Accuracy dropped 10\.00 points/);
  });
});

describe('base branch (gate.p95-regression)', () => {
  const labels = labelsOf(2000);
  // Recorded comparisons: the candidate against the PR model, and the PR model against the base branch's.
  const run = (rules: GateRules, vsBase: ReturnType<typeof latency>[]) =>
    gate(classification(labels, []), classification(labels, []), rules, { latency: [latency(1, 0.8, 0.75, 0.85), latency(32, 0.8, 0.75, 0.85)], baseLatency: vsBase });

  test('without a limit the base branch is shown, never judged', () => {
    const d = run(point, [latency(1, 2, 1.9, 2.1), latency(32, 2, 1.9, 2.1)]);
    expect(d.verdict).toBe('pass');
    expect(d.latency.map((l) => l.vsBase)).toEqual([expect.objectContaining({ status: 'info' }), expect.objectContaining({ status: 'info' })]);
    expect(d.latency[0].base).toEqual({ p50: 1, p95: 1.2, p99: 1.5 });
    expect(d.latency[0].vsBase!.limit).toBeUndefined();
  });

  test('a PR model whose whole P95 interval is above the limit fails, even when the candidate is pruned back below it', () => {
    const d = run({ ...point, p95Regression: 1.1 }, [latency(1, 1.05, 1.0, 1.1), latency(32, 2, 1.9, 2.1)]);
    expect(d.latency.map((l) => l.vsBase!.status)).toEqual(['pass', 'fail']);
    expect(d.verdict).toBe('fail');
    expect(d.reason).toBe("The PR model's P95 latency at batch 32 is 2.00× the base branch's (95 % CI 1.90–2.10): the whole interval is above the 1.1× limit (gate.p95-regression).");
  });

  test('an interval that reaches across the limit is a warning (may be noise)', () => {
    const d = run({ ...point, p95Regression: 1.1 }, [latency(1, 1.15, 1.05, 1.25)]);
    expect(d.latency.map((l) => l.vsBase?.status)).toEqual(['warn', undefined]);
    expect(d.verdict).toBe('warn');
    expect(d.reason).toMatch(/above the 1\.1× limit \(gate\.p95-regression\), but the interval includes it, so this may be noise\.$/);
  });

  test('an accuracy failure stays the reason', () => {
    const d = gate(classification(labels, []), classification(labels, range(0, 200)), { ...point, p95Regression: 1.1 }, { latency: [latency(1, 0.8, 0.75, 0.85)], baseLatency: [latency(1, 2, 1.9, 2.1)] });
    expect(d.reason).toMatch(/^Accuracy dropped/);
  });
});

describe('frozen baseline', () => {
  const labels = labelsOf(1000);
  const frozen = classification(labels, range(0, 10)); // 99 %
  const baseline: Baseline = {
    schemaVersion: 1,
    created: '2026-01-01T00:00:00.000Z',
    toolVersion: '0.1.0',
    modelSha256: 'a'.repeat(64),
    configHash: 'c',
    task: 'classification',
    samples: frozen.samples,
    metrics: frozen.metrics,
    perSample: frozen.perSample,
    latency: [],
    machine: { fingerprint: 'f', info: { cpuModel: 'x', cores: 2, isa: { avx2: true, avx512: false, vnni: false, amx: false }, ortVersion: '1.30.0', nodeVersion: 'v20', platform: 'linux-x64', intraOpThreads: 1, interOpThreads: 1, energySource: 'cpu-seconds' } },
  };

  test('the frozen baseline is the reference, not the PR model, and the PR model gets its own column', () => {
    // The PR degraded the model itself (95 %); the candidate matches the PR model. Against the
    // PR model that is no drift, against the frozen baseline 4 points.
    const pr = classification(labels, range(0, 50));
    const cand = classification(labels, range(0, 50));
    const d = decideVerdict({ metrics: ['accuracy'], rules: point, baseline, original: pr, candidate: cand, latency: [], prModelChanged: true });
    expect(d.reference).toBe('frozen-baseline');
    expect(d.metrics[0]).toMatchObject({ reference: 99, candidate: 95, prModel: 95, status: 'fail' });
    expect(d.reason).toContain('against the frozen baseline');
    const unchanged = decideVerdict({ metrics: ['accuracy'], rules: point, baseline, original: pr, candidate: cand, latency: [], prModelChanged: false });
    expect(unchanged.metrics[0].prModel).toBeUndefined();
  });

  test('the same inputs and seed give the same decision', () => {
    const cand = classification(labels, range(5, 30));
    const a = decideVerdict({ metrics: ['accuracy'], rules: interval, baseline, original: frozen, candidate: cand, latency: [], seed: 3 });
    const b = decideVerdict({ metrics: ['accuracy'], rules: interval, baseline, original: frozen, candidate: cand, latency: [], seed: 3 });
    expect(a).toEqual(b);
  });
});

test('a gated metric missing from the results is a bug, reported as such', () => {
  const labels = labelsOf(100);
  expect(() => decideVerdict({ metrics: ['f1'], rules: point, original: classification(labels, []), candidate: classification(labels, []), latency: [] })).toThrow(/"f1" is missing/);
});

test('relative limits on a zero reference fall back to the metric\'s own units', () => {
  const labels = labelsOf(100);
  const zero = classification(labels, range(0, 100));
  const d = decideVerdict({ metrics: ['accuracy'], rules: { accuracyDrop: 2, use: 'point', relative: true }, original: zero, candidate: zero, latency: [] });
  expect(d.metrics[0]).toMatchObject({ drift: 0, status: 'pass', rule: { maxDrift: 2, use: 'point', relative: false } });
});

describe('optimization budget', () => {
  const rules: GateRules = { accuracyDrop: 2, use: 'point' };
  test('without a baseline the optimizer may spend the whole limit', () => {
    expect(optimizationBudget('accuracy', rules, { accuracy: 95 })).toBe(2);
  });
  test('what the PR model already lost against the frozen baseline is taken off; a gain adds nothing', () => {
    expect(optimizationBudget('accuracy', rules, { accuracy: 95.5 }, { accuracy: 96 })).toBeCloseTo(1.5, 10);
    expect(optimizationBudget('accuracy', rules, { accuracy: 93 }, { accuracy: 96 })).toBe(0);
    expect(optimizationBudget('accuracy', rules, { accuracy: 97 }, { accuracy: 96 })).toBe(2);
  });
  test('relative limits become points of the reference; per-metric rules win; lower-is-better metrics count increases', () => {
    expect(optimizationBudget('accuracy', { ...rules, relative: true }, { accuracy: 80 })).toBeCloseTo(1.6, 10);
    expect(optimizationBudget('f1', { ...rules, metrics: { f1: { maxDrop: 0.5 } } }, { f1: 90 })).toBe(0.5);
    expect(optimizationBudget('mae', { ...rules, metrics: { mae: { maxIncrease: 0.3 } } }, { mae: 1.1 }, { mae: 1.0 })).toBeCloseTo(0.2, 10);
  });
});
