import { DataType, GraphBuilder, loadModel } from '../../src/onnx/index.js';
import { probeAllShapes, probeShapes, randomFeeds } from '../../src/evaluate/shapes.js';
import { convNet } from './families.js';
import { MODELS } from './helpers.js';

test('probeShapes returns the concrete shape of every value of a conv net', async () => {
  const model = convNet();
  const shapes = await probeShapes(model, randomFeeds(model, { seed: 2, dimValues: { N: 2 } }));
  const byOp = (op: string) => shapes.get(model.graph.nodes.find((n) => n.opType === op)?.outputs[0] as string);
  expect(shapes.get('x')).toEqual([2, 3, 16, 16]);
  expect(shapes.get('c1.w')).toEqual([8, 3, 3, 3]);
  expect(byOp('Conv')).toEqual([2, 8, 16, 16]);
  expect(byOp('MaxPool')).toEqual([2, 8, 8, 8]);
  // 8x8, kernel 3, stride 2, no padding: (8 - 3) / 2 + 1 = 3.
  expect(shapes.get(model.graph.nodes[3].outputs[0])).toEqual([2, 16, 3, 3]);
  expect(byOp('GlobalAveragePool')).toEqual([2, 16, 1, 1]);
  expect(byOp('Flatten')).toEqual([2, 16]);
  expect(shapes.get('y')).toEqual([2, 10]);
  const produced = model.graph.nodes.flatMap((n) => n.outputs);
  for (const v of produced) expect(shapes.has(v)).toBe(true);
});

test('without feeds, symbolic dims are 1; shapes follow Shape/Slice/Concat/Reshape and float16 casts', async () => {
  const b = new GraphBuilder('shape-ops');
  const x = b.input('x', DataType.FLOAT, ['batch', 'len', 4]);
  const shape = b.op('Shape', [x]);
  const flat = b.op('Reshape', [x, b.op('Concat', [b.op('Slice', [shape, b.constant({ name: 's0', dataType: DataType.INT64, dims: [1], raw: new Uint8Array(8) }), b.constant({ name: 's1', dataType: DataType.INT64, dims: [1], raw: new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]) })]), b.constant({ name: 'm1', dataType: DataType.INT64, dims: [1], raw: new Uint8Array(8).fill(255) })], { axis: 0 })]);
  const cast = b.op('Cast', [flat], { to: DataType.FLOAT16 });
  b.op('Cast', [cast], { to: DataType.FLOAT }, { outputs: ['y'] });
  b.output('y', DataType.FLOAT);
  const model = b.model({ opset: 17 });
  const { shapes: probed, complete } = await probeAllShapes(model, randomFeeds(model));
  expect(complete).toBe(true);
  expect(probed.get('x')).toEqual([1, 1, 4]);
  expect(probed.get(shape)).toEqual([3]);
  expect(probed.get(flat)).toEqual([1, 4]);
  expect(probed.get(cast)).toEqual([1, 4]);
  const bigger = await probeShapes(model, undefined, { dimValues: { batch: 3, len: 5 } });
  expect(bigger.get(flat)).toEqual([3, 20]);
});

test('real models: every main-graph value gets a shape (OCR rec, silero with If bodies)', async () => {
  const rec = loadModel(MODELS.ocrRec);
  const recShapes = await probeShapes(rec, undefined, { dimValues: { 'p2o.DynamicDimension.1': 64 } });
  for (const n of rec.graph.nodes) for (const o of n.outputs) expect(recShapes.has(o)).toBe(true);
  expect(recShapes.get(rec.graph.outputs[0].name)).toEqual([1, 8, 6625]);

  const vad = loadModel(MODELS.sileroVad);
  const feeds = randomFeeds(vad, { seed: 1, dimValues: { sequence: 512 } });
  feeds.sr = { type: 'int64', dims: [], data: BigInt64Array.from([16000n]) };
  const vadShapes = await probeShapes(vad, feeds);
  expect(vadShapes.get('output')).toEqual([1, 1]);
  for (const n of vad.graph.nodes) for (const o of n.outputs) if (o) expect(vadShapes.has(o)).toBe(true);
});

test('a model ORT cannot run rejects with an InputError', async () => {
  const b = new GraphBuilder('bad');
  const x = b.input('x', DataType.FLOAT, [2]);
  b.op('NoSuchOp', [x], {}, { outputs: ['y'], domain: 'nowhere' });
  b.output('y', DataType.FLOAT);
  await expect(probeShapes(b.model({ opset: 17, extraOpsets: [{ domain: 'nowhere', version: 1 }] }))).rejects.toThrow(/ONNX Runtime cannot load/);
});
