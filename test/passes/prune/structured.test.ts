import { InputError } from '../../../src/util/errors.js';
import { probeShapes } from '../../../src/evaluate/shapes.js';
import { cloneModel, DataType, GraphBuilder, float32Tensor, graphCost, toFloat32, toTypedArray, type Model } from '../../../src/onnx/index.js';
import { applyRemoval, traceDependencies } from '../../../src/passes/prune/depgraph.js';
import { shapesAfterRemoval } from '../../../src/passes/prune/shapes-after.js';
import { probeAllShapes } from '../../../src/evaluate/shapes.js';
import { dependencyGroups, pruneStructured } from '../../../src/passes/prune/index.js';
import { positionsOf } from '../../../src/passes/prune/layout.js';
import { ALL, attention, convBnChain, convTransposeGemm, grouped, type TestModel } from './models.js';
import { maxAbsDiff, randomFeeds, run } from './helpers.js';

const ctx = { seed: 1 };

describe.each(ALL.map((f) => [f().name, f] as const))('%s', (_name, make) => {
  let t: TestModel;
  beforeAll(() => {
    t = make();
  });

  test('ratio 0 is the identity (bit-identical outputs)', async () => {
    const feeds = randomFeeds(t.inputs);
    const { model, summary } = await pruneStructured(t.model, { target: 0, importance: 'l1', repair: 'none' }, ctx);
    expect(summary.paramsAfter).toBe(summary.paramsBefore);
    expect(summary.changed).toEqual([]);
    const [a, b] = [await run(t.model, feeds), await run(model, feeds)];
    for (const k of Object.keys(a)) expect(Buffer.from((b[k].data as Float32Array).buffer)).toEqual(Buffer.from((a[k].data as Float32Array).buffer));
  });

  test('50% pruning loads and runs in ORT with the same output shapes and fewer params', async () => {
    const feeds = randomFeeds(t.inputs);
    const { model, summary } = await pruneStructured(t.model, { target: 0.5, importance: 'l2', repair: 'none', multiple: 1 }, ctx);
    const [a, b] = [await run(t.model, feeds), await run(model, feeds)];
    for (const k of Object.keys(a)) expect(b[k].dims).toEqual(a[k].dims);
    expect(summary.paramsAfter).toBeLessThan(summary.paramsBefore);
    expect(summary.flopsAfter as number).toBeLessThan(summary.flopsBefore as number);
  });

  test('removing a channel whose slices are exactly zero changes nothing', async () => {
    const shapes = await probeShapes(t.model);
    const { groups } = dependencyGroups(t.model, shapes);
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) {
      // Zero one unit (channel or head) in every member of the group: it then contributes nothing anywhere.
      const model = structuredCloneModel(t.model);
      const unit = 1;
      const inits = new Map(model.graph.initializers.map((x, i) => [x.name, i]));
      for (const s of g.slices) {
        const i = inits.get(s.node.inputs[s.input]) as number;
        const tensor = model.graph.initializers[i];
        const data = Float32Array.from(toFloat32(tensor));
        const dims = tensor.dims;
        const inner = dims.slice(s.axis + 1).reduce((a, b) => a * b, 1);
        const outer = dims.slice(0, s.axis).reduce((a, b) => a * b, 1);
        for (let c = unit * g.granule; c < (unit + 1) * g.granule; c++) {
          for (const p of positionsOf(s.seg, c)) for (let o = 0; o < outer; o++) data.fill(0, (o * dims[s.axis] + p) * inner, (o * dims[s.axis] + p + 1) * inner);
        }
        model.graph.initializers[i] = float32Tensor(tensor.name, dims, data);
      }
      const units = g.channels / g.granule;
      const { model: pruned, summary } = await pruneStructured(model, { target: 1 / units, importance: 'l1', repair: 'none', multiple: 1, layers: [g.producers[0]] }, ctx);
      expect(summary.changed[0].change).toMatch(g.granule > 1 ? `${units} -> ${units - 1} heads` : `${g.channels} -> ${g.channels - 1} output channels`);
      const feeds = randomFeeds(t.inputs, 5);
      const [a, b] = [await run(model, feeds), await run(pruned, feeds)];
      for (const k of Object.keys(a)) expect(maxAbsDiff(a[k], b[k])).toBeLessThan(1e-5);
    }
  });
});

function structuredCloneModel(m: Model): Model {
  // Node objects are shared with the dependency groups computed on `m`; only tensors are replaced.
  return { ...m, graph: { ...m.graph, initializers: [...m.graph.initializers] } };
}

