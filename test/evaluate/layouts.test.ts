/**
 * Inputs as real models take them: a batch axis that is not the first ([2, N, 3]), a scalar given
 * once for every run, a scalar given per sample, and recurrent state carried from run to run.
 */
import { datasetFromArrays, loadDataset } from '../../src/evaluate/data.js';
import { runModel } from '../../src/evaluate/evaluate.js';
import { encodeNpy } from '../../src/evaluate/npy.js';
import { DataType, encodeModel, GraphBuilder } from '../../src/onnx/index.js';
import { InputError } from '../../src/util/errors.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** y = x * scale: x [2, N, 3] (batch at axis 1), scale a float scalar. */
function stateShaped(): Uint8Array {
  const b = new GraphBuilder('axis1');
  const x = b.input('x', DataType.FLOAT, [2, 'N', 3]);
  const scale = b.input('scale', DataType.FLOAT, []);
  b.op('Mul', [x, scale], {}, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, [2, 'N', 3]);
  return encodeModel(b.model({ opset: 17 }));
}

test('samples stack along the model\'s batch axis (1 here) and come back sample by sample; a [] file is one value for every run', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-layout-'));
  const samples = 5;
  // Sample s holds [2, 3] values s*10 + k.
  const x = Float32Array.from({ length: samples * 6 }, (_, i) => Math.floor(i / 6) * 10 + (i % 6));
  fs.writeFileSync(path.join(dir, 'x.npy'), encodeNpy('float32', [samples, 2, 3], x));
  fs.writeFileSync(path.join(dir, 'scale.npy'), encodeNpy('float32', [], Float32Array.of(2)));
  const ds = loadDataset({ inputs: { x: path.join(dir, 'x.npy'), scale: path.join(dir, 'scale.npy') } });
  expect(ds.count).toBe(samples);
  const { outputs } = await runModel(stateShaped(), ds, { batchSize: 2 });
  const y = outputs.readAll('y');
  expect(y.shape).toEqual([2, 3]);
  expect(Array.from(y.values)).toEqual(Array.from(x, (v) => 2 * v));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a data file that does not fit the model input names the input, the shapes and the fix', async () => {
  const ds = datasetFromArrays({ x: { type: 'float32', shape: [4, 3, 2], data: new Float32Array(24) }, scale: { type: 'float32', shape: [4], data: new Float32Array(4) } });
  await expect(runModel(stateShaped(), ds)).rejects.toThrow(InputError);
  await expect(runModel(stateShaped(), ds)).rejects.toThrow(/<x>: input 'x' has per-sample shape \[3,2\] but <in-memory model> expects \[2,3\] \(samples along axis 1\) \(axis 0: 2 expected, got 3\)/);
});

/** y = x + h and hn = y: a running sum when hn is carried into h. h is [1, batch, 1]. */
function accumulator(): Uint8Array {
  const b = new GraphBuilder('acc');
  const x = b.input('x', DataType.FLOAT, ['batch', 1]);
  const h = b.input('h', DataType.FLOAT, [1, 'batch', 1]);
  const flat = b.op('Squeeze', [h, b.constant({ name: 'axes0', dataType: DataType.INT64, dims: [1], raw: new Uint8Array(new BigInt64Array([0n]).buffer) })]);
  const y = b.op('Add', [x, flat], {}, { outputs: ['y'] });
  b.op('Unsqueeze', [y, b.constant({ name: 'axes1', dataType: DataType.INT64, dims: [1], raw: new Uint8Array(new BigInt64Array([0n]).buffer) })], {}, { outputs: ['hn'] });
  b.output('y', DataType.FLOAT, ['batch', 1]);
  b.output('hn', DataType.FLOAT, [1, 'batch', 1]);
  return encodeModel(b.model({ opset: 17 }));
}

test('carried state: samples run one at a time, each state input fed by the previous run\'s output, from zeros', async () => {
  const ds = datasetFromArrays({ x: { type: 'float32', shape: [4, 1], data: Float32Array.of(1, 2, 3, 4) } });
  const { outputs } = await runModel(accumulator(), ds, { batchSize: 32, layout: { carry: { h: 'hn' } } });
  expect(Array.from(outputs.readAll('y').values)).toEqual([1, 3, 6, 10]);
  // Without carry the state input needs data.
  await expect(runModel(accumulator(), ds)).rejects.toThrow(/the model input 'h' has no data/);
  await expect(runModel(accumulator(), ds, { layout: { carry: { state: 'hn' } } })).rejects.toThrow(/data.carry names the input 'state', which the model does not have/);
});

test("a model that fixes its batch at 1 (openWakeWord's classifier head [1, 25, 96]) runs its samples one at a time", async () => {
  // openwakeword-js ships the head only (its speech-embedding model is not in the package), so the
  // frames here are seeded values in the embedding's range: this checks the layout, not wake words.
  const model = path.resolve(import.meta.dirname, '../../node_modules/openwakeword-js/models/hello_deepa.onnx');
  let seed = 7;
  const frames = Float32Array.from({ length: 6 * 25 * 96 }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
  const ds = datasetFromArrays({ 'onnx::Flatten_0': { type: 'float32', shape: [6, 25, 96], data: frames } });
  const { outputs } = await runModel(model, ds, { batchSize: 32 });
  const [name] = outputs.names;
  expect(outputs.count(name)).toBe(6);
  expect(outputs.readAll(name).shape).toEqual([1]);
});
