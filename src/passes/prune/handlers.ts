/**
 * Per-op rules of the dependency graph: given the layouts of a node's inputs, what it must slice
 * and where the channels go next. Ops not in the table poison every traced input (the group is
 * skipped with the reason), which is the safe default.
 */
import { getInt, getInts, type Node } from '../../onnx/index.js';
import { clipSegments, wholeSpace, type Layout, type Segment } from './layout.js';
import { intValues, isFloatTensor } from './tensors.js';
import type { Handler, TraceCtx } from './trace.js';

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function tracked(n: Node, cx: TraceCtx): Array<[number, Layout]> {
  const out: Array<[number, Layout]> = [];
  n.inputs.forEach((v, i) => {
    const l = v ? cx.layout(v) : undefined;
    if (l) out.push([i, l]);
  });
  return out;
}

/** The layout of the data input (input 0); channels arriving on any other input poison the group. */
function dataLayout(n: Node, cx: TraceCtx): Layout | undefined {
  const l = cx.layout(n.inputs[0]);
  if (!l || n.inputs.slice(1).some((v) => v && cx.layout(v))) {
    poisonAll(n, cx, 'channels reach a shape or parameter input');
    return undefined;
  }
  return l;
}

function poisonAll(n: Node, cx: TraceCtx, reason: string): Array<Layout | undefined> {
  for (const [, l] of tracked(n, cx)) cx.poison(l, `${reason} (${n.opType} '${n.name}')`);
  return [];
}

/**
 * Output channels of a weight-bearing node become a new space; `axes` say where they sit in each
 * constant. A projection whose output is cut into parts by Slices (torch's packed Q/K/V in_proj)
 * gets one space per part, so each part can couple with what it meets (Q with K in the scores).
 */
function root(n: Node, cx: TraceCtx, channels: number, outAxis: number, outRank: number, slices: Array<[input: number, axis: number]>): Layout {
  const parts = slicedParts(n.outputs[0], cx, outAxis, outRank, channels) ?? [channels];
  const segments: Segment[] = [];
  let offset = 0;
  for (const size of parts) {
    segments.push({ ...wholeSpace(cx.newSpace(n, size), size), offset });
    offset += size;
  }
  for (const seg of segments) for (const [input, axis] of slices) cx.param({ node: n, input, axis, seg, role: input === 1 ? 'out' : 'aux' });
  return { axis: outAxis, rank: outRank, size: channels, segments };
}

/**
 * Sizes of the parts when every reader of `value` (after an optional bias Add with a constant) is a
 * Slice with constant bounds along `axis` and the slices cover the channels exactly once; else undefined.
 */
function slicedParts(value: string, cx: TraceCtx, axis: number, rank: number, channels: number): number[] | undefined {
  let readers = cx.consumers(value);
  if (readers.length === 1 && readers[0].opType === 'Add') {
    const other = readers[0].inputs.find((v) => v !== value);
    if (!other || !cx.constant(other)) return undefined;
    readers = cx.consumers(readers[0].outputs[0]);
  }
  if (readers.length < 2 || readers.some((r) => r.opType !== 'Slice')) return undefined;
  const ranges: Array<[number, number]> = [];
  for (const r of readers) {
    const [starts, ends, axes, steps] = [1, 2, 3, 4].map((i) => (r.inputs[i] ? cx.constant(r.inputs[i]) : undefined));
    if (!starts || !ends || (r.inputs[3] && !axes) || (r.inputs[4] && !steps)) return undefined;
    const axisList = axes ? intValues(axes).map((a) => norm(a, rank)) : intValues(starts).map((_, i) => i);
    const j = axisList.indexOf(axis);
    if (j < 0 || axisList.length !== 1 || (steps && intValues(steps)[j] !== 1)) return undefined;
    const clamp = (v: number) => Math.min(channels, Math.max(0, v < 0 ? v + channels : v));
    ranges.push([clamp(intValues(starts)[j]), clamp(intValues(ends)[j])]);
  }
  ranges.sort((p, q) => p[0] - q[0]);
  let next = 0;
  for (const [s, e] of ranges) {
    if (s !== next || e <= s) return undefined;
    next = e;
  }
  return next === channels ? ranges.map(([s, e]) => e - s) : undefined;
}

