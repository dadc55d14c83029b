import * as fs from 'node:fs';
import * as path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { zipSync } from 'fflate';
import { TensorProtoSchema } from 'onnx-buf';
import { InputError } from '../../src/util/errors.js';
import { DataType } from '../../src/onnx/index.js';
import { loadDataset, datasetFromArrays } from '../../src/evaluate/data.js';
import { evaluateModel, evaluatePair, runModel } from '../../src/evaluate/evaluate.js';
import { mcnemar, metricDifference } from '../../src/gate/paired-stats.js';
import { encodeNpy, parseNpy } from '../../src/evaluate/npy.js';
import { centroidModel, mnistSamples, tmpDir, writeNpy } from './helpers.js';

const test_ = mnistSamples(100, 20); // 200 real digits not used to build the centroids
const model = centroidModel();

/** The classifier's accuracy computed directly in JS: nearest centroid by the same scores. */
function handAccuracy(): number {
  const train = mnistSamples(0, 100);
  const c = new Float64Array(7840);
  train.y.forEach((d, i) => {
    for (let k = 0; k < 784; k++) c[d * 784 + k] += train.x[i * 784 + k] / 100;
  });
  let right = 0;
  test_.y.forEach((label, i) => {
    let best = -1;
    let bestScore = -Infinity;
    for (let d = 0; d < 10; d++) {
      let s = 0;
      for (let k = 0; k < 784; k++) s += test_.x[i * 784 + k] * c[d * 784 + k] - c[d * 784 + k] ** 2 / 2;
      if (s > bestScore) [best, bestScore] = [d, s];
    }
    if (best === label) right++;
  });
  return (100 * right) / test_.y.length;
}

function npyFiles(dir: string) {
  const x = writeNpy(path.join(dir, 'x.npy'), 'float32', [200, 784], test_.x);
  const y = writeNpy(path.join(dir, 'y.npy'), 'int64', [200], BigInt64Array.from(test_.y.map(BigInt)));
  return { x, y };
}

test('accuracy on real MNIST digits from .npy files matches a hand computation', async () => {
  const dir = tmpDir();
  const { x, y } = npyFiles(dir);
  const ds = loadDataset({ inputs: { x }, labels: y });
  expect(ds.count).toBe(200);
  const { result, notes } = await evaluateModel(model, ds, { task: 'classification', batchSize: 64 });
  const expected = handAccuracy();
  expect(expected).toBeGreaterThan(60);
  expect(result.metrics.accuracy).toBeCloseTo(expected, 6);
  expect(result.metrics.top3).toBeGreaterThan(result.metrics.accuracy);
  expect(result.metrics.top5).toBeGreaterThanOrEqual(result.metrics.top3);
  expect(result.perSample.correct).toHaveLength(200);
  expect(result.confusion?.flat().reduce((a, b) => a + b, 0)).toBe(200);
  expect(result.metrics['worst-class-accuracy']).toBe(Math.min(...Object.values(result.perClass ?? {})));
  expect(notes).toEqual([]);
});

