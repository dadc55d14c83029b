import { DataType, GraphBuilder, float32Tensor, toFloat32, type Model } from '../../../src/onnx/index.js';
import { mulberry32 } from '../../helpers/seeded-random.js';
import type { Feeds } from '../../../src/evaluate/session.js';
import { pruneLowRank, pruneNM, pruneStructured, pruneUnstructured, scanLayerSensitivity } from '../../../src/passes/prune/index.js';
import { zeroSmallest } from '../../../src/passes/prune/select.js';
import { convBnChain } from './models.js';
import { maxAbsDiff, randomFeeds, relError, run } from './helpers.js';

/** An MLP fed correlated inputs (16 features from 4 latent factors), as real features are. */
function correlatedMlp(): { model: Model; feeds: (seed: number, n: number) => Feeds } {
  const rand = mulberry32(21);
  const w = (dims: number[], s = 0.4) => float32Tensor(`w${rand()}`, dims, Array.from({ length: dims[0] * (dims[1] ?? 1) }, () => (rand() * 2 - 1) * s));
  const b = new GraphBuilder('mlp');
  const x = b.input('x', DataType.FLOAT, ['N', 16]);
  const h = b.op('Relu', [b.op('Gemm', [x, b.constant(w([16, 64])), b.constant(w([64], 0.1))], {}, { name: 'fc1' })]);
  const h2 = b.op('Relu', [b.op('Add', [b.op('MatMul', [h, b.constant(w([64, 48]))], {}, { name: 'fc2' }), b.constant(w([48], 0.1))])]);
  const y = b.op('Gemm', [h2, b.constant(w([8, 48])), b.constant(w([8]))], { transB: 1 }, { name: 'fc3', outputs: ['y'] });
  b.output(y, DataType.FLOAT, ['N', 8]);
  const mix = Array.from({ length: 4 * 16 }, () => rand() * 2 - 1);
  const feeds = (seed: number, n: number): Feeds => {
    const r = mulberry32(seed);
    const data = new Float32Array(n * 16);
    for (let i = 0; i < n; i++) {
      const z = [0, 1, 2, 3].map(() => r() * 2 - 1);
      for (let j = 0; j < 16; j++) data[i * 16 + j] = z.reduce((a, zk, k) => a + zk * mix[k * 16 + j], 0) + 0.05 * (r() - 0.5);
    }
    return { x: { type: 'float32', dims: [n, 16], data } };
  };
  return { model: b.model({ opset: 17 }), feeds };
}

describe('training-free repair', () => {
  test('least-squares and bias correction cut the output error of pruning, on held-out data too', async () => {
    const { model, feeds } = correlatedMlp();
    const calibration = [feeds(1, 256), feeds(2, 256)];
    const heldOut = feeds(99, 200);
    const ref = (await run(model, heldOut)).y;
    const err: Record<string, number> = {};
    for (const repair of ['none', 'bias-correction', 'least-squares'] as const) {
      const { model: pruned, summary } = await pruneStructured(model, { target: 0.5, importance: 'l1', repair, multiple: 1 }, { seed: 1, calibration });
      err[repair] = relError((await run(pruned, heldOut)).y, ref);
      if (repair === 'least-squares') {
        const fc2 = summary.changed.find((c) => c.name === 'fc2' && c.change.includes('repair'));
        expect(fc2?.change).toMatch(/least-squares repair \(relative output error [\d.e-]+ without repair -> [\d.e-]+\)/);
        expect(fc2?.error as number).toBeLessThan(0.5);
      }
    }
    expect(err['least-squares']).toBeLessThan(err.none * 0.7);
    expect(err['bias-correction']).toBeLessThan(err.none);
  });

  test('conv consumers get bias correction from the removed channels means', async () => {
    const t = convBnChain();
    const calibration = [randomFeeds(t.inputs, 1, 0.5), randomFeeds(t.inputs, 2, 0.5)];
    const held = randomFeeds(t.inputs, 3, 0.5);
    const ref = (await run(t.model, held)).y;
    const errs = [];
    for (const repair of ['none', 'bias-correction'] as const) {
      const { model } = await pruneStructured(t.model, { target: 0.5, importance: 'activation', repair, multiple: 1, layers: ['conv1'] }, { seed: 1, calibration });
      errs.push(relError((await run(model, held)).y, ref));
    }
    expect(errs[1]).toBeLessThan(errs[0]);
  });
});