const conv: Handler = (n, cx) => {
  const w = cx.constant(n.inputs[1]);
  const x = cx.layout(n.inputs[0]);
  if (!w || !isFloatTensor(w)) return poisonAll(n, cx, 'weights are not a float constant');
  const bias = n.inputs[2] ? cx.constant(n.inputs[2]) : undefined;
  if (n.inputs[2] && !bias) return poisonAll(n, cx, 'bias is not a constant');
  const group = getInt(n, 'group', 1);
  const [cout, cinPerGroup] = w.dims;
  const rank = w.dims.length;
  if (group === 1) {
    if (x) {
      if (x.axis !== 1) cx.poison(x, `channels reach ${n.opType} '${n.name}' on axis ${x.axis}, not 1`);
      else cx.paramLayout(n, 1, 1, x, 'in', n.inputs[0], 1);
    }
    return [root(n, cx, cout, 1, rank, bias ? [[1, 0], [2, 0]] : [[1, 0]])];
  }
  if (cinPerGroup === 1 && cout === group) {
    // Depthwise: input channel c is output channel c, so the input's space flows through.
    if (!x) {
      cx.unprunable(n.name, `depthwise ${n.opType} whose input channels are not traced from a prunable producer`);
      return [undefined];
    }
    if (x.axis !== 1) return poisonAll(n, cx, 'channels on a non-channel axis');
    cx.paramLayout(n, 1, 0, x, 'aux');
    if (bias) cx.paramLayout(n, 2, 0, x, 'aux');
    cx.intEdit({ node: n, target: { attr: 'group' }, element: -1, layout: x });
    return [x];
  }
  if (x) cx.poison(x, `grouped ${n.opType} '${n.name}' (group=${group}) couples channels per group`);
  cx.unprunable(n.name, `grouped ${n.opType} (group=${group}): output channels can only go in whole groups, not supported`);
  return [undefined];
};

const convTranspose: Handler = (n, cx) => {
  const w = cx.constant(n.inputs[1]);
  const x = cx.layout(n.inputs[0]);
  if (!w || !isFloatTensor(w) || getInt(n, 'group', 1) !== 1 || getInts(n, 'output_shape')) {
    cx.unprunable(n.name, 'ConvTranspose with group > 1, output_shape or non-constant weights');
    return poisonAll(n, cx, 'unsupported ConvTranspose');
  }
  const bias = n.inputs[2] ? cx.constant(n.inputs[2]) : undefined;
  if (n.inputs[2] && !bias) return poisonAll(n, cx, 'bias is not a constant');
  if (x) {
    if (x.axis !== 1) cx.poison(x, `channels reach ConvTranspose '${n.name}' on axis ${x.axis}`);
    else cx.paramLayout(n, 1, 0, x, 'in', n.inputs[0], 1);
  }
  return [root(n, cx, w.dims[1], 1, w.dims.length, bias ? [[1, 1], [2, 0]] : [[1, 1]])];
};

const gemm: Handler = (n, cx) => {
  const b = cx.constant(n.inputs[1]);
  const x = cx.layout(n.inputs[0]);
  const transA = getInt(n, 'transA', 0);
  const transB = getInt(n, 'transB', 0);
  if (!b || !isFloatTensor(b) || b.dims.length !== 2) return poisonAll(n, cx, 'B is not a 2-D float constant');
  if (x) {
    // A's reduction axis: 1, or 0 with transA (A is [K, M]); channels there meet B's rows.
    const reduction = transA ? 0 : 1;
    if (x.axis !== reduction) cx.poison(x, `channels reach Gemm '${n.name}' on A's ${transA ? 'column' : 'row'} axis, not the reduction axis`);
    else cx.paramLayout(n, 1, transB ? 1 : 0, x, 'in', n.inputs[0], reduction);
  }
  const outCh = b.dims[transB ? 0 : 1];
  const c = n.inputs[2] ? cx.constant(n.inputs[2]) : undefined;
  if (n.inputs[2] && !c) {
    cx.unprunable(n.name, 'Gemm bias C is not a constant');
    return [undefined];
  }
  const slices: Array<[number, number]> = [[1, transB ? 0 : 1]];
  if (c) {
    const cn = c.dims.reduce((p, q) => p * q, 1);
    if (cn === outCh && c.dims.length >= 1) slices.push([2, c.dims.length - 1]);
    else if (cn !== 1) {
      cx.unprunable(n.name, `Gemm bias C has shape [${c.dims.join(',')}]`);
      return [undefined];
    }
  }
  return [root(n, cx, outCh, 1, 2, slices)];
};

