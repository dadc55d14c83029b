import { InputError } from '../../src/util/errors.js';
import { DataType, GraphBuilder, allGraphs, float32Tensor, getAttr, loadModel, opsetVersion, upgradeOpset, createModel, type Model } from '../../src/onnx/index.js';
import { randomFeeds } from '../../src/evaluate/shapes.js';
import type { Feeds, HostTensor } from '../../src/evaluate/session.js';
import { uniformArray } from '../helpers/seeded-random.js';
import { MODELS, runModel } from './helpers.js';

function expectClose(a: Record<string, HostTensor>, b: Record<string, HostTensor>, tol = 1e-5): void {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const k of Object.keys(a)) {
    expect(b[k].dims).toEqual(a[k].dims);
    const x = a[k].data as Float32Array;
    const y = b[k].data as Float32Array;
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(x[i])));
    expect(worst).toBeLessThanOrEqual(tol);
  }
}

const REAL: Array<{ name: string; file: string; dims: Record<string, number>; targets: number[]; fix?: (f: Feeds) => void }> = [
  { name: 'OCR rec (opset 9)', file: MODELS.ocrRec, dims: { 'p2o.DynamicDimension.1': 96 }, targets: [13, 21] },
  { name: 'OCR cls (opset 9)', file: MODELS.ocrCls, dims: { 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 96 }, targets: [13, 21] },
  { name: 'openwakeword (opset 13)', file: MODELS.wakeword, dims: {}, targets: [21] },
  { name: 'silero VAD (opset 16, If bodies)', file: MODELS.sileroVad, dims: { batch: 1, sequence: 512 }, targets: [21], fix: (f) => void (f.sr = { type: 'int64', dims: [], data: BigInt64Array.from([16000n]) }) },
];

describe('upgrading real models keeps ORT outputs', () => {
  for (const c of REAL) {
    test.each(c.targets)(`${c.name} -> opset %i`, async (target) => {
      const model = loadModel(c.file);
      const feeds = randomFeeds(model, { seed: 11, dimValues: c.dims });
      c.fix?.(feeds);
      const before = await runModel(c.file, feeds);
      const result = upgradeOpset(model, target);
      expect(result.to).toBe(target);
      expect(opsetVersion(model)).toBe(target);
      expect(model.irVersion).toBeGreaterThanOrEqual(target >= 21 ? 10 : 7);
      // No node keeps an attribute its new version no longer has.
      for (const g of allGraphs(model)) {
        for (const n of g.nodes) {
          if (n.opType === 'Clip') expect(getAttr(n, 'min') ?? getAttr(n, 'max')).toBeUndefined();
          if (['Squeeze', 'Unsqueeze', 'ReduceSum', 'Slice'].includes(n.opType)) expect(getAttr(n, 'axes')).toBeUndefined();
          if (target >= 18 && n.opType.startsWith('Reduce')) expect(getAttr(n, 'axes')).toBeUndefined();
        }
      }
      expectClose(before, await runModel(model, feeds));
    });
  }

  test('rewrites are counted by op type', () => {
    const res = upgradeOpset(loadModel(MODELS.ocrCls), 13);
    expect(res).toEqual({ from: 9, to: 13, rewritten: { Clip: 18, Slice: 1, Softmax: 1 } });
    expect(upgradeOpset(loadModel(MODELS.ocrCls), 9).rewritten).toEqual({});
  });
});

/** An opset-7 model exercising the attribute-to-input changes. */
function oldOps(): Model {
  const b = new GraphBuilder('old-ops');
  const x = b.input('x', DataType.FLOAT, [2, 3, 4]);
  const padded = b.op('Pad', [x], { pads: [0, 1, 0, 0, 1, 2], value: { float: 0.25 } });
  const [s1, s2] = b.opMulti('Split', [padded], { axis: 1, split: [1, 4] }, { outputs: 2 });
  const clipped = b.op('Clip', [s2], { min: { float: -0.2 }, max: { float: 0.3 } });
  const unsq = b.op('Unsqueeze', [s1], { axes: [0] });
  const sq = b.op('Squeeze', [unsq], { axes: [0, 2] });
  const summed = b.op('ReduceSum', [clipped], { axes: [1], keepdims: 0 });
  const sm = b.op('Softmax', [padded], { axis: 1 });
  const sliced = b.op('Slice', [sm], { starts: [0, 1], ends: [2, 4], axes: [0, 2] });
  const mean = b.op('ReduceMean', [sliced], { axes: [2], keepdims: 1 });
  b.op('Identity', [sq], {}, { outputs: ['a'] });
  b.op('Identity', [summed], {}, { outputs: ['b'] });
  b.op('Identity', [mean], {}, { outputs: ['c'] });
  b.output('a', DataType.FLOAT);
  b.output('b', DataType.FLOAT);
  b.output('c', DataType.FLOAT);
  return createModel(b.graph, [{ domain: '', version: 7 }], 3);
}

