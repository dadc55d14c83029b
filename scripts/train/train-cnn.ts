/**
 * Trains the MNIST CNN of examples/mnist and exports it to ONNX through our IR.
 *
 *   npx tsx scripts/train/train-cnn.ts                 # writes examples/mnist/model.onnx
 *   npx tsx scripts/train/train-cnn.ts --determinism   # two short runs, same weights?
 *
 * Conv(1->16,3x3) Relu Conv(16->32,3x3) Relu MaxPool2x2 Flatten Gemm(4608->64) Relu Gemm(64->10).
 */
import * as path from 'node:path';
import { DataType, GraphBuilder, float32Tensor, saveModel, type Model } from '../../src/onnx/index.js';
import { parseArgs } from './args.js';
import { loadSplit, toBatch, type Batch } from './mnist-data.js';
import { assertAgreement, checkWithOrt } from './ort-check.js';
import { conv2dValid } from './im2col.js';
import { Prng } from './prng.js';
import { accuracy, initTf, predict, tf, train, values, variable, checkDeterminism, zeros, type Params } from './tf-train.js';

const SEED = 1;
// One step costs ~2.4 s on tfjs's pure-JS CPU backend (double that while other jobs share the 2
// cores), so the budget is a few hundred steps. 2 epochs at a constant 1e-3 reached 95.4 %; a
// higher start with linear decay gets more out of the same steps.
const EPOCHS = 3;
const LEARNING_RATE = 2e-3;
const SAMPLE = [28, 28, 1]; // NHWC for tfjs; the same bytes as ONNX's [1, 28, 28]

function initParams(seed: number): Params {
  const r = new Prng(seed);
  return {
    c1w: variable('c1w', [3, 3, 1, 16], r.he(3 * 3 * 16, 9)),
    c1b: zeros('c1b', [16]),
    c2w: variable('c2w', [3, 3, 16, 32], r.he(3 * 3 * 16 * 32, 144)),
    c2b: zeros('c2b', [32]),
    f1w: variable('f1w', [4608, 64], r.he(4608 * 64, 4608)),
    f1b: zeros('f1b', [64]),
    f2w: variable('f2w', [64, 10], r.glorot(640, 64, 10)),
    f2b: zeros('f2b', [10]),
  };
}

function forward(x: tf.Tensor, p: Params): tf.Tensor {
  const x4 = x as tf.Tensor4D;
  let h = tf.relu(tf.add(conv2dValid(x4, p.c1w as tf.Tensor4D), p.c1b)) as tf.Tensor4D;
  h = tf.relu(tf.add(conv2dValid(h, p.c2w as tf.Tensor4D), p.c2b)) as tf.Tensor4D;
  h = tf.maxPool(h, 2, 2, 'valid');
  const flat = tf.reshape(h, [-1, 4608]);
  const f1 = tf.relu(tf.add(tf.matMul(flat, p.f1w), p.f1b));
  return tf.add(tf.matMul(f1, p.f2w), p.f2b);
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
 * fc1 rows come in tfjs's NHWC flatten order ((h*12 + w)*32 + c); ONNX Flatten of NCHW gives
 * c*144 + h*12 + w. Permute the rows while transposing to Gemm's [out, in].
 */
function fc1Weight(w: Float32Array): Float32Array {
  const out = new Float32Array(w.length);
  for (let c = 0; c < 32; c++)
    for (let s = 0; s < 144; s++)
      for (let o = 0; o < 64; o++) out[o * 4608 + c * 144 + s] = w[(s * 32 + c) * 64 + o];
  return out;
}

export function exportCnn(p: Params): Model {
  const b = new GraphBuilder('mnist_cnn');
  const x = b.input('input', DataType.FLOAT, ['N', 1, 28, 28]);
  const t = (name: string, dims: number[], data: Float32Array) => b.constant(float32Tensor(name, dims, data));
  const c1 = b.op('Conv', [x, t('conv1.weight', [16, 1, 3, 3], convWeight(values(p.c1w), 3, 3, 1, 16)), t('conv1.bias', [16], values(p.c1b))], { kernel_shape: [3, 3] }, { name: 'conv1' });
  const r1 = b.op('Relu', [c1], {}, { name: 'relu1' });
  const c2 = b.op('Conv', [r1, t('conv2.weight', [32, 16, 3, 3], convWeight(values(p.c2w), 3, 3, 16, 32)), t('conv2.bias', [32], values(p.c2b))], { kernel_shape: [3, 3] }, { name: 'conv2' });
  const r2 = b.op('Relu', [c2], {}, { name: 'relu2' });
  const pool = b.op('MaxPool', [r2], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool' });
  const flat = b.op('Flatten', [pool], { axis: 1 }, { name: 'flatten' });
  const f1 = b.op('Gemm', [flat, t('fc1.weight', [64, 4608], fc1Weight(values(p.f1w))), t('fc1.bias', [64], values(p.f1b))], { transB: 1 }, { name: 'fc1' });
  const r3 = b.op('Relu', [f1], {}, { name: 'relu3' });
  b.op('Gemm', [r3, t('fc2.weight', [10, 64], transpose(values(p.f2w), 64, 10)), t('fc2.bias', [10], values(p.f2b))], { transB: 1 }, { name: 'fc2', outputs: ['logits'] });
  b.output('logits', DataType.FLOAT, ['N', 10]);
  const model = b.model({ opset: 17, irVersion: 8 });
  model.producerName = 'prune-gate scripts/train/train-cnn.ts';
  return model;
}

function fit(trainSet: Batch, evalSet: Batch, epochs: number): Params {
  const params = initParams(SEED);
  train({
    params, forward, data: trainSet, sampleShape: SAMPLE, epochs, batchSize: 64, learningRate: LEARNING_RATE, seed: SEED + 100, finalLearningRateFraction: 0.05,
    onEpoch: (e, loss, s) => console.log(`epoch ${e + 1}/${epochs}: loss ${loss.toFixed(4)}, eval ${(100 * accuracy(predict(forward, params, evalSet.x, evalSet.count, SAMPLE), evalSet.y)).toFixed(2)} %, ${s.toFixed(0)} s`),
  });
  return params;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await initTf();
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
  console.log(`tfjs eval ${(100 * accuracy(tfLogits, evalSet.y)).toFixed(2)} %, ORT eval ${(100 * check.accuracy).toFixed(2)} %, max |diff| ${check.maxAbsDiff.toExponential(2)}, trained on ${trainSet.count} in ${trainSeconds.toFixed(0)} s`);
  assertAgreement(check);
  const out = args.out ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../examples/mnist/model.onnx');
  saveModel(model, out);
  console.log(`wrote ${out}`);
}

await main();
