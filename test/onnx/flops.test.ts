import { DataType, GraphBuilder, float32Tensor, graphCost, nodeFlops, type Node } from '../../src/onnx/index.js';
import { probeShapes, randomFeeds } from '../../src/evaluate/shapes.js';
import { convNet } from './families.js';

const node = (opType: string, inputs: string[], attrs: Node['attributes'] = [], domain = ''): Node => ({ name: opType, opType, domain, inputs, outputs: ['out'], attributes: attrs });
const shapesOf = (m: Record<string, number[]>) => (v: string) => m[v];

test('Conv: 2 x out elements x (C/group x kernel), plus bias adds', () => {
  const f = nodeFlops(node('Conv', ['x', 'w', 'b']), shapesOf({ x: [2, 8, 10, 10], w: [16, 8, 3, 3], b: [16], out: [2, 16, 8, 8] }));
  expect(f).toEqual({ flops: 2 * (2 * 16 * 8 * 8) * (8 * 9) + 2 * 16 * 8 * 8, estimated: false });
  const grouped = nodeFlops(node('Conv', ['x', 'w'], [{ name: 'group', type: 'int', value: 4n }]), shapesOf({ x: [1, 8, 10, 10], w: [8, 2, 3, 3], out: [1, 8, 8, 8] }));
  expect(grouped?.flops).toBe(2 * (8 * 8 * 8) * (2 * 9));
});

test('ConvTranspose, Gemm, MatMul (batched), MatMulNBits, QLinearConv', () => {
  expect(nodeFlops(node('ConvTranspose', ['x', 'w']), shapesOf({ x: [1, 4, 5, 5], w: [4, 6, 3, 3], out: [1, 6, 11, 11] }))?.flops).toBe(2 * 100 * 54);
  expect(nodeFlops(node('Gemm', ['a', 'b', 'c']), shapesOf({ a: [3, 7], out: [3, 5] }))?.flops).toBe(2 * 15 * 7 + 15);
  expect(nodeFlops(node('Gemm', ['a', 'b'], [{ name: 'transA', type: 'int', value: 1n }]), shapesOf({ a: [7, 3], out: [3, 5] }))?.flops).toBe(2 * 15 * 7);
  expect(nodeFlops(node('MatMul', ['a', 'b']), shapesOf({ a: [2, 4, 6, 8], out: [2, 4, 6, 10] }))?.flops).toBe(2 * 480 * 8);
  expect(nodeFlops(node('MatMulNBits', ['a', 'b', 's'], [{ name: 'K', type: 'int', value: 64n }], 'com.microsoft'), shapesOf({ a: [1, 3, 64], out: [1, 3, 32] }))?.flops).toBe(2 * 96 * 64);
  expect(nodeFlops(node('QLinearConv', ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz']), shapesOf({ w: [4, 2, 1, 1], out: [1, 4, 3, 3] }))?.flops).toBe(2 * 36 * 2);
});

test('estimates are flagged; data movement is free; unknown shapes give undefined', () => {
  expect(nodeFlops(node('Relu', ['x']), shapesOf({ x: [10], out: [10] }))).toEqual({ flops: 10, estimated: true });
  expect(nodeFlops(node('Sigmoid', ['x']), shapesOf({ x: [10], out: [10] }))).toEqual({ flops: 40, estimated: true });
  expect(nodeFlops(node('MaxPool', ['x'], [{ name: 'kernel_shape', type: 'ints', value: [2n, 2n] }]), shapesOf({ out: [1, 3, 4, 4] }))?.flops).toBe(48 * 4);
  expect(nodeFlops(node('Reshape', ['x', 's']), shapesOf({}))).toEqual({ flops: 0, estimated: false });
  expect(nodeFlops(node('Conv', ['x', 'w']), shapesOf({ x: [1, 1, 2, 2] }))).toBeUndefined();
  expect(nodeFlops(node('LSTM', ['x', 'w', 'r']), shapesOf({ x: [5, 1, 8], w: [1, 64, 8], r: [1, 64, 16] }))?.estimated).toBe(true);
});

test('graphCost sums per node, counts shared weights once, and agrees with the probed shapes of a conv net', async () => {
  const b = new GraphBuilder('shared');
  const x = b.input('x', DataType.FLOAT, [1, 4]);
  const w = b.constant(float32Tensor('w', [4, 4], new Float32Array(16)));
  const h = b.op('MatMul', [x, w]);
  b.op('MatMul', [h, w], {}, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, [1, 4]);
  const shared = graphCost(b.graph, new Map([[h, [1, 4]], ['y', [1, 4]], ['x', [1, 4]]]));
  expect(shared.nodes.map((n) => n.params)).toEqual([16, 16]);
  expect(shared.totalParams).toBe(16);
  expect(shared.totalFlops).toBe(2 * (2 * 4 * 4));

  const model = convNet();
  const cost = graphCost(model.graph, await probeShapes(model, randomFeeds(model, { dimValues: { N: 1 } })));
  expect(cost.unknownNodes).toBe(0);
  expect(cost.totalParams).toBe(model.graph.initializers.reduce((a, t) => a + t.dims.reduce((p, d) => p * d, 1), 0));
  const conv1 = cost.nodes[0];
  expect(conv1).toMatchObject({ opType: 'Conv', flops: 2 * (8 * 16 * 16) * 27 + 8 * 16 * 16, params: 8 * 27 + 8, estimated: false });
  expect(cost.totalFlops).toBe(cost.nodes.reduce((a, n) => a + (n.flops ?? 0), 0));
  expect(graphCost(model.graph, new Map()).unknownNodes).toBeGreaterThan(0);
});
