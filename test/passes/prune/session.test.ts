/**
 * Passes hand models above LARGE_MODEL_BYTES to ORT as a temporary file with external data, and
 * can feed weights as inputs: ORT must compute exactly what it computes from one serialized buffer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { LARGE_MODEL_BYTES, openSession } from '../../../src/evaluate/activations.js';
import { ModelSession } from '../../../src/evaluate/session.js';
import { DataType, encodeModel, float32Tensor, GraphBuilder } from '../../../src/onnx/index.js';
import { uniformArray } from '../../helpers/seeded-random.js';

test('a large model through a temporary file, and (pre-packing off) with its weights fed in place, gives the same bits as from a buffer', async () => {
  const k = 1024;
  const n = Math.ceil(LARGE_MODEL_BYTES / 4 / k) + 16;
  const b = new GraphBuilder('big');
  const x = b.input('x', DataType.FLOAT, ['N', k]);
  const h = b.op('Relu', [b.op('MatMul', [x, b.constant(float32Tensor('w', [k, n], uniformArray(k * n, 1)))])]);
  b.op('ReduceSum', [h, b.constant({ ...float32Tensor('axes', [1], [0]), dataType: DataType.INT64, raw: new Uint8Array(new BigInt64Array([1n]).buffer) })], { keepdims: 0 }, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['N']);
  const model = b.model({ opset: 17 });
  const feeds = { x: { type: 'float32' as const, dims: [3, k], data: uniformArray(3 * k, 2) } };
  const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('pg-session-')).length;
  // Weights fed as inputs are only ever used with pre-packing off: a pre-packed MatMul weight and an
  // unpacked one can give different bits (they do on this machine), so constant and fed weights
  // agree only then.
  const unpacked = { graphOptimizationLevel: 'basic' as const, configEntries: { 'session.disable_prepacking': '1' } };
  for (const [options, feedAsInput] of [
    [{}, undefined],
    [unpacked, undefined],
    [unpacked, () => true],
  ] as const) {
    const plain = await ModelSession.create(encodeModel(model), options);
    const want = Buffer.from(((await plain.run(feeds)).y.data as Float32Array).buffer);
    await plain.release();
    const opened = await openSession(model, { ...options, feedAsInput });
    const got = Buffer.from(((await opened.run(feeds)).y.data as Float32Array).buffer);
    await opened.close();
    expect(got).toEqual(want);
  }
  // The temporary directory is gone after close.
  expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('pg-session-')).length).toBe(before);
});
