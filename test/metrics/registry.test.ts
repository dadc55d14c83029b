import configSchema from '../../schemas/config.schema.json' with { type: 'json' };
import baselineSchema from '../../schemas/baseline.schema.json' with { type: 'json' };
import reportSchema from '../../schemas/report.schema.json' with { type: 'json' };
import { classBreakdown, METRICS, metricColumns, metricDef, metricsOfTask, scoreOutput, TASKS, type ScoreInput, type Task } from '../../src/metrics/index.js';

const input = (values: number[], per: number, extra: Partial<ScoreInput> = {}): ScoreInput => ({ n: values.length / per, values: Float32Array.from(values), per, ...extra });

test('classification metrics match hand-computed values', () => {
  const scores = [0.1, 0.7, 0.2, 0.5, 0.4, 0.1, 0.2, 0.3, 0.5, 0.3, 0.3, 0.4];
  const { metrics, perSample } = scoreOutput('classification', input(scores, 3, { labels: Float64Array.of(1, 1, 2, 0) }));
  expect(perSample.predicted).toEqual([1, 0, 2, 2]);
  expect(perSample.correct).toEqual([1, 0, 1, 0]);
  expect(metrics.accuracy).toBe(50);
  expect(metrics.top1).toBe(50);
  expect(metrics['worst-class-accuracy']).toBe(0);
  // F1 per class: 0, 2/3, 2/3 -> macro 4/9.
  expect(metrics.f1).toBeCloseTo((100 * 4) / 9, 10);
  // Three classes: top-3 and beyond do not exist.
  expect(metrics.top3).toBeUndefined();
  const { perClass, confusion } = classBreakdown(perSample.labels, perSample.predicted, 3);
  expect(confusion).toEqual([
    [0, 0, 1],
    [1, 1, 0],
    [0, 0, 1],
  ]);
  expect(perClass).toEqual({ '0': 0, '1': 50, '2': 100 });
});

