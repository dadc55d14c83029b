import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ort from 'onnxruntime-node';
import { DataType, GraphBuilder, float32Tensor, loadModel, saveModel, encodeModel, toFloat32 } from '../../src/onnx/index.js';

function mlp() {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', DataType.FLOAT, ['N', 4]);
  const w = b.constant(float32Tensor('w', [3, 4], Array.from({ length: 12 }, (_, i) => i / 10 - 0.5)));
  const bias = b.constant(float32Tensor('b', [3], [0.1, -0.2, 0.3]));
  const h = b.op('Gemm', [x, w, bias], { transB: 1 });
  const y = b.op('Relu', [h], {}, { outputs: ['y'] });
  b.output(y, DataType.FLOAT, ['N', 3]);
  return b.model({ opset: 17 });
}

test('builder model runs in ORT and survives save/load with and without external data', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-'));
  const m = mlp();
  const input = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, -1, -2, -3, -4]), [2, 4]);
  const s1 = await ort.InferenceSession.create(encodeModel(m));
  const y1 = (await s1.run({ x: input })).y.data as Float32Array;
  saveModel(m, path.join(dir, 'inline.onnx'));
  saveModel(m, path.join(dir, 'ext.onnx'), { externalThreshold: 0 });
  expect(fs.existsSync(path.join(dir, 'ext.onnx.data'))).toBe(true);
  for (const f of ['inline.onnx', 'ext.onnx']) {
    const loaded = loadModel(path.join(dir, f));
    expect(Array.from(toFloat32(loaded.graph.initializers[0]))).toEqual(Array.from(toFloat32(m.graph.initializers[0])));
    const s2 = await ort.InferenceSession.create(path.join(dir, f));
    const y2 = (await s2.run({ x: input })).y.data as Float32Array;
    expect(Buffer.from(y2.buffer)).toEqual(Buffer.from(y1.buffer));
    const s3 = await ort.InferenceSession.create(encodeModel(loaded));
    expect(Buffer.from(((await s3.run({ x: input })).y.data as Float32Array).buffer)).toEqual(Buffer.from(y1.buffer));
  }
});
