import { InputError } from '../../../src/util/errors.js';
import { DataType, GraphBuilder, float32Tensor, getInt, opsetVersion } from '../../../src/onnx/index.js';
import { quantizeInt8Static } from '../../../src/passes/quantize/index.js';
import { CALIBRATION_SESSION, weightsReadInPlace } from '../../../src/passes/quantize/calibration.js';
import { openSession, withExtraOutputs } from '../../../src/evaluate/activations.js';
import { feedsFor, optimizedGraph, opCounts, outputSqnr, rand, strayQdq, tinyCnn, tinyMlp } from './helpers.js';

const cnnFeeds = feedsFor('x', [8, 3, 16, 16], 4, 100, 2);
const ctx = { seed: 1, calibration: cnnFeeds };

// 8-bit per-channel weights and 8-bit activations give ~40-50 dB per tensor; through 5 quantized
// layers the noise adds up, so 30 dB (3 % relative L2 error) is the bound we hold the output to.
const SQNR_BOUND = 30;

describe('static int8 QDQ on a tiny CNN', () => {
  for (const calibration of ['minmax', 'percentile', 'entropy'] as const) {
    test(`${calibration}: every Conv/Gemm/MatMul/Add/pool quantized, all fused by ORT, output close to float`, async () => {
      const model = tinyCnn();
      const res = await quantizeInt8Static(model, { calibration, activationType: 'uint8', weightBits: 8 }, ctx);
      expect(res.summary.changed.map((c) => c.name).sort()).toEqual(['add', 'conv1', 'conv2', 'fc', 'flat', 'gap', 'mm', 'pool1']);
      expect(res.summary.skipped).toEqual([]);
      const conv1 = res.summary.changed.find((c) => c.name === 'conv1');
      expect(conv1?.change).toMatch(/per-channel \(axis 0\).*bias int32.*Relu folded/);
      expect(res.summary.changed.find((c) => c.name === 'fc')?.change).toMatch(/axis 0/);
      expect(res.summary.changed.find((c) => c.name === 'mm')?.change).toMatch(/axis 1.*float output/);
      // Relus are folded into the output quantization; the input model is untouched.
      expect(opCounts(res.model).Relu).toBeUndefined();
      expect(opCounts(model).Relu).toBe(2);
      expect(opsetVersion(res.model)).toBe(17);
      const { counts, model: optimized } = await optimizedGraph(res.model);
      expect(counts.QLinearConv).toBe(2);
      expect(counts.QLinearAdd).toBe(1);
      expect(counts.QLinearGlobalAveragePool).toBe(1);
      expect(counts.QGemm).toBe(1);
      expect(counts.MatMulIntegerToFloat).toBe(1);
      // One Q for the float input, no DQ left (the MatMul writes float itself).
      expect(counts.QuantizeLinear).toBe(1);
      expect(counts.DequantizeLinear ?? 0).toBe(0);
      expect(counts.Conv ?? 0).toBe(0);
      expect(strayQdq(optimized, res.summary.changed.map((c) => c.name))).toEqual({ unfused: [], dqToQ: [] });
      const { sqnr } = await outputSqnr(model, res.model, cnnFeeds);
      // Entropy clips the tails of these uniform-input activations on purpose: a few dB lower.
      expect(sqnr).toBeGreaterThan(calibration === 'entropy' ? SQNR_BOUND - 6 : SQNR_BOUND);
    });
  }

  test('per-tensor weights and 7-bit weights still fuse; 7-bit costs a little SQNR, not more', async () => {
    const model = tinyCnn();
    const seven = await quantizeInt8Static(model, { calibration: 'minmax', activationType: 'uint8', weightBits: 7 }, ctx);
    expect(seven.summary.changed.find((c) => c.name === 'conv2')?.change).toMatch(/7-bit/);
    expect(seven.summary.notes.join(' ')).toMatch(/7 bits/);
    const perTensor = await quantizeInt8Static(model, { calibration: 'minmax', activationType: 'uint8', perChannel: false }, ctx);
    expect(perTensor.summary.changed.find((c) => c.name === 'conv2')?.change).toMatch(/per-tensor/);
    for (const r of [seven, perTensor]) {
      const { counts, model: optimized } = await optimizedGraph(r.model);
      expect(counts.QLinearConv).toBe(2);
      expect(strayQdq(optimized, r.summary.changed.map((c) => c.name))).toEqual({ unfused: [], dqToQ: [] });
      expect((await outputSqnr(model, r.model, cnnFeeds)).sqnr).toBeGreaterThan(SQNR_BOUND - 6);
    }
  });

  test('int8 activations run and stay close to float', async () => {
    const model = tinyCnn();
    const res = await quantizeInt8Static(model, { calibration: 'minmax', activationType: 'int8' }, ctx);
    expect(res.summary.notes.join(' ')).toMatch(/activations int8/);
    expect(res.summary.notes.join(' ')).toMatch(/int8 activations: ORT 1.30 CPU left/);
    const { counts } = await optimizedGraph(res.model);
    expect(counts.QLinearConv).toBeGreaterThanOrEqual(1);
    expect((await outputSqnr(model, res.model, cnnFeeds)).sqnr).toBeGreaterThan(SQNR_BOUND - 6);
  });

  test('nodesToExclude and opTypesToQuantize leave nodes float, with the reason', async () => {
    const model = tinyCnn();
    const res = await quantizeInt8Static(model, { calibration: 'minmax', nodesToExclude: ['conv2'], opTypesToQuantize: ['Conv', 'Relu', 'MaxPool', 'Add'] }, ctx);
    // pool1 would only feed the float conv2: a dead end, left float.
    expect(res.summary.changed.map((c) => c.name).sort()).toEqual(['conv1']);
    const reasons = Object.fromEntries(res.summary.skipped.map((s) => [s.what, s.reason]));
    expect(reasons['conv2 (Conv)']).toMatch(/excluded/);
    expect(reasons['fc (Gemm)']).toMatch(/opTypesToQuantize/);
    expect(reasons['add (Add)']).toMatch(/float/);
    expect(reasons['pool1 (MaxPool)']).toMatch(/only float ops consume its output/);
    const { model: optimized } = await optimizedGraph(res.model);
    expect(strayQdq(optimized, res.summary.changed.map((c) => c.name))).toEqual({ unfused: [], dqToQ: [] });
    expect((await outputSqnr(model, res.model, cnnFeeds)).sqnr).toBeGreaterThan(SQNR_BOUND);
  });
});

