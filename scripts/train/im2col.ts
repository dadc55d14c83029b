/**
 * A 3x3 'valid' convolution as im2col + matMul. tfjs's CPU conv kernels walk tensors element by
 * element: one training step of the example CNN took ~38 s with tf.conv2d, and tf.slice-based
 * im2col was not much better. Copying patches in plain loops over Float32Arrays (with the
 * scatter-add as its gradient) leaves the time to matMul, about 25x faster. It is also what lets
 * the wasm backend train convolutions at all: it has no Conv2DBackpropFilter kernel.
 *
 * Also here: matMul with transpose-free gradients, for the wasm backend.
 */
import { tf } from './tf-train.js';

/** NHWC [n,h,w,c] -> patches [n*oh*ow, k*k*c], patch columns ordered (kh, kw, c) like tfjs kernels. */
function im2colValues(x: Float32Array, n: number, h: number, w: number, c: number, k: number): Float32Array {
  const oh = h - k + 1;
  const ow = w - k + 1;
  const out = new Float32Array(n * oh * ow * k * k * c);
  let o = 0;
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let a = 0; a < k; a++) {
          const row = ((b * h + i + a) * w + j) * c;
          // the k*c values of one kernel row are contiguous in NHWC
          out.set(x.subarray(row, row + k * c), o);
          o += k * c;
        }
  return out;
}

function col2imValues(cols: Float32Array, n: number, h: number, w: number, c: number, k: number): Float32Array {
  const oh = h - k + 1;
  const ow = w - k + 1;
  const out = new Float32Array(n * h * w * c);
  let o = 0;
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let a = 0; a < k; a++) {
          const row = ((b * h + i + a) * w + j) * c;
          for (let q = 0; q < k * c; q++) out[row + q] += cols[o++];
        }
  return out;
}

export function im2col(x: tf.Tensor4D, k: number): tf.Tensor2D {
  const [n, h, w, c] = x.shape;
  const oh = h - k + 1;
  const ow = w - k + 1;
  const op = tf.customGrad((...args) => {
    const input = args[0] as tf.Tensor;
    const value: tf.Tensor = tf.tensor2d(im2colValues(input.dataSync() as Float32Array, n, h, w, c, k), [n * oh * ow, k * k * c]);
    const gradFunc = (dy: tf.Tensor): tf.Tensor => tf.tensor4d(col2imValues(dy.dataSync() as Float32Array, n, h, w, c, k), [n, h, w, c]);
    return { value, gradFunc };
  });
  return op(x) as tf.Tensor2D;
}

/** Swaps the last two axes. */
function transposeLast2(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
  return tf.transpose(x, perm);
}

/**
 * a [..., m, k] @ b [..., k, n] (same batch dimensions), the same value as tf.matMul, with its
 * gradients written as explicit transposes and plain products: dA = dy @ b^T, dB = (dy^T @ a)^T.
 * tfjs's own gradient calls matMul with transpose flags, which the wasm backend runs 5-8x slower
 * than transposing first (a [36864,288]^T @ [36864,64] took ~630 ms against ~120 ms). The
 * arithmetic is the same on either backend.
 */
export function matMul<T extends tf.Tensor>(a: T, b: T): T {
  const op = tf.customGrad((...args) => {
    const [x, y, save] = args as unknown as [tf.Tensor, tf.Tensor, (tensors: tf.Tensor[]) => void];
    // the engine frees unsaved inputs of a custom op after the forward pass
    save([x, y]);
    const value: tf.Tensor = tf.matMul(x, y);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sy] = saved;
      return [tf.matMul(dy, transposeLast2(sy)), transposeLast2(tf.matMul(transposeLast2(dy), sx))];
    };
    return { value, gradFunc };
  });
  return op(a, b) as T;
}

/** Same result as tf.conv2d(x, kernel [k,k,c,out], 1, 'valid'). */
export function conv2dValid(x: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
  const [k, , c, out] = kernel.shape;
  const [n, h, w] = x.shape;
  const y = matMul(im2col(x, k), tf.reshape(kernel, [k * k * c, out]));
  return tf.reshape(y, [n, h - k + 1, w - k + 1, out]);
}
