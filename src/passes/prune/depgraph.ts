/**
 * The dependency graph in the DepGraph spirit, over the ONNX IR: every weight-bearing producer
 * starts a channel space; layouts flow forward in topological order through the handler table;
 * residual Adds, attention MatMuls and Concat-on-other-axes couple spaces (union-find). A group is
 * one union of spaces: removing channel c removes its slice from every member at once.
 */
import { GraphIndex, NameGenerator, getAttr, intsAttr, intAttr, nodeInputsWithSubgraphs, opsetVersion, setAttr, int64Tensor, subgraphsOf, type Model, type Node, type Tensor } from '../../onnx/index.js';
import type { Skipped } from '../types.js';
import { HANDLERS } from './handlers.js';
import { positionsOf, sameStructure, type Layout } from './layout.js';
import { adoptValues, intValues, removePositions, floats } from './tensors.js';
import type { IntEdit, ParamSlice, Role, TraceCtx } from './trace.js';

export interface GroupMember {
  node: string;
  opType: string;
  /** Which input of the node is sliced, and along which axis. */
  input: number;
  axis: number;
  role: Role;
}

export interface PruneGroup {
  /** Producer node names joined by '+', e.g. "conv1" or "conv_a+conv_b" for a residual pair. */
  id: string;
  producers: string[];
  channels: number;
  /** Channels go in runs of this size (head_dim for attention heads). */
  granule: number;
  members: GroupMember[];
  /** Parameters removed with each channel (summed over all members). */
  paramsPerChannel: number;
  slices: ParamSlice[];
  edits: IntEdit[];
}

export interface DepGraph {
  groups: PruneGroup[];
  unprunable: Skipped[];
  layouts: Map<string, Layout>;
  groupOfSpace: (space: number) => number;
}

interface Space {
  node: Node;
  channels: number;
  granule: number;
  parent: number;
  poison: string[];
}

/** Public view: prunable groups and what cannot be pruned, with reasons. */
export function dependencyGroups(model: Model, shapes?: Map<string, number[]>): { groups: PruneGroup[]; unprunable: Skipped[] } {
  const { groups, unprunable } = traceDependencies(model, shapes);
  return { groups, unprunable };
}