test('conv/bn chain: exact parameter count and tensor shapes after 50%', async () => {
  const t = convBnChain();
  const { model, summary } = await pruneStructured(t.model, { target: 0.5, importance: 'l1', repair: 'none', multiple: 1 }, ctx);
  const dims = (name: string) => {
    const node = model.graph.nodes.find((n) => n.name === name);
    return model.graph.initializers.find((x) => x.name === node?.inputs[1])?.dims;
  };
  expect(dims('conv1')).toEqual([8, 3, 3, 3]);
  expect(dims('conv2')).toEqual([8, 8, 3, 3]);
  expect(dims('fc')).toEqual([10, 128]);
  // conv1 216 + bn 4x8 + conv2 576 + bias 8 + per-channel scale 8 + fc 1280 + 10; the two scalar
  // Clip bounds are constants, not parameters (onnx/weights.ts).
  expect(summary.paramsAfter).toBe(216 + 32 + 576 + 8 + 8 + 1280 + 10);
  expect(summary.changed.map((c) => `${c.name}: ${c.change}`)).toEqual(['conv1: 16 -> 8 output channels', 'conv2: 16 -> 8 output channels']);
  expect(summary.skipped).toEqual([{ what: 'fc', reason: "reaches graph output 'y'" }]);
});

test('kept counts are rounded to the multiple, with a floor', async () => {
  const t = attention(64, 4, 3);
  const { summary } = await pruneStructured(t.model, { target: 0.3, importance: 'l1', repair: 'none', layers: ['ffn1'] }, ctx);
  // 128 channels, 30% -> keep 90 -> rounded to a multiple of 8 = 88.
  expect(summary.changed).toEqual([expect.objectContaining({ name: 'ffn1', change: '128 -> 88 output channels' })]);
  const floor = await pruneStructured(t.model, { target: 0.99, importance: 'l1', repair: 'none', layers: ['ffn1'], minKeep: 0.25 }, ctx);
  expect(floor.summary.changed[0].change).toBe('128 -> 32 output channels');
});

test('attention: whole heads go and the Reshape constants follow', async () => {
  const t = attention();
  const feeds = randomFeeds(t.inputs);
  const { model, summary } = await pruneStructured(t.model, { target: 0.5, importance: 'l1', repair: 'none', layers: ['q'] }, ctx);
  expect(summary.changed.map((c) => c.change)).toEqual(['4 -> 2 heads (16 -> 8 channels)', '4 -> 2 heads (16 -> 8 channels)', '4 -> 2 heads (16 -> 8 channels)']);
  const ints = (name: string) => Array.from(toTypedArray(model.graph.initializers.find((x) => x.name === name) as never) as BigInt64Array, Number);
  expect(ints('split_heads')).toEqual([0, 0, 2, 4]);
  expect(ints('merge_heads')).toEqual([0, 0, 8]);
  const out = await run(model, feeds);
  expect(out.y.dims).toEqual([2, 3, 16]);
});

test('a scheduled stage cuts a head when its cumulative target crosses one, which per-step targets never do', async () => {
  const t = attention();
  const options = { importance: 'l1' as const, repair: 'none' as const, layers: ['q'] };
  // Two 10 % steps (10 % of 4, then 11.1 % of the rest) round to 0 heads each time.
  const first = await pruneStructured(t.model, { ...options, target: 0.1 }, ctx);
  expect(first.summary.changed).toEqual([]);
  expect(first.unitsBefore).toEqual({ 'q+k+v': 4 });
  const second = await pruneStructured(first.model, { ...options, target: 0.111111 }, ctx);
  expect(second.summary.changed).toEqual([]);
  // The same second step, cumulative from the stage's start (20 % of 4 heads rounds to 1): one goes.
  const staged = await pruneStructured(first.model, { ...options, target: 0.111111, stage: { cumulativeTarget: 0.2, startUnits: first.unitsBefore } }, ctx);
  expect(staged.summary.changed.map((c) => c.change)).toEqual(Array(3).fill('4 -> 3 heads (16 -> 12 channels)'));
  // Already at the stage's goal: a later step does not cut again.
  const again = await pruneStructured(staged.model, { ...options, target: 0.1, stage: { cumulativeTarget: 0.2, startUnits: first.unitsBefore } }, ctx);
  expect(again.summary.changed).toEqual([]);
});

test('bias correction through a Transpose into Gemm transA keeps the mean output on the calibration data', async () => {
  const t = convTransposeGemm();
  const feeds = randomFeeds({ x: [16, 3, 6, 6] }, 3);
  const meanShift = async (model: Model) => {
    const [a, b] = [(await run(t.model, feeds)).y, (await run(model, feeds)).y];
    const [x, y] = [a.data as Float32Array, b.data as Float32Array];
    let worst = 0;
    for (let o = 0; o < 10; o++) {
      let d = 0;
      for (let r = 0; r < 16; r++) d += y[r * 10 + o] - x[r * 10 + o];
      worst = Math.max(worst, Math.abs(d / 16));
    }
    return worst;
  };
  const options = { target: 0.5, importance: 'l1' as const, layers: ['fc1'], multiple: 1 };
  const plain = await pruneStructured(t.model, { ...options, repair: 'none' }, { seed: 1, calibration: [feeds] });
  const fixed = await pruneStructured(t.model, { ...options, repair: 'bias-correction' }, { seed: 1, calibration: [feeds] });
  expect(fixed.summary.changed.find((c) => c.name === 'fc2')?.change).toBe('input channels removed; bias-correction repair');
  expect(await meanShift(plain.model)).toBeGreaterThan(1e-2);
  expect(await meanShift(fixed.model)).toBeLessThan(1e-4);
});

