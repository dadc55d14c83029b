import { DataType, GraphBuilder, GraphIndex, float32Tensor, getInt, toTypedArray, type Graph, type Tensor } from '../../../src/onnx/index.js';
import { QdqEmitter, type ParamsSource, type QdqEmitterOptions } from '../../../src/passes/quantize/qdq-emitter.js';

/** x -> Gemm(w [3, 4], b [3], transB) -> h -> Add(c) -> y, plus a value already named `x_quantized`. */
function graph(): Graph {
  const b = new GraphBuilder('emitter');
  const x = b.input('x', DataType.FLOAT, ['N', 4]);
  const h = b.op('Gemm', [x, b.constant(float32Tensor('w', [3, 4], [0.6, -2, 0.5, 0, 0.1, 0.25, -0.3, 0.4, 3, 0, 0, -1.2])), b.constant(float32Tensor('b', [3], [0.5, -1, 0.25]))], { transB: 1 }, { name: 'fc', outputs: ['h'] });
  b.op('Add', [h, b.constant(float32Tensor('c', [4], [0, 1, 2, -1]))], {}, { name: 'add', outputs: ['y'] });
  // Names the emitter would pick first for x's Q output and scale.
  b.op('Identity', [x], {}, { name: 'x_QuantizeLinear', outputs: ['x_quantized'] });
  b.output('y', DataType.FLOAT, ['N', 3]);
  return b.model({ opset: 17 }).graph;
}

const RANGES: Record<string, ParamsSource> = { x: { lo: -1, hi: 3 }, h: { lo: -2, hi: 2 }, r: { sameAs: 'h' } };

function emitter(g: Graph, options: Partial<QdqEmitterOptions> = {}): { qdq: QdqEmitter; asked: string[] } {
  const asked: string[] = [];
  const qdq = new QdqEmitter(new GraphIndex(g), {
    activationType: 'uint8',
    weightBits: 8,
    paramsSource: (t) => {
      asked.push(t);
      return RANGES[t];
    },
    ...options,
  });
  return { qdq, asked };
}

const init = (qdq: QdqEmitter, name: string): Tensor => {
  const t = qdq.initializers.find((i) => i.name === name);
  if (!t) throw new Error(`no initializer ${name}`);
  return t;
};
const values = (t: Tensor) => Array.from(toTypedArray(t) as ArrayLike<number>);

test('a tensor quantized twice gets one Q/DQ pair and one scale/zero point; names avoid existing ones', () => {
  const g = graph();
  const { qdq, asked } = emitter(g);
  const dq = qdq.quantizeDequantize('x');
  expect(qdq.quantizeDequantize('x')).toBe(dq);
  expect(asked).toEqual(['x']);
  expect(qdq.nodes.map((n) => [n.opType, n.name, n.inputs, n.outputs])).toEqual([
    ['QuantizeLinear', 'x_QuantizeLinear_1', ['x', 'x_scale', 'x_zero_point'], ['x_quantized_1']],
    ['DequantizeLinear', 'x_DequantizeLinear', ['x_quantized_1', 'x_scale', 'x_zero_point'], ['x_dequantized']],
  ]);
  expect(dq).toBe('x_dequantized');
  expect(qdq.initializers.map((t) => [t.name, t.dataType, t.dims])).toEqual([
    ['x_scale', DataType.FLOAT, []],
    ['x_zero_point', DataType.UINT8, []],
  ]);
  expect(values(init(qdq, 'x_scale'))).toEqual([Math.fround(4 / 255)]);
  expect(values(init(qdq, 'x_zero_point'))).toEqual([64]);
  const existing = new Set([...g.nodes.flatMap((n) => [n.name, ...n.inputs, ...n.outputs]), ...g.initializers.map((t) => t.name)]);
  const made = [...qdq.nodes.flatMap((n) => [n.name, ...n.outputs]), ...qdq.initializers.map((t) => t.name)];
  expect(made.filter((n) => existing.has(n))).toEqual([]);
  expect(new Set(made).size).toBe(made.length);
});

test('a tensor whose source is another tensor shares its parameters (no new initializers)', () => {
  const { qdq, asked } = emitter(graph(), { activationType: 'int8' });
  const r = qdq.activationParams('r');
  expect(asked).toEqual(['r', 'h']);
  expect(qdq.activationParams('h')).toBe(r);
  expect(r).toMatchObject({ scaleName: 'h_scale', zpName: 'h_zero_point', zeroPoint: 0, type: 'int8' });
  expect(r.scale).toBeCloseTo(2 / 127, 9);
  expect(qdq.initializers.map((t) => [t.name, t.dataType])).toEqual([
    ['h_scale', DataType.FLOAT],
    ['h_zero_point', DataType.INT8],
  ]);
});

