import { InputError } from '../../src/util/errors.js';
import { datasetFromArrays } from '../../src/evaluate/data.js';
import { benchLatency, feedsFor, latencyStats } from '../../src/evaluate/latency.js';
import { DataType, GraphBuilder, encodeModel } from '../../src/onnx/index.js';
import { centroidModel, mnistSamples } from './helpers.js';

const model = centroidModel();

test('two models, two batch sizes: interleaved runs, consistent stats and ratio intervals', async () => {
  const r = await benchLatency({ models: [{ model, label: 'A' }, { model, label: 'B' }], batchSizes: [1, 8], timeBudgetMs: 150, minRuns: 20, maxRuns: 400, warmup: 3, precision: 0, threads: 1 });
  expect(r.labels).toEqual(['A', 'B']);
  expect([r.intraOpThreads, r.interOpThreads]).toEqual([1, 1]);
  expect(r.batches.map((b) => b.batchSize)).toEqual([1, 8]);
  for (const b of r.batches) {
    expect(b.stats).toHaveLength(2);
    // Pairs: both models ran the same number of times.
    expect(b.stats[0].runs).toBe(b.stats[1].runs);
    expect(b.stats[0].runs).toBeGreaterThanOrEqual(20);
    expect(['budget', 'max-runs']).toContain(b.stoppedBy);
    expect(b.stats[0].runs).toBeLessThanOrEqual(400);
    for (const s of b.stats) {
      expect(s.p50).toBeLessThanOrEqual(s.p95);
      expect(s.p95).toBeLessThanOrEqual(s.p99);
      expect(s.throughput).toBeCloseTo((b.batchSize * 1000) / s.mean, 6);
    }
    expect(b.energy.map((e) => e.requests)).toEqual([b.stats[0].runs, b.stats[1].runs]);
    for (const e of b.energy) expect(e.cpuSecondsPerRequest).toBeGreaterThanOrEqual(0);
    const c = b.comparison!;
    expect(c.ratios.p95.value).toBeCloseTo(b.stats[1].p95 / b.stats[0].p95, 10);
    for (const k of ['p50', 'p95', 'p99'] as const) {
      expect(c.ratios[k].interval.low).toBeLessThanOrEqual(c.ratios[k].interval.high);
      expect(c.ratios[k].interval.level).toBe(0.95);
    }
  }
});

test('three models: the third is a second reference for the first (the base branch against the PR model), all interleaved with equal runs', async () => {
  const progress: string[] = [];
  const r = await benchLatency({ models: [{ model, label: 'PR model' }, { model, label: 'candidate' }, { model, label: 'base branch' }], batchSizes: [1], timeBudgetMs: 100, minRuns: 16, maxRuns: 200, warmup: 2, precision: 0, threads: 1, onProgress: (m) => progress.push(m) });
  // The job log hears after every round, with an estimate of what is left.
  expect(progress.slice(0, 8).map((m) => /^benchmark round (\d)\/8 \(3 models, 1 batch size\): [\d.]+ s, about [\d.]+ s left$/.exec(m)?.[1])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
  expect(r.labels).toEqual(['PR model', 'candidate', 'base branch']);
  const b = r.batches[0];
  expect(new Set(b.stats.map((s) => s.runs)).size).toBe(1);
  expect(b.comparison!.ratios.p95.value).toBeCloseTo(b.stats[1].p95 / b.stats[0].p95, 10);
  // PR model / base branch: the third model is the reference.
  expect(b.firstVsThird!.reference).toBe(b.stats[2]);
  expect(b.firstVsThird!.candidate).toBe(b.stats[0]);
  expect(b.firstVsThird!.ratios.p95.value).toBeCloseTo(b.stats[0].p95 / b.stats[2].p95, 10);
  expect(b.firstVsThird!.ratios.p95.interval.low).toBeLessThanOrEqual(b.firstVsThird!.ratios.p95.interval.high);
});

test('stops early once the P95 interval is narrower than the precision asked', async () => {
  const r = await benchLatency({ models: [model], batchSizes: [1], timeBudgetMs: 60_000, minRuns: 30, warmup: 2, precision: 0.5 });
  expect(r.batches[0].stoppedBy).toBe('precision');
  expect(r.batches[0].comparison).toBeUndefined();
  expect(r.batches[0].samplesMs[0].length).toBe(r.batches[0].stats[0].runs);
});

test('real data feeds are tiled to the batch size; generated feeds need known dims', async () => {
  const { x } = mnistSamples(0, 1);
  const ds = datasetFromArrays({ x: { type: 'float64', shape: [10, 784], data: Float64Array.from(x) } });
  const feeds = feedsFor([{ name: 'x', type: 'float32', shape: ['N', 784] }], 'm', 25, { inputs: ds });
  expect(feeds.x.dims).toEqual([25, 784]);
  expect(feeds.x.type).toBe('float32');
  expect((feeds.x.data as Float32Array)[10 * 784 + 5]).toBe(x[5]);
  const gen = feedsFor([{ name: 'x', type: 'float32', shape: ['N', 'T', 4] }], 'm', 2, { dims: { T: 3 } });
  expect(gen.x.dims).toEqual([2, 3, 4]);
  expect(() => feedsFor([{ name: 'x', type: 'float32', shape: ['N', 'T'] }], 'm.onnx', 2, {})).toThrow(InputError);
  expect(() => feedsFor([{ name: 'x', type: 'float32', shape: [1, 4] }], 'm.onnx', 8, {})).toThrow(/fixes the batch dimension at 1/);
});

test('int64 inputs get generated feeds too', async () => {
  const b = new GraphBuilder('ids');
  const ids = b.input('ids', DataType.INT64, ['N', 4]);
  b.op('Cast', [ids], { to: DataType.FLOAT }, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['N', 4]);
  const r = await benchLatency({ models: [encodeModel(b.model({ opset: 17 }))], batchSizes: [4], timeBudgetMs: 20, minRuns: 5, warmup: 1, precision: 0 });
  expect(r.batches[0].stats[0].runs).toBeGreaterThanOrEqual(5);
});

test('latencyStats by hand', () => {
  const s = latencyStats([4, 1, 3, 2], 2);
  expect(s).toMatchObject({ p50: 2.5, mean: 2.5, runs: 4, throughput: 800 });
  expect(s.p95).toBeCloseTo(3.85, 12);
});