const matmul: Handler = (n, cx) => {
  const b = cx.constant(n.inputs[1]);
  const a = cx.constant(n.inputs[0]);
  const xa = cx.layout(n.inputs[0]);
  const xb = cx.layout(n.inputs[1]);
  if (b && !a && b.dims.length === 2 && isFloatTensor(b)) {
    const rank = cx.rank(n.inputs[0]);
    if (xa) {
      if (xa.axis !== xa.rank - 1) cx.poison(xa, `channels reach MatMul '${n.name}' on axis ${xa.axis}, not the reduction axis`);
      else cx.paramLayout(n, 1, 0, xa, 'in', n.inputs[0], xa.axis);
    }
    if (rank === undefined || rank < 2) {
      cx.unprunable(n.name, 'MatMul input rank unknown');
      return [undefined];
    }
    return [root(n, cx, b.dims[1], rank - 1, rank, [[1, 1]])];
  }
  if (a || b) return poisonAll(n, cx, 'MatMul with a constant operand of an unsupported form');
  if (!xa && !xb) return [undefined];
  // Batched MatMul of two activations (attention): channels may sit on a batch axis (heads).
  const ra = cx.rank(n.inputs[0]);
  const rb = cx.rank(n.inputs[1]);
  if (ra === undefined || rb === undefined || ra < 3 || rb < 3) return poisonAll(n, cx, 'channels reach the reduction axes of a MatMul');
  const outRank = Math.max(ra, rb);
  const aligned = (l: Layout, r: number) => l.axis + outRank - r;
  const batchOk = (l: Layout, r: number) => l.axis < r - 2;
  if ((xa && !batchOk(xa, ra)) || (xb && !batchOk(xb, rb))) return poisonAll(n, cx, 'channels reach the reduction axes of a MatMul');
  if (xa && xb) {
    if (aligned(xa, ra) !== aligned(xb, rb) || !cx.couple(xa, xb, n)) return poisonAll(n, cx, 'operands carry channels on different axes');
    return [{ ...xa, axis: aligned(xa, ra), rank: outRank }];
  }
  const [l, r, other] = xa ? [xa, ra, n.inputs[1]] : [xb as Layout, rb, n.inputs[0]];
  const os = cx.shape(other);
  const j = aligned(l, r) - (outRank - (os?.length ?? 0));
  if (!os || (j >= 0 && os[j] !== 1)) return poisonAll(n, cx, 'the other operand has the channel axis but is not traced');
  return [{ ...l, axis: aligned(l, r), rank: outRank }];
};

/** Elementwise ops with broadcasting: traced operands are coupled; constants sliced when per-channel. */
function broadcast(inputs: number[]): Handler {
  return (n, cx) => {
    const used = inputs.filter((i) => n.inputs[i]);
    const ranks = used.map((i) => cx.rank(n.inputs[i]));
    const tr = used.filter((i) => cx.layout(n.inputs[i]));
    if (ranks.some((r) => r === undefined)) return poisonAll(n, cx, 'operand rank unknown');
    const outRank = Math.max(...(ranks as number[]));
    const base = cx.layout(n.inputs[tr[0]]) as Layout;
    const axis = base.axis + outRank - base.rank;
    for (const i of tr.slice(1)) {
      const l = cx.layout(n.inputs[i]) as Layout;
      if (l.axis + outRank - l.rank !== axis || !cx.couple(base, l, n)) return poisonAll(n, cx, 'operands carry channels on different axes');
    }
    for (const i of used) {
      if (tr.includes(i)) continue;
      const v = n.inputs[i];
      const c = cx.constant(v);
      const dims = c?.dims ?? cx.shape(v);
      if (!dims) return poisonAll(n, cx, `shape of operand '${v}' unknown`);
      const j = axis - (outRank - dims.length);
      if (j < 0 || dims[j] === 1) continue;
      if (dims[j] === base.size && c && isFloatTensor(c)) cx.paramLayout(n, i, j, base, 'aux');
      else return poisonAll(n, cx, `operand '${v}' has the channel axis but is not a per-channel constant or a traced value`);
    }
    return n.outputs.map(() => ({ ...base, axis, rank: outRank }));
  };
}

