import {
  DataType, GraphBuilder, GraphIndex, NameGenerator, allGraphs, cleanup, float32Tensor, getFloat, getInt, getInts, getString,
  encodeModel, intAttr, nodeInputsWithSubgraphs, opsetVersion, outerScopeReads, requireOpset, setAttr, toposort, valueInfoByName,
} from '../../src/onnx/index.js';
import { randomFeeds } from '../../src/evaluate/shapes.js';
import { ifOuterScope, loopModel } from './families.js';
import { outputBytes, runModel } from './helpers.js';

function chain() {
  const b = new GraphBuilder('chain');
  const x = b.input('x', DataType.FLOAT, [2]);
  const w = b.constant(float32Tensor('w', [2], [1, 2]));
  const a = b.op('Add', [x, w], {}, { name: 'add' });
  const r = b.op('Relu', [a], {}, { name: 'relu' });
  b.op('Neg', [a], {}, { name: 'dead', outputs: ['unused'] });
  b.constant(float32Tensor('orphan', [1], [9]));
  b.op('Mul', [r, a], {}, { name: 'mul', outputs: ['y'] });
  b.output('y', DataType.FLOAT, [2]);
  b.graph.valueInfo.push({ name: 'unused', type: { kind: 'tensor', elemType: DataType.FLOAT } });
  return b.model({ opset: 17 });
}

test('producers and consumers, including reads from inside subgraphs', () => {
  const m = chain();
  const idx = new GraphIndex(m.graph);
  expect(idx.producer.get('y')?.name).toBe('mul');
  expect(idx.consumersOf('add_out0').map((n) => n.name).sort()).toEqual(['dead', 'mul', 'relu']);
  expect(idx.initializer.get('w')?.dims).toEqual([2]);
  expect(idx.isGraphOutput('y')).toBe(true);
  expect(idx.consumersOf('nothing')).toEqual([]);

  const ifModel = ifOuterScope();
  const ifIdx = new GraphIndex(ifModel.graph);
  // The If node itself reads only 'cond'; its branches read 'shifted' and 'outer_scale'.
  expect(ifIdx.consumersOf('shifted').map((n) => n.opType)).toEqual(['If']);
  expect(ifIdx.consumersOf('outer_scale').map((n) => n.opType).sort()).toEqual(['Add', 'If']);
  const ifNode = ifModel.graph.nodes.find((n) => n.opType === 'If');
  expect(new Set(nodeInputsWithSubgraphs(ifNode as never))).toEqual(new Set(['cond', 'shifted', 'outer_scale']));
  expect(allGraphs(ifModel).map((g) => g.name)).toEqual(['if', 'then', 'else']);
});

test('outerScopeReads lists what a Loop body takes from outside', () => {
  const m = loopModel();
  const body = allGraphs(m)[1];
  expect(outerScopeReads(body)).toEqual(['step']);
});

test('toposort orders shuffled nodes, respects subgraph outer-scope reads, and is stable', async () => {
  const m = ifOuterScope();
  const feeds = randomFeeds(m, { seed: 1 });
  feeds.cond = { type: 'bool', dims: [], data: Uint8Array.from([1]) };
  const expected = outputBytes(await runModel(m, feeds));
  m.graph.nodes.reverse();
  expect(m.graph.nodes.map((n) => n.opType)).toEqual(['If', 'Add']);
  toposort(m.graph);
  // The If reads 'shifted' only inside its branches; it must still come after the Add.
  expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Add', 'If']);
  expect(outputBytes(await runModel(m, feeds)).y.equals(expected.y)).toBe(true);

  const c = chain();
  const before = c.graph.nodes.map((n) => n.name);
  toposort(c.graph);
  expect(c.graph.nodes.map((n) => n.name)).toEqual(before);
  c.graph.nodes = [c.graph.nodes[3], c.graph.nodes[2], c.graph.nodes[1], c.graph.nodes[0]];
  toposort(c.graph);
  expect(c.graph.nodes.map((n) => n.name)).toEqual(['add', 'dead', 'relu', 'mul']);
});

test('toposort reports a cycle', () => {
  const b = new GraphBuilder('cyc');
  b.op('Relu', ['b'], {}, { outputs: ['a'] });
  b.op('Relu', ['a'], {}, { outputs: ['b'] });
  expect(() => toposort(b.graph)).toThrow(/cycle/);
});

test('cleanup removes dead nodes, orphan initializers and stale value_info, keeps what subgraphs read', async () => {
  const m = chain();
  expect(cleanup(m.graph)).toEqual({ nodesRemoved: 1, initializersRemoved: 1 });
  expect(m.graph.nodes.map((n) => n.name)).toEqual(['add', 'relu', 'mul']);
  expect(m.graph.initializers.map((t) => t.name)).toEqual(['w']);
  expect(m.graph.valueInfo).toEqual([]);
  const out = await runModel(m, { x: { type: 'float32', dims: [2], data: Float32Array.from([-5, 1]) } });
  expect(Array.from(out.y.data as Float32Array)).toEqual([-0, 9]); // relu(-4) * -4

  const loop = loopModel();
  expect(cleanup(loop.graph)).toEqual({ nodesRemoved: 0, initializersRemoved: 0 });
  expect(loop.graph.initializers.map((t) => t.name)).toContain('step');
});

test('NameGenerator avoids names used anywhere, subgraphs included', () => {
  const m = ifOuterScope();
  const names = new NameGenerator(m.graph);
  expect(names.next('then_bias')).toBe('then_bias_1');
  expect(names.next('then_bias')).toBe('then_bias_2');
  expect(names.next('fresh')).toBe('fresh');
  expect(names.next('fresh')).toBe('fresh_1');
  expect(names.next('x')).toBe('x_1');
});

test('attribute helpers and opset lookup', () => {
  const m = chain();
  const node = m.graph.nodes[0];
  setAttr(node, intAttr('axis', 3));
  setAttr(node, intAttr('axis', 4));
  setAttr(node, { name: 'f', type: 'float', value: 0.5 });
  setAttr(node, { name: 'is', type: 'ints', value: [1n, 2n] });
  setAttr(node, { name: 's', type: 'string', value: new TextEncoder().encode('hi') });
  expect(node.attributes.filter((a) => a.name === 'axis')).toHaveLength(1);
  expect(getInt(node, 'axis', 0)).toBe(4);
  expect(getInt(node, 'missing', 7)).toBe(7);
  expect(getFloat(node, 'f', 0)).toBe(0.5);
  expect(getInts(node, 'is')).toEqual([1, 2]);
  expect(getString(node, 's', '')).toBe('hi');
  expect(opsetVersion(m)).toBe(17);
  expect(opsetVersion(m, 'com.microsoft')).toBeUndefined();
  requireOpset(m, 'com.microsoft', 1);
  requireOpset(m, '', 13);
  expect(opsetVersion(m)).toBe(17);
  requireOpset(m, '', 19);
  expect(m.opsetImports).toEqual([{ domain: '', version: 19 }, { domain: 'com.microsoft', version: 1 }]);
  expect(valueInfoByName(m.graph, 'y')?.type).toEqual({ kind: 'tensor', elemType: DataType.FLOAT, shape: [2] });
  expect(encodeModel(m).byteLength).toBeGreaterThan(0);
});
