import type { ModelProfile, NodeTime } from '../../../src/evaluate/profile.js';
import { DataType, float32Tensor, GraphBuilder, int64Tensor, type Model } from '../../../src/onnx/index.js';
import { quantizeInt8Dynamic, quantizeInt8Static, quantizeWithFallback } from '../../../src/passes/quantize/index.js';
import { slowerInProfiles, slowerQuantizedRegions, type SlowerRegion } from '../../../src/passes/quantize/latency-check.js';
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

test('on recorded profiles, a dynamically quantized node is a region of its own, slower when its kernel and its own helpers take over 1.1x and 5 us more than float', async () => {
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
  expect(slowerInProfiles(float, slow, quant, ['conv', 'mm'])).toEqual<SlowerRegion[]>([{ nodes: ['conv'], floatUs: 420, quantUs: 2080 }]);
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

/** conv1 (1 input channel) -> MaxPool -> conv2 (16 -> 32): the PyTorch MNIST CNN's first half. */
function twoConvs(): Model {
  const b = new GraphBuilder('two-convs');
  const x = b.input('x', DataType.FLOAT, ['N', 1, 28, 28]);
  let h = b.op('Conv', [x, b.constant(float32Tensor('w1', [16, 1, 3, 3], rand(144, 3, 0.3)))], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  h = b.op('Relu', [h], {}, { name: 'relu1' });
  h = b.op('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool' });
  h = b.op('Conv', [h, b.constant(float32Tensor('w2', [32, 16, 3, 3], rand(4608, 4, 0.1)))], { pads: [1, 1, 1, 1] }, { name: 'conv2' });
  b.op('Softmax', [b.op('Flatten', [h], {}, { name: 'flat' })], {}, { name: 'softmax', outputs: ['y'] });
  b.output('y', DataType.FLOAT);
  return b.model({ opset: 17 });
}

test('static QDQ: convolutions joined by int8 through a MaxPool are one region, judged and left in float together', async () => {
  const model = twoConvs();
  const calibration = feedsFor('x', [4, 1, 28, 28], 1, 9);
  const quant = (await quantizeInt8Static(model, { calibration: 'minmax' }, { seed: 1, calibration })).model;
  const targets = ['conv1', 'conv2'];
  const float = profile([
    { name: 'conv1', opType: 'Conv', meanUs: 420 },
    { name: 'pool', opType: 'MaxPool', meanUs: 300 },
    { name: 'conv2', opType: 'Conv', meanUs: 3060 },
    { name: 'softmax', opType: 'Softmax', meanUs: 50 },
  ]);
  // The shared README's measurement: conv1 slower quantized, conv2 faster, the pool on uint8 NHWC cheap.
  const faster = profile([
    { name: 'conv1', opType: 'QLinearConv', meanUs: 1520 },
    { name: 'pool', opType: 'MaxPool', meanUs: 31 },
    { name: 'conv2', opType: 'QLinearConv', meanUs: 1600 },
    { name: 'softmax', opType: 'Softmax', meanUs: 50 },
  ]);
  // A per-node rule would leave conv1 in float (1520 us > 1.1 x 420 us); the region as a whole is faster.
  expect(slowerInProfiles(float, faster, quant, targets)).toEqual([]);
  const slower = profile([
    { name: 'conv1', opType: 'QLinearConv', meanUs: 1520 },
    { name: 'pool', opType: 'MaxPool', meanUs: 2000 },
    { name: 'conv2', opType: 'QLinearConv', meanUs: 1600 },
  ]);
  expect(slowerInProfiles(float, slower, quant, targets)).toEqual<SlowerRegion[]>([{ nodes: ['conv1', 'conv2'], floatUs: 3780, quantUs: 5120 }]);
});

test('the fallback leaves in float the regions the latency check names, with their times as the reason', async () => {
  const model = convThenMatMul();
  const region = await quantizeWithFallback(twoConvs(), (m, exclude) => quantizeInt8Static(m, { calibration: 'minmax', nodesToExclude: exclude }, { seed: 1, calibration: feedsFor('x', [4, 1, 28, 28], 1, 9) }), async () => 0, 1, ctx, {
    latencyCheck: async () => [{ nodes: ['conv1', 'conv2'], floatUs: 3780, quantUs: 5120 }],
  });
  expect(region.excluded.map((e) => e.what)).toEqual(['conv1', 'conv2']);
  expect(region.excluded[0].reason).toBe('fallback: its region (conv1, conv2) ran slower quantized (5120 us) than float (3780 us) in the profile');
  expect(region.model.graph.nodes.filter((n) => n.opType === 'QuantizeLinear')).toHaveLength(0);
  const result = await quantizeWithFallback(model, quantize, async () => 0, 1, ctx, {
    latencyCheck: async () => [{ nodes: ['conv'], floatUs: 420, quantUs: 2060 }],
  });
  expect(result.excluded).toEqual([{ what: 'conv', reason: 'fallback: slower quantized (2060 us) than float (420 us) in the profile' }]);
  expect(result.model.graph.nodes.find((n) => n.name === 'conv')?.opType).toBe('Conv');
  expect(result.model.graph.nodes.find((n) => n.name === 'mm')?.opType).not.toBe('MatMul');
  expect(result.summary.notes.join(' ')).toMatch(/left 1 node\(s\) in 1 region\(s\) that ran slower quantized in float \([^)]*conv/);
}, 60_000);

test('the real profiles give a time for every quantized target (which one is slower is the benchmark\'s business)', async () => {
  const model = convThenMatMul();
  const all = await quantize(model, []);
  expect(all.summary.changed.map((c) => c.name).sort()).toEqual(['conv', 'mm']);
  const slower = await slowerQuantizedRegions(model, all.model, ['conv', 'mm'], feeds[0], { runs: 3 });
  for (const s of slower) {
    expect([['conv'], ['mm']]).toContainEqual(s.nodes);
    expect(s.quantUs).toBeGreaterThan(s.floatUs);
  }
}, 60_000);
