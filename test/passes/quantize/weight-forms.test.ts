import { DataType, GraphBuilder, float32Tensor, getInt } from '../../../src/onnx/index.js';
import { quantizeFp16, quantizeInt8Dynamic, quantizeInt4WeightOnly } from '../../../src/passes/quantize/index.js';
import { feedsFor, optimizedGraph, opCounts, outputSqnr, rand, tinyCnn, tinyMlp } from './helpers.js';

const feeds = feedsFor('x', [16, 64], 4, 400, 2);
const ctx = { seed: 1, calibration: feeds };

test('dynamic int8: MatMul and both Gemm forms become DynamicQuantizeMatMul; output within 30 dB', async () => {
  const model = tinyMlp();
  const res = await quantizeInt8Dynamic(model, {}, ctx);
  expect(opCounts(res.model)).toMatchObject({ DynamicQuantizeMatMul: 3, Add: 1, Relu: 1 });
  expect(opCounts(res.model).Gemm).toBeUndefined();
  expect(res.summary.changed.map((c) => c.opType).sort()).toEqual(['Gemm', 'Gemm', 'MatMul']);
  const { counts } = await optimizedGraph(res.model);
  expect(counts.DynamicQuantizeMatMul).toBe(3);
  // Per-batch uint8 activations + per-column 8-bit weights: ~40 dB per layer, 3 layers.
  expect((await outputSqnr(model, res.model, feeds)).sqnr).toBeGreaterThan(30);
});

test('dynamic int8 leaves Conv alone unless allowConv, and says why', async () => {
  const model = tinyCnn();
  const cnnFeeds = feedsFor('x', [2, 3, 16, 16], 2, 500, 2);
  const res = await quantizeInt8Dynamic(model, { nodesToExclude: ['mm'] }, { seed: 1, calibration: cnnFeeds });
  expect(res.summary.changed.map((c) => c.name)).toEqual(['fc']);
  const reasons = Object.fromEntries(res.summary.skipped.map((s) => [s.what, s.reason]));
  expect(reasons['conv1 (Conv)']).toMatch(/5x slower/);
  expect(reasons['mm (MatMul)']).toMatch(/excluded/);
  expect(res.summary.notes.join(' ')).toMatch(/Conv not quantized dynamically/);
  const withConv = await quantizeInt8Dynamic(model, { allowConv: true }, { seed: 1, calibration: cnnFeeds });
  expect(opCounts(withConv.model).ConvInteger).toBe(2);
  expect(withConv.summary.notes.join(' ')).toMatch(/warning: 2 Conv quantized dynamically/);
  expect((await outputSqnr(model, withConv.model, cnnFeeds)).sqnr).toBeGreaterThan(25);
  await expect(quantizeInt8Dynamic(model, { nodesToExclude: ['nope'] }, ctx)).rejects.toThrow(/no node named 'nope'/);
});

