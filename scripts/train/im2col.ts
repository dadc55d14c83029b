/**
 * A 3x3 'valid' convolution as im2col + matMul. tfjs's CPU conv kernels walk tensors element by
 * element: one training step of the example CNN took ~38 s with tf.conv2d, and tf.slice-based
 * im2col was not much better. Copying patches in plain loops over Float32Arrays (with the
 * scatter-add as its gradient) leaves the time to matMul, about 25x faster.
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

/** Same result as tf.conv2d(x, kernel [k,k,c,out], 1, 'valid'). */
export function conv2dValid(x: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
  const [k, , c, out] = kernel.shape;
  const [n, h, w] = x.shape;
  const y = tf.matMul(im2col(x, k), tf.reshape(kernel, [k * k * c, out]));
  return tf.reshape(y, [n, h - k + 1, w - k + 1, out]);
}