test('output quantization: the producer writes <t>_float, the DQ writes the tensor itself', () => {
  const { qdq } = emitter(graph());
  expect(qdq.quantizeOutput('h')).toBe('h_float');
  expect(qdq.nodes.map((n) => [n.opType, n.inputs[0], n.outputs[0]])).toEqual([
    ['QuantizeLinear', 'h_float', 'h_quantized'],
    ['DequantizeLinear', 'h_quantized', 'h'],
  ]);
});

test('per-channel weight DQ has the axis and [C] scales and zero points; per-tensor has neither; cached per axis', () => {
  const { qdq } = emitter(graph(), { weightBits: 7 });
  const w = qdq.dequantizeWeight('w', 0);
  expect(qdq.dequantizeWeight('w', 0)).toBe(w);
  expect(Array.from(w.scales)).toEqual([Math.fround(2 / 63), Math.fround(0.4 / 63), Math.fround(3 / 63)]);
  expect(qdq.nodes).toHaveLength(1);
  const dq = qdq.nodes[0];
  expect(dq).toMatchObject({ opType: 'DequantizeLinear', inputs: ['w_quantized', 'w_scale', 'w_zero_point'], outputs: [w.dq] });
  expect(getInt(dq, 'axis', -99)).toBe(0);
  expect(init(qdq, 'w_quantized')).toMatchObject({ dataType: DataType.INT8, dims: [3, 4] });
  expect(values(init(qdq, 'w_quantized'))).toEqual([19, -63, 16, 0, 16, 39, -47, 63, 63, 0, 0, -25]);
  expect(init(qdq, 'w_scale').dims).toEqual([3]);
  expect(init(qdq, 'w_zero_point')).toMatchObject({ dataType: DataType.INT8, dims: [3] });
  expect(values(init(qdq, 'w_zero_point'))).toEqual([0, 0, 0]);

  const t = qdq.dequantizeWeight('w', -1);
  expect(t.dq).not.toBe(w.dq);
  expect(qdq.nodes[1].attributes).toEqual([]);
  expect(init(qdq, 'w_scale_1').dims).toEqual([]);
  expect(Array.from(t.scales)).toEqual([Math.fround(3 / 63)]);
});

test('bias DQ: int32 values at scale x_scale * w_scale[c], zero point 0, axis 0', () => {
  const { qdq } = emitter(graph());
  const w = qdq.dequantizeWeight('w', 0);
  const xScale = qdq.activationParams('x').scale;
  const dq = qdq.dequantizeBias('b', xScale, w.scales);
  const node = qdq.nodes.find((n) => n.outputs[0] === dq);
  expect(node?.inputs).toEqual(['b_quantized', 'b_scale', 'b_zero_point']);
  expect(getInt(node!, 'axis', -99)).toBe(0);
  const scales = Array.from(w.scales, (s) => Math.fround(xScale * s));
  expect(values(init(qdq, 'b_scale'))).toEqual(scales);
  expect(init(qdq, 'b_quantized')).toMatchObject({ dataType: DataType.INT32, dims: [3] });
  // 0.5 / (4/255 * 2/127) = 2024.06, -1 / (4/255 * 0.4/127) = -20240.6.
  expect(values(init(qdq, 'b_quantized'))).toEqual([0.5, -1, 0.25].map((v, c) => Math.round(v / scales[c])));
  expect(values(init(qdq, 'b_quantized')).slice(0, 2)).toEqual([2024, -20241]);
  expect(init(qdq, 'b_zero_point')).toMatchObject({ dataType: DataType.INT32, dims: [3] });
  expect(values(init(qdq, 'b_zero_point'))).toEqual([0, 0, 0]);
});

test('a constant read as an activation is quantized over its own range with a DQ only, once', () => {
  const { qdq, asked } = emitter(graph());
  const dq = qdq.dequantizeConstant('c');
  expect(qdq.dequantizeConstant('c')).toBe(dq);
  expect(asked).toEqual([]);
  expect(qdq.nodes.map((n) => n.opType)).toEqual(['DequantizeLinear']);
  expect(qdq.nodes[0].inputs).toEqual(['c_quantized', 'c_scale', 'c_zero_point']);
  // Range [-1, 2] in uint8: scale 3/255, zero point 85.
  expect(values(init(qdq, 'c_scale'))).toEqual([Math.fround(3 / 255)]);
  expect(values(init(qdq, 'c_zero_point'))).toEqual([85]);
  expect(init(qdq, 'c_quantized')).toMatchObject({ dataType: DataType.UINT8, dims: [4] });
  expect(values(init(qdq, 'c_quantized'))).toEqual([85, 170, 255, 0]);
});
