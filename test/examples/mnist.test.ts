import * as path from 'node:path';
import { loadModel } from '../../src/onnx/index.js';
import { ROOT, evaluate } from './example-eval.js';

const dir = path.join(ROOT, 'examples/mnist');

test('the committed MNIST CNN has the documented interface and layers', () => {
  const model = loadModel(path.join(dir, 'model.onnx'));
  expect(model.irVersion).toBe(8);
  expect(model.opsetImports).toEqual([{ domain: '', version: 17 }]);
  expect(model.graph.inputs.map((v) => [v.name, v.type?.kind === 'tensor' ? v.type.shape : null])).toEqual([['input', ['N', 1, 28, 28]]]);
  expect(model.graph.outputs.map((v) => v.name)).toEqual(['logits']);
  expect(model.graph.nodes.map((n) => n.opType)).toEqual([
    ...['Conv', 'Relu', 'Conv', 'Relu', 'Conv', 'Relu', 'MaxPool'],
    ...['Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm'],
  ]);
  const dims = Object.fromEntries(model.graph.initializers.map((t) => [t.name, t.dims]));
  expect(dims['conv1.weight']).toEqual([32, 1, 3, 3]);
  expect(dims['conv2.weight']).toEqual([48, 32, 3, 3]);
  expect(dims['conv3.weight']).toEqual([64, 48, 3, 3]);
  expect(dims['conv4.weight']).toEqual([64, 64, 3, 3]);
  expect(dims['fc1.weight']).toEqual([128, 1024]);
  expect(dims['fc2.weight']).toEqual([10, 128]);
  // small enough to commit: 211 k float32 weights
  const weights = model.graph.initializers.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
  expect(weights).toBe(211322);
});

test('the committed MNIST CNN classifies the committed eval digits in ONNX Runtime', async () => {
  const r = await evaluate(path.join(dir, 'model.onnx'), path.join(dir, 'data/eval_x.npy'), path.join(dir, 'data/eval_y.npy'));
  expect(r.count).toBe(1000);
  expect(r.logitsShape).toEqual([250, 10]);
  // measured 98.5 % (10 epochs on the wasm backend, see examples/README.md)
  expect(r.accuracy).toBeGreaterThanOrEqual(0.98);
});
