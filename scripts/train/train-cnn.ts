/**
 * Trains the MNIST CNN of examples/mnist and exports it to ONNX through our IR.
 *
 *   npx tsx scripts/train/train-cnn.ts                 # writes examples/mnist/model.onnx
 *   npx tsx scripts/train/train-cnn.ts --determinism   # two short runs, same weights?
 *   npx tsx scripts/train/train-cnn.ts --backend cpu   # tfjs's pure-JS backend (~10x slower, other weights)
 *
 * Conv(1->32,3x3) Relu Conv(32->48,3x3) Relu Conv(48->64,3x3) Relu MaxPool2x2
 * Conv(64->64,3x3) Relu MaxPool2x2 Flatten Gemm(1024->128) Relu Gemm(128->10).
 * All convolutions are 'valid' (28 -> 26 -> 24 -> 22 -> pool 11 -> 9 -> pool 4, the last pool
 * dropping row and column 9 as ONNX's floor mode does). Sized for ONNX Runtime latency, not only
 * accuracy: ~25 M multiply-adds per digit, about 0.5 ms at batch 1 on one thread, so that a pruned
 * model's speed-up stands well clear of the few-hundredths-of-a-millisecond per-call jitter;
 * 211 k weights (0.85 MB).
 */
import * as path from 'node:path';
import { DataType, GraphBuilder, float32Tensor, saveModel, type Model } from '../../src/onnx/index.js';
import { parseArgs } from './args.js';
import { loadSplit, toBatch, type Batch } from './mnist-data.js';
import { assertAgreement, checkWithOrt } from './ort-check.js';
import { conv2dValid, matMul } from './im2col.js';
import { Prng } from './prng.js';
import { accuracy, initTf, predict, shiftImages, tf, train, values, variable, checkDeterminism, zeros, type Params } from './tf-train.js';

const SEED = 1;
// One step of 64 costs ~1.3 s on the wasm backend (~10x that on the pure-JS CPU backend) with the
// 2 cores shared, ~3 minutes an epoch.
const EPOCHS = 10;
const BATCH = 64;
const LEARNING_RATE = 1e-3;
const SAMPLE = [28, 28, 1]; // NHWC for tfjs; the same bytes as ONNX's [1, 28, 28]

/** [in, out] channels of the four 3x3 convolutions. */
const CONVS: Array<[number, number]> = [
  [1, 32],
  [32, 48],
  [48, 64],
  [64, 64],
];
/** Side and channels of the last pooled feature map, and fc1's width. */
const SIDE = 4;
const CHANNELS = 64;
const FLAT = SIDE * SIDE * CHANNELS;
const HIDDEN = 128;

function initParams(seed: number): Params {
  const r = new Prng(seed);
  const p: Params = {};
  CONVS.forEach(([cin, cout], i) => {
    p[`c${i + 1}w`] = variable(`c${i + 1}w`, [3, 3, cin, cout], r.he(9 * cin * cout, 9 * cin));
    p[`c${i + 1}b`] = zeros(`c${i + 1}b`, [cout]);
  });
  p.f1w = variable('f1w', [FLAT, HIDDEN], r.he(FLAT * HIDDEN, FLAT));
  p.f1b = zeros('f1b', [HIDDEN]);
  p.f2w = variable('f2w', [HIDDEN, 10], r.glorot(HIDDEN * 10, HIDDEN, 10));
  p.f2b = zeros('f2b', [10]);
  return p;
}

function forward(x: tf.Tensor, p: Params): tf.Tensor {
  const conv = (h: tf.Tensor4D, i: number) => tf.relu(tf.add(conv2dValid(h, p[`c${i}w`] as tf.Tensor4D), p[`c${i}b`])) as tf.Tensor4D;
  let h = conv(conv(conv(x as tf.Tensor4D, 1), 2), 3);
  h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.maxPool(conv(h, 4), 2, 2, 'valid');
  const flat = tf.reshape(h, [-1, FLAT]) as tf.Tensor2D;
  const f1 = tf.relu(tf.add(matMul(flat, p.f1w as tf.Tensor2D), p.f1b)) as tf.Tensor2D;
  return tf.add(matMul(f1, p.f2w as tf.Tensor2D), p.f2b);
}

/** tfjs conv kernel [kh, kw, in, out] -> ONNX Conv weight [out, in, kh, kw]. */
function convWeight(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < kh; a++)
    for (let b = 0; b < kw; b++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + a) * kw + b] = w[((a * kw + b) * cin + i) * cout + o];
  return out;
}

/** Dense kernel [in, out] -> Gemm B [out, in] (transB=1). */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

