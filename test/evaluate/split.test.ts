/**
 * The search/test split: deterministic per seed, stratified by label, whole blocks for a fixed
 * batch, in order for carried state; Dataset.pick copies the chosen samples; a result over a
 * subset (or shards joined) has the metrics of an evaluation of those samples.
 */
import { datasetFromArrays } from '../../src/evaluate/data.js';
import { shardRange, splitIndices } from '../../src/evaluate/split.js';
import { concatResults, subsetResult } from '../../src/evaluate/subset.js';
import { scoreOutput } from '../../src/metrics/index.js';
import type { EvalResult } from '../../src/evaluate/types.js';

test('a seeded split is the same every time, covers every unit once and changes with the seed', () => {
  const a = splitIndices(100, 0.3, { seed: 0 });
  expect(a).toEqual(splitIndices(100, 0.3, { seed: 0 }));
  expect(a.search).toHaveLength(30);
  expect([...a.search, ...a.test].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  expect(splitIndices(100, 0.3, { seed: 1 }).search).not.toEqual(a.search);
});

test('with labels, every class is split in the same proportion (within one sample)', () => {
  // Unbalanced classes: 60 of class 0, 30 of class 1, 10 of class 2.
  const labels = Array.from({ length: 100 }, (_, i) => (i < 60 ? 0 : i < 90 ? 1 : 2));
  const { search } = splitIndices(100, 0.3, { seed: 3, labels });
  const perClass = [0, 1, 2].map((c) => search.filter((i) => labels[i] === c).length);
  expect(Math.abs(perClass[0] - 18)).toBeLessThanOrEqual(1);
  expect(Math.abs(perClass[1] - 9)).toBeLessThanOrEqual(1);
  expect(Math.abs(perClass[2] - 3)).toBeLessThanOrEqual(1);
  expect(search).toHaveLength(30);
});

test('too few units, or fraction 0: no split; a fixed batch: whole batches', () => {
  expect(splitIndices(1, 0.3, { seed: 0 })).toEqual({ search: [], test: [0] });
  expect(splitIndices(10, 0, { seed: 0 }).search).toEqual([]);
  expect(splitIndices(16, 0.3, { seed: 0, multiple: 4 })).toEqual({ search: [0, 1, 2, 3], test: Array.from({ length: 12 }, (_, i) => i + 4) });
  // Both splits keep at least one unit.
  expect(splitIndices(2, 0.9, { seed: 0 }).search).toHaveLength(1);
});

test('shards are contiguous, cover everything once, in whole batches, and differ by at most one batch', () => {
  const ranges = [1, 2, 3, 4].map((i) => shardRange(10, i, 4));
  expect(ranges).toEqual([[0, 2], [2, 5], [5, 7], [7, 10]]);
  expect(shardRange(10, 1, 1)).toEqual([0, 10]);
  // In whole batches of 4: the batches an unsharded evaluation runs, [0, 4), [4, 8), [8, 10).
  expect([1, 2, 3].map((i) => shardRange(10, i, 3, 4))).toEqual([[0, 4], [4, 8], [8, 10]]);
  expect([1, 2].map((i) => shardRange(10, i, 2, 4))).toEqual([[0, 4], [4, 10]]);
});

test('Dataset.pick copies the chosen samples and their labels', () => {
  const ds = datasetFromArrays({ x: { type: 'float32', shape: [4, 2], data: Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31]) } }, [5, 6, 7, 8]);
  const { dataset, samples } = ds.pick([1, 3]);
  expect(samples).toEqual([1, 3]);
  expect(dataset.count).toBe(2);
  expect(Array.from(dataset.inputs[0].data as Float32Array)).toEqual([10, 11, 30, 31]);
  expect(Array.from(dataset.labels!.values)).toEqual([6, 8]);
});

function classification(values: number[][], labels: number[]): EvalResult {
  const per = values[0].length;
  const s = { n: values.length, values: Float32Array.from(values.flat()), per, shape: [per], labels: Float64Array.from(labels) };
  const { metrics, perSample } = scoreOutput('classification', s);
  return { task: 'classification', samples: values.length, metrics, perSample, confusion: [[0, 0, 0], [0, 0, 0], [0, 0, 0]] };
}

test('metrics of a subset, and of shards joined, equal those computed on those samples directly', () => {
  const rows = [[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]];
  const labels = [0, 1, 1, 0, 2, 2];
  const whole = classification(rows, labels);
  const pick = [1, 2, 5];
  const direct = classification(pick.map((i) => rows[i]), pick.map((i) => labels[i]));
  expect(subsetResult(whole, pick).metrics).toEqual(direct.metrics);
  const joined = concatResults([classification(rows.slice(0, 2), labels.slice(0, 2)), classification(rows.slice(2), labels.slice(2))]);
  expect(joined.metrics).toEqual(whole.metrics);
  expect(joined.perSample).toEqual(whole.perSample);
  expect(joined.samples).toBe(6);
});
