/**
 * 4-bit block quantization of a MatMul weight B [K, N] into com.microsoft.MatMulNBits' layout:
 * B as uint8 [N, kBlocks, blockSize / 2] (column n's block b, codes packed low nibble first along
 * K, K zero-padded to a whole block), scales [N * kBlocks] (column-major over blocks), optional
 * zero points packed two per byte [N * ceil(kBlocks / 2)]; without them the zero point is 8.
 * Dequantization is (code - zp) * scale.
 */
import { roundHalfEven } from './params.js';

export interface NBitsWeights {
  packed: Uint8Array;
  scales: Float32Array;
  zeroPoints?: Uint8Array;
  kBlocks: number;
  /** Dequantized B [K, N] for error measurement. */
  dequantized: Float32Array;
}

export interface BlockOptions {
  blockSize: number;
  symmetric: boolean;
  /** Per-K-row importance (e.g. mean x_k^2 over calibration): when given, each block's scale is
   * searched to minimize sum_k h_k (w_k - dq(w_k))^2, the block's contribution to ||X(W - Q(W))||^2
   * under a diagonal approximation of X^T X. */
  rowImportance?: Float64Array;
}

/** Candidate shrink factors of the max-based scale for the error-minimizing search. */
const SHRINK = Array.from({ length: 20 }, (_, i) => 1 - i * 0.025);

export function quantizeBlocks4(w: Float32Array, K: number, N: number, o: BlockOptions): NBitsWeights {
  const bs = o.blockSize;
  const kBlocks = Math.ceil(K / bs);
  const blob = bs / 2;
  const packed = new Uint8Array(N * kBlocks * blob);
  const scales = new Float32Array(N * kBlocks);
  const zeroPoints = o.symmetric ? undefined : new Uint8Array(N * Math.ceil(kBlocks / 2));
  const dequantized = new Float32Array(K * N);
  const vals = new Float64Array(bs);
  const codes = new Uint8Array(bs);
  const best = new Uint8Array(bs);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < kBlocks; b++) {
      const k0 = b * bs;
      const len = Math.min(bs, K - k0);
      let lo = 0;
      let hi = 0;
      let signedMax = 0;
      for (let i = 0; i < len; i++) {
        const v = w[(k0 + i) * N + n];
        vals[i] = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (Math.abs(v) > Math.abs(signedMax)) signedMax = v;
      }
      for (let i = len; i < bs; i++) vals[i] = 0;
      let bestScale = 1;
      let bestZp = 8;
      let bestErr = Infinity;
      const factors = o.rowImportance ? SHRINK : [1];
      for (const f of factors) {
        let scale: number;
        let zp: number;
        if (o.symmetric) {
          // The largest-magnitude value maps to -8 exactly: one more level than +-7 (ORT's choice too).
          scale = Math.fround((signedMax * f) / -8);
          zp = 8;
        } else {
          scale = Math.fround(((hi - lo) * f) / 15);
          zp = scale === 0 ? 8 : Math.min(15, Math.max(0, roundHalfEven(-lo * f / scale)));
        }
        if (scale === 0) scale = 1;
        let err = 0;
        for (let i = 0; i < len; i++) {
          const q = Math.min(15, Math.max(0, roundHalfEven(vals[i] / scale) + zp));
          codes[i] = q;
          const d = vals[i] - (q - zp) * scale;
          err += (o.rowImportance ? o.rowImportance[k0 + i] : 1) * d * d;
        }
        if (err < bestErr) {
          bestErr = err;
          bestScale = scale;
          bestZp = zp;
          best.set(codes);
        }
      }
      for (let i = len; i < bs; i++) best[i] = bestZp;
      scales[n * kBlocks + b] = bestScale;
      const base = (n * kBlocks + b) * blob;
      for (let j = 0; j < blob; j++) packed[base + j] = (best[2 * j] & 15) | ((best[2 * j + 1] & 15) << 4);
      if (zeroPoints) {
        const zi = n * Math.ceil(kBlocks / 2) + (b >> 1);
        zeroPoints[zi] |= (bestZp & 15) << ((b & 1) * 4);
      }
      for (let i = 0; i < len; i++) dequantized[(k0 + i) * N + n] = (best[i] - bestZp) * bestScale;
    }
  }
  return { packed, scales, zeroPoints, kBlocks, dequantized };
}