/**
 * fc1 rows come in tfjs's NHWC flatten order ((h*4 + w)*64 + c); ONNX Flatten of NCHW gives
 * c*16 + h*4 + w. Permute the rows while transposing to Gemm's [out, in].
 */
function fc1Weight(w: Float32Array): Float32Array {
  const out = new Float32Array(w.length);
  const spatial = SIDE * SIDE;
  for (let c = 0; c < CHANNELS; c++)
    for (let s = 0; s < spatial; s++)
      for (let o = 0; o < HIDDEN; o++) out[o * FLAT + c * spatial + s] = w[(s * CHANNELS + c) * HIDDEN + o];
  return out;
}

export function exportCnn(p: Params): Model {
  const b = new GraphBuilder('mnist_cnn');
  const t = (name: string, dims: number[], data: Float32Array) => b.constant(float32Tensor(name, dims, data));
  let h = b.input('input', DataType.FLOAT, ['N', 1, 28, 28]);
  CONVS.forEach(([cin, cout], i) => {
    const n = i + 1;
    const weight = t(`conv${n}.weight`, [cout, cin, 3, 3], convWeight(values(p[`c${n}w`]), 3, 3, cin, cout));
    h = b.op('Conv', [h, weight, t(`conv${n}.bias`, [cout], values(p[`c${n}b`]))], { kernel_shape: [3, 3] }, { name: `conv${n}` });
    h = b.op('Relu', [h], {}, { name: `relu${n}` });
    if (n >= 3) h = b.op('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2] }, { name: `pool${n - 2}` });
  });
  const flat = b.op('Flatten', [h], { axis: 1 }, { name: 'flatten' });
  const f1 = b.op('Gemm', [flat, t('fc1.weight', [HIDDEN, FLAT], fc1Weight(values(p.f1w))), t('fc1.bias', [HIDDEN], values(p.f1b))], { transB: 1 }, { name: 'fc1' });
  const r5 = b.op('Relu', [f1], {}, { name: 'relu5' });
  b.op('Gemm', [r5, t('fc2.weight', [10, HIDDEN], transpose(values(p.f2w), HIDDEN, 10)), t('fc2.bias', [10], values(p.f2b))], { transB: 1 }, { name: 'fc2', outputs: ['logits'] });
  b.output('logits', DataType.FLOAT, ['N', 10]);
  const model = b.model({ opset: 17, irVersion: 8 });
  model.producerName = 'prune-gate scripts/train/train-cnn.ts';
  return model;
}

function fit(trainSet: Batch, evalSet: Batch, epochs: number): Params {
  const params = initParams(SEED);
  train({
    params, forward, data: trainSet, sampleShape: SAMPLE, epochs, batchSize: BATCH, learningRate: LEARNING_RATE, seed: SEED + 100, transform: shiftImages, finalLearningRateFraction: 0.05,
    onEpoch: (e, loss, s) => console.log(`epoch ${e + 1}/${epochs}: loss ${loss.toFixed(4)}, eval ${(100 * accuracy(predict(forward, params, evalSet.x, evalSet.count, SAMPLE), evalSet.y)).toFixed(2)} %, ${s.toFixed(0)} s`),
  });
  return params;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const backend = args.backend ?? 'wasm';
  await initTf(backend);
  const split = loadSplit();
  const trainSet = toBatch(args.limit ? split.train.slice(0, args.limit) : split.train);
  const evalSet = toBatch(split.eval);
  if (args.determinism) {
    if (!checkDeterminism(() => fit(toBatch(split.train.slice(0, args.limit ?? 512)), evalSet, 1))) process.exitCode = 1;
    return;
  }
  const started = Date.now();
  const params = fit(trainSet, evalSet, args.epochs ?? EPOCHS);
  const trainSeconds = (Date.now() - started) / 1000;
  const tfLogits = predict(forward, params, evalSet.x, evalSet.count, SAMPLE);
  const model = exportCnn(params);
  const check = await checkWithOrt(model, evalSet.x, evalSet.y, [1, 28, 28], tfLogits);
  console.log(`tfjs eval ${(100 * accuracy(tfLogits, evalSet.y)).toFixed(2)} %, ORT eval ${(100 * check.accuracy).toFixed(2)} %, max |diff| ${check.maxAbsDiff.toExponential(2)}, trained on ${trainSet.count} in ${trainSeconds.toFixed(0)} s (${backend})`);
  assertAgreement(check);
  const out = args.out ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../examples/mnist/model.onnx');
  saveModel(model, out);
  console.log(`wrote ${out}`);
}

await main();