test('the same data as .npz (labels inside), .jsonl and test_data_set folders gives the same accuracy', async () => {
  const dir = tmpDir();
  const base = (await evaluateModel(model, datasetFromArrays({ x: { type: 'float32', shape: [200, 784], data: test_.x } }, test_.y), { task: 'classification' })).result.metrics.accuracy;

  const npz = path.join(dir, 'd.npz');
  fs.writeFileSync(npz, zipSync({ 'x.npy': encodeNpy('float32', [200, 784], test_.x), 'labels.npy': encodeNpy('uint8', [200], Uint8Array.from(test_.y)) }));
  const fromNpz = await evaluateModel(model, loadDataset({ inputs: npz }), { task: 'classification' });
  expect(fromNpz.result.metrics.accuracy).toBe(base);

  const jsonl = path.join(dir, 'd.jsonl');
  const lines = test_.y.slice(0, 30).map((label, i) => JSON.stringify({ inputs: { x: Array.from(test_.x.subarray(i * 784, (i + 1) * 784)) }, label }));
  fs.writeFileSync(jsonl, lines.join('\n') + '\n');
  const fromJsonl = await evaluateModel(model, loadDataset({ inputs: jsonl }), { task: 'classification' });
  const sub = await evaluateModel(model, datasetFromArrays({ x: { type: 'float32', shape: [30, 784], data: test_.x.subarray(0, 30 * 784) } }, test_.y.slice(0, 30)), { task: 'classification' });
  expect(fromJsonl.result.metrics.accuracy).toBe(sub.result.metrics.accuracy);

  // test_data_set folders: input_0.pb per set, output_0.pb the expected outputs (here the model's own).
  const { outputs } = await runModel(model, datasetFromArrays({ x: { type: 'float32', shape: [200, 784], data: test_.x } }));
  const folder = path.join(dir, 'tests');
  for (let s = 0; s < 2; s++) {
    const setDir = path.join(folder, `test_data_set_${s}`);
    fs.mkdirSync(setDir, { recursive: true });
    const xs = test_.x.subarray(s * 100 * 784, (s + 1) * 100 * 784);
    fs.writeFileSync(path.join(setDir, 'input_0.pb'), toBinary(TensorProtoSchema, create(TensorProtoSchema, { name: 'x', dataType: DataType.FLOAT, dims: [100n, 784n], rawData: new Uint8Array(new Float32Array(xs).buffer) })));
    const ys = outputs.read('logits', s * 100, 100).values;
    // Expected outputs in float_data (not raw_data): both encodings must decode.
    fs.writeFileSync(path.join(setDir, 'output_0.pb'), toBinary(TensorProtoSchema, create(TensorProtoSchema, { name: 'logits', dataType: DataType.FLOAT, dims: [100n, 10n], floatData: Array.from(ys) })));
  }
  const fromFolder = await evaluateModel(model, loadDataset({ inputs: folder }), { task: 'fidelity' });
  expect(fromFolder.result.samples).toBe(200);
  expect(fromFolder.result.metrics.agreement).toBe(100);
  expect(fromFolder.result.metrics['max-abs-error']).toBe(0);
});

test("label-free mode compares a candidate with the original model's outputs, running the original once", async () => {
  const ds = datasetFromArrays({ x: { type: 'float32', shape: [200, 784], data: test_.x } });
  const half = centroidModel({ scale: 0.5 });
  const pair = await evaluatePair(model, half, ds, { task: 'fidelity' });
  expect(pair.candidate.metrics.agreement).toBe(100);
  expect(pair.candidate.metrics.cosine).toBeCloseTo(1, 6);
  // Candidate = reference / 2: noise power is a quarter of the signal, 10 log10(4) dB.
  expect(pair.candidate.metrics.sqnr).toBeCloseTo(10 * Math.log10(4), 3);
  expect(pair.reference.metrics.agreement).toBe(100);
  expect(pair.reference.perSample.correct).toEqual(pair.candidate.perSample.correct);
  // Kept outputs are the reference of later candidates: the original is not run again.
  const { outputs } = await runModel(model, ds);
  const again = await evaluateModel(centroidModel({ scale: 2 }), ds, { task: 'fidelity', reference: outputs });
  expect(again.result.metrics.sqnr).toBeCloseTo(0, 3);
});

test('labelled pair: paired per-sample results; robustness under seeded noise', async () => {
  const ds = datasetFromArrays({ x: { type: 'float32', shape: [200, 784], data: test_.x } }, test_.y);
  const pair = await evaluatePair(model, model, ds, { task: 'classification' });
  expect(metricDifference('accuracy', pair.reference.perSample, pair.candidate.perSample, 200)).toMatchObject({ low: 0, high: 0 });
  expect(mcnemar(pair.reference.perSample.correct, pair.candidate.perSample.correct)?.pValue).toBe(1);
  const r1 = await evaluateModel(model, ds, { task: 'classification', noise: { sigma: 0.8, seed: 4 } });
  const r2 = await evaluateModel(model, ds, { task: 'classification', noise: { sigma: 0.8, seed: 4 } });
  expect(r1.result.robustness?.metrics.accuracy).toBe(r2.result.robustness?.metrics.accuracy);
  expect(r1.result.robustness?.metrics.accuracy).toBeLessThan(r1.result.metrics.accuracy);
});

