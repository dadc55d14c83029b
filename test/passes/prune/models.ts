/** Tiny models built in code, one per dependency-graph handler, with seeded random weights. */
import { DataType, GraphBuilder, float32Tensor, int64Tensor, type Model } from '../../../src/onnx/index.js';
import { mulberry32 } from '../../helpers/seeded-random.js';

export interface TestModel {
  name: string;
  model: Model;
  inputs: Record<string, number[]>;
}

function weights(seed: number) {
  const rand = mulberry32(seed);
  let id = 0;
  return (b: GraphBuilder, dims: number[], scale = 0.5, offset = 0) =>
    b.constant(float32Tensor(`w${id++}`, dims, Array.from({ length: dims.reduce((x, y) => x * y, 1) }, () => offset + (rand() * 2 - 1) * scale)));
}

export function convBnChain(): TestModel {
  const b = new GraphBuilder('conv_bn');
  const w = weights(1);
  const x = b.input('x', DataType.FLOAT, ['N', 3, 8, 8]);
  const c1 = b.op('Conv', [x, w(b, [16, 3, 3, 3])], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  const bn = b.op('BatchNormalization', [c1, w(b, [16], 0.2, 1), w(b, [16], 0.1), w(b, [16], 0.1), w(b, [16], 0.2, 1)], {}, { name: 'bn1' });
  const r1 = b.op('Relu', [bn]);
  const c2 = b.op('Conv', [r1, w(b, [16, 16, 3, 3]), w(b, [16])], { pads: [1, 1, 1, 1] }, { name: 'conv2' });
  const r2 = b.op('Clip', [c2, b.constant(float32Tensor('lo', [], [0])), b.constant(float32Tensor('hi', [], [6]))]);
  const m = b.op('Mul', [r2, w(b, [1, 16, 1, 1], 0.5, 1)], {}, { name: 'scale' });
  const p = b.op('MaxPool', [m], { kernel_shape: [2, 2], strides: [2, 2] });
  const f = b.op('Flatten', [p], { axis: 1 });
  const y = b.op('Gemm', [f, w(b, [10, 256], 0.1), w(b, [10])], { transB: 1 }, { name: 'fc', outputs: ['y'] });
  b.output(y, DataType.FLOAT, ['N', 10]);
  return { name: 'conv+bn+relu chain, flatten->gemm', model: b.model({ opset: 17 }), inputs: { x: [2, 3, 8, 8] } };
}

export function depthwise(): TestModel {
  const b = new GraphBuilder('dw');
  const w = weights(2);
  const x = b.input('x', DataType.FLOAT, ['N', 3, 6, 6]);
  const c1 = b.op('Relu', [b.op('Conv', [x, w(b, [16, 3, 1, 1]), w(b, [16])], {}, { name: 'pw1' })]);
  const dw = b.op('HardSwish', [b.op('Conv', [c1, w(b, [16, 1, 3, 3]), w(b, [16])], { group: 16, pads: [1, 1, 1, 1] }, { name: 'dw' })]);
  const y = b.op('Conv', [dw, w(b, [8, 16, 1, 1])], {}, { name: 'pw2', outputs: ['y'] });
  b.output(y, DataType.FLOAT, ['N', 8, 6, 6]);
  return { name: 'depthwise conv', model: b.model({ opset: 17 }), inputs: { x: [2, 3, 6, 6] } };
}

export function grouped(): TestModel {
  const b = new GraphBuilder('grouped');
  const w = weights(3);
  const x = b.input('x', DataType.FLOAT, ['N', 4, 5, 5]);
  const c1 = b.op('Relu', [b.op('Conv', [x, w(b, [16, 4, 1, 1])], {}, { name: 'c1' })]);
  const g = b.op('Relu', [b.op('Conv', [c1, w(b, [16, 4, 3, 3])], { group: 4, pads: [1, 1, 1, 1] }, { name: 'gconv' })]);
  const c3 = b.op('Sigmoid', [b.op('Conv', [g, w(b, [12, 16, 1, 1]), w(b, [12])], {}, { name: 'c3' })]);
  const y = b.op('Conv', [c3, w(b, [4, 12, 1, 1])], {}, { name: 'c4', outputs: ['y'] });
  b.output(y, DataType.FLOAT, ['N', 4, 5, 5]);
  return { name: 'grouped conv', model: b.model({ opset: 17 }), inputs: { x: [1, 4, 5, 5] } };
}

export function residual(): TestModel {
  const b = new GraphBuilder('residual');
  const w = weights(4);
  const x = b.input('x', DataType.FLOAT, ['N', 3, 6, 6]);
  const a = b.op('Relu', [b.op('Conv', [x, w(b, [16, 3, 3, 3]), w(b, [16])], { pads: [1, 1, 1, 1] }, { name: 'a' })]);
  const c = b.op('Conv', [a, w(b, [16, 16, 3, 3]), w(b, [16])], { pads: [1, 1, 1, 1] }, { name: 'b' });
  const s = b.op('Relu', [b.op('Add', [a, c], {}, { name: 'residual' })]);
  const gp = b.op('GlobalAveragePool', [s]);
  const y = b.op('Conv', [gp, w(b, [5, 16, 1, 1])], {}, { name: 'head', outputs: ['y'] });
  b.output(y, DataType.FLOAT, ['N', 5, 1, 1]);
  return { name: 'residual add', model: b.model({ opset: 17 }), inputs: { x: [2, 3, 6, 6] } };
}

export function concatSplit(): TestModel {
  const b = new GraphBuilder('concat_split');
  const w = weights(5);
  const x = b.input('x', DataType.FLOAT, ['N', 3, 5, 5]);
  const p = b.op('Relu', [b.op('Conv', [x, w(b, [8, 3, 1, 1])], {}, { name: 'p' })]);
  const q = b.op('Tanh', [b.op('Conv', [x, w(b, [12, 3, 1, 1]), w(b, [12])], {}, { name: 'q' })]);
  const cat = b.op('Concat', [p, x, q], { axis: 1 }, { name: 'cat' });
  const c = b.op('Relu', [b.op('Conv', [cat, w(b, [16, 23, 3, 3])], { pads: [1, 1, 1, 1] }, { name: 'mix' })]);
  const [s1, s2] = b.opMulti('Split', [c, b.constant(int64Tensor('sizes', [2], [6, 10]))], { axis: 1 }, { outputs: 2, name: 'split' });
  const o1 = b.op('Conv', [s1, w(b, [4, 6, 1, 1])], {}, { name: 'o1' });
  const o2 = b.op('Conv', [s2, w(b, [4, 10, 1, 1])], {}, { name: 'o2' });
  const y = b.op('Add', [o1, o2], {}, { outputs: ['y'] });
  b.output(y, DataType.FLOAT, ['N', 4, 5, 5]);
  return { name: 'concat and split', model: b.model({ opset: 17 }), inputs: { x: [2, 3, 5, 5] } };
}

export function mlpLayerNorm(): TestModel {
  const b = new GraphBuilder('mlp');
  const w = weights(6);
  const x = b.input('x', DataType.FLOAT, ['N', 4, 16]);
  const h1 = b.op('Relu', [b.op('Add', [b.op('MatMul', [x, w(b, [16, 32])], {}, { name: 'fc1' }), w(b, [32])])]);
  const h2 = b.op('Tanh', [b.op('Add', [b.op('MatMul', [h1, w(b, [32, 24])], {}, { name: 'fc2' }), w(b, [24])])]);
  // Channels on the last axis; LayerNorm over axis 1 (the 4 tokens) and Softmax over axis 1 pass them through.
  const t = b.op('Transpose', [h2], { perm: [0, 2, 1] });
  const ln = b.op('LayerNormalization', [t, w(b, [4], 0.1, 1), w(b, [4])], { axis: -1 }, { name: 'ln' });
  const sm = b.op('Softmax', [ln], { axis: 2 });
  const back = b.op('Transpose', [sm], { perm: [0, 2, 1] });
  const y = b.op('MatMul', [back, w(b, [24, 3])], {}, { name: 'fc3', outputs: ['y'] });
  b.output(y, DataType.FLOAT, ['N', 4, 3]);
  return { name: 'matmul chain with layernorm/softmax passthrough', model: b.model({ opset: 17 }), inputs: { x: [3, 4, 16] } };
}

/** The attention block as PyTorch and ORT's transformer optimizer export it. */
export function attention(d = 16, heads = 4, seed = 7): TestModel {
  const b = new GraphBuilder('attention');
  const w = weights(seed);
  const dh = d / heads;
  const x = b.input('x', DataType.FLOAT, ['B', 'S', d]);
  const shape4 = b.constant(int64Tensor('split_heads', [4], [0, 0, heads, dh]));
  const proj = (name: string) => b.op('Reshape', [b.op('Add', [b.op('MatMul', [x, w(b, [d, d])], {}, { name }), w(b, [d], 0.1)]), shape4]);
  const q = b.op('Transpose', [proj('q')], { perm: [0, 2, 1, 3] });
  const k = b.op('Transpose', [proj('k')], { perm: [0, 2, 3, 1] });
  const v = b.op('Transpose', [proj('v')], { perm: [0, 2, 1, 3] });
  const scores = b.op('Div', [b.op('MatMul', [q, k]), b.constant(float32Tensor('sqrt_dh', [], [Math.sqrt(dh)]))]);
  const probs = b.op('Softmax', [scores], { axis: -1 });
  const ctxv = b.op('Transpose', [b.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] });
  const merged = b.op('Reshape', [ctxv, b.constant(int64Tensor('merge_heads', [3], [0, 0, d]))]);
  const o = b.op('Add', [b.op('MatMul', [merged, w(b, [d, d])], {}, { name: 'out_proj' }), w(b, [d], 0.1)]);
  const res = b.op('Add', [o, x]);
  const ln = b.op('LayerNormalization', [res, w(b, [d], 0.1, 1), w(b, [d], 0.1)], { axis: -1 });
  const ff = b.op('Relu', [b.op('Add', [b.op('MatMul', [ln, w(b, [d, 2 * d])], {}, { name: 'ffn1' }), w(b, [2 * d], 0.1)])]);
  const y = b.op('Add', [b.op('MatMul', [ff, w(b, [2 * d, d])], {}, { name: 'ffn2' }), w(b, [d], 0.1)], {}, { outputs: ['y'] });
  b.output(y, DataType.FLOAT, ['B', 'S', d]);
  return { name: 'attention heads', model: b.model({ opset: 17 }), inputs: { x: [2, 3, d] } };
}