describe('fine-grained magnitude pruning', () => {
  test('exact per-layer sparsity, ties broken by index', () => {
    const a = Float32Array.from([3, -1, 1, 2, -1, 5, 1, 0.5]);
    zeroSmallest([a], 4);
    // 0.5 and three of the four magnitude-1 ties: the earliest indices (1, 2, 4).
    expect(Array.from(a)).toEqual([3, 0, 0, 2, 0, 5, 1, 0]);
  });

  test('per-layer and global targets are met exactly; sparse storage loads in ORT with equal outputs', async () => {
    const { model, feeds } = correlatedMlp();
    const x = feeds(5, 10);
    const per = await pruneUnstructured(model, { target: 0.5 }, { seed: 1 });
    const zerosIn = (m: Model, name: string) => {
      const node = m.graph.nodes.find((n) => n.name === name);
      const t = m.graph.initializers.find((i) => i.name === node?.inputs[1]);
      return t ? toFloat32(t).filter((v) => v === 0).length : -1;
    };
    expect([zerosIn(per.model, 'fc1'), zerosIn(per.model, 'fc2'), zerosIn(per.model, 'fc3')]).toEqual([512, 1536, 192]);
    expect(per.summary.notes).toContain("fine-grained sparsity keeps tensor shapes: it saves storage after compression (gzip/sparse_initializer), not time, on ONNX Runtime's CPU provider");
    const global = await pruneUnstructured(model, { target: 0.7, scope: 'global' }, { seed: 1 });
    const total = 16 * 64 + 64 * 48 + 48 * 8;
    expect(zerosIn(global.model, 'fc1') + zerosIn(global.model, 'fc2') + zerosIn(global.model, 'fc3')).toBe(Math.floor(0.7 * total));
    const sparse = await pruneUnstructured(model, { target: 0.8, sparseStorage: true }, { seed: 1 });
    const dense = await pruneUnstructured(model, { target: 0.8 }, { seed: 1 });
    expect(sparse.model.graph.sparseInitializers.length).toBe(3);
    expect(maxAbsDiff((await run(sparse.model, x)).y, (await run(dense.model, x)).y)).toBe(0);
  });

  test('2:4 keeps at most 2 of every 4 along the reduction axis; wanda uses calibration', async () => {
    const { model, feeds } = correlatedMlp();
    for (const importance of ['magnitude', 'wanda'] as const) {
      const { model: pruned, summary } = await pruneNM(model, { n: 2, m: 4, importance }, { seed: 1, calibration: [feeds(1, 64)] });
      const node = pruned.graph.nodes.find((n) => n.name === 'fc2');
      const w = toFloat32(pruned.graph.initializers.find((i) => i.name === node?.inputs[1]) as never); // [64, 48], K = 64 rows
      for (let o = 0; o < 48; o++) for (let k0 = 0; k0 < 64; k0 += 4) expect([0, 1, 2, 3].filter((j) => w[(k0 + j) * 48 + o] !== 0).length).toBeLessThanOrEqual(2);
      const fc3 = toFloat32(pruned.graph.initializers.find((i) => i.name === pruned.graph.nodes.find((n) => n.name === 'fc3')?.inputs[1]) as never); // [8, 48] transB
      for (let o = 0; o < 8; o++) for (let k0 = 0; k0 < 48; k0 += 4) expect([0, 1, 2, 3].filter((j) => fc3[o * 48 + k0 + j] !== 0).length).toBe(2);
      expect(summary.paramsAfter).toBe(summary.paramsBefore - (16 * 64 + 64 * 48 + 48 * 8) / 2);
      await run(pruned, feeds(2, 4));
    }
    await expect(pruneNM(model, { n: 4, m: 4 }, { seed: 1 })).rejects.toThrow(/0 <= n < m/);
  });
});

describe('low-rank factorization', () => {
  test('a rank-3 weight becomes two factors with the same outputs and fewer FLOPs', async () => {
    const rand = mulberry32(4);
    const u = Array.from({ length: 32 * 3 }, () => rand() - 0.5);
    const v = Array.from({ length: 3 * 40 }, () => rand() - 0.5);
    const w = new Float32Array(32 * 40);
    for (let i = 0; i < 32; i++) for (let j = 0; j < 40; j++) for (let k = 0; k < 3; k++) w[i * 40 + j] += u[i * 3 + k] * v[k * 40 + j];
    const b = new GraphBuilder('lr');
    const x = b.input('x', DataType.FLOAT, ['N', 32]);
    b.op('MatMul', [x, b.constant(float32Tensor('w', [32, 40], w))], {}, { name: 'mm', outputs: ['y'] });
    b.output('y', DataType.FLOAT, ['N', 40]);
    const model = b.model({ opset: 17 });
    const feeds = randomFeeds({ x: [5, 32] });
    for (const activationAware of [false, true]) {
      const { model: f, summary } = await pruneLowRank(model, { energy: 0.999, activationAware }, { seed: 1, calibration: [feeds] });
      expect(summary.changed[0].change).toMatch(/^\[32x40\] -> \[32x3\]\[3x40\] \(rank 3/);
      expect(summary.flopsAfter as number).toBeLessThan((summary.flopsBefore as number) / 2);
      expect(maxAbsDiff((await run(f, feeds)).y, (await run(model, feeds)).y)).toBeLessThan(1e-4);
    }
    const full = await pruneLowRank(model, { rank: { mm: 30 } }, { seed: 1 });
    expect(full.summary.skipped[0].reason).toMatch(/no FLOPs saved/);
  });
});

test('sensitivity scan prunes each group alone at each ratio', async () => {
  const t = convBnChain();
  const feeds = randomFeeds(t.inputs);
  const ref = (await run(t.model, feeds)).y;
  const rows = await scanLayerSensitivity(t.model, [0, 0.5], async (m) => relError((await run(m, feeds)).y, ref), { seed: 1 });
  expect(rows.map((r) => `${r.layer}@${r.ratio}`)).toEqual(['conv1@0', 'conv1@0.5', 'conv2@0', 'conv2@0.5']);
  expect(rows.filter((r) => r.ratio === 0).every((r) => r.metric === 0)).toBe(true);
  expect(rows.filter((r) => r.ratio === 0.5).every((r) => r.metric > 0)).toBe(true);
});
