/** Never ship a slower model: the choice between the loop's candidate, earlier ones and the original, on recorded measurements. */
import type { BenchResult } from '../../src/evaluate/latency.js';
import type { StepDecision } from '../../src/loop/types.js';
import { createModel, emptyGraph, type Model } from '../../src/onnx/index.js';
import { shipFaster } from '../../src/pipeline/ship.js';

const model = (name: string): Model => createModel(emptyGraph(name), [{ domain: '', version: 17 }]);
const decision = (goal: number): StepDecision => ({ stageIndex: 0, stage: { stage: 'prune', prune: { kind: 'structured', target: 0.3 } }, goal, reached: 0 });

/** A comparison with these P95 ratios (value, low, high) at batch 1 and 32. */
function bench(...ratios: Array<[number, number, number]>): BenchResult {
  return onTarget('native', ...ratios);
}

function onTarget(target: BenchResult['target'], ...ratios: Array<[number, number, number]>): BenchResult {
  const stats = { batchSize: 1, p50: 1, p95: 1, p99: 1, mean: 1, throughput: 1, runs: 100 };
  return {
    target,
    labels: ['original', 'candidate'],
    intraOpThreads: 1,
    interOpThreads: 1,
    batches: ratios.map(([value, low, high], i) => {
      const batchSize = i === 0 ? 1 : 32;
      const r = { value, interval: { low, high, level: 0.95 } };
      return { batchSize, stats: [stats, stats], stoppedBy: 'budget', samplesMs: [], energy: [], comparison: { batchSize, reference: stats, candidate: stats, ratios: { p50: r, p95: r, p99: r } } };
    }),
  };
}

test('the candidate ships when it is confirmed faster at every batch size', async () => {
  let rebuilt = 0;
  const rebuild = async (count: number) => (rebuilt++, model(`after ${count}`));
  const s = await shipFaster({ original: model('original'), candidate: model('candidate'), decisions: [decision(0.1), decision(0.2)], objective: 'latency', rebuild, measure: async () => [bench([0.8, 0.75, 0.85], [0.6, 0.58, 0.62])] });
  expect(s.model.graph.name).toBe('candidate');
  expect(s.decisions).toHaveLength(2);
  expect(s.unchanged).toBe(false);
  expect(rebuilt).toBe(0);
});

test('a candidate not faster at one batch size gives way to the previous kept step, then to the original', async () => {
  const measured: string[] = [];
  const results = [bench([1.02, 0.99, 1.05], [0.6, 0.58, 0.62]), bench([0.95, 0.9, 1.01], [0.7, 0.68, 0.72]), bench([1, 0.98, 1.02], [1, 0.98, 1.02])];
  const s = await shipFaster({
    original: model('original'),
    candidate: model('after 3'),
    decisions: [decision(0.1), decision(0.2), decision(0.3)],
    objective: 'latency',
    rebuild: async (count) => model(`after ${count}`),
    measure: async (m) => {
      measured.push(m.graph.name);
      return [results[measured.length - 1]];
    },
  });
  expect(measured).toEqual(['after 3', 'after 2', 'original']);
  expect(s).toMatchObject({ unchanged: true, decisions: [] });
  expect(s.model.graph.name).toBe('original');
  expect(s.notes[0]).toBe('The candidate after 3 kept steps was not confirmed faster than the PR model (P95 1.02× (95 % CI 0.99–1.05) at batch 1), so it was not shipped.');
  expect(s.notes.at(-1)).toBe('No candidate was confirmed faster than the PR model on this machine: the PR model ships unchanged.');
});

test('with objective size the candidate ships whatever its speed', async () => {
  const s = await shipFaster({ original: model('original'), candidate: model('candidate'), decisions: [decision(0.1)], objective: 'size', rebuild: async () => model('rebuilt'), measure: async () => [bench([1.3, 1.2, 1.4])] });
  expect(s.model.graph.name).toBe('candidate');
  expect(s.unchanged).toBe(false);
});

test('with two targets the candidate ships only when it is faster on both; the note names the target where it was not', async () => {
  const measured: string[] = [];
  const s = await shipFaster({
    original: model('original'),
    candidate: model('candidate'),
    decisions: [decision(0.1)],
    objective: 'latency',
    rebuild: async (count) => model(`after ${count}`),
    measure: async (m) => {
      measured.push(m.graph.name);
      return [onTarget('native', [0.8, 0.75, 0.85]), onTarget('wasm', [1.1, 1.05, 1.15])];
    },
  });
  expect(measured).toEqual(['candidate', 'original']);
  expect(s.unchanged).toBe(true);
  expect(s.benches.map((b) => b.target)).toEqual(['native', 'wasm']);
  expect(s.notes[0]).toBe('The candidate after 1 kept step was not confirmed faster than the PR model (P95 1.10× (95 % CI 1.05–1.15) at batch 1 on wasm), so it was not shipped.');
});