describe('int4 weight-only MatMulNBits', () => {
  for (const symmetric of [true, false]) {
    for (const blockSize of [32, 64] as const) {
      test(`${symmetric ? 'symmetric' : 'asymmetric'} block ${blockSize}: layout attributes, loads, output within 15 dB`, async () => {
        const model = tinyMlp();
        const res = await quantizeInt4WeightOnly(model, { blockSize, symmetric, method: 'rtn' }, ctx);
        const nbits = res.model.graph.nodes.filter((n) => n.opType === 'MatMulNBits');
        expect(nbits).toHaveLength(3);
        const mm1 = nbits.find((n) => n.name === 'mm1');
        expect(mm1 && [getInt(mm1, 'K', 0), getInt(mm1, 'N', 0), getInt(mm1, 'bits', 0), getInt(mm1, 'block_size', 0), getInt(mm1, 'accuracy_level', -1)]).toEqual([64, 128, 4, blockSize, 4]);
        const b = res.model.graph.initializers.find((t) => t.name === mm1?.inputs[1]);
        expect(b?.dims).toEqual([128, 64 / blockSize, blockSize / 2]);
        expect(mm1?.inputs.length).toBe(symmetric ? 3 : 4);
        // Gemm with bias: MatMulNBits + Add.
        expect(opCounts(res.model).Add).toBe(3);
        // 4-bit weights give ~20-25 dB per layer; three layers in a row land near 20 dB.
        expect((await outputSqnr(model, res.model, feeds)).sqnr).toBeGreaterThan(15);
      });
    }
  }

  test('calibrated scale search runs on calibration data and is not worse than RTN on the output', async () => {
    // Inputs with a few dominant features: exactly where activation weighting should pay off.
    const b = new GraphBuilder('skewed');
    const x = b.input('x', DataType.FLOAT, ['N', 128]);
    b.op('MatMul', [x, b.constant(float32Tensor('w', [128, 64], rand(128 * 64, 21, 0.5)))], {}, { name: 'mm', outputs: ['y'] });
    b.output('y', DataType.FLOAT, ['N', 64]);
    const model = b.model({ opset: 17 });
    const skewed = feedsFor('x', [32, 128], 4, 600, 0.1).map((f) => {
      const d = f.x.data as Float32Array;
      for (let r = 0; r < 32; r++) for (const k of [3, 50, 99]) d[r * 128 + k] *= 80;
      return f;
    });
    const c = { seed: 1, calibration: skewed };
    const rtn = await quantizeInt4WeightOnly(model, { blockSize: 32, symmetric: false, method: 'rtn' }, c);
    const cal = await quantizeInt4WeightOnly(model, { blockSize: 32, symmetric: false, method: 'calibrated' }, c);
    expect(cal.summary.changed[0].change).toMatch(/activation-weighted/);
    const sRtn = (await outputSqnr(model, rtn.model, skewed)).sqnr;
    const sCal = (await outputSqnr(model, cal.model, skewed)).sqnr;
    expect(sCal).toBeGreaterThan(sRtn);
    await expect(quantizeInt4WeightOnly(model, { blockSize: 32, symmetric: false, method: 'calibrated' }, { seed: 1 })).rejects.toThrow(/needs calibration data/);
  });

  test('MatMul without a constant 2-D B is listed, not crashed on', async () => {
    const b = new GraphBuilder('attn');
    const q = b.input('q', DataType.FLOAT, [1, 4, 32]);
    const k = b.input('k', DataType.FLOAT, [1, 32, 4]);
    b.op('MatMul', [q, k], {}, { name: 'qk', outputs: ['y'] });
    b.output('y', DataType.FLOAT, [1, 4, 4]);
    const res = await quantizeInt4WeightOnly(b.model(), { blockSize: 32, symmetric: true, method: 'rtn' }, ctx);
    expect(res.summary.changed).toEqual([]);
    expect(res.summary.skipped).toEqual([{ what: 'qk (MatMul)', reason: 'B is not a constant initializer' }]);
  });
});

test('float16 weights: half the bytes, Casts back to float32, output within 60 dB, notes say size only', async () => {
  const model = tinyMlp();
  const res = await quantizeFp16(model, {}, ctx);
  const bytes = (m: typeof model) => m.graph.initializers.reduce((a, t) => a + t.raw.byteLength, 0);
  // Every initializer but the 10-element b3 (below the size where a Cast node pays for itself).
  expect(bytes(res.model)).toBe(bytes(model) / 2 + 10 * 2);
  expect(opCounts(res.model).Cast).toBe(5);
  expect(res.summary.notes.join(' ')).toMatch(/size only/);
  // float16 has an 11-bit mantissa: ~70 dB per weight; the compute is float32.
  expect((await outputSqnr(model, res.model, feeds)).sqnr).toBeGreaterThan(60);
  const excluded = await quantizeFp16(model, { nodesToExclude: ['fc3'] }, ctx);
  expect(excluded.summary.skipped.map((s) => s.what).sort()).toEqual(['w3']);
});
