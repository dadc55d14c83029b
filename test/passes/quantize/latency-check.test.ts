import { DataType, float32Tensor, GraphBuilder, int64Tensor, type Model } from '../../../src/onnx/index.js';
import { quantizeDynamicInt8, quantizeWithFallback } from '../../../src/passes/quantize/index.js';
import { slowerQuantizedNodes } from '../../../src/passes/quantize/latency-check.js';
import { feedsFor, rand } from './helpers.js';

/** Conv 3x3 32->32 on 32x32 (dynamic ConvInteger: several times slower than float), then a 1024x1024 MatMul. */
function convThenMatMul(): Model {
  const b = new GraphBuilder('conv-mm');
  const x = b.input('x', DataType.FLOAT, ['N', 32, 32, 32]);
  let h = b.op('Conv', [x, b.constant(float32Tensor('wc', [32, 32, 3, 3], rand(9216, 1, 0.2)))], { pads: [1, 1, 1, 1] }, { name: 'conv' });
  h = b.op('Reshape', [h, b.constant(int64Tensor('shape', [2], [-1, 1024]))], {}, { name: 'reshape' });
  b.op('MatMul', [h, b.constant(float32Tensor('wm', [1024, 1024], rand(1024 * 1024, 2, 0.05)))], {}, { name: 'mm', outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['M', 1024]);
  return b.model({ opset: 17 });
}

const feeds = feedsFor('x', [8, 32, 32, 32], 1, 5);
const ctx = { seed: 1, calibration: feeds };

test('the profile finds the dynamically quantized Conv slower than float, and the fallback leaves it in float', async () => {
  const model = convThenMatMul();
  const quantize = (m: Model, exclude: string[]) => quantizeDynamicInt8(m, { allowConv: true, nodesToExclude: exclude }, ctx);
  const all = await quantize(model, []);
  expect(all.summary.changed.map((c) => c.name).sort()).toEqual(['conv', 'mm']);
  const slower = await slowerQuantizedNodes(model, all.model, ['conv', 'mm'], feeds[0]);
  expect(slower.map((s) => s.node)).toContain('conv');
  const conv = slower.find((s) => s.node === 'conv')!;
  expect(conv.quantUs).toBeGreaterThan(2 * conv.floatUs);

  const result = await quantizeWithFallback(model, quantize, async () => 0, 1, ctx, {
    latencyCheck: (float, quant) => slowerQuantizedNodes(float, quant.model, quant.summary.changed.map((c) => c.name), feeds[0]),
  });
  expect(result.excluded.map((e) => e.what)).toContain('conv');
  expect(result.excluded.find((e) => e.what === 'conv')?.reason).toMatch(/^fallback: slower quantized \(\d+ us\) than float \(\d+ us\) in the profile$/);
  expect(result.model.graph.nodes.find((n) => n.name === 'conv')?.opType).toBe('Conv');
  expect(result.summary.notes.join(' ')).toMatch(/left \d node\(s\) that ran slower quantized in float \([^)]*conv/);
}, 60_000);
