/**
 * Folding shape arithmetic (passes/simplify/fold-shapes.ts) on a real torch.onnx export and on
 * small graphs that show where it must stop.
 */
import * as path from 'node:path';
import { DataType, GraphBuilder, int64Tensor, loadModel, type Model } from '../../../src/onnx/index.js';
import { foldShapeArithmetic } from '../../../src/passes/simplify/fold-shapes.js';
import { materializeConstants } from '../../../src/passes/prune/tensors.js';
import { maxAbsDiff, randomFeeds, run } from '../prune/helpers.js';

const fixture = (name: string) => path.join(import.meta.dirname, '../../fixtures/zoo', name);

function torchTransformer(): Model {
  const m = loadModel(fixture('torch-transformer-small.onnx'));
  materializeConstants(m.graph);
  return m;
}

test('torch.onnx multi-head attention: the run-time head count and QKV slice bounds become constants, outputs unchanged at batch sizes the probes never saw', async () => {
  const model = torchTransformer();
  const shapeNodes = (m: Model) => m.graph.nodes.filter((n) => n.opType === 'Shape').length;
  expect(shapeNodes(model)).toBeGreaterThan(10);
  const r = await foldShapeArithmetic(model);
  expect(r.note).toBeUndefined();
  expect(r.folded).toBeGreaterThan(0);
  // Every attention Reshape of both layers: [seq, batch*heads, head_dim] and back, batch left to a -1.
  expect(r.reshapeTargets).toBe(10);
  expect(r.model.graph.nodes.length).toBe(model.graph.nodes.length - r.nodesRemoved);
  expect(shapeNodes(r.model)).toBe(0);
  const constants = new Set(r.model.graph.initializers.map((t) => t.name));
  for (const n of r.model.graph.nodes.filter((x) => x.opType === 'Reshape' || x.opType === 'Slice')) {
    expect(n.inputs.slice(1).filter(Boolean).every((v) => constants.has(v))).toBe(true);
  }
  for (const batch of [1, 4, 7]) {
    const feeds = randomFeeds({ input: [batch, 28, 28] }, 100 + batch);
    const [a, b] = [await run(model, feeds), await run(r.model, feeds)];
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-5);
  }
});

test('the input model is not edited, and folding twice finds nothing more', async () => {
  const model = torchTransformer();
  const nodes = model.graph.nodes.length;
  const inputsBefore = JSON.stringify(model.graph.nodes.map((n) => n.inputs));
  const once = await foldShapeArithmetic(model);
  expect(model.graph.nodes.length).toBe(nodes);
  expect(JSON.stringify(model.graph.nodes.map((n) => n.inputs))).toBe(inputsBefore);
  const twice = await foldShapeArithmetic(once.model);
  expect(twice.model).toBe(once.model);
  expect(twice.folded + twice.reshapeTargets).toBe(0);
});

/** x [N, 6] (or `shape`) -> Reshape to a target built from x's shape by `target(dim0, dim1)`. */
function reshapeBy(target: (b: GraphBuilder, d0: string, d1: string) => string, shape: Array<string | number> = ['N', 6]): Model {
  const b = new GraphBuilder('reshape');
  const x = b.input('x', DataType.FLOAT, shape);
  const dims = b.op('Shape', [x]);
  const at = (i: number) => b.op('Gather', [dims, b.constant(int64Tensor(`i${i}`, [1], [i]))], { axis: 0 });
  const y = b.op('Reshape', [x, target(b, at(0), at(1))], {}, { outputs: ['y'] });
  b.op('Identity', [y], {}, { outputs: ['out'] });
  b.output('out', DataType.FLOAT);
  return b.model({ opset: 17 });
}

const targetOf = (m: Model) => {
  const t = m.graph.initializers.find((x) => x.name === m.graph.nodes.find((n) => n.opType === 'Reshape')?.inputs[1]);
  return t && Array.from(new BigInt64Array(t.raw.slice().buffer), Number);
};

test('a target with one dynamic element gets -1, a copied dimension gets 0; dimensions that are neither stay computed', async () => {
  const c = (b: GraphBuilder, name: string, v: number) => b.constant(int64Tensor(name, [1], [v]));
  // [N, 2, 3]: N copies the input's first dimension (0), 6 / 3 is static.
  const copied = reshapeBy((b, n, six) => b.op('Concat', [n, b.op('Div', [six, c(b, 'three', 3)]), c(b, 'k3', 3)], { axis: 0 }));
  const r1 = await foldShapeArithmetic(copied);
  expect(r1.reshapeTargets).toBe(1);
  expect(targetOf(r1.model)).toEqual([0, 2, 3]);

  // [N*2, 3]: the merged dimension becomes -1.
  const merged = reshapeBy((b, n) => b.op('Concat', [b.op('Mul', [n, c(b, 'two', 2)]), c(b, 'k3', 3)], { axis: 0 }));
  const r2 = await foldShapeArithmetic(merged);
  expect(r2.reshapeTargets).toBe(1);
  expect(targetOf(r2.model)).toEqual([-1, 3]);

  // x [N, M] -> [M, N]: each element is an input dimension, but not the one at its own position;
  // the probes give N and M different sizes, so neither is mistaken for a copy (0), and two cannot be -1.
  const swapped = reshapeBy((b, n, m) => b.op('Concat', [m, n], { axis: 0 }), ['N', 'M']);
  const r3 = await foldShapeArithmetic(swapped);
  expect(r3.reshapeTargets).toBe(0);
  expect(r3.model.graph.nodes.some((n) => n.opType === 'Shape')).toBe(true);
  const out = await run(r3.model, randomFeeds({ x: [2, 5] }));
  expect(out.out.dims).toEqual([5, 2]);
  for (const m of [r1.model, r2.model]) expect((await run(m, randomFeeds({ x: [5, 6] }))).out.dims.reduce((p, q) => p * q, 1)).toBe(30);
});

test('a model that runs only at batch 1 is left as it was, with the reason', async () => {
  const b = new GraphBuilder('fixed');
  const x = b.input('x', DataType.FLOAT, ['N', 4]);
  // Reshape to [1, 4]: only batch 1 runs.
  const shape = b.op('Shape', [x]);
  const four = b.op('Gather', [shape, b.constant(int64Tensor('one', [1], [1]))], { axis: 0 });
  const y = b.op('Reshape', [x, b.op('Concat', [b.constant(int64Tensor('k1', [1], [1])), four], { axis: 0 })], {}, { outputs: ['y'] });
  b.output(y, DataType.FLOAT);
  const model = b.model({ opset: 17 });
  const r = await foldShapeArithmetic(model);
  expect(r.model).toBe(model);
  expect(r.note).toMatch(/did not run with its symbolic dimensions at sizes other than 1/);
});
