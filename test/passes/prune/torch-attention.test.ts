/**
 * Attention heads of a real torch.onnx export (nn.TransformerEncoder, packed Q/K/V in_proj, head
 * count computed at run time): folded, traced and cut. A head whose weights are zero contributes
 * nothing, so cutting exactly that head must leave the outputs unchanged at every batch size.
 */
import * as path from 'node:path';
import { float32Tensor, loadModel, toFloat32, type Model } from '../../../src/onnx/index.js';
import { pruneStructured } from '../../../src/passes/prune/structured.js';
import { maxAbsDiff, randomFeeds, run } from './helpers.js';

const HEAD_DIM = 8; // d_model 32, 4 heads
const HEAD = 2;

function withDeadHead(model: Model, inProj: string, inBias: string, outProj: string): Model {
  const g = model.graph;
  const edit = (name: string, zero: (i: number, dims: number[]) => boolean) => {
    const k = g.initializers.findIndex((t) => t.name === name);
    const t = g.initializers[k];
    const data = toFloat32(t);
    for (let i = 0; i < data.length; i++) if (zero(i, t.dims)) data[i] = 0;
    g.initializers[k] = float32Tensor(name, [...t.dims], data);
  };
  const inHead = (channel: number) => Math.floor((channel % 32) / HEAD_DIM) === HEAD;
  edit(inProj, (i, dims) => inHead(i % dims[1])); // [32, 96]: columns are q|k|v channels
  edit(inBias, (i) => inHead(i));
  edit(outProj, (i, dims) => inHead(i % dims[1])); // Gemm transB: [out, in], the head's inputs are columns
  return model;
}

test('torch.onnx nn.MultiheadAttention: a dead head is the one cut, and the model gives the same outputs at batch 1 and 5', async () => {
  const file = path.join(import.meta.dirname, '../../fixtures/zoo/torch-transformer-small.onnx');
  const model = withDeadHead(loadModel(file), 'onnx::MatMul_249', 'encoder.layers.0.self_attn.in_proj_bias', 'encoder.layers.0.self_attn.out_proj.weight');
  const inProj = model.graph.nodes.find((n) => n.inputs[1] === 'onnx::MatMul_249');
  expect(inProj).toBeDefined();
  const r = await pruneStructured(model, { target: 0.25, importance: 'l2', repair: 'none', layers: [inProj?.name as string] }, { seed: 1 });
  expect(r.summary.changed.map((c) => `${c.name}: ${c.change}`)).toEqual([`${inProj?.name}: 4 -> 3 heads (32 -> 24 channels)`]);
  expect(r.summary.notes.join('\n')).toMatch(/shape arithmetic folded before tracing: \d+ value\(s\) became constants, \d+ Reshape target\(s\)/);
  const cut = r.model.graph.initializers.find((t) => t.name === 'onnx::MatMul_249');
  expect(cut?.dims).toEqual([32, 72]);
  for (const batch of [1, 5]) {
    const feeds = randomFeeds({ input: [batch, 28, 28] }, 7 + batch);
    const [a, b] = [await run(model, feeds), await run(r.model, feeds)];
    expect(b.logits.dims).toEqual([batch, 10]);
    expect(maxAbsDiff(a.logits, b.logits)).toBeLessThan(1e-4);
  }
});

test('every head group of both layers is prunable after folding, and again in the next step; samples stay apart at any batch size', async () => {
  const file = path.join(import.meta.dirname, '../../fixtures/zoo/torch-transformer-small.onnx');
  const model = loadModel(file);
  const r = await pruneStructured(model, { target: 0.25, importance: 'l2', repair: 'none' }, { seed: 1 });
  const heads = r.summary.changed.filter((c) => /heads/.test(c.change));
  expect(heads).toHaveLength(2);
  expect(r.summary.skipped.some((s) => /read at run time|computed at run time/.test(s.reason))).toBe(false);
  // A second cut of the already folded model (the next step of a schedule) finds the heads again.
  const again = await pruneStructured(r.model, { target: 0.25, importance: 'l2', repair: 'none' }, { seed: 1 });
  expect(again.summary.changed.filter((c) => /3 -> 2 heads/.test(c.change))).toHaveLength(2);
  const feeds = randomFeeds({ input: [3, 28, 28] });
  const out = await run(again.model, feeds);
  expect(out.logits.dims).toEqual([3, 10]);
  // Sample by sample gives the same as the batch: the -1 in the folded targets keeps samples apart.
  for (let s = 0; s < 3; s++) {
    const one = { input: { ...feeds.input, dims: [1, 28, 28], data: (feeds.input.data as Float32Array).slice(s * 784, (s + 1) * 784) } };
    const single = await run(again.model, one);
    const row = { ...out.logits, dims: [1, 10], data: (out.logits.data as Float32Array).slice(s * 10, (s + 1) * 10) };
    expect(maxAbsDiff(single.logits, row)).toBeLessThan(1e-5);
  }
});
