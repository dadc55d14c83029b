/**
 * The shared tfjs training loop. Models are hand-written forwards over named variables (no
 * tf.layers) so that weight layouts are explicit when we convert them to ONNX and every initial
 * value comes from our seeded PRNG. Both backends we use (tfjs's pure-JS 'cpu' and
 * @tensorflow/tfjs-backend-wasm on one thread) are single-threaded and deterministic: same seed,
 * same backend, same weights. The two backends round differently, so their weights differ.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from './mnist-data.js';
import { Prng } from './prng.js';

export { tf };

export type Params = Record<string, tf.Variable>;
export type Forward = (x: tf.Tensor, params: Params) => tf.Tensor;

export type Backend = 'cpu' | 'wasm';

/**
 * 'wasm' is @tensorflow/tfjs-backend-wasm (XNNPACK kernels, SIMD, run on one thread so results
 * do not depend on the thread pool); 'cpu' is tfjs's pure-JS backend.
 */
export async function initTf(backend: Backend = 'cpu'): Promise<void> {
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setThreadsCount(1);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialise`);
  await tf.ready();
}

export function variable(name: string, shape: number[], values: Float32Array): tf.Variable {
  return tf.variable(tf.tensor(values, shape, 'float32'), true, name);
}

export function zeros(name: string, shape: number[]): tf.Variable {
  return variable(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
}

export function ones(name: string, shape: number[]): tf.Variable {
  return variable(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1));
}

export interface TrainOptions {
  params: Params;
  forward: Forward;
  data: Batch;
  /** Shape of one sample as the forward expects it (the batch dimension is prepended). */
  sampleShape: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /**
   * Applied to each gathered batch before it reaches the model (augmentation, patchify). Draws
   * from its own seeded stream so that switching it on does not change the shuffle order.
   */
  transform?: (x: Float32Array, count: number, prng: Prng) => Float32Array;
  /** Decay the learning rate linearly to this fraction of its start over the whole run (default: constant). */
  finalLearningRateFraction?: number;
  /** Called after each epoch (e.g. to print eval accuracy). */
  onEpoch?: (epoch: number, meanLoss: number, seconds: number) => void;
}

export function train(opts: TrainOptions): void {
  const { params, forward, data, sampleShape, batchSize } = opts;
  // rows of data.x are as wide as the stored samples; sampleShape is what the model sees
  const width = data.x.length / data.count;
  const optimizer = tf.train.adam(opts.learningRate);
  const vars = Object.values(params);
  const prng = new Prng(opts.seed);
  const augmentPrng = new Prng(opts.seed ^ 0x5eed);
  const order = Array.from({ length: data.count }, (_, i) => i);
  const totalSteps = opts.epochs * Math.ceil(data.count / batchSize);
  let step = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const started = Date.now();
    prng.shuffle(order);
    let lossSum = 0;
    let steps = 0;
    for (let start = 0; start < data.count; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      const xb = new Float32Array(idx.length * width);
      const yb = new Int32Array(idx.length);
      idx.forEach((k, i) => {
        xb.set(data.x.subarray(k * width, (k + 1) * width), i * width);
        yb[i] = data.y[k];
      });
      if (opts.finalLearningRateFraction !== undefined) {
        // tfjs's Adam reads its (protected) learning rate on every step, so a schedule can set it
        const fraction = 1 - (1 - opts.finalLearningRateFraction) * (step / totalSteps);
        (optimizer as unknown as { learningRate: number }).learningRate = opts.learningRate * fraction;
      }
      step++;
      const input = opts.transform ? opts.transform(xb, idx.length, augmentPrng) : xb;
      const loss = tf.tidy(() => {
        const x = tf.tensor(input, [idx.length, ...sampleShape]);
        const y = tf.oneHot(tf.tensor1d(yb, 'int32'), 10);
        // returnCost=true: minimize always returns the loss
        return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x, params)) as tf.Scalar, true, vars) as tf.Scalar;
      });
      lossSum += loss.dataSync()[0];
      loss.dispose();
      steps++;
    }
    opts.onEpoch?.(epoch, lossSum / steps, (Date.now() - started) / 1000);
  }
  optimizer.dispose();
}

/** Logits for every sample, [count, 10] row-major. */
export function predict(forward: Forward, params: Params, x: Float32Array, count: number, sampleShape: number[], batchSize = 100): Float32Array {
  const width = sampleShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count * 10);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const logits = tf.tidy(() => forward(tf.tensor(x.subarray(start * width, (start + n) * width), [n, ...sampleShape]), params));
    out.set(logits.dataSync() as Float32Array, start * 10);
    logits.dispose();
  }
  return out;
}

export function argmax(logits: Float32Array, row: number, classes = 10): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (logits[row * classes + c] > logits[row * classes + best]) best = c;
  return best;
}

export function accuracy(logits: Float32Array, y: ArrayLike<number | bigint>): number {
  let right = 0;
  for (let i = 0; i < y.length; i++) if (argmax(logits, i) === Number(y[i])) right++;
  return right / y.length;
}

/** The variable's values as a fresh Float32Array. */
export function values(v: tf.Variable): Float32Array {
  return Float32Array.from(v.dataSync() as Float32Array);
}

/** Stable digest of all weights, to compare two runs for determinism. */
export function weightDigest(params: Params): string {
  let h = 0x811c9dc5;
  for (const name of Object.keys(params).sort()) {
    const bytes = new Uint8Array(values(params[name]).buffer);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Random translation by up to `max` pixels in x and y, zero fill: the classic MNIST augmentation. */
export function shiftImages(x: Float32Array, count: number, prng: Prng, max = 2): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < count; n++) {
    const dx = Math.floor(prng.next() * (2 * max + 1)) - max;
    const dy = Math.floor(prng.next() * (2 * max + 1)) - max;
    const base = n * 784;
    for (let r = 0; r < 28; r++) {
      const sr = r - dy;
      if (sr < 0 || sr >= 28) continue;
      for (let c = 0; c < 28; c++) {
        const sc = c - dx;
        if (sc >= 0 && sc < 28) out[base + r * 28 + c] = x[base + sr * 28 + sc];
      }
    }
  }
  return out;
}

/** Frees the variables (tfjs registers them by name, so a second model needs the names free). */
export function disposeParams(params: Params): void {
  for (const v of Object.values(params)) v.dispose();
}

/** Trains twice from the same seed and compares weight digests. */
export function checkDeterminism(fit: () => Params): boolean {
  const digests = [0, 1].map(() => {
    const params = fit();
    const digest = weightDigest(params);
    disposeParams(params);
    return digest;
  });
  const same = digests[0] === digests[1];
  console.log(`weight digests: ${digests.join(' ')} -> ${same ? 'deterministic' : 'NOT deterministic'}`);
  return same;
}
