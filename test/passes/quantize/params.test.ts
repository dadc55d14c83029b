import { activationParams, dequantizeWeights, quantizeBias, quantizeWeightsSymmetric, roundHalfEven, sqnrDb } from '../../../src/passes/quantize/params.js';
import { entropyRange, HALF_BINS, percentileRange, StreamingHistogram } from '../../../src/passes/quantize/histogram.js';
import { machineQuantDefaults } from '../../../src/passes/quantize/machine.js';
import { quantizeBlocks4 } from '../../../src/passes/quantize/nbits-pack.js';
import { rand } from './helpers.js';

test('activation parameters: uint8 asymmetric keeps zero exact; int8 symmetric; non-negative int8 uses -128', () => {
  const u = activationParams(-1, 3, 'uint8', false);
  expect(u.scale).toBeCloseTo(4 / 255, 7);
  expect(u.zeroPoint).toBe(64);
  expect(Math.abs(0 - (u.zeroPoint - u.zeroPoint) * u.scale)).toBe(0);
  const s = activationParams(-1, 3, 'int8', true);
  expect(s).toMatchObject({ zeroPoint: 0 });
  expect(s.scale).toBeCloseTo(3 / 127, 7);
  const relu = activationParams(0, 2, 'int8', true);
  expect(relu.zeroPoint).toBe(-128);
  // A range not containing zero is widened to contain it.
  expect(activationParams(1, 2, 'uint8', false).zeroPoint).toBe(0);
  expect(activationParams(0, 0, 'uint8', false)).toMatchObject({ scale: 1, zeroPoint: 0 });
  expect(roundHalfEven(2.5)).toBe(2);
  expect(roundHalfEven(-2.5)).toBe(-2);
  expect(roundHalfEven(3.5)).toBe(4);
});

test('per-channel symmetric weights: 7-bit stays in +-63, per-channel beats per-tensor on uneven channels', () => {
  // Channel 1 is 100x smaller than channel 0: per-tensor would crush it.
  const w = Float32Array.from([...rand(50, 1, 1), ...rand(50, 2, 0.01)]);
  const per = quantizeWeightsSymmetric(w, [2, 50], 0, 8);
  const tensor = quantizeWeightsSymmetric(w, [2, 50], -1, 8);
  const seven = quantizeWeightsSymmetric(w, [2, 50], 0, 7);
  expect(Math.max(...Array.from(seven.q, Math.abs))).toBe(63);
  expect(Math.max(...Array.from(per.q, Math.abs))).toBe(127);
  const ch1 = (x: Float32Array) => x.subarray(50);
  expect(sqnrDb(ch1(w), ch1(dequantizeWeights(per, [2, 50], 0)))).toBeGreaterThan(sqnrDb(ch1(w), ch1(dequantizeWeights(tensor, [2, 50], -1))) + 20);
  // Axis 1 of a [K, N] matrix: one scale per column.
  const cols = quantizeWeightsSymmetric(Float32Array.from([1, 10, -2, 5]), [2, 2], 1, 8);
  expect(Array.from(cols.scales)).toEqual([Math.fround(2 / 127), Math.fround(10 / 127)]);
  const b = quantizeBias(Float32Array.from([0.5, -1]), 0.1, Float32Array.from([0.01, 0.02]));
  expect(Array.from(b.q)).toEqual([500, -500]);
});

test('streaming histogram: re-binning on growth keeps the count and the percentile range', () => {
  const data = rand(20000, 3, 1);
  const once = new StreamingHistogram(true);
  once.add(data);
  const grown = new StreamingHistogram(true);
  // Small values first, so the range has to double several times.
  grown.add(data.map((v) => v * 0.05));
  grown.add(data);
  expect(grown.bins.reduce((a, c) => a + c, 0)).toBe(40000);
  const [lo, hi] = percentileRange(once, 99);
  expect(lo).toBeGreaterThan(-1);
  expect(lo).toBeLessThan(-0.97);
  expect(hi).toBeGreaterThan(0.97);
  expect(hi).toBeLessThan(1);
  expect(once.range / HALF_BINS).toBeLessThan(0.001);
});

test('entropy calibration clips a long tail that min/max would keep', () => {
  const h = new StreamingHistogram(true);
  // Laplacian body (scale 0.2): a sharp peak at zero, like pre-activation outputs.
  const u = rand(100000, 4, 1);
  const body = u.map((v) => Math.sign(v) * -0.2 * Math.log(Math.max(1e-9, Math.abs(v))));
  h.add(body);
  h.add(Float32Array.from([40, -35])); // two outliers
  const [lo, hi] = entropyRange(h);
  expect(h.max).toBe(40);
  expect(hi).toBeLessThan(10);
  expect(lo).toBeGreaterThan(-10);
  expect(hi).toBeGreaterThan(0.5);
});

test('machine defaults read the CPU flags', () => {
  expect(machineQuantDefaults('flags\t\t: fpu sse avx2 fma\n')).toMatchObject({ activationType: 'uint8', weightBits: 7 });
  expect(machineQuantDefaults('flags\t\t: fpu avx2 avx512f avx512_vnni\n')).toMatchObject({ activationType: 'uint8', weightBits: 8 });
  expect(machineQuantDefaults('Features\t: fp asimd asimddp\n')).toMatchObject({ activationType: 'int8', weightBits: 8 });
});

test('4-bit blocks: layout, zero points and error; the activation-weighted search lowers the weighted error', () => {
  const K = 64;
  const N = 3;
  const w = rand(K * N, 5, 1);
  const sym = quantizeBlocks4(w, K, N, { blockSize: 32, symmetric: true });
  expect(sym.packed.length).toBe(N * 2 * 16);
  expect(sym.scales.length).toBe(N * 2);
  expect(sym.zeroPoints).toBeUndefined();
  // Unpack column 0, block 0 by hand: (code - 8) * scale must equal the reported dequantized weights.
  for (let i = 0; i < 32; i++) {
    const byte = sym.packed[i >> 1];
    const code = i & 1 ? byte >> 4 : byte & 15;
    expect((code - 8) * sym.scales[0]).toBeCloseTo(sym.dequantized[i * N], 6);
  }
  expect(sqnrDb(w, sym.dequantized)).toBeGreaterThan(15);
  const asym = quantizeBlocks4(w, K, N, { blockSize: 32, symmetric: false });
  expect(asym.zeroPoints?.length).toBe(N);
  // Importance concentrated on 4 rows: the weighted error there must not get worse.
  const h = new Float64Array(K).fill(1e-3);
  for (const k of [0, 17, 40, 63]) h[k] = 100;
  const weighted = (d: Float32Array) => {
    let e = 0;
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) e += h[k] * (w[k * N + n] - d[k * N + n]) ** 2;
    return e;
  };
  const searched = quantizeBlocks4(w, K, N, { blockSize: 32, symmetric: false, rowImportance: h });
  expect(weighted(searched.dequantized)).toBeLessThan(weighted(asym.dequantized));
});
