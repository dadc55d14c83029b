/** Small models, one per operator family, built in code for the round-trip and graph tests. */
import { DataType, GraphBuilder, createModel, float32Tensor, fromFloat32, int64Tensor, type Graph, type Model } from '../../src/onnx/index.js';
import { uniformArray } from '../helpers/seeded-random.js';

const w = (name: string, dims: number[], seed: number) => float32Tensor(name, dims, uniformArray(dims.reduce((a, b) => a * b, 1), seed, -0.5, 0.5));

export function convNet(): Model {
  const b = new GraphBuilder('convnet');
  const x = b.input('x', DataType.FLOAT, ['N', 3, 16, 16]);
  let h = b.op('Conv', [x, b.constant(w('c1.w', [8, 3, 3, 3], 1)), b.constant(w('c1.b', [8], 2))], { pads: [1, 1, 1, 1] });
  h = b.op('Relu', [h]);
  h = b.op('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2] });
  h = b.op('Conv', [h, b.constant(w('c2.w', [16, 4, 3, 3], 3))], { group: 2, strides: [2, 2] });
  h = b.op('BatchNormalization', [h, b.constant(w('bn.s', [16], 4)), b.constant(w('bn.b', [16], 5)), b.constant(w('bn.m', [16], 6)), b.constant(float32Tensor('bn.v', [16], new Float32Array(16).fill(1)))]);
  h = b.op('GlobalAveragePool', [h]);
  h = b.op('Flatten', [h]);
  h = b.op('Gemm', [h, b.constant(w('fc.w', [10, 16], 7)), b.constant(w('fc.b', [10], 8))], { transB: 1 });
  b.op('Softmax', [h], { axis: -1 }, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['N', 10]);
  return b.model({ opset: 17 });
}

/** If whose branches read an outer-scope value and an outer initializer, with their own initializers. */
export function ifOuterScope(): Model {
  const b = new GraphBuilder('if');
  const x = b.input('x', DataType.FLOAT, [2, 3]);
  const cond = b.input('cond', DataType.BOOL, []);
  const scale = b.constant(w('outer_scale', [2, 3], 11));
  const shifted = b.op('Add', [x, scale], {}, { outputs: ['shifted'] });
  const branch = (name: string, op: string, seed: number): Graph => {
    const g = new GraphBuilder(name);
    const own = g.constant(w(`${name}_bias`, [2, 3], seed));
    const t = g.op(op, [shifted, own]);
    g.op('Mul', [t, scale], {}, { outputs: [`${name}_out`] });
    g.output(`${name}_out`, DataType.FLOAT, [2, 3]);
    return g.graph;
  };
  b.op('If', [cond], { then_branch: branch('then', 'Add', 12), else_branch: branch('else', 'Sub', 13) }, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, [2, 3]);
  return b.model({ opset: 17 });
}

/** Loop with a carried value, a scan output and an outer-scope initializer read in the body. */
export function loopModel(): Model {
  const b = new GraphBuilder('loop');
  const x = b.input('x', DataType.FLOAT, [4]);
  const trip = b.constant(int64Tensor('trip', [], [5]));
  const keep = b.constant(fromFloat32('keep', DataType.BOOL, [], [1]));
  const step = b.constant(w('step', [4], 21));
  const body = new GraphBuilder('body');
  body.input('i', DataType.INT64, []);
  body.input('c_in', DataType.BOOL, []);
  body.input('acc_in', DataType.FLOAT, [4]);
  const fi = body.op('Cast', ['i'], { to: DataType.FLOAT });
  const scaled = body.op('Mul', [step, fi]);
  body.op('Add', ['acc_in', scaled], {}, { outputs: ['acc_out'] });
  body.op('Identity', ['c_in'], {}, { outputs: ['c_out'] });
  body.op('Tanh', ['acc_out'], {}, { outputs: ['scan_out'] });
  body.output('c_out', DataType.BOOL, []);
  body.output('acc_out', DataType.FLOAT, [4]);
  body.output('scan_out', DataType.FLOAT, [4]);
  b.opMulti('Loop', [trip, keep, x], { body: body.graph }, { outputs: ['final', 'stacked'] });
  b.output('final', DataType.FLOAT, [4]);
  b.output('stacked', DataType.FLOAT, [5, 4]);
  return b.model({ opset: 17 });
}

/** Scan computing a running sum over the sequence axis. */
export function scanModel(): Model {
  const b = new GraphBuilder('scan');
  b.input('init', DataType.FLOAT, [3]);
  b.input('seq', DataType.FLOAT, [6, 3]);
  const body = new GraphBuilder('scan_body');
  body.input('s_in', DataType.FLOAT, [3]);
  body.input('x_t', DataType.FLOAT, [3]);
  body.op('Add', ['s_in', 'x_t'], {}, { outputs: ['s_out'] });
  body.op('Identity', ['s_out'], {}, { outputs: ['y_t'] });
  body.output('s_out', DataType.FLOAT, [3]);
  body.output('y_t', DataType.FLOAT, [3]);
  b.opMulti('Scan', ['init', 'seq'], { body: body.graph, num_scan_inputs: 1 }, { outputs: ['sum', 'prefix'] });
  b.output('sum', DataType.FLOAT, [3]);
  b.output('prefix', DataType.FLOAT, [6, 3]);
  return b.model({ opset: 17 });
}

/** A model-local function (FunctionProto) called twice. */
export function functionModel(): Model {
  const b = new GraphBuilder('func');
  const x = b.input('x', DataType.FLOAT, [2, 4]);
  const h = b.op('ScaledRelu', [x, b.constant(float32Tensor('alpha', [], [0.5]))], {}, { domain: 'local' });
  b.op('ScaledRelu', [h, 'alpha'], {}, { domain: 'local', outputs: ['y'] });
  b.output('y', DataType.FLOAT, [2, 4]);
  const m = b.model({ opset: 17, extraOpsets: [{ domain: 'local', version: 1 }] });
  m.functions.push({
    name: 'ScaledRelu',
    domain: 'local',
    inputs: ['X', 'A'],
    outputs: ['Y'],
    attributes: [],
    opsetImports: [{ domain: '', version: 17 }],
    nodes: [
      { name: 'r', opType: 'Relu', domain: '', inputs: ['X'], outputs: ['R'], attributes: [] },
      { name: 'm', opType: 'Mul', domain: '', inputs: ['R', 'A'], outputs: ['Y'], attributes: [] },
    ],
  });
  return m;
}

/** MatMul against a sparse initializer. */
export function sparseModel(): Model {
  const b = new GraphBuilder('sparse');
  const x = b.input('x', DataType.FLOAT, [2, 4]);
  b.graph.sparseInitializers.push({
    values: float32Tensor('sw', [3], [1.5, -2, 0.25]),
    indices: int64Tensor('sw_indices', [3], [0, 5, 11]),
    dims: [4, 3],
  });
  b.op('MatMul', [x, 'sw'], {}, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, [2, 3]);
  return b.model({ opset: 17 });
}

/** com.microsoft contrib ops: FusedMatMul and Gelu. */
export function contribModel(): Model {
  const b = new GraphBuilder('contrib');
  const x = b.input('x', DataType.FLOAT, [2, 8]);
  const h = b.op('FusedMatMul', [x, b.constant(w('fw', [6, 8], 31))], { transB: 1, alpha: { float: 0.5 } }, { domain: 'com.microsoft' });
  b.op('Gelu', [h], {}, { domain: 'com.microsoft', outputs: ['y'] });
  b.output('y', DataType.FLOAT, [2, 6]);
  return b.model({ opset: 17, extraOpsets: [{ domain: 'com.microsoft', version: 1 }] });
}

/** IR 3, opset 7: initializers also listed as graph inputs, as IR 3 required. */
export function ir3Model(): Model {
  const b = new GraphBuilder('old');
  const x = b.input('x', DataType.FLOAT, [1, 5]);
  const weights = b.constant(w('W', [5, 4], 41));
  const bias = b.constant(w('B', [4], 42));
  b.input(weights, DataType.FLOAT, [5, 4]);
  b.input(bias, DataType.FLOAT, [4]);
  const h = b.op('Gemm', [x, weights, bias]);
  b.op('Sigmoid', [h], {}, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, [1, 4]);
  return createModel(b.graph, [{ domain: '', version: 7 }], 3);
}