/** ConvTranspose (weights [in, out, kh, kw]: produces on axis 1, consumes on axis 0), then Gemm with transA=1 behind a Transpose. */
export function convTransposeGemm(): TestModel {
  const b = new GraphBuilder('convtranspose_gemm');
  const w = weights(4);
  const x = b.input('x', DataType.FLOAT, ['N', 3, 6, 6]);
  let h = b.op('Relu', [b.op('Conv', [x, w(b, [8, 3, 3, 3]), w(b, [8])], { pads: [1, 1, 1, 1] }, { name: 'conv1' })]);
  h = b.op('Relu', [b.op('ConvTranspose', [h, w(b, [8, 12, 2, 2]), w(b, [12])], { strides: [2, 2] }, { name: 'up' })]);
  h = b.op('Flatten', [b.op('GlobalAveragePool', [h])], { axis: 1 });
  h = b.op('Relu', [b.op('Gemm', [h, w(b, [12, 16], 0.3), w(b, [16])], {}, { name: 'fc1' })]);
  const t = b.op('Transpose', [h], { perm: [1, 0] });
  const y = b.op('Gemm', [t, w(b, [16, 10], 0.3), w(b, [10])], { transA: 1 }, { name: 'fc2', outputs: ['y'] });
  b.output(y, DataType.FLOAT, ['N', 10]);
  return { name: 'ConvTranspose and Gemm transA', model: b.model({ opset: 17 }), inputs: { x: [2, 3, 6, 6] } };
}

export const ALL = [convBnChain, depthwise, grouped, residual, concatSplit, mlpLayerNorm, attention, convTransposeGemm];