test('float64 and uint8 data are cast to a float32 input with a note; a fixed batch of 1 runs sample by sample', async () => {
  const dir = tmpDir();
  const x64 = writeNpy(path.join(dir, 'x64.npy'), 'float64', [200, 784], Float64Array.from(test_.x));
  const y = writeNpy(path.join(dir, 'y.npy'), 'int32', [200], Int32Array.from(test_.y));
  const ref = await evaluateModel(model, loadDataset({ inputs: { x: x64 }, labels: y }), { task: 'classification' });
  expect(ref.notes[0]).toMatch(/x64\.npy: float64 data cast to float32 for input 'x'/);
  const u8 = writeNpy(path.join(dir, 'u8.npy'), 'uint8', [200, 784], Uint8Array.from(test_.x, (v) => Math.round(v)));
  const r8 = await evaluateModel(model, loadDataset({ inputs: { x: u8 }, labels: y }), { task: 'classification' });
  expect(r8.notes[0]).toMatch(/uint8 data cast to float32/);
  const fixed = await evaluateModel(centroidModel({ batch: 1 }), loadDataset({ inputs: { x: x64 }, labels: y }), { task: 'classification', batchSize: 64 });
  expect(fixed.result.metrics.accuracy).toBe(ref.result.metrics.accuracy);
  expect(fixed.result.samples).toBe(200);
});

async function expectInputError(p: Promise<unknown> | (() => unknown), pattern: RegExp): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toMatch(pattern);
}