test('top-k counts ties against the label', () => {
  const { metrics, perSample } = scoreOutput('classification', input([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 11, { labels: Float64Array.of(2) }));
  expect(perSample.rank).toEqual([2]);
  expect(metrics.top3).toBe(100);
  expect(metricDef('top3')!.over({ rank: [1, 2, 3, 4] }, [0, 1, 2, 3])).toBe(50);
  expect(metricDef('top5')!.over({ rank: [1, 2, 3, 4] }, [0, 1, 2, 3])).toBe(100);
});

test('top-2: the label among the two highest scores, with an interval from the same ranks', () => {
  // Labels rank 0, 1, 2, 1 among 3 classes: top-2 holds for 3 of 4 samples.
  const scores = [0.7, 0.2, 0.1, 0.5, 0.4, 0.1, 0.6, 0.3, 0.1, 0.2, 0.5, 0.3];
  const { metrics, perSample } = scoreOutput('classification', input(scores, 3, { labels: Float64Array.of(0, 1, 2, 2) }));
  expect(perSample.rank).toEqual([0, 1, 2, 1]);
  expect(metrics.top2).toBe(75);
  expect(metricDef('top2')!.over(perSample, [2, 2, 0, 0])).toBe(50);
  // Two classes: top-2 always holds, so it does not exist.
  expect(scoreOutput('classification', input([0.4, 0.6], 2, { labels: Float64Array.of(0) })).metrics.top2).toBeUndefined();
});

test('regression metrics', () => {
  const { metrics, perSample } = scoreOutput('regression', input([1, 2, 3], 1, { labels: Float64Array.of(1.5, 2, 1) }));
  expect(perSample.absError).toEqual([0.5, 0, 2]);
  expect(metrics.mae).toBeCloseTo(2.5 / 3, 12);
  expect(metrics.rmse).toBeCloseTo(Math.sqrt(4.25 / 3), 12);
});

test('fidelity metrics', () => {
  const f = scoreOutput('fidelity', input([1, 0, 0, 1], 2, { reference: Float32Array.of(1, 0, 1, 0) }));
  expect(f.metrics.agreement).toBe(50);
  expect(f.perSample.cosine).toEqual([1, 0]);
  expect(f.metrics.cosine).toBe(0.5);
  expect(f.metrics.sqnr).toBeCloseTo(0, 12);
  expect(f.metrics['max-abs-error']).toBe(1);
  expect(scoreOutput('fidelity', input([0.5, 1], 2, { reference: Float32Array.of(1, 2) })).metrics.sqnr).toBeCloseTo(10 * Math.log10(4), 10);
  // Identical outputs: the ceiling, not Infinity (JSON has none).
  expect(scoreOutput('fidelity', input([1, 2], 2, { reference: Float32Array.of(1, 2) })).metrics.sqnr).toBe(200);
});

test('every metric value is its own statistic over all samples, and the columns it reads are the ones it stores', () => {
  const n = 40;
  const values = Array.from({ length: n * 12 }, (_, i) => Math.sin(i * 0.37));
  const labels = Float64Array.from({ length: n }, (_, i) => (i * 7) % 12);
  const inputs: Record<Task, ScoreInput> = {
    classification: input(values, 12, { labels }),
    regression: input(values.slice(0, n), 1, { labels }),
    fidelity: input(values, 12, { reference: Float32Array.from(values, (v, i) => v + (i % 5) * 0.01) }),
  };
  const all = Array.from({ length: n }, (_, i) => i);
  for (const task of Object.keys(TASKS) as Task[]) {
    const { metrics, perSample } = scoreOutput(task, inputs[task]);
    for (const def of metricsOfTask(task)) {
      if (def.applies && !def.applies(inputs[task])) continue;
      const columns = metricColumns(def.name, perSample)!;
      expect(Object.keys(columns).sort()).toEqual(Object.keys(def.perSample).sort());
      expect(def.over(columns, all)).toBe(metrics[def.name]);
    }
  }
});

test('registry entries are complete, and the schemas name exactly the registry\'s metrics and columns', () => {
  const names = METRICS.map((m) => m.name);
  expect(new Set(names).size).toBe(names.length);
  for (const m of METRICS) {
    expect(m.tasks.length).toBeGreaterThan(0);
    expect(m.meaning.length).toBeGreaterThan(20);
    expect(Object.keys(m.perSample).length).toBeGreaterThan(0);
    // Only a tolerance in the output's own units has no default.
    const rule = m.defaultRule(2);
    if (m.unit === 'output units') expect(rule).toBeUndefined();
    else expect(Object.keys(rule!).length).toBeGreaterThan(0);
  }
  expect([...configSchema.definitions.metricName.enum].sort()).toEqual([...names].sort());
  // `<metric>:<output>` names: the pattern lists the same metrics.
  const pattern = configSchema.definitions.metricRef.anyOf[1].pattern!;
  expect(pattern.slice(2, pattern.indexOf(')')).split('|').sort()).toEqual([...names].sort());
  for (const task of Object.keys(TASKS) as Task[]) for (const d of TASKS[task].defaultMetrics) expect(metricDef(d)!.tasks).toContain(task);
  const units = reportSchema.definitions.metricRow.properties.unit.enum as string[];
  for (const m of METRICS) expect(units).toContain(m.unit);
  // Every per-sample column a metric stores is one the baseline schema accepts.
  const stored = Object.keys(baselineSchema.properties.perSample.properties);
  for (const m of METRICS) for (const column of Object.keys(m.perSample)) expect(stored).toContain(column);
});

test('per-output metric names resolve to their metric and read their own columns', () => {
  expect(metricDef('cosine:maps')?.name).toBe('cosine');
  expect(metricDef('worst_class_accuracy')?.name).toBe('worst-class-accuracy');
  expect(metricDef('nope')).toBeUndefined();
  expect(metricColumns('cosine:maps', { cosine: [1], 'cosine:maps': [0.5] })).toEqual({ cosine: [0.5] });
  expect(metricColumns('cosine:other', { cosine: [1] })).toBeUndefined();
});