test('static int8 on an MLP: MatMul+Add+Relu+Gemm fuse to QLinearMatMul/QLinearAdd/QGemm', async () => {
  const model = tinyMlp();
  const feeds = feedsFor('x', [16, 64], 4, 200, 2);
  const res = await quantizeInt8Static(model, { calibration: 'percentile', activationType: 'uint8' }, { seed: 1, calibration: feeds });
  const { counts, model: optimized } = await optimizedGraph(res.model);
  expect(counts).toMatchObject({ QLinearMatMul: 1, QLinearAdd: 1, QGemm: 2, QuantizeLinear: 1 });
  expect(strayQdq(optimized, res.summary.changed.map((c) => c.name))).toEqual({ unfused: [], dqToQ: [] });
  expect((await outputSqnr(model, res.model, feeds)).sqnr).toBeGreaterThan(SQNR_BOUND);
});

test('an old opset is upgraded to 13 for per-axis DequantizeLinear', async () => {
  const b = new GraphBuilder('old');
  const x = b.input('x', DataType.FLOAT, ['N', 3, 8, 8]);
  const h = b.op('Conv', [x, b.constant(float32Tensor('w', [4, 3, 3, 3], rand(108, 1, 0.5)))], {}, { name: 'conv' });
  b.op('Squeeze', [b.op('GlobalAveragePool', [h], {}, { name: 'gap' })], { axes: [2, 3] }, { name: 'sq', outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['N', 4]);
  const model = b.model({ opset: 11, irVersion: 6 });
  const feeds = feedsFor('x', [2, 3, 8, 8], 2, 300);
  const res = await quantizeInt8Static(model, { calibration: 'minmax' }, { seed: 1, calibration: feeds });
  expect(opsetVersion(res.model)).toBe(13);
  expect(res.summary.notes.join(' ')).toMatch(/opset upgraded 11 -> 13/);
  const dq = res.model.graph.nodes.find((n) => n.opType === 'DequantizeLinear' && n.inputs[0].startsWith('w_'));
  expect(dq && getInt(dq, 'axis', -99)).toBe(0);
  expect((await outputSqnr(model, res.model, feeds)).sqnr).toBeGreaterThan(SQNR_BOUND);
});

describe('bad input is an InputError', () => {
  const model = tinyCnn();
  test('unknown node in nodesToExclude names it', async () => {
    await expect(quantizeInt8Static(model, { calibration: 'minmax', nodesToExclude: ['conv9'] }, ctx)).rejects.toThrow(/no node named 'conv9'/);
  });
  test('calibration of the wrong shape, with NaN, or missing', async () => {
    const wrong = feedsFor('x', [8, 1, 16, 16], 1, 1);
    await expect(quantizeInt8Static(model, { calibration: 'minmax' }, { seed: 1, calibration: wrong })).rejects.toThrow(/dimension 1 is 1, the model expects 3/);
    const nan = feedsFor('x', [1, 3, 16, 16], 1, 1);
    (nan[0].x.data as Float32Array)[5] = NaN;
    await expect(quantizeInt8Static(model, { calibration: 'minmax' }, { seed: 1, calibration: nan })).rejects.toThrow(InputError);
    await expect(quantizeInt8Static(model, { calibration: 'minmax' }, { seed: 1 })).rejects.toThrow(/needs calibration data/);
    await expect(quantizeInt8Static(model, { calibration: 'minmax' }, { seed: 1, calibration: [{}] })).rejects.toThrow(/no tensor for model input 'x'/);
  });
  test('a float16 model is refused', async () => {
    const b = new GraphBuilder('half');
    b.op('Relu', [b.input('x', DataType.FLOAT16, [1, 4])], {}, { outputs: ['y'] });
    b.output('y', DataType.FLOAT16, [1, 4]);
    await expect(quantizeInt8Static(b.model(), { calibration: 'minmax' }, ctx)).rejects.toThrow(/float16; quantization starts from a float32 model/);
  });
  test('a model too old to upgrade says why', async () => {
    const b = new GraphBuilder('ancient');
    const x = b.input('x', DataType.FLOAT, [1, 3, 4, 4]);
    b.op('Conv', [x, b.constant(float32Tensor('w', [2, 3, 1, 1], rand(6, 1)))], {}, { outputs: ['y'] });
    b.output('y', DataType.FLOAT, [1, 2, 4, 4]);
    const m = b.model({ opset: 6, irVersion: 3 });
    await expect(quantizeInt8Static(m, { calibration: 'minmax' }, { seed: 1, calibration: feedsFor('x', [1, 3, 4, 4], 1, 1) })).rejects.toThrow(/opset 6 is too old/);
  });
});

test('same inputs, same bytes: static, dynamic and int4 outputs are deterministic', async () => {
  const { encodeModel } = await import('../../../src/onnx/index.js');
  const { quantizeInt8Dynamic, quantizeInt4WeightOnly } = await import('../../../src/passes/quantize/index.js');
  const model = tinyCnn();
  const a = await quantizeInt8Static(model, { calibration: 'entropy' }, ctx);
  const b = await quantizeInt8Static(model, { calibration: 'entropy' }, ctx);
  expect(Buffer.from(encodeModel(a.model)).equals(Buffer.from(encodeModel(b.model)))).toBe(true);
  const mlp = tinyMlp();
  const mlpCtx = { seed: 1, calibration: feedsFor('x', [4, 64], 2, 9) };
  const d1 = encodeModel((await quantizeInt8Dynamic(mlp, {}, mlpCtx)).model);
  const d2 = encodeModel((await quantizeInt8Dynamic(mlp, {}, mlpCtx)).model);
  expect(Buffer.from(d1).equals(Buffer.from(d2))).toBe(true);
  const n1 = encodeModel((await quantizeInt4WeightOnly(mlp, { blockSize: 32, symmetric: false, method: 'calibrated' }, mlpCtx)).model);
  const n2 = encodeModel((await quantizeInt4WeightOnly(mlp, { blockSize: 32, symmetric: false, method: 'calibrated' }, mlpCtx)).model);
  expect(Buffer.from(n1).equals(Buffer.from(n2))).toBe(true);
});

test('a shallow Conv (1 input channel, 3x3: K = 9) stays float with the measured reason; the next Conv is quantized', async () => {
  const b = new GraphBuilder('stem');
  const x = b.input('x', DataType.FLOAT, ['N', 1, 12, 12]);
  const h = b.op('Relu', [b.op('Conv', [x, b.constant(float32Tensor('w1', [8, 1, 3, 3], rand(72, 1, 0.5)))], {}, { name: 'conv1' })]);
  b.op('Conv', [h, b.constant(float32Tensor('w2', [4, 8, 3, 3], rand(288, 2, 0.5)))], {}, { name: 'conv2', outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['N', 4, 8, 8]);
  const model = b.model({ opset: 17 });
  const feeds = feedsFor('x', [4, 1, 12, 12], 2, 800);
  const res = await quantizeInt8Static(model, { calibration: 'minmax', activationType: 'uint8' }, { seed: 1, calibration: feeds });
  expect(res.summary.changed.map((c) => c.name)).toEqual(['conv2']);
  expect(res.summary.skipped).toEqual([{ what: 'conv1 (Conv)', reason: expect.stringMatching(/Cin\*kh\*kw = 9 < 16/) }]);
  const { counts } = await optimizedGraph(res.model);
  expect(counts.QLinearConv).toBe(1);
  expect((await outputSqnr(model, res.model, feeds)).sqnr).toBeGreaterThan(SQNR_BOUND);
});

test('the caller model is never modified (opset upgrade, Relu folding and BN folding work on a copy)', async () => {
  const { encodeModel } = await import('../../../src/onnx/index.js');
  const model = tinyCnn();
  model.opsetImports[0].version = 11;
  const before = Buffer.from(encodeModel(model));
  await quantizeInt8Static(model, { calibration: 'percentile' }, ctx);
  expect(Buffer.from(encodeModel(model)).equals(before)).toBe(true);
});

describe('calibration reads eligible weights in place', () => {
  test('Conv/Gemm/MatMul weights with no constant-folding neighbour become inputs; activations are the same bits', async () => {
    const model = tinyCnn();
    // conv2 feeds the residual Add (ConvAddFusion territory): its weight stays an initializer.
    expect([...weightsReadInPlace(model)].sort()).toEqual(['w1', 'wf', 'wm']);
    const values = model.graph.nodes.flatMap((n) => n.outputs).filter((o) => o !== 'y');
    const capture = async (inPlace: boolean) => {
      const out: Buffer[] = [];
      const { run, close } = await openSession(withExtraOutputs(model, values), { ...CALIBRATION_SESSION, feedAsInput: inPlace ? () => true : undefined });
      try {
        for (const f of cnnFeeds) {
          const r = await run(f, values);
          for (const v of values) out.push(Buffer.from((r[v].data as Float32Array).buffer));
        }
      } finally {
        await close();
      }
      return out;
    };
    const [plain, fed] = [await capture(false), await capture(true)];
    expect(fed).toEqual(plain);
  });
});
