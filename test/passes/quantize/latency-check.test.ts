import type { ModelProfile, NodeTime } from '../../../src/evaluate/profile.js';
import { DataType, float32Tensor, GraphBuilder, int64Tensor, type Model } from '../../../src/onnx/index.js';
import { quantizeInt8Dynamic, quantizeWithFallback } from '../../../src/passes/quantize/index.js';
import { slowerInProfiles, slowerQuantizedNodes, type SlowerNode } from '../../../src/passes/quantize/latency-check.js';
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
const quantize = (m: Model, exclude: string[]) => quantizeInt8Dynamic(m, { allowConv: true, nodesToExclude: exclude }, ctx);

/** A profile as ORT's profiler reports it (post-optimization names, mean microseconds per run). */
function profile(nodes: Array<Pick<NodeTime, 'name' | 'opType' | 'meanUs'> & { originalNames?: string[] }>): ModelProfile {
  const totalUs = nodes.reduce((s, n) => s + n.meanUs, 0);
  return { runs: 20, totalUs, nodes: nodes.map((n) => ({ ...n, totalUs: n.meanUs * 20, calls: 20, share: n.meanUs / totalUs })), byOpType: [] };
}

test('on recorded profiles, a quantized node is slower when its kernel and its own Q/DQ helpers take over 1.1x and 5 us more than float', async () => {
  const model = convThenMatMul();
  const quant = (await quantize(model, [])).model;
  expect(quant.graph.nodes.map((n) => n.name)).toEqual(['conv_DynamicQuantizeLinear', 'conv', 'conv_Cast', 'conv_MulX', 'conv_MulW', 'reshape', 'mm']);
  // Measured on an AVX-512 runner: dynamic ConvInteger 5x slower than float Conv, MatMul 2x faster.
  const float = profile([
    { name: 'conv', opType: 'Conv', meanUs: 420 },
    { name: 'reshape', opType: 'Reshape', meanUs: 2 },
    { name: 'mm', opType: 'MatMul', meanUs: 900 },
  ]);
  // The Conv's own time includes the DynamicQuantizeLinear feeding it and the Cast named after it.
  const slow = profile([
    { name: 'conv_DynamicQuantizeLinear', opType: 'DynamicQuantizeLinear', meanUs: 60 },
    { name: 'conv', opType: 'ConvInteger', meanUs: 2000 },
    { name: 'conv_Cast', opType: 'Cast', meanUs: 20 },
    { name: 'mm', opType: 'DynamicQuantizeMatMul', meanUs: 400 },
  ]);
  expect(slowerInProfiles(float, slow, quant, ['conv', 'mm'])).toEqual<SlowerNode[]>([{ node: 'conv', floatUs: 420, quantUs: 2080 }]);
  // Within the 10 % dead zone, or a microsecond node a few us slower: not slower.
  const close = profile([
    { name: 'conv', opType: 'ConvInteger', meanUs: 455 },
    { name: 'mm', opType: 'DynamicQuantizeMatMul', meanUs: 400 },
  ]);
  expect(slowerInProfiles(float, close, quant, ['conv', 'mm'])).toEqual([]);
  const tiny = profile([{ name: 'conv', opType: 'ConvInteger', meanUs: 6 }]);
  expect(slowerInProfiles(profile([{ name: 'conv', opType: 'Conv', meanUs: 2 }]), tiny, quant, ['conv'])).toEqual([]);
  // A fused node in the float profile stands for the node it replaced.
  const fused = profile([{ name: 'fused_conv_0', opType: 'FusedConv', meanUs: 100, originalNames: ['conv'] }]);
  expect(slowerInProfiles(fused, slow, quant, ['conv']).map((s) => s.floatUs)).toEqual([100]);
});

test('the fallback leaves in float the nodes the latency check names, with their times as the reason', async () => {
  const model = convThenMatMul();
  const result = await quantizeWithFallback(model, quantize, async () => 0, 1, ctx, {
    latencyCheck: async () => [{ node: 'conv', floatUs: 420, quantUs: 2060 }],
  });
  expect(result.excluded).toEqual([{ what: 'conv', reason: 'fallback: slower quantized (2060 us) than float (420 us) in the profile' }]);
  expect(result.model.graph.nodes.find((n) => n.name === 'conv')?.opType).toBe('Conv');
  expect(result.model.graph.nodes.find((n) => n.name === 'mm')?.opType).not.toBe('MatMul');
  expect(result.summary.notes.join(' ')).toMatch(/left 1 node\(s\) that ran slower quantized in float \([^)]*conv/);
}, 60_000);

test('the real profiles give a time for every quantized target (which one is slower is the benchmark\'s business)', async () => {
  const model = convThenMatMul();
  const all = await quantize(model, []);
  expect(all.summary.changed.map((c) => c.name).sort()).toEqual(['conv', 'mm']);
  const slower = await slowerQuantizedNodes(model, all.model, ['conv', 'mm'], feeds[0], { runs: 3 });
  for (const s of slower) {
    expect(['conv', 'mm']).toContain(s.node);
    expect(s.quantUs).toBeGreaterThan(s.floatUs);
  }
}, 60_000);
