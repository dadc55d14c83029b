import { DataType, GraphBuilder, float32Tensor, type Model } from '../../../src/onnx/index.js';
import { collectStats } from '../../../src/passes/prune/calibration.js';
import { pruneStructured } from '../../../src/passes/prune/index.js';
import { mulberry32 } from '../../helpers/seeded-random.js';
import { randomFeeds } from './helpers.js';

/** conv1 -> Relu -> conv2 -> bn2 -> Relu -> conv3 -> bn3 -> GAP -> Flatten -> Gemm: bn2 and bn3 follow layers that lose input channels. */
function chain(): Model {
  const rand = mulberry32(5);
  let id = 0;
  const w = (b: GraphBuilder, dims: number[], scale = 0.5, offset = 0) =>
    b.constant(float32Tensor(`w${id++}`, dims, Array.from({ length: dims.reduce((x, y) => x * y, 1) }, () => offset + (rand() * 2 - 1) * scale)));
  const b = new GraphBuilder('bn-chain');
  const x = b.input('x', DataType.FLOAT, ['N', 3, 8, 8]);
  let h = b.op('Relu', [b.op('Conv', [x, w(b, [16, 3, 3, 3])], { pads: [1, 1, 1, 1] }, { name: 'conv1' })]);
  h = b.op('Conv', [h, w(b, [16, 16, 3, 3], 0.3)], { pads: [1, 1, 1, 1] }, { name: 'conv2' });
  h = b.op('BatchNormalization', [h, w(b, [16], 0.2, 1), w(b, [16], 0.1), w(b, [16], 0.5), w(b, [16], 0.2, 1)], {}, { name: 'bn2', outputs: ['bn2_out'] });
  h = b.op('Relu', [h]);
  h = b.op('Conv', [h, w(b, [16, 16, 3, 3], 0.3)], { pads: [1, 1, 1, 1] }, { name: 'conv3' });
  h = b.op('BatchNormalization', [h, w(b, [16], 0.2, 1), w(b, [16], 0.1), w(b, [16], 0.5), w(b, [16], 0.2, 1)], {}, { name: 'bn3', outputs: ['bn3_out'] });
  h = b.op('Flatten', [b.op('GlobalAveragePool', [b.op('Relu', [h])])]);
  b.op('Gemm', [h, w(b, [10, 16], 0.3), w(b, [10])], { transB: 1 }, { name: 'fc', outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['N', 10]);
  return b.model({ opset: 17 });
}

const calibration = [randomFeeds({ x: [16, 3, 8, 8] }, 3), randomFeeds({ x: [16, 3, 8, 8] }, 4)];
const ctx = { seed: 1, calibration };

async function outputMoments(model: Model, value: string): Promise<Array<[number, number]>> {
  const s = (await collectStats(model, [{ value, axis: 1, keepRows: false }], calibration)).get(value)!;
  return Array.from(s.sum, (sum, c) => {
    const mu = sum / s.count;
    return [mu, Math.sqrt(s.sumSq[c] / s.count - mu * mu)];
  });
}

test('a BatchNormalization after a layer that lost input channels gets back its output mean and spread', async () => {
  const model = chain();
  const original = await outputMoments(model, 'bn2_out');
  const { model: pruned, summary } = await pruneStructured(model, { target: 0.5, importance: 'l1', repair: 'bias-correction', layers: ['conv1'] }, ctx);
  expect(summary.changed.find((c) => c.name === 'bn2')?.change).toMatch(/^running mean and variance re-estimated on calibration data \(largest scale change \d+\.\d %\)$/);
  expect(summary.notes).toContain('1 BatchNormalization node(s) after repaired layers re-estimated on calibration data');
  const now = await outputMoments(pruned, 'bn2_out');
  for (let c = 0; c < 16; c++) {
    expect(now[c][0]).toBeCloseTo(original[c][0], 4);
    expect(now[c][1]).toBeCloseTo(original[c][1], 4);
  }
  // Without repair the statistics are left alone (the user asked for no change beyond the cut).
  const plain = await pruneStructured(model, { target: 0.5, importance: 'l1', repair: 'none', layers: ['conv1'] }, ctx);
  expect(plain.summary.changed.map((c) => c.name)).not.toContain('bn2');
});

test('when the BatchNormalization itself loses channels, its kept channels are matched to their own statistics', async () => {
  const model = chain();
  const original = await outputMoments(model, 'bn2_out');
  const { model: pruned, summary } = await pruneStructured(model, { target: 0.5, importance: 'l1', repair: 'bias-correction', layers: ['conv1', 'conv2'] }, ctx);
  expect(summary.changed.filter((c) => c.name === 'conv2' && /output channels/.test(c.change))).toHaveLength(1);
  expect(summary.changed.map((c) => c.name)).toEqual(expect.arrayContaining(['bn2', 'bn3']));
  const now = await outputMoments(pruned, 'bn2_out');
  expect(now).toHaveLength(8);
  // Which 8 of bn2's channels stayed: the ones whose output moments appear in the original.
  for (const [mu, sd] of now) {
    expect(original.some(([m, s]) => Math.abs(m - mu) < 1e-4 && Math.abs(s - sd) < 1e-4)).toBe(true);
  }
});
