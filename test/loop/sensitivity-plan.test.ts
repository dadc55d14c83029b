import * as path from 'node:path';
import { datasetFromArrays } from '../../src/evaluate/data.js';
import { readNpy } from '../../src/evaluate/npy.js';
import { evaluateModel } from '../../src/evaluate/evaluate.js';
import { ModelSession } from '../../src/evaluate/session.js';
import { optimize } from '../../src/loop/optimize-loop.js';
import { stepLayerRatios } from '../../src/loop/sensitivity-plan.js';
import { encodeModel, loadModel } from '../../src/onnx/index.js';
import { buildJudge } from '../../src/pipeline/judge.js';

// The example transformer (examples/README.md): 2 encoder layers of 4 heads, trained on real
// MNIST digits, judged on its 1,000 held-out digits. One head of layer 0 alone costs 1.1 points.
const dir = path.resolve(import.meta.dirname, '../../examples/transformer');
const model = loadModel(path.join(dir, 'model.onnx'));

async function setup() {
  const x = readNpy(path.join(dir, 'data/eval_x.npy'));
  const y = readNpy(path.join(dir, 'data/eval_y.npy'));
  const c = readNpy(path.join(dir, 'data/calib_x.npy'));
  const data = datasetFromArrays({ input: { type: 'float32', shape: x.shape, data: x.data as Float32Array } }, Array.from(y.data as BigInt64Array, Number));
  const session = await ModelSession.create(encodeModel(model));
  const evalSet = data.forModel(session.inputs, 'transformer');
  const calibSet = datasetFromArrays({ input: { type: 'float32', shape: c.shape, data: c.data as Float32Array } }).forModel(session.inputs, 'transformer');
  await session.release();
  const evaluate = { task: 'classification' as const, metrics: ['accuracy' as const], batchSize: 250 };
  const reference = (await evaluateModel(encodeModel(model), evalSet, evaluate)).result;
  const judge = buildJudge({ dataset: evalSet, metric: 'accuracy', evaluate, reference, seed: 0 });
  return { judge, calibration: [...calibSet.batches(64)] };
}

const recipe = (sensitivity?: boolean) => [{ stage: 'prune' as const, prune: { kind: 'structured' as const, target: 0.5, step: 0.25, importance: 'activation' as const, repair: 'least-squares' as const, sensitivity } }];
const headChanges = (r: Awaited<ReturnType<typeof optimize>>, layer: number) =>
  r.passes.flatMap((p) => p.changed).filter((c) => c.name === `/layers.${layer}/attn/q/MatMul`).map((c) => c.change);

test('the sensitivity scan holds back the heads that alone spend half the budget, and the rest are cut', async () => {
  const { judge, calibration } = await setup();
  const r = await optimize(model, { recipe: recipe(), budget: 2, ctx: { calibration, seed: 0 }, judge });
  expect(r.notes).toEqual([expect.stringMatching(/^Sensitivity scan: \/layers\.0\/attn\/q\/MatMul cut alone to 50 % drifts 7\.\d+ pt, to 25 % 1\.\d+ pt \(over 1 pt, half the budget\): not cut\.$/)]);
  expect(headChanges(r, 0)).toEqual([]);
  expect(headChanges(r, 1)).toEqual(['4 -> 3 heads (128 -> 96 channels)', '3 -> 2 heads (96 -> 64 channels)']);
  expect(r.final.drift).toBeLessThanOrEqual(2);
}, 120_000);

test('sensitivity: false skips the scan', async () => {
  const { judge, calibration } = await setup();
  const r = await optimize(model, { recipe: recipe(false), budget: 2, ctx: { calibration, seed: 0 }, judge });
  expect(r.notes.filter((n) => n.startsWith('Sensitivity'))).toEqual([]);
}, 120_000);

test('held-back layers follow the schedule at their share', () => {
  const plan = { scale: { a: 0, b: 0.5 }, notes: [], solo: { a: 3, b: 1.5, c: 0.1 } };
  expect(stepLayerRatios(plan, 0.3)).toEqual({ a: 0, b: 0.15 });
  expect(stepLayerRatios({ ...plan, scale: {} }, 0.3)).toBeUndefined();
  expect(stepLayerRatios(undefined, 0.3)).toBeUndefined();
});