test('bad inputs are InputErrors naming the file, input and sample', async () => {
  const dir = tmpDir();
  const { x, y } = npyFiles(dir);
  const narrow = writeNpy(path.join(dir, 'narrow.npy'), 'float32', [200, 783], new Float32Array(200 * 783));
  await expectInputError(evaluateModel(model, loadDataset({ inputs: { x: narrow }, labels: y }), { task: 'classification' }), /narrow\.npy: input 'x' has per-sample shape \[783\] but .* expects \[784\]/);
  const few = writeNpy(path.join(dir, 'few.npy'), 'int64', [199], new BigInt64Array(199));
  await expectInputError(() => loadDataset({ inputs: { x }, labels: few }), /few\.npy: 199 labels for 200 samples/);
  const nan = test_.x.slice();
  nan[5 * 784 + 3] = NaN;
  const nanFile = writeNpy(path.join(dir, 'nan.npy'), 'float32', [200, 784], nan);
  await expectInputError(() => loadDataset({ inputs: { x: nanFile } }), /nan\.npy: input 'x' sample 5 holds NaN/);
  await expectInputError(evaluateModel(centroidModel({ inputType: DataType.INT64 }), loadDataset({ inputs: { x } }), { task: 'fidelity' }), /x\.npy: input 'x' is int64 in .* but the data is float32/);
  await expectInputError(evaluateModel(model, loadDataset({ inputs: { image: x } }), { task: 'fidelity' }), /model input 'x' has no data \(the data provides 'image'\)/);
  await expectInputError(evaluateModel(centroidModel({ nanOutput: true }), loadDataset({ inputs: { x } }), { task: 'fidelity', reference: 'self', label: 'nan-model.onnx' }), /nan-model\.onnx: output 'logits' is NaN for sample 0/);
  await expectInputError(evaluateModel(model, loadDataset({ inputs: { x } }), { task: 'classification' }), /task 'classification' needs labels/);
  await expectInputError(evaluateModel(model, loadDataset({ inputs: { x } }), { task: 'fidelity' }), /needs the original model's outputs/);
  await expectInputError(() => loadDataset({ inputs: { x: path.join(dir, 'gone.npy') } }), /gone\.npy: no such data file/);
  const jsonl = path.join(dir, 'bad.jsonl');
  fs.writeFileSync(jsonl, '{"inputs": {"x": [1, 2]}, "label": 1}\n{"inputs": {"x": [1, 2, 3]}, "label": 0}\n');
  await expectInputError(() => loadDataset({ inputs: jsonl }), /bad\.jsonl:2: input 'x' has shape \[3\] but the first line's is \[2\]/);
});

test('.npy reader: every dtype round-trips, v2 headers read, Fortran order and big-endian refused', () => {
  const cases = [
    ['float32', Float32Array.from([1.5, -2])],
    ['float64', Float64Array.from([1.5, -2])],
    ['int8', Int8Array.from([-1, 2])],
    ['uint8', Uint8Array.from([1, 255])],
    ['int16', Int16Array.from([-300, 2])],
    ['uint16', Uint16Array.from([65535, 2])],
    ['int32', Int32Array.from([-70000, 2])],
    ['uint32', Uint32Array.from([4e9, 2])],
    ['int64', BigInt64Array.from([-5n, 2n])],
    ['uint64', BigUint64Array.from([5n, 2n])],
    ['bool', Uint8Array.from([1, 0])],
  ] as const;
  for (const [type, data] of cases) {
    const back = parseNpy(encodeNpy(type, [2], data), 't.npy');
    expect(back.type).toBe(type);
    expect(back.shape).toEqual([2]);
    expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(data as ArrayLike<unknown>));
  }
  const v1 = encodeNpy('float32', [2, 1], Float32Array.from([3, 4]));
  const headerLen = new DataView(v1.buffer).getUint16(8, true);
  const v2 = new Uint8Array(v1.length + 2);
  v2.set(v1.subarray(0, 8));
  v2[6] = 2;
  new DataView(v2.buffer).setUint32(8, headerLen, true);
  v2.set(v1.subarray(10), 12);
  const r = parseNpy(v2, 'v2.npy');
  expect(r.shape).toEqual([2, 1]);
  expect(Array.from(r.data as Float32Array)).toEqual([3, 4]);
  const edit = (from: string, to: string) => {
    const text = Buffer.from(v1).toString('latin1').replace(from, to);
    return new Uint8Array(Buffer.from(text, 'latin1'));
  };
  expect(() => parseNpy(edit("'fortran_order': False", "'fortran_order': True "), 'f.npy')).toThrow(/f\.npy: the array is in Fortran order/);
  expect(() => parseNpy(edit("'<f4'", "'>f4'"), 'b.npy')).toThrow(/b\.npy: big-endian dtype '>f4' is not supported/);
  expect(() => parseNpy(v1.subarray(0, v1.length - 1), 't.npy')).toThrow(/is the file truncated/);
  expect(() => parseNpy(new Uint8Array(20), 'z.npy')).toThrow(/z\.npy: not a readable \.npy file/);
});

test('float16 model inputs and outputs: data is rounded to float16, outputs read back as numbers', async () => {
  const { GraphBuilder, encodeModel } = await import('../../src/onnx/index.js');
  const b = new GraphBuilder('half');
  const x = b.input('x', DataType.FLOAT16, ['N', 3]);
  b.op('Mul', [x, x], {}, { outputs: ['y'] });
  b.output('y', DataType.FLOAT16, ['N', 3]);
  const m = encodeModel(b.model({ opset: 17 }));
  const ds = datasetFromArrays({ x: { type: 'float32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 0.5, 1.5, -2]) } });
  const { outputs, notes } = await runModel(m, ds);
  expect(Array.from(outputs.readAll('y').values)).toEqual([1, 4, 9, 0.25, 2.25, 4]);
  expect(notes[0]).toMatch(/float32 data rounded to float16 for input 'x'/);
});