test('grouped conv and graph outputs are skipped with reasons', async () => {
  const { summary } = await pruneStructured(grouped().model, { target: 0.5, importance: 'l1', repair: 'none' }, ctx);
  const reasons = Object.fromEntries(summary.skipped.map((s) => [s.what, s.reason]));
  expect(reasons.gconv).toMatch(/grouped Conv \(group=4\)/);
  expect(reasons.c1).toMatch(/grouped Conv 'gconv'/);
  expect(reasons.c4).toBe("reaches graph output 'y'");
  expect(summary.changed.map((c) => c.name)).toEqual(['c3']);
});

test('global scope removes the parameter fraction across layers', async () => {
  const t = attention(64, 4, 9);
  const { summary } = await pruneStructured(t.model, { target: 0.3, importance: 'l2', repair: 'none', scope: 'global', multiple: 1 }, ctx);
  const { groups } = dependencyGroups(t.model, await probeShapes(t.model));
  const prunable = groups.reduce((a, g) => a + g.paramsPerChannel * g.channels, 0);
  const largestUnit = Math.max(...groups.map((g) => g.paramsPerChannel * g.granule));
  const removed = summary.paramsBefore - summary.paramsAfter;
  expect(groups.map((g) => g.id)).toEqual(['q+k+v', 'ffn1']);
  expect(removed).toBeGreaterThanOrEqual(0.3 * prunable);
  expect(removed).toBeLessThan(0.3 * prunable + largestUnit);
  // Both groups lose something: the scores are normalised per group before they are compared.
  expect(summary.changed.map((c) => c.name)).toEqual(expect.arrayContaining(['q', 'ffn1']));
});