const passthrough: Handler = (n, cx) => {
  const t = tracked(n, cx);
  if (t.length !== 1 || t[0][0] !== 0) return poisonAll(n, cx, 'channels reach a non-data input');
  return n.outputs.map(() => t[0][1]);
};

/** Ops that act on each channel independently over spatial axes (pooling, resizing): channel axis must be 1. */
const spatial: Handler = (n, cx) => {
  const t = tracked(n, cx);
  if (t.length !== 1 || t[0][0] !== 0 || t[0][1].axis !== 1) return poisonAll(n, cx, 'channels not on axis 1');
  if (n.opType === 'Resize' && n.inputs[3]) return poisonAll(n, cx, 'Resize with explicit sizes');
  if (n.opType === 'Pad') {
    const pads = n.inputs[1] ? cx.constant(n.inputs[1]) : undefined;
    const p = pads ? intValues(pads) : getInts(n, 'pads');
    const r = t[0][1].rank;
    if (!p || p[1] !== 0 || p[1 + r] !== 0 || n.inputs[3]) return poisonAll(n, cx, 'Pad on the channel axis or with axes');
  }
  return n.outputs.map(() => t[0][1]);
};

function normalizedAxisOp(defaultAxis: (opset: number) => number, ruleFor: (opset: number) => 'not-equal' | 'below'): Handler {
  return (n, cx) => {
    const t = tracked(n, cx);
    if (t.length !== 1 || t[0][0] !== 0) return poisonAll(n, cx, 'channels reach a parameter input');
    const l = t[0][1];
    const axis = norm(getInt(n, 'axis', defaultAxis(cx.opset)), l.rank);
    const bad = ruleFor(cx.opset) === 'below' ? l.axis >= axis : l.axis === axis;
    if (bad) return poisonAll(n, cx, `normalizes over the pruned axis ${l.axis}`);
    return n.outputs.map((_, k) => (k === 0 ? l : undefined));
  };
}

const batchNorm: Handler = (n, cx) => {
  const t = tracked(n, cx);
  if (t.length !== 1 || t[0][0] !== 0 || t[0][1].axis !== 1) return poisonAll(n, cx, 'channels not on axis 1');
  const last = n.opType === 'BatchNormalization' ? 4 : 2;
  for (let i = 1; i <= last; i++) {
    const c = cx.constant(n.inputs[i]);
    if (!c || !isFloatTensor(c)) return poisonAll(n, cx, `parameter '${n.inputs[i]}' is not a constant`);
  }
  for (let i = 1; i <= last; i++) cx.paramLayout(n, i, 0, t[0][1], i === 1 ? 'out' : 'aux');
  return [t[0][1]];
};

const transpose: Handler = (n, cx) => {
  const l = dataLayout(n, cx);
  if (!l) return [];
  const perm = getInts(n, 'perm') ?? Array.from({ length: l.rank }, (_, i) => l.rank - 1 - i);
  return [{ ...l, axis: perm.indexOf(l.axis) }];
};

const flatten: Handler = (n, cx) => {
  const l = dataLayout(n, cx);
  if (!l) return [];
  const dims = cx.shape(n.inputs[0]);
  const axis = norm(getInt(n, 'axis', 1), l.rank);
  if (!dims) return poisonAll(n, cx, 'input shape unknown');
  if (l.axis < axis) return poisonAll(n, cx, 'channels flattened into the batch axis');
  const prefix = dims.slice(axis, l.axis).reduce((a, b) => a * b, 1);
  if (prefix !== 1) return poisonAll(n, cx, 'channels interleave with other axes after flattening');
  return [widen(l, 1, 2, dims.slice(l.axis + 1).reduce((a, b) => a * b, 1))];
};

