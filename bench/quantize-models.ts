/** Generated models for the quantization benchmarks: seeded, built in memory with GraphBuilder. */
import { DataType, encodeModel, fromTypedArray, GraphBuilder, type Model } from '../src/onnx/index.js';
import { ModelSession } from '../src/evaluate/session.js';
import { uniform as mulberry32 } from '../src/evaluate/rng.js';

function weights(n: number, fanIn: number, rand: () => number): Float32Array {
  // He-style scale keeps activations in range through deep chains.
  const s = Math.sqrt(6 / fanIn);
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = (rand() * 2 - 1) * s;
  return w;
}

/** `layers` x (MatMul d->4d, Relu, MatMul 4d->d): 24 layers of d=768 is 113M parameters. */
export function matmulChain(layers = 24, d = 768, seed = 1): Model {
  const rand = mulberry32(seed);
  const b = new GraphBuilder('matmul-chain');
  let h = b.input('x', DataType.FLOAT, ['N', d]);
  for (let l = 0; l < layers; l++) {
    const up = b.constant(fromTypedArray(`up${l}`, DataType.FLOAT, [d, 4 * d], weights(d * 4 * d, d, rand)));
    const down = b.constant(fromTypedArray(`down${l}`, DataType.FLOAT, [4 * d, d], weights(4 * d * d, 4 * d, rand)));
    h = b.op('MatMul', [b.op('Relu', [b.op('MatMul', [h, up], {}, { name: `up_${l}` })]), down], {}, { name: `down_${l}` });
  }
  b.output(h, DataType.FLOAT, ['N', d]);
  return b.model({ opset: 17 });
}

/**
 * A VGG-ish CNN on 3x32x32: stem 3->128 (s2), 128->512 (s2), then 10 residual-free 512->512 3x3
 * convs at 8x8, GAP, Gemm 512->1000: 24.7M parameters.
 */
export function cnn25m(seed = 2): Model {
  const rand = mulberry32(seed);
  const b = new GraphBuilder('cnn25m');
  let h = b.input('x', DataType.FLOAT, ['N', 3, 32, 32]);
  const conv = (x: string, cin: number, cout: number, stride: number, name: string) => {
    const w = b.constant(fromTypedArray(`${name}_w`, DataType.FLOAT, [cout, cin, 3, 3], weights(cout * cin * 9, cin * 9, rand)));
    const bias = b.constant(fromTypedArray(`${name}_b`, DataType.FLOAT, [cout], weights(cout, 100, rand)));
    return b.op('Relu', [b.op('Conv', [x, w, bias], { pads: [1, 1, 1, 1], strides: [stride, stride] }, { name })]);
  };
  h = conv(h, 3, 128, 2, 'stem');
  h = conv(h, 128, 512, 2, 'down');
  for (let l = 0; l < 10; l++) h = conv(h, 512, 512, 1, `conv${l}`);
  h = b.op('Flatten', [b.op('GlobalAveragePool', [h], {}, { name: 'gap' })], {}, { name: 'flat' });
  const fw = b.constant(fromTypedArray('fc_w', DataType.FLOAT, [1000, 512], weights(512000, 512, rand)));
  const fb = b.constant(fromTypedArray('fc_b', DataType.FLOAT, [1000], new Float32Array(1000)));
  h = b.op('Gemm', [h, fw, fb], { transB: 1 }, { name: 'fc' });
  b.output(h, DataType.FLOAT, ['N', 1000]);
  return b.model({ opset: 17 });
}

export function modelBytes(m: Model): number {
  return m.graph.initializers.reduce((a, t) => a + t.raw.byteLength, 0);
}

/**
 * Creates, runs and releases a session on a 4x4 MatMul: the benchmarks call it before they take
 * their RSS baseline, so that ONNX Runtime's one-time start-up (its library pages faulted in, the
 * environment and thread pools, ~25 MB here) sits in the baseline rather than being charged to the
 * first pass of the process as if it grew with the model.
 */
export async function warmRuntime(): Promise<void> {
  const b = new GraphBuilder('warm-up');
  const x = b.input('x', DataType.FLOAT, [1, 4]);
  b.op('MatMul', [x, b.constant(fromTypedArray('w', DataType.FLOAT, [4, 4], new Float32Array(16)))], {}, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, [1, 4]);
  const session = await ModelSession.create(encodeModel(b.model({ opset: 17 })), { label: 'warm-up' });
  try {
    await session.run({ x: { type: 'float32', dims: [1, 4], data: new Float32Array(4) } });
  } finally {
    await session.release();
  }
}
