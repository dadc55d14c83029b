import * as path from 'node:path';
import { datasetFromArrays } from '../../src/evaluate/data.js';
import { readNpy } from '../../src/evaluate/npy.js';
import { evaluateModel } from '../../src/evaluate/evaluate.js';
import { ModelSession } from '../../src/evaluate/session.js';
import { optimize } from '../../src/loop/optimize-loop.js';
import { encodeModel, loadModel } from '../../src/onnx/index.js';
import { buildJudge } from '../../src/pipeline/judge.js';

// A real MLP trained on real MNIST digits (test/fixtures/models/mnist-mlp.README.md), evaluated on
// 300 of the example's held-out digits flattened to 784 values.
const root = path.resolve(import.meta.dirname, '../..');
const model = loadModel(path.join(root, 'test/fixtures/models/mnist-mlp.onnx'));
const x = readNpy(path.join(root, 'examples/mnist/data/eval_x.npy'));
const y = readNpy(path.join(root, 'examples/mnist/data/eval_y.npy'));
const N = 300;

async function setup() {
  const data = datasetFromArrays({ input: { type: 'float32', shape: [N, 784], data: (x.data as Float32Array).subarray(0, N * 784) } }, Array.from(y.data as BigInt64Array, Number).slice(0, N));
  const session = await ModelSession.create(encodeModel(model));
  const evalSet = data.forModel(session.inputs, 'mlp');
  await session.release();
  const evaluate = { task: 'classification' as const, metrics: ['accuracy' as const], batchSize: 100 };
  const reference = (await evaluateModel(encodeModel(model), evalSet, evaluate)).result;
  const judge = buildJudge({ dataset: evalSet, metric: 'accuracy', evaluate, reference, seed: 0 });
  const calibration = [...evalSet.slice(0, 64).batches(32)];
  return { judge, calibration };
}

test('a scheduled recipe keeps the steps within budget and records every step', async () => {
  const { judge, calibration } = await setup();
  const result = await optimize(model, {
    recipe: [
      { stage: 'prune', prune: { kind: 'structured', target: 0.3, step: 0.1, importance: 'activation', repair: 'least-squares' } },
      { stage: 'quantize', quantize: { kind: 'int8-dynamic', fallback: 'none' } },
    ],
    budget: 2,
    ctx: { calibration, seed: 0 },
    judge,
  });
  expect(result.steps.length).toBeGreaterThanOrEqual(4);
  expect(result.steps.map((s) => s.index)).toEqual(result.steps.map((_, i) => i + 1));
  for (const s of result.steps.filter((s) => s.kept)) expect(s.drift).toBeLessThanOrEqual(2);
  expect(result.final.drift).toBeLessThanOrEqual(2);
  expect(result.passes.length).toBe(result.steps.filter((s) => s.kept).length);
  const kept = result.steps.filter((s) => s.kept && s.stage === 'prune');
  expect(kept.length).toBeGreaterThan(0);
  expect(result.passes[0].paramsAfter).toBeLessThan(result.passes[0].paramsBefore);
});

test('a step that drifts too far is rolled back and retried smaller; same seed gives the same bytes', async () => {
  const { judge, calibration } = await setup();
  const recipe = [{ stage: 'prune' as const, prune: { kind: 'structured' as const, target: 0.97, importance: 'l1' as const, repair: 'none' as const } }];
  const run = () => optimize(model, { recipe, budget: 0.5, ctx: { calibration, seed: 3 }, judge });
  const a = await run();
  expect(a.steps[0].kept).toBe(false);
  expect(a.steps[0].reason).toMatch(/exceeds the 0.5 pt budget; retrying a smaller step/);
  expect(a.steps.length).toBeGreaterThan(1);
  expect(a.final.drift).toBeLessThanOrEqual(0.5);
  const b = await run();
  expect(Buffer.from(encodeModel(b.model)).equals(Buffer.from(encodeModel(a.model)))).toBe(true);
  expect(b.steps.map((s) => [s.action, s.kept, s.metric])).toEqual(a.steps.map((s) => [s.action, s.kept, s.metric]));
});
