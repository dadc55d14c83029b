/**
 * Quantization parameters: pure math, no graph. Activations get an affine (scale, zero point) per
 * tensor; weights get symmetric per-channel (or per-tensor) int8; biases int32 at x_scale * w_scale;
 * 4-bit blocks live in nbits-pack.ts. Rounding is half to even everywhere, as QuantizeLinear does.
 */

export type ActivationType = 'uint8' | 'int8';

export interface AffineParams {
  scale: number;
  zeroPoint: number;
  type: ActivationType;
}

/** Round half to even, as QuantizeLinear does, so our constants match what ORT would compute. */
export function roundHalfEven(x: number): number {
  // Math.round takes .5 up; step back one where that landed on an odd integer.
  const r = Math.round(x);
  return r - x === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/**
 * Affine parameters covering [rmin, rmax] (always widened to include 0, so zero is exact, which
 * padding and ReLU need). `symmetric` int8 puts the zero point at 0; an all-non-negative range
 * quantized to int8 uses zero point -128 instead (the ReLU-output case: half the codes would be
 * wasted otherwise, and ORT's ReluQuantFusion relies on the zero point sitting at the type minimum).
 */
export function activationParams(rmin: number, rmax: number, type: ActivationType, symmetric: boolean): AffineParams {
  const lo = Math.min(0, rmin);
  const hi = Math.max(0, rmax);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`non-finite calibration range [${rmin}, ${rmax}]`);
  if (hi - lo < 1e-30) {
    // A constant-zero tensor: any scale represents it exactly; 1 keeps kernels away from denormals.
    return { scale: 1, zeroPoint: 0, type };
  }
  if (type === 'int8' && symmetric && lo < 0) {
    const a = Math.max(-lo, hi);
    return { scale: a / 127, zeroPoint: 0, type };
  }
  const [qmin, qmax] = type === 'uint8' ? [0, 255] : [-128, 127];
  // Float32 the scale first: the zero point must be derived from the value stored in the model.
  const scale = Math.fround((hi - lo) / (qmax - qmin));
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - lo / scale)));
  return { scale, zeroPoint, type };
}

export interface ChannelQuant {
  /** Quantized values, same layout as the float weights. */
  q: Int8Array;
  /** One scale per channel (length 1 for per-tensor). */
  scales: Float32Array;
  /** SQNR (dB) of the dequantized weights against the originals, computed in the same pass. */
  sqnrDb: number;
}

/**
 * Symmetric int8 quantization of `w` (shape `dims`) along `axis` (per channel) or per tensor
 * (axis < 0). `bits` 7 keeps values in [-63, 63]: on AVX2 without VNNI, u8 x s8 products are
 * summed in pairs into int16 (vpmaddubsw) and 255*127*2 overflows; 255*63*2 does not.
 */
export function quantizeWeightsSymmetric(w: Float32Array, dims: number[], axis: number, bits: 7 | 8): ChannelQuant {
  const qmax = bits === 7 ? 63 : 127;
  const channels = axis < 0 ? 1 : dims[axis];
  const inner = axis < 0 ? w.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = axis < 0 ? 1 : dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const maxAbs = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let m = maxAbs[c];
      for (let i = 0; i < inner; i++) {
        const a = Math.abs(w[base + i]);
        if (a > m) m = a;
      }
      maxAbs[c] = m;
    }
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = maxAbs[c] > 0 ? maxAbs[c] / qmax : 1;
  const q = new Int8Array(w.length);
  let signal = 0;
  let noise = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const s = scales[c];
      const inv = 1 / s;
      for (let i = 0; i < inner; i++) {
        const x = w[base + i];
        let v = roundHalfEven(x * inv);
        v = v > qmax ? qmax : v < -qmax ? -qmax : v;
        q[base + i] = v;
        const d = x - v * s;
        signal += x * x;
        noise += d * d;
      }
    }
  }
  return { q, scales, sqnrDb: sqnrFromSums(signal, noise) };
}

/** Dequantized copy, for error measurements. */
export function dequantizeWeights(cq: ChannelQuant, dims: number[], axis: number): Float32Array {
  const channels = cq.scales.length;
  const inner = axis < 0 ? cq.q.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(cq.q.length);
  for (let i = 0; i < out.length; i++) out[i] = cq.q[i] * cq.scales[channels === 1 ? 0 : Math.floor(i / inner) % channels];
  return out;
}

/** Int32 bias at scale x_scale * w_scale[c] (zero point 0), the layout QLinearConv/QGemm take. */
export function quantizeBias(bias: Float32Array, xScale: number, wScales: Float32Array): { q: Int32Array; scales: Float32Array } {
  const q = new Int32Array(bias.length);
  const scales = new Float32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const s = Math.fround(xScale * wScales[wScales.length === 1 ? 0 : c]);
    scales[c] = s;
    const v = roundHalfEven(bias[c] / s);
    q[c] = Math.max(-2147483648, Math.min(2147483647, v));
  }
  return { q, scales };
}

/** Signal-to-quantization-noise ratio in dB of `approx` against `ref` (Infinity when exact). */
export function sqnrDb(ref: ArrayLike<number>, approx: ArrayLike<number>): number {
  const e = energies(ref, approx);
  return sqnrFromSums(e.signal, e.noise);
}

/** Sum of squares of `ref` (signal) and of `ref - approx` (noise). */
export function energies(ref: ArrayLike<number>, approx: ArrayLike<number>): { signal: number; noise: number } {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < ref.length; i++) {
    signal += ref[i] * ref[i];
    const d = ref[i] - approx[i];
    noise += d * d;
  }
  return { signal, noise };
}

export function sqnrFromSums(signal: number, noise: number): number {
  if (noise === 0) return Infinity;
  if (signal === 0) return -Infinity;
  return 10 * Math.log10(signal / noise);
}
