/**
 * Trains the small MNIST MLP used as a test fixture and exports it to ONNX through our IR.
 *
 *   npx tsx scripts/train/train-mlp.ts                 # writes test/fixtures/models/mnist-mlp.onnx
 *   npx tsx scripts/train/train-mlp.ts --determinism
 *
 * Gemm(784->256) Relu Gemm(256->128) Relu Gemm(128->10); input `input` [N,784], output `logits`.
 */
import * as path from 'node:path';
import { DataType, GraphBuilder, float32Tensor, saveModel, type Model } from '../../src/onnx/index.js';
import { parseArgs } from './args.js';
import { loadSplit, toBatch, type Batch } from './mnist-data.js';
import { assertAgreement, checkWithOrt } from './ort-check.js';
import { Prng } from './prng.js';
import { accuracy, initTf, predict, shiftImages, tf, train, values, variable, checkDeterminism, zeros, type Params } from './tf-train.js';

const SEED = 2;
// 8,744 digits overfit quickly: plain training peaked at 95.4 % (8 epochs). Random shifts of up
// to 2 pixels and a linearly decaying learning rate get it past 96 %.
const EPOCHS = 10;
const SAMPLE = [784];
const LAYERS: Array<[number, number]> = [
  [784, 256],
  [256, 128],
  [128, 10],
];

function initParams(seed: number): Params {
  const r = new Prng(seed);
  const p: Params = {};
  LAYERS.forEach(([fanIn, fanOut], i) => {
    const last = i === LAYERS.length - 1;
    p[`w${i}`] = variable(`w${i}`, [fanIn, fanOut], last ? r.glorot(fanIn * fanOut, fanIn, fanOut) : r.he(fanIn * fanOut, fanIn));
    p[`b${i}`] = zeros(`b${i}`, [fanOut]);
  });
  return p;
}

function forward(x: tf.Tensor, p: Params): tf.Tensor {
  let h = x;
  LAYERS.forEach((_, i) => {
    h = tf.add(tf.matMul(h, p[`w${i}`]), p[`b${i}`]);
    if (i < LAYERS.length - 1) h = tf.relu(h);
  });
  return h;
}

/** Dense kernel [in, out] -> Gemm B [out, in] (transB=1), the layout PyTorch's Linear exports. */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

export function exportMlp(p: Params): Model {
  const b = new GraphBuilder('mnist_mlp');
  let h = b.input('input', DataType.FLOAT, ['N', 784]);
  LAYERS.forEach(([fanIn, fanOut], i) => {
    const last = i === LAYERS.length - 1;
    const w = b.constant(float32Tensor(`fc${i + 1}.weight`, [fanOut, fanIn], transpose(values(p[`w${i}`]), fanIn, fanOut)));
    const bias = b.constant(float32Tensor(`fc${i + 1}.bias`, [fanOut], values(p[`b${i}`])));
    h = b.op('Gemm', [h, w, bias], { transB: 1 }, { name: `fc${i + 1}`, ...(last ? { outputs: ['logits'] } : {}) });
    if (!last) h = b.op('Relu', [h], {}, { name: `relu${i + 1}` });
  });
  b.output('logits', DataType.FLOAT, ['N', 10]);
  const model = b.model({ opset: 17, irVersion: 8 });
  model.producerName = 'prune-gate scripts/train/train-mlp.ts';
  return model;
}

function fit(trainSet: Batch, evalSet: Batch, epochs: number): Params {
  const params = initParams(SEED);
  train({
    params, forward, data: trainSet, sampleShape: SAMPLE, epochs, batchSize: 64, learningRate: 1e-3, seed: SEED + 100, transform: shiftImages, finalLearningRateFraction: 0.05,
    onEpoch: (e, loss, s) => console.log(`epoch ${e + 1}/${epochs}: loss ${loss.toFixed(4)}, eval ${(100 * accuracy(predict(forward, params, evalSet.x, evalSet.count, SAMPLE), evalSet.y)).toFixed(2)} %, ${s.toFixed(0)} s`),
  });
  return params;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await initTf(args.backend ?? 'cpu');
  const split = loadSplit();
  const trainSet = toBatch(args.limit ? split.train.slice(0, args.limit) : split.train);
  const evalSet = toBatch(split.eval);
  if (args.determinism) {
    if (!checkDeterminism(() => fit(toBatch(split.train.slice(0, args.limit ?? 1024)), evalSet, 1))) process.exitCode = 1;
    return;
  }
  const started = Date.now();
  const params = fit(trainSet, evalSet, args.epochs ?? EPOCHS);
  const trainSeconds = (Date.now() - started) / 1000;
  const tfLogits = predict(forward, params, evalSet.x, evalSet.count, SAMPLE);
  const model = exportMlp(params);
  const check = await checkWithOrt(model, evalSet.x, evalSet.y, SAMPLE, tfLogits);
  console.log(`tfjs eval ${(100 * accuracy(tfLogits, evalSet.y)).toFixed(2)} %, ORT eval ${(100 * check.accuracy).toFixed(2)} %, max |diff| ${check.maxAbsDiff.toExponential(2)}, trained on ${trainSet.count} in ${trainSeconds.toFixed(0)} s`);
  assertAgreement(check);
  const out = args.out ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../test/fixtures/models/mnist-mlp.onnx');
  saveModel(model, out);
  console.log(`wrote ${out}`);
}

await main();