test.each([11, 13, 18, 21])('Pad, Split, Clip, (Un)Squeeze, ReduceSum/Mean, Softmax, Slice from opset 7 to %i', async (target) => {
  const feeds = { x: { type: 'float32' as const, dims: [2, 3, 4], data: uniformArray(24, 9) } };
  const model = oldOps();
  const before = await runModel(model, feeds);
  const res = upgradeOpset(model, target);
  expect(Object.keys(res.rewritten).length).toBeGreaterThan(2);
  expectClose(before, await runModel(model, feeds));
});

test('TopK k and Dropout ratio become inputs', async () => {
  const b = new GraphBuilder('topk');
  const x = b.input('x', DataType.FLOAT, [2, 6]);
  const d = b.op('Dropout', [x], { ratio: { float: 0.3 } });
  b.opMulti('TopK', [d], { k: 3, axis: 1 }, { outputs: ['v', 'i'] });
  b.output('v', DataType.FLOAT, [2, 3]);
  b.output('i', DataType.INT64, [2, 3]);
  const model = createModel(b.graph, [{ domain: '', version: 9 }], 4);
  const feeds = { x: { type: 'float32' as const, dims: [2, 6], data: uniformArray(12, 4) } };
  const before = await runModel(model, feeds);
  expect(upgradeOpset(model, 13).rewritten).toEqual({ Dropout: 1, TopK: 1 });
  expect(model.graph.nodes.map((n) => n.inputs.length)).toEqual([2, 2]);
  const after = await runModel(model, feeds);
  expect(Array.from(after.v.data as Float32Array)).toEqual(Array.from(before.v.data as Float32Array));
  expect(Array.from(after.i.data as BigInt64Array)).toEqual(Array.from(before.i.data as BigInt64Array));
});

test('ops whose meaning changed in ways not handled are refused with an InputError naming the node', () => {
  const b = new GraphBuilder('up');
  const x = b.input('x', DataType.FLOAT, [1, 1, 2, 2]);
  const clipped = b.op('Clip', [x], { min: { float: 0 }, max: { float: 1 } });
  b.op('Upsample', [clipped, b.constant(float32Tensor('scales', [4], [1, 1, 2, 2]))], { mode: 'nearest' }, { name: 'up1', outputs: ['y'] });
  b.output('y', DataType.FLOAT);
  const model = createModel(b.graph, [{ domain: '', version: 9 }], 4);
  expect(() => upgradeOpset(model, 13)).toThrow(InputError);
  expect(() => upgradeOpset(model, 13)).toThrow(/node 'up1' \(Upsample\).*Resize/);
  expect(() => upgradeOpset(model, 40)).toThrow(/up to 23/);
  // A refused upgrade leaves the model as it was, even the nodes before the refused one.
  expect(opsetVersion(model)).toBe(9);
  expect(model.graph.nodes[0].attributes.map((a) => a.name)).toEqual(['min', 'max']);
  expect(model.graph.initializers.map((t) => t.name)).toEqual(['scales']);
});

test('function bodies with their own default-domain import are upgraded (constants become Constant nodes)', async () => {
  const b = new GraphBuilder('fn');
  const x = b.input('x', DataType.FLOAT, [1, 3, 1]);
  b.op('SqueezeClip', [x], {}, { domain: 'local', outputs: ['y'] });
  b.output('y', DataType.FLOAT, [3]);
  const model = createModel(b.graph, [{ domain: '', version: 11 }, { domain: 'local', version: 1 }], 6);
  model.functions.push({
    name: 'SqueezeClip', domain: 'local', inputs: ['X'], outputs: ['Y'], attributes: [], opsetImports: [{ domain: '', version: 11 }],
    nodes: [
      { name: 'sq', opType: 'Squeeze', domain: '', inputs: ['X'], outputs: ['S'], attributes: [{ name: 'axes', type: 'ints', value: [0n, 2n] }] },
      { name: 'ex', opType: 'Exp', domain: '', inputs: ['S'], outputs: ['Y'], attributes: [] },
    ],
  });
  const feeds = { x: { type: 'float32' as const, dims: [1, 3, 1], data: uniformArray(3, 5) } };
  const before = await runModel(model, feeds);
  expect(upgradeOpset(model, 13).rewritten).toEqual({ Squeeze: 1 });
  expect(model.functions[0].opsetImports).toEqual([{ domain: '', version: 13 }]);
  expect(model.functions[0].nodes.map((n) => n.opType)).toEqual(['Constant', 'Squeeze', 'Exp']);
  expect(model.irVersion).toBe(7);
  expectClose(before, await runModel(model, feeds), 0);
});