/** Each position becomes `inner` consecutive positions (Flatten/Reshape of [C, H, W] into C*H*W). */
function widen(l: Layout, axis: number, rank: number, inner: number): Layout {
  return { axis, rank, size: l.size * inner, segments: l.segments.map((s) => ({ ...s, offset: s.offset * inner, block: s.block * inner })) };
}

const prod = (a: number[]) => a.reduce((p, q) => p * q, 1);

const reshape: Handler = (n, cx) => {
  const l = dataLayout(n, cx);
  if (!l) return [];
  const shapeT = cx.constant(n.inputs[1]);
  const inDims = cx.shape(n.inputs[0]);
  const outDims = cx.shape(n.outputs[0]);
  if (!shapeT) return poisonAll(n, cx, 'Reshape target shape is computed at run time');
  if (!inDims || !outDims) return poisonAll(n, cx, 'Reshape shapes unknown (run with calibration data or static shapes)');
  const target = intValues(shapeT);
  const a = l.axis;
  const before = prod(inDims.slice(0, a));
  let k = 0;
  while (k < outDims.length && prod(outDims.slice(0, k)) < before) k++;
  // Size-1 axes inserted before the channels do not move them.
  while (k < outDims.length - 1 && outDims[k] === 1 && inDims[a] !== 1) k++;
  if (prod(outDims.slice(0, k)) !== before || k >= outDims.length) return poisonAll(n, cx, 'Reshape moves the channel axis across other axes');
  const editIf = (out: Layout) => {
    if (target[k] > 0) cx.intEdit({ node: n, target: { input: 1 }, element: k, layout: out });
    return [out];
  };
  if (outDims[k] === inDims[a]) {
    return editIf({ ...l, axis: k, rank: outDims.length });
  }
  if (outDims[k] === prod(inDims.slice(a)) && l.segments.every((s) => s.per === 1)) {
    return editIf({ ...widen(l, k, outDims.length, prod(inDims.slice(a + 1))) });
  }
  if (k + 1 < outDims.length && outDims[k] * outDims[k + 1] === inDims[a] && l.segments.every((s) => s.per === 1 && s.block === 1)) {
    // Split into heads: [.., hidden] -> [.., heads, head_dim]; whole heads go together.
    const dh = outDims[k + 1];
    if (l.segments.some((s) => s.first % dh || s.offset % dh || s.count % dh)) return poisonAll(n, cx, 'head boundaries do not align with the traced channels');
    for (const s of l.segments) cx.granule(s.space, dh);
    return editIf({ axis: k, rank: outDims.length, size: outDims[k], segments: l.segments.map((s) => ({ ...s, offset: s.offset / dh, per: dh })) });
  }
  if (a + 1 < inDims.length && outDims[k] === inDims[a] * inDims[a + 1] && l.segments.every((s) => s.block === 1 && s.per === inDims[a + 1])) {
    // Merge heads back: [.., heads, head_dim] -> [.., hidden].
    const dh = inDims[a + 1];
    return editIf({ axis: k, rank: outDims.length, size: outDims[k], segments: l.segments.map((s) => ({ ...s, offset: s.offset * dh, per: 1 })) });
  }
  return poisonAll(n, cx, `Reshape [${inDims.join(',')}] -> [${outDims.join(',')}] regroups the channel axis`);
};

const concat: Handler = (n, cx) => {
  const t = tracked(n, cx);
  const rank = t[0][1].rank;
  const axis = norm(getInt(n, 'axis', 0), rank);
  if (t.some(([, l]) => l.axis !== axis)) {
    if (t.length === n.inputs.length && t.every(([, l]) => l.axis === t[0][1].axis) && t.every(([, l]) => cx.couple(t[0][1], l, n))) return [t[0][1]];
    return poisonAll(n, cx, 'channels on a different axis than the concatenation');
  }
  const segments = [];
  let offset = 0;
  for (const v of n.inputs) {
    const l = cx.layout(v);
    const size = l?.size ?? cx.shape(v)?.[axis] ?? cx.constant(v)?.dims[axis];
    if (size === undefined) return poisonAll(n, cx, `size of untraced input '${v}' unknown`);
    if (l) segments.push(...l.segments.map((s) => ({ ...s, offset: s.offset + offset })));
    offset += size;
  }
  return [{ axis, rank, size: offset, segments }];
};

