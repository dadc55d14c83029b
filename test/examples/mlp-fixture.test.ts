import * as path from 'node:path';
import { loadModel } from '../../src/onnx/index.js';
import { ROOT, evaluate } from './example-eval.js';

const model = path.join(ROOT, 'test/fixtures/models/mnist-mlp.onnx');
const data = path.join(ROOT, 'examples/mnist/data');

test('the MLP fixture is Gemm/Relu 784-256-128-10 with input [N,784]', () => {
  const m = loadModel(model);
  expect(m.opsetImports).toEqual([{ domain: '', version: 17 }]);
  expect(m.graph.inputs[0].name).toBe('input');
  expect(m.graph.inputs[0].type).toMatchObject({ kind: 'tensor', shape: ['N', 784] });
  expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
  expect(m.graph.initializers.filter((t) => t.name.endsWith('.weight')).map((t) => t.dims)).toEqual([
    [256, 784],
    [128, 256],
    [10, 128],
  ]);
});

test('the MLP fixture classifies the eval digits (reshaped to [N,784]) in ONNX Runtime', async () => {
  const r = await evaluate(model, path.join(data, 'eval_x.npy'), path.join(data, 'eval_y.npy'), [784]);
  expect(r.count).toBe(1000);
  expect(r.accuracy).toBeGreaterThanOrEqual(0.96);
});
