/**
 * Trains the MNIST transformer of examples/transformer and exports it to ONNX through our IR.
 *
 *   npx tsx scripts/train/train-transformer.ts                 # writes examples/transformer/model.onnx
 *   npx tsx scripts/train/train-transformer.ts --determinism
 *   npx tsx scripts/train/train-transformer.ts --backend cpu   # tfjs's pure-JS backend (far slower, other weights)
 *
 * The model and its export are in transformer-model.ts.
 */
import * as path from 'node:path';
import { saveModel } from '../../src/onnx/index.js';
import { parseArgs } from './args.js';
import { loadSplit, patchify, toBatch, type Batch } from './mnist-data.js';
import { assertAgreement, checkWithOrt } from './ort-check.js';
import { accuracy, initTf, predict, shiftImages, train, checkDeterminism, type Params } from './tf-train.js';
import type { Prng } from './prng.js';
import { PATCH, TOKENS, exportTransformer, forward, initParams } from './transformer-model.js';

const SEED = 3;
// One step of 32 costs ~0.15 s on the wasm backend with matMul gradients as explicit transposes
// (1.5-4 s on tfjs's pure-JS CPU backend, where the first model got only one epoch): under a
// minute an epoch, so the model trains to convergence, with the CNN's random shifts against
// overfitting the 8,744 digits.
const EPOCHS = 20;
const BATCH = 32;
const LEARNING_RATE = 1e-3;
const SAMPLE = [TOKENS, PATCH];

function tokens(batch: Batch): Batch {
  return { ...batch, x: patchify(batch.x, batch.count) };
}

/** Shift the images (up to 2 px), then cut them into tokens. */
const shiftAndPatchify = (x: Float32Array, count: number, prng: Prng) => patchify(shiftImages(x, count, prng), count);

function fit(trainSet: Batch, evalSet: Batch, epochs: number): Params {
  const params = initParams(SEED);
  train({
    params, forward, data: trainSet, sampleShape: SAMPLE, epochs, batchSize: BATCH, learningRate: LEARNING_RATE, seed: SEED + 100, transform: shiftAndPatchify, finalLearningRateFraction: 0.05,
    onEpoch: (e, loss, s) => console.log(`epoch ${e + 1}/${epochs}: loss ${loss.toFixed(4)}, eval ${(100 * accuracy(predict(forward, params, evalSet.x, evalSet.count, SAMPLE), evalSet.y)).toFixed(2)} %, ${s.toFixed(0)} s`),
  });
  return params;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const backend = args.backend ?? 'wasm';
  await initTf(backend);
  const split = loadSplit();
  // training rows stay images; each batch is patchified on the way in
  const trainSet = toBatch(args.limit ? split.train.slice(0, args.limit) : split.train);
  const evalSet = tokens(toBatch(split.eval));
  if (args.determinism) {
    const small = toBatch(split.train.slice(0, args.limit ?? 256));
    if (!checkDeterminism(() => fit(small, evalSet, 1))) process.exitCode = 1;
    return;
  }
  const started = Date.now();
  const params = fit(trainSet, evalSet, args.epochs ?? EPOCHS);
  const trainSeconds = (Date.now() - started) / 1000;
  const tfLogits = predict(forward, params, evalSet.x, evalSet.count, SAMPLE);
  const model = exportTransformer(params);
  const check = await checkWithOrt(model, evalSet.x, evalSet.y, SAMPLE, tfLogits);
  console.log(`tfjs eval ${(100 * accuracy(tfLogits, evalSet.y)).toFixed(2)} %, ORT eval ${(100 * check.accuracy).toFixed(2)} %, max |diff| ${check.maxAbsDiff.toExponential(2)}, trained on ${trainSet.count} in ${trainSeconds.toFixed(0)} s (${backend})`);
  assertAgreement(check);
  const out = args.out ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../examples/transformer/model.onnx');
  saveModel(model, out);
  console.log(`wrote ${out}`);
}

await main();