const split: Handler = (n, cx) => {
  const l = dataLayout(n, cx);
  if (!l) return [];
  const axis = norm(getInt(n, 'axis', 0), l.rank);
  if (axis !== l.axis) return n.outputs.map(() => l);
  const fromInput = n.inputs[1] ? cx.constant(n.inputs[1]) : undefined;
  if (n.inputs[1] && !fromInput) return poisonAll(n, cx, 'split sizes computed at run time');
  const listed = fromInput ? intValues(fromInput) : getInts(n, 'split');
  const sizes = listed ?? n.outputs.map((o) => cx.shape(o)?.[axis] ?? -1);
  if (sizes.some((s) => s < 0)) return poisonAll(n, cx, 'split sizes unknown');
  const outs: Layout[] = [];
  let lo = 0;
  for (const size of sizes) {
    const segs = clipSegments(l.segments, lo, lo + size);
    if (!segs) return poisonAll(n, cx, 'a channel straddles a split boundary');
    outs.push({ axis, rank: l.rank, size, segments: segs });
    lo += size;
  }
  outs.forEach((out, k) =>
    cx.intEdit({ node: n, target: fromInput || (!listed && cx.opset >= 13) ? { input: 1 } : { attr: 'split' }, element: k, layout: out, materializeSplit: listed ? undefined : sizes }),
  );
  return outs;
};

const slice: Handler = (n, cx) => {
  const l = dataLayout(n, cx);
  if (!l) return [];
  const consts = [1, 2, 3, 4].map((i) => (n.inputs[i] ? cx.constant(n.inputs[i]) : undefined));
  if ([1, 2, 3, 4].some((i, k) => n.inputs[i] && !consts[k])) return poisonAll(n, cx, 'slice parameters computed at run time');
  if (!consts[0]) return poisonAll(n, cx, 'Slice-1 (attribute form) not supported');
  const starts = intValues(consts[0]);
  const ends = intValues(consts[1] as never);
  const axes = consts[2] ? intValues(consts[2]).map((a) => norm(a, l.rank)) : starts.map((_, i) => i);
  const steps = consts[3] ? intValues(consts[3]) : starts.map(() => 1);
  const j = axes.indexOf(l.axis);
  if (j < 0) return [l];
  if (steps[j] !== 1) return poisonAll(n, cx, 'strided slice on the channel axis');
  const clamp = (v: number) => Math.min(l.size, Math.max(0, v < 0 ? v + l.size : v));
  const s = clamp(starts[j]);
  const e = clamp(ends[j]);
  const segs = clipSegments(l.segments, s, e);
  if (!segs) return poisonAll(n, cx, 'a channel straddles the slice boundary');
  cx.intEdit({ node: n, target: { input: 1 }, element: j, layout: l, before: s });
  if (ends[j] < l.size) cx.intEdit({ node: n, target: { input: 2 }, element: j, layout: l, before: e });
  return [{ axis: l.axis, rank: l.rank, size: e - s, segments: segs }];
};

/** Ops that drop or insert axes elsewhere: the channel axis index moves. */
function axesOp(kind: 'squeeze' | 'unsqueeze' | 'reduce' | 'gather'): Handler {
  return (n, cx) => {
    const l = cx.layout(n.inputs[0]);
    if (!l || n.inputs.slice(1).some((v) => v && cx.layout(v))) return poisonAll(n, cx, 'channels reach a parameter input');
    const outRank = cx.rank(n.outputs[0]);
    if (outRank === undefined) return poisonAll(n, cx, 'output rank unknown');
    if (kind === 'gather') {
      const axis = norm(getInt(n, 'axis', 0), l.rank);
      if (axis === l.axis) return poisonAll(n, cx, 'gathers along the channel axis');
      const idxRank = cx.rank(n.inputs[1]);
      if (idxRank === undefined) return poisonAll(n, cx, 'index rank unknown');
      return [{ ...l, rank: outRank, axis: l.axis < axis ? l.axis : l.axis + idxRank - 1 }];
    }
    const ax = n.inputs[1] ? cx.constant(n.inputs[1]) : undefined;
    if (n.inputs[1] && !ax) return poisonAll(n, cx, 'axes computed at run time');
    const axes = ax ? intValues(ax) : getInts(n, 'axes');
    if (kind === 'unsqueeze') {
      const all = (axes ?? []).map((a) => norm(a, outRank)).sort((p, q) => p - q);
      let axis = l.axis;
      for (const a of all) if (a <= axis) axis++;
      return [{ ...l, axis, rank: outRank }];
    }
    const inAxes = axes?.map((a) => norm(a, l.rank));
    if (kind === 'reduce') {
      if (!inAxes && getInt(n, 'noop_with_empty_axes', 0)) return [l];
      if (!inAxes || inAxes.includes(l.axis)) return poisonAll(n, cx, 'reduces over the channel axis');
      if (getInt(n, 'keepdims', 1)) return [l];
    } else if (!inAxes || inAxes.includes(l.axis)) return poisonAll(n, cx, 'squeezes the channel axis');
    return [{ ...l, rank: outRank, axis: l.axis - (inAxes as number[]).filter((a) => a < l.axis).length }];
  };
}