describe('bad input', () => {
  const t = convBnChain();
  test.each([[1], [-0.1], [Number.NaN]])('target %p is an InputError naming the field', async (target) => {
    await expect(pruneStructured(t.model, { target, importance: 'l1', repair: 'none' }, ctx)).rejects.toThrow(/target must be a number in \[0, 1\)/);
  });
  test('unknown layer names the layer', async () => {
    await expect(pruneStructured(t.model, { target: 0.2, importance: 'l1', repair: 'none', layers: ['conv9'] }, ctx)).rejects.toThrow("layers: no node named 'conv9'");
    await expect(pruneStructured(t.model, { target: 0.2, importance: 'l1', repair: 'none', exclude: ['nope'] }, ctx)).rejects.toBeInstanceOf(InputError);
  });
  test('calibration of the wrong shape names the input', async () => {
    const bad = { x: { type: 'float32' as const, dims: [2, 4, 8, 8], data: new Float32Array(512) } };
    await expect(pruneStructured(t.model, { target: 0.2, importance: 'activation', repair: 'none' }, { seed: 1, calibration: [bad] })).rejects.toThrow(
      "calibration batch 0: input 'x' has shape [2,4,8,8], the model expects [N,3,8,8]",
    );
    await expect(pruneStructured(t.model, { target: 0.2, importance: 'l1', repair: 'least-squares' }, { seed: 1 })).rejects.toThrow(/needs calibration data/);
  });
  test('the input model is not modified', async () => {
    const m = convBnChain().model;
    const before = m.graph.initializers.map((x) => Buffer.from(x.raw).toString('hex'));
    const nodes = JSON.stringify(m.graph.nodes, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    await pruneStructured(m, { target: 0.5, importance: 'l1', repair: 'bias-correction' }, { seed: 1, calibration: [randomFeeds({ x: [4, 3, 8, 8] })] });
    expect(m.graph.initializers.map((x) => Buffer.from(x.raw).toString('hex'))).toEqual(before);
    expect(JSON.stringify(m.graph.nodes, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).toBe(nodes);
  });
});


describe('cost-weighted per-layer ratios', () => {
  test('groups whose producers and consumers cost more FLOPs lose more channels; uniform costs change nothing', async () => {
    // conv_bn: conv1 (16 ch, feeds conv2) and conv2 (16 ch, feeds fc). Make conv2 the expensive one.
    const t = convBnChain();
    const channels = (m: Model, name: string) => m.graph.initializers.find((i) => i.name === m.graph.nodes.find((n) => n.name === name)!.inputs[1])!.dims[0];
    const plain = await pruneStructured(t.model, { target: 0.25, importance: 'l1', repair: 'none', multiple: 1 }, ctx);
    expect([channels(plain.model, 'conv1'), channels(plain.model, 'conv2')]).toEqual([12, 12]);

    const even = await pruneStructured(t.model, { target: 0.25, importance: 'l1', repair: 'none', multiple: 1, nodeCostShare: { conv1: 0.25, conv2: 0.25, fc: 0.25, bn1: 0.25 } }, ctx);
    expect(even.model.graph.initializers).toEqual(plain.model.graph.initializers);

    // conv1's group touches conv1, bn1 and conv2; conv2's group touches conv2 and fc. With fc
    // dominant, conv2's group weighs sqrt(0.85 / 0.525) = 1.27 and conv1's sqrt(0.2 / 0.525) = 0.62.
    const skewed = await pruneStructured(t.model, { target: 0.25, importance: 'l1', repair: 'none', multiple: 1, nodeCostShare: { conv1: 0.05, conv2: 0.15, fc: 0.7 } }, ctx);
    expect(channels(skewed.model, 'conv1')).toBe(14);
    expect(channels(skewed.model, 'conv2')).toBe(11);
    expect(skewed.summary.notes[0]).toMatch(/weighted by FLOPs/);
  });
});

describe('shapes without a second copy of the weights', () => {
  // The pass probes shapes through Shape nodes with the weights fed from the IR, and derives the
  // pruned model's shapes from the first probe instead of probing again: both must agree with a
  // plain ORT probe of the models themselves.
  test.each(ALL.map((f) => [f().name, f] as const))('%s: probe and derived FLOPs after pruning match a plain probe', async (_name, make) => {
    const t = make();
    const feeds = randomFeeds(t.inputs, 4);
    const { shapes, complete } = await probeAllShapes(t.model, feeds);
    expect(complete).toBe(true);
    expect([...shapes].sort()).toEqual([...(await probeShapes(t.model, feeds))].sort());
    for (const options of [
      { target: 0.5, importance: 'l2', repair: 'none', multiple: 1 },
      { target: 0.3, importance: 'activation', repair: 'least-squares', scope: 'global', multiple: 1 },
    ] as const) {
      const { model, summary } = await pruneStructured(t.model, options, { seed: 1, calibration: [feeds, randomFeeds(t.inputs, 5)] });
      expect(summary.flopsAfter).toBe(graphCost(model.graph, await probeShapes(model, feeds)).totalFlops);
      // (With repair, the model measured before has zero biases added, so only 'none' compares to the input.)
      if (options.repair === 'none') expect(summary.flopsBefore).toBe(graphCost(t.model.graph, await probeShapes(t.model, feeds)).totalFlops);
    }
  });
});

test('shapes are probed again when a changed value reaches an op whose output shape depends on its contents', async () => {
  const b = new GraphBuilder('nonzero');
  const x = b.input('x', DataType.FLOAT, ['N', 3, 6, 6]);
  const w = (name: string, dims: number[]) => b.constant(float32Tensor(name, dims, Array.from({ length: dims.reduce((p, q) => p * q, 1) }, (_, i) => Math.sin(i + 1))));
  const h = b.op('Relu', [b.op('Conv', [x, w('w1', [8, 3, 3, 3])], { pads: [1, 1, 1, 1] }, { name: 'c1' })]);
  const y = b.op('Conv', [h, w('w2', [4, 8, 1, 1])], {}, { name: 'c2', outputs: ['y'] });
  b.op('NonZero', [y], {}, { outputs: ['nz'] });
  b.output('y', DataType.FLOAT, ['N', 4, 6, 6]);
  b.output('nz', DataType.INT64, [4, null]);
  const model = b.model({ opset: 17 });
  const feeds = randomFeeds({ x: [1, 3, 6, 6] }, 2);
  const { shapes } = await probeAllShapes(model, feeds);
  const work = cloneModel(model);
  const before = new Map(work.graph.initializers.map((t) => [t.name, t]));
  const dg = traceDependencies(work, shapes);
  const removed = new Map([[dg.groups.findIndex((g) => g.producers.includes('c1')), new Set([0, 1])]]);
  applyRemoval(work, dg, removed);
  expect(shapesAfterRemoval(work, dg, removed, shapes, before)).toBeUndefined();
  // Without the NonZero branch the same removal is derived, and matches a probe.
  work.graph.nodes = work.graph.nodes.filter((n) => n.opType !== 'NonZero');
  work.graph.outputs = work.graph.outputs.filter((o) => o.name !== 'nz');
  const derived = shapesAfterRemoval(work, dg, removed, shapes, before) as Map<string, number[]>;
  const probed = await probeShapes(work, feeds);
  for (const [name, dims] of probed) expect([name, derived.get(name)]).toEqual([name, dims]);
});
