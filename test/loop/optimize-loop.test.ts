import * as path from 'node:path';
import { datasetFromArrays } from '../../src/evaluate/data.js';
import { readNpy } from '../../src/evaluate/npy.js';
import { evaluateModel } from '../../src/evaluate/evaluate.js';
import { ModelSession } from '../../src/evaluate/session.js';
import { optimize, type CandidateJudge } from '../../src/loop/optimize-loop.js';
import { replayDecisions } from '../../src/loop/replay.js';
import type { StepLatency } from '../../src/loop/types.js';
import type { RecipeStage } from '../../src/stages/types.js';
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
  const evaluate = { task: 'classification' as const, batchSize: 100 };
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
  expect(a.steps[0].reason).toMatch(/exceeds the budget of 0.5; retrying a smaller step/);
  expect(a.steps.length).toBeGreaterThan(1);
  expect(a.final.drift).toBeLessThanOrEqual(0.5);
  const b = await run();
  expect(Buffer.from(encodeModel(b.model)).equals(Buffer.from(encodeModel(a.model)))).toBe(true);
  expect(b.steps.map((s) => [s.action, s.kept, s.metric])).toEqual(a.steps.map((s) => [s.action, s.kept, s.metric]));
});

/** A judge whose step latencies are recorded measurements, replayed in order (batch 32 ratio, 95 % CI). */
function recordedLatency(judge: CandidateJudge, ratios: Array<[number, number, number]>): CandidateJudge & { calls: number } {
  const j = {
    calls: 0,
    judge: judge.judge,
    compare: async (): Promise<StepLatency[]> => {
      const [ratio, low, high] = ratios[j.calls++];
      return [{ batchSize: 32, ratio, interval: { low, high, level: 0.95 } }];
    },
  };
  return j;
}

test('measured latency decides: a cut not confirmed faster is passed over for the next one, a quantization not faster is not kept', async () => {
  const { judge, calibration } = await setup();
  const recipe: RecipeStage[] = [
    { stage: 'prune', prune: { kind: 'structured', target: 0.3, step: 0.1, importance: 'activation', repair: 'least-squares', sensitivity: false } },
    { stage: 'quantize', quantize: { kind: 'int8-dynamic', fallback: 'none' } },
  ];
  // Recorded on this MLP: 10 % bought nothing measurable, 20 % and 30 % did, int8 was slower.
  const timed = recordedLatency(judge, [
    [0.98, 0.95, 1.01],
    [0.86, 0.83, 0.89],
    [0.9, 0.87, 0.93],
    [1.12, 1.08, 1.16],
  ]);
  // A wide budget: this test is about latency (300 digits put the 20 % cut's interval up to 3.7 points).
  const result = await optimize(model, { recipe, budget: 5, ctx: { calibration, seed: 0 }, judge: timed });
  expect(timed.calls).toBe(4);
  expect(result.steps.map((s) => [s.action, s.kept])).toEqual([
    ['structured 10 %', false],
    ['structured 20 %', true],
    ['structured 30 %', true],
    ['int8-dynamic quantization', false],
  ]);
  expect(result.steps[0].reason).toMatch(/^P95 0\.98× \(95 % CI 0\.95–1\.01\) at batch 32: not confirmed faster than before this step; trying 20 %$/);
  expect(result.steps[3].reason).toMatch(/not confirmed faster/);
  // The 20 % cut ran from the stage's start (nothing was kept before it), and is recorded so.
  expect(result.decisions.map((d) => [d.goal, d.reached])).toEqual([
    [0.2, 0],
    [0.3, 0.2],
  ]);
  // With objective size, latency is shown but does not decide.
  const sized = await optimize(model, { recipe, budget: 5, ctx: { calibration, seed: 0 }, judge: recordedLatency(judge, [[1.2, 1.1, 1.3], [1.2, 1.1, 1.3], [1.2, 1.1, 1.3], [1.2, 1.1, 1.3]]), objective: 'size' });
  expect(sized.steps.filter((s) => s.kept).length).toBe(sized.steps.length);
});

test('replaying the recorded decisions rebuilds the loop\'s model byte for byte, with no measurement', async () => {
  const { judge, calibration } = await setup();
  const recipe: RecipeStage[] = [
    { stage: 'prune', prune: { kind: 'structured', target: 0.3, step: 0.1, importance: 'activation', repair: 'least-squares' } },
    { stage: 'quantize', quantize: { kind: 'int8-static', calibration: 'percentile', fallback: 'auto' } },
  ];
  const timed = recordedLatency(judge, [
    [0.9, 0.87, 0.93],
    [0.97, 0.94, 1.02],
    [0.8, 0.78, 0.83],
    [0.7, 0.66, 0.74],
  ]);
  const ctx = { calibration, seed: 0 };
  const result = await optimize(model, { recipe, budget: 5, ctx, judge: timed });
  expect(result.decisions.length).toBeGreaterThanOrEqual(2);
  const replayed = await replayDecisions(model, JSON.parse(JSON.stringify(result.decisions)), ctx);
  expect(Buffer.from(encodeModel(replayed.model)).equals(Buffer.from(encodeModel(result.model)))).toBe(true);
});

test('after a cut found not faster, a rollback retries between it and the cut that drifted, never the slow cut again', async () => {
  const { judge, calibration } = await setup();
  const recipe: RecipeStage[] = [{ stage: 'prune', prune: { kind: 'structured', target: 0.3, step: 0.1, importance: 'activation', repair: 'least-squares', sensitivity: false } }];
  const timed = recordedLatency(judge, [
    [0.99, 0.96, 1.02],
    [0.9, 0.87, 0.93],
    [0.9, 0.87, 0.93],
    [0.9, 0.87, 0.93],
  ]);
  const result = await optimize(model, { recipe, budget: 2, ctx: { calibration, seed: 0 }, judge: timed });
  const actions = result.steps.map((s) => s.action);
  expect(actions.slice(0, 2)).toEqual(['structured 10 %', 'structured 20 %']);
  // 20 % drifted past the budget on 300 digits (interval up to 3.7 points): the retry is 15 %, not the slow 10 %.
  expect(result.steps[1].reason).toMatch(/retrying a smaller step to 15 %$/);
  expect(actions[2]).toBe('structured 15 %');
});