/** Shape of a traced value is fine when only non-channel elements are read (Shape -> Gather(i)). */
const shapeOp: Handler = (n, cx) => {
  const l = dataLayout(n, cx);
  if (!l) return [];
  if (getAttrAny(n)) return poisonAll(n, cx, 'Shape with start/end');
  const users = cx.consumers(n.outputs[0]);
  const safe = users.every((u) => {
    if (u.opType !== 'Gather' || u.inputs[0] !== n.outputs[0] || getInt(u, 'axis', 0) !== 0) return false;
    const idx = cx.constant(u.inputs[1]);
    if (!idx || idx.dims.length > 1) return false;
    return intValues(idx).every((i) => norm(i, l.rank) !== l.axis);
  });
  if (!safe) return poisonAll(n, cx, 'the channel count is read at run time');
  return [undefined];
};

const getAttrAny = (n: Node) => n.attributes.some((a) => a.name === 'start' || a.name === 'end');

const UNARY = [
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Gelu', 'Erf',
  'Exp', 'Log', 'Abs', 'Neg', 'Sqrt', 'Reciprocal', 'Identity', 'Dropout', 'Cast', 'Ceil', 'Floor', 'Round', 'Sign', 'Sin', 'Cos',
  'Mish', 'ThresholdedRelu', 'Clip', 'Swish', 'Relu6',
];

export const HANDLERS: Record<string, Handler> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: matmul,
  BatchNormalization: batchNorm,
  InstanceNormalization: batchNorm,
  ...Object.fromEntries(UNARY.map((op) => [op, passthrough])),
  PRelu: broadcast([0, 1]),
  Add: broadcast([0, 1]),
  Sub: broadcast([0, 1]),
  Mul: broadcast([0, 1]),
  Div: broadcast([0, 1]),
  Max: broadcast([0, 1]),
  Min: broadcast([0, 1]),
  Pow: broadcast([0, 1]),
  Where: broadcast([0, 1, 2]),
  MaxPool: spatial,
  AveragePool: spatial,
  GlobalAveragePool: spatial,
  GlobalMaxPool: spatial,
  LpPool: spatial,
  GlobalLpPool: spatial,
  Resize: spatial,
  Upsample: spatial,
  Pad: spatial,
  LayerNormalization: normalizedAxisOp(() => -1, () => 'below'),
  // Before opset 13 Softmax flattens everything from `axis` on into one row.
  Softmax: normalizedAxisOp((o) => (o >= 13 ? -1 : 1), (o) => (o >= 13 ? 'not-equal' : 'below')),
  LogSoftmax: normalizedAxisOp((o) => (o >= 13 ? -1 : 1), (o) => (o >= 13 ? 'not-equal' : 'below')),
  Transpose: transpose,
  Flatten: flatten,
  Reshape: reshape,
  Concat: concat,
  Split: split,
  Slice: slice,
  Squeeze: axesOp('squeeze'),
  Unsqueeze: axesOp('unsqueeze'),
  ReduceMean: axesOp('reduce'),
  ReduceSum: axesOp('reduce'),
  ReduceMax: axesOp('reduce'),
  ReduceMin: axesOp('reduce'),
  Gather: axesOp('gather'),
  Shape: shapeOp,
};