export function traceDependencies(model: Model, probed?: Map<string, number[]>): DepGraph {
  const g = model.graph;
  const index = new GraphIndex(g);
  const layouts = new Map<string, Layout>();
  const spaces: Space[] = [];
  const slices: Array<ParamSlice & { space: number }> = [];
  const edits: IntEdit[] = [];
  const unprunable: Skipped[] = [];
  const staticShapes = new Map<string, number[]>();
  for (const v of [...g.inputs, ...g.valueInfo, ...g.outputs]) {
    const s = v.type?.kind === 'tensor' ? v.type.shape : undefined;
    if (s && s.every((d) => typeof d === 'number' && d >= 0)) staticShapes.set(v.name, s as number[]);
  }
  const find = (s: number): number => {
    while (spaces[s].parent !== s) s = spaces[s].parent = spaces[spaces[s].parent].parent;
    return s;
  };
  const shape = (v: string) => index.initializer.get(v)?.dims ?? probed?.get(v) ?? staticShapes.get(v);
  const cx: TraceCtx = {
    layout: (v) => layouts.get(v),
    shape,
    rank: (v) => layouts.get(v)?.rank ?? shape(v)?.length ?? rankFromInfo(v),
    constant: (v) => index.initializer.get(v),
    consumers: (v) => index.consumersOf(v),
    opset: opsetVersion(model, '') ?? 13,
    newSpace(node, channels) {
      spaces.push({ node, channels, granule: 1, parent: spaces.length, poison: [] });
      return spaces.length - 1;
    },
    param(slice) {
      slices.push({ ...slice, space: slice.seg.space });
    },
    paramLayout(node, input, axis, layout, role, activation, activationAxis) {
      for (const seg of layout.segments) cx.param({ node, input, axis, seg, role, activation, activationAxis });
    },
    couple(a, b, where) {
      if (!sameStructure(a, b) || a.segments.some((s, i) => spaces[s.space].channels !== spaces[b.segments[i].space].channels)) {
        cx.poison(a, `${where.opType} '${where.name}' combines differently laid out channels`);
        cx.poison(b, `${where.opType} '${where.name}' combines differently laid out channels`);
        return false;
      }
      a.segments.forEach((s, i) => {
        const x = find(s.space);
        const y = find(b.segments[i].space);
        if (x === y) return;
        spaces[y].parent = x;
        spaces[x].granule = lcm(spaces[x].granule, spaces[y].granule);
        spaces[x].poison.push(...spaces[y].poison);
      });
      return true;
    },
    poison(layout, reason) {
      for (const s of layout?.segments ?? []) spaces[find(s.space)].poison.push(reason);
    },
    intEdit(edit) {
      edits.push(edit);
    },
    granule(space, granule) {
      const r = find(space);
      spaces[r].granule = lcm(spaces[r].granule, granule);
    },
    unprunable(what, reason) {
      unprunable.push({ what, reason });
    },
  };
  function rankFromInfo(v: string): number | undefined {
    const info = [...g.inputs, ...g.valueInfo, ...g.outputs].find((i) => i.name === v);
    return info?.type?.kind === 'tensor' ? info.type.shape?.length : undefined;
  }

  for (const node of g.nodes) {
    for (const sg of subgraphsOf(node)) {
      const inner = sg.nodes.filter((n) => ['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(n.opType)).length;
      if (inner) unprunable.push({ what: node.name || node.opType, reason: `${inner} weight-bearing node(s) inside a ${node.opType} subgraph are not traced` });
    }
    const reads = subgraphsOf(node).length ? nodeInputsWithSubgraphs(node) : node.inputs;
    const anyTracked = reads.some((v) => v && layouts.has(v));
    const handler = node.domain === '' || node.domain === 'ai.onnx' ? HANDLERS[node.opType] : undefined;
    const isRoot = ['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(node.opType);
    if (!anyTracked && !isRoot) continue;
    if (!handler || subgraphsOf(node).length) {
      for (const v of reads) cx.poison(layouts.get(v), `consumed by ${node.opType} '${node.name}', which has no pruning handler`);
      continue;
    }
    const outs = handler(node, cx);
    node.outputs.forEach((o, k) => {
      const l = outs[k];
      if (o && l) layouts.set(o, l);
    });
  }
  for (const o of g.outputs) cx.poison(layouts.get(o.name), `reaches graph output '${o.name}'`);

  // Assemble groups from the union-find roots.
  const groupIndex = new Map<number, number>();
  const groups: PruneGroup[] = [];
  const groupOfSpace = (s: number) => groupIndex.get(find(s)) ?? -1;
  const bySpaceRoot = new Map<number, number[]>();
  spaces.forEach((_, i) => {
    const r = find(i);
    bySpaceRoot.set(r, [...(bySpaceRoot.get(r) ?? []), i]);
  });
  for (const [r, members] of bySpaceRoot) {
    // A packed projection's parts are separate spaces of one node: name it once.
    const producers = [...new Set(members.map((m) => spaces[m].node.name))];
    const id = producers.join('+');
    const root = spaces[r];
    if (root.poison.length) {
      unprunable.push({ what: id, reason: [...new Set(root.poison)].slice(0, 3).join('; ') });
      continue;
    }
    if (root.channels % root.granule !== 0 || root.channels / root.granule < 2) {
      unprunable.push({ what: id, reason: `${root.channels} channels in runs of ${root.granule}: nothing to remove` });
      continue;
    }
    const memberSet = new Set(members);
    const gs = slices.filter((s) => memberSet.has(s.space));
    const ge = edits.filter((e) => e.layout.segments.some((s) => memberSet.has(s.space)));
    let perChannel = 0;
    for (const s of gs) {
      const t = cx.constant(s.node.inputs[s.input]) as Tensor;
      const hyper = t.dims.reduce((a, b) => a * b, 1) / t.dims[s.axis];
      perChannel += (hyper * s.seg.block) / s.seg.per;
    }
    groupIndex.set(r, groups.length);
    groups.push({
      id,
      producers,
      channels: root.channels,
      granule: root.granule,
      members: gs.map((s) => ({ node: s.node.name, opType: s.node.opType, input: s.input, axis: s.axis, role: s.role })),
      paramsPerChannel: perChannel,
      slices: gs,
      edits: ge,
    });
  }
  return { groups, unprunable, layouts, groupOfSpace };
}

function lcm(a: number, b: number): number {
  const gcd = (x: number, y: number): number => (y ? gcd(y, x % y) : x);
  return (a / gcd(a, b)) * b;
}

/** Positions a layout loses when the given channels go (per group index). */
export function removedPositions(dg: DepGraph, layout: Layout, removed: Map<number, Set<number>>, before = Infinity): Set<number> {
  const out = new Set<number>();
  for (const seg of layout.segments) {
    const r = removed.get(dg.groupOfSpace(seg.space));
    if (!r) continue;
    for (const c of r) for (const p of positionsOf(seg, c)) if (p < before) out.add(p);
  }
  return out;
}

interface RefEdit {
  node: Node;
  input: number;
  axes: Map<number, Set<number>>;
  ints: Map<number, number>;
}

/**
 * Removes the chosen channels (group index -> channel indices) from every member, edits shape
 * constants and attributes, and drops stale value_info. Edits `model` in place (pass a clone);
 * shared constants are copied before they are changed.
 */
export function applyRemoval(model: Model, dg: DepGraph, removed: Map<number, Set<number>>): void {
  const g = model.graph;
  const index = new GraphIndex(g);
  const refs = new Map<string, RefEdit>();
  const ref = (node: Node, input: number) => {
    const key = `${g.nodes.indexOf(node)}:${input}`;
    let r = refs.get(key);
    if (!r) refs.set(key, (r = { node, input, axes: new Map(), ints: new Map() }));
    return r;
  };
  removed.forEach((channels, gi) => {
    for (const s of dg.groups[gi].slices) {
      const r = ref(s.node, s.input);
      let set = r.axes.get(s.axis);
      if (!set) r.axes.set(s.axis, (set = new Set()));
      for (const c of channels) for (const p of positionsOf(s.seg, c)) set.add(p);
    }
  });
  const attrDeltas = new Map<Node, Map<string, Map<number, number>>>();
  const seenEdits = new Set<IntEdit>();
  for (const gi of removed.keys()) {
    for (const e of dg.groups[gi].edits) {
      if (seenEdits.has(e)) continue;
      seenEdits.add(e);
      const delta = removedPositions(dg, e.layout, removed, e.before).size;
      if (!delta && !e.materializeSplit) continue;
      if (e.materializeSplit) materializeSplit(model, e.node, e.materializeSplit, 'input' in e.target, index);
      if ('input' in e.target) {
        const r = ref(e.node, e.target.input);
        r.ints.set(e.element, (r.ints.get(e.element) ?? 0) + delta);
      } else {
        let m = attrDeltas.get(e.node);
        if (!m) attrDeltas.set(e.node, (m = new Map()));
        let el = m.get(e.target.attr);
        if (!el) m.set(e.target.attr, (el = new Map()));
        el.set(e.element, (el.get(e.element) ?? 0) + delta);
      }
    }
  }
  const uses = new Map<string, number>();
  for (const n of g.nodes) for (const i of nodeInputsWithSubgraphs(n)) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
  const names = new NameGenerator(g);
  const replaced = new Map<string, Tensor>();
  for (const r of refs.values()) {
    const name = r.node.inputs[r.input];
    const t = replaced.get(name) ?? index.initializer.get(name);
    if (!t) continue;
    let next: Tensor;
    if (r.ints.size) {
      const vals = intValues(t);
      r.ints.forEach((d, k) => (vals[k] -= d));
      next = int64Tensor(name, [vals.length], vals);
    } else {
      if (![...r.axes.values()].some((s) => s.size)) continue;
      const cut = removePositions(floats(t), t.dims, r.axes);
      next = adoptValues(t, cut.dims, cut.data);
    }
    if ((uses.get(name) ?? 0) > 1) {
      // Shared constant: this node gets its own copy.
      next = { ...next, name: names.next(`${name}_pruned`) };
      r.node.inputs[r.input] = next.name;
      uses.set(name, (uses.get(name) ?? 0) - 1);
      g.initializers.push(next);
    } else {
      const i = g.initializers.findIndex((x) => x.name === name);
      g.initializers[i] = next;
      replaced.set(name, next);
    }
  }
  for (const [node, attrs] of attrDeltas) {
    for (const [attr, els] of attrs) {
      const a = getAttr(node, attr);
      if (a?.type === 'int') setAttr(node, intAttr(attr, Number(a.value) - (els.get(-1) ?? 0)));
      else if (a?.type === 'ints') setAttr(node, intsAttr(attr, a.value.map((v, k) => Number(v) - (els.get(k) ?? 0))));
    }
  }
  const changed = new Set<string>();
  for (const [v, l] of dg.layouts) if (removedPositions(dg, l, removed).size) changed.add(v);
  g.valueInfo = g.valueInfo.filter((v) => !changed.has(v.name));
}

function materializeSplit(model: Model, node: Node, sizes: number[], asInput: boolean, index: GraphIndex): void {
  // Even splits carry no sizes; write them out so that uneven removals can be expressed.
  if (!asInput) {
    if (!getAttr(node, 'split')) setAttr(node, intsAttr('split', sizes));
    return;
  }
  if (node.inputs[1]) return;
  node.attributes = node.attributes.filter((a) => a.name !== 'num_outputs');
  const t = int64Tensor(new NameGenerator(model.graph).next(`${node.name || 'split'}_sizes`), [sizes.length], sizes);
  model.graph.initializers.push(t);
  index.initializer.set(t.name, t);
  node.inputs[1] = t.name;
}
