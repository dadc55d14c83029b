/**
 * Queries and clean-ups over a Graph: who produces and consumes a value, initializers by name,
 * topological order, dead-code removal, fresh names, attribute access and opset lookup.
 * Passes edit nodes freely, then call `cleanup` and `toposort`, the graphsurgeon way.
 */
import type { Attribute, Graph, Model, Node, Tensor, ValueInfo } from './ir.js';

export class GraphIndex {
  readonly producer = new Map<string, Node>();
  readonly consumers = new Map<string, Node[]>();
  readonly initializer = new Map<string, Tensor>();

  constructor(readonly graph: Graph) {
    for (const t of graph.initializers) this.initializer.set(t.name, t);
    for (const n of graph.nodes) {
      for (const o of n.outputs) if (o) this.producer.set(o, n);
      for (const i of new Set(nodeInputsWithSubgraphs(n))) {
        if (!i) continue;
        let list = this.consumers.get(i);
        if (!list) this.consumers.set(i, (list = []));
        list.push(n);
      }
    }
  }

  consumersOf(value: string): Node[] {
    return this.consumers.get(value) ?? [];
  }

  isGraphOutput(value: string): boolean {
    return this.graph.outputs.some((o) => o.name === value);
  }
}

/** A node's inputs plus the outer-scope values its subgraphs read (If/Loop/Scan bodies). */
export function nodeInputsWithSubgraphs(node: Node): string[] {
  const subgraphs = subgraphsOf(node);
  if (subgraphs.length === 0) return node.inputs;
  return [...node.inputs, ...subgraphs.flatMap(outerScopeReads)];
}

export function subgraphsOf(node: Node): Graph[] {
  const out: Graph[] = [];
  for (const a of node.attributes) {
    if (a.type === 'graph') out.push(a.value);
    else if (a.type === 'graphs') out.push(...a.value);
  }
  return out;
}

/** Values a subgraph reads that it does not define itself (inputs, initializers, node outputs). */
export function outerScopeReads(g: Graph): string[] {
  const defined = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.map((t) => t.name), ...g.sparseInitializers.map((s) => s.values.name)]);
  for (const n of g.nodes) for (const o of n.outputs) defined.add(o);
  const reads = new Set<string>();
  for (const n of g.nodes) for (const i of nodeInputsWithSubgraphs(n)) if (i && !defined.has(i)) reads.add(i);
  for (const o of g.outputs) if (!defined.has(o.name)) reads.add(o.name);
  return [...reads];
}

/**
 * Orders nodes so every node comes after the producers of its inputs (stable: keeps the existing
 * order where it is already valid). Throws on a cycle.
 */
export function toposort(graph: Graph): void {
  const available = new Set<string>(['', ...graph.inputs.map((v) => v.name), ...graph.initializers.map((t) => t.name), ...graph.sparseInitializers.map((s) => s.values.name)]);
  const producedHere = new Set(graph.nodes.flatMap((n) => n.outputs));
  const waitingOn = new Map<Node, number>();
  const waiters = new Map<string, Node[]>();
  for (const n of graph.nodes) {
    const missing = new Set(nodeInputsWithSubgraphs(n).filter((i) => !available.has(i) && producedHere.has(i)));
    waitingOn.set(n, missing.size);
    for (const i of missing) {
      let list = waiters.get(i);
      if (!list) waiters.set(i, (list = []));
      list.push(n);
    }
  }
  const order: Node[] = [];
  const ready = graph.nodes.filter((n) => waitingOn.get(n) === 0);
  // Keep the original relative order among ready nodes: process by original index.
  const position = new Map(graph.nodes.map((n, i) => [n, i]));
  const heap = new MinHeap<Node>((a, b) => (position.get(a) as number) - (position.get(b) as number));
  for (const n of ready) heap.push(n);
  while (heap.size) {
    const n = heap.pop() as Node;
    order.push(n);
    for (const o of n.outputs) {
      for (const w of waiters.get(o) ?? []) {
        const left = (waitingOn.get(w) as number) - 1;
        waitingOn.set(w, left);
        if (left === 0) heap.push(w);
      }
      waiters.delete(o);
    }
  }
  if (order.length !== graph.nodes.length) {
    const stuck = graph.nodes.filter((n) => !order.includes(n)).slice(0, 3).map((n) => n.name || n.opType);
    throw new Error(`graph '${graph.name}' has a cycle (nodes ${stuck.join(', ')} never become ready)`);
  }
  graph.nodes = order;
}

/**
 * Removes nodes whose outputs nobody reads (nodes with subgraphs count as used if any output is),
 * then initializers and value_info entries nobody refers to. Graph inputs and outputs are kept.
 */
export function cleanup(graph: Graph): { nodesRemoved: number; initializersRemoved: number } {
  const before = { nodes: graph.nodes.length, inits: graph.initializers.length };
  const needed = new Set(graph.outputs.map((o) => o.name));
  const keep = new Set<Node>();
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    // Walk in reverse topological order; a node is live if any of its outputs is needed.
    const n = graph.nodes[i];
    if (n.outputs.some((o) => o && needed.has(o))) {
      keep.add(n);
      for (const input of nodeInputsWithSubgraphs(n)) if (input) needed.add(input);
    }
  }
  graph.nodes = graph.nodes.filter((n) => keep.has(n));
  graph.initializers = graph.initializers.filter((t) => needed.has(t.name) || graph.inputs.some((v) => v.name === t.name));
  graph.sparseInitializers = graph.sparseInitializers.filter((s) => needed.has(s.values.name));
  const produced = new Set(graph.nodes.flatMap((n) => n.outputs));
  graph.valueInfo = graph.valueInfo.filter((v) => produced.has(v.name));
  return { nodesRemoved: before.nodes - graph.nodes.length, initializersRemoved: before.inits - graph.initializers.length };
}

/** Generates names not yet used anywhere in the graph (values, nodes, initializers). */
export class NameGenerator {
  private readonly used = new Set<string>();

  constructor(graph: Graph) {
    const visit = (g: Graph) => {
      for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) this.used.add(v.name);
      for (const t of g.initializers) this.used.add(t.name);
      for (const n of g.nodes) {
        this.used.add(n.name);
        for (const x of [...n.inputs, ...n.outputs]) this.used.add(x);
        for (const sg of subgraphsOf(n)) visit(sg);
      }
    };
    visit(graph);
  }

  next(base: string): string {
    if (!this.used.has(base)) {
      this.used.add(base);
      return base;
    }
    for (let i = 1; ; i++) {
      const candidate = `${base}_${i}`;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return candidate;
      }
    }
  }
}

// ---- attributes ------------------------------------------------------------------------------

export function getAttr(node: Node, name: string): Attribute | undefined {
  return node.attributes.find((a) => a.name === name);
}

export function getInt(node: Node, name: string, fallback: number): number {
  const a = getAttr(node, name);
  return a && a.type === 'int' ? Number(a.value) : fallback;
}

export function getInts(node: Node, name: string): number[] | undefined {
  const a = getAttr(node, name);
  return a && a.type === 'ints' ? a.value.map(Number) : undefined;
}

export function getFloat(node: Node, name: string, fallback: number): number {
  const a = getAttr(node, name);
  return a && a.type === 'float' ? a.value : fallback;
}

export function getString(node: Node, name: string, fallback: string): string {
  const a = getAttr(node, name);
  return a && a.type === 'string' ? new TextDecoder().decode(a.value) : fallback;
}

export function setAttr(node: Node, attr: Attribute): void {
  const i = node.attributes.findIndex((a) => a.name === attr.name);
  if (i >= 0) node.attributes[i] = attr;
  else node.attributes.push(attr);
}

export const intAttr = (name: string, value: number | bigint): Attribute => ({ name, type: 'int', value: BigInt(value) });
export const intsAttr = (name: string, value: Array<number | bigint>): Attribute => ({ name, type: 'ints', value: value.map((v) => BigInt(v)) });
export const floatAttr = (name: string, value: number): Attribute => ({ name, type: 'float', value });
export const stringAttr = (name: string, value: string): Attribute => ({ name, type: 'string', value: new TextEncoder().encode(value) });

// ---- opsets ----------------------------------------------------------------------------------

/** The opset version the model imports for `domain` ('' = ai.onnx), or undefined. */
export function opsetVersion(model: Model, domain = ''): number | undefined {
  return model.opsetImports.find((o) => o.domain === domain)?.version;
}

/** Adds or updates an opset import (use when a pass emits ops from a domain or a newer opset). */
export function requireOpset(model: Model, domain: string, minVersion: number): void {
  const found = model.opsetImports.find((o) => o.domain === domain);
  if (!found) model.opsetImports.push({ domain, version: minVersion });
  else if (found.version < minVersion) found.version = minVersion;
}

export function valueInfoByName(graph: Graph, name: string): ValueInfo | undefined {
  return graph.inputs.find((v) => v.name === name) ?? graph.outputs.find((v) => v.name === name) ?? graph.valueInfo.find((v) => v.name === name);
}

/** Every graph of the model: the main graph and all nested subgraphs, depth first. */
export function allGraphs(model: Model): Graph[] {
  const out: Graph[] = [];
  const visit = (g: Graph) => {
    out.push(g);
    for (const n of g.nodes) subgraphsOf(n).forEach(visit);
  };
  visit(model.graph);
  for (const f of model.functions) for (const n of f.nodes) subgraphsOf(n).forEach(visit);
  return out;
}

class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}
  get size(): number {
    return this.items.length;
  }
  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(a[i], a[p]) >= 0) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    if (!a.length) return undefined;
    const top = a[0];
    const last = a.pop() as T;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m]) < 0) m = l;
        if (r < a.length && this.less(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

/** A copy whose graph lists, nodes and value infos can be edited freely; tensor bytes are shared (read-only). */
export function cloneModel(model: Model): Model {
  return {
    ...model,
    opsetImports: model.opsetImports.map((o) => ({ ...o })),
    metadata: model.metadata.map((m) => ({ ...m })),
    graph: cloneGraph(model.graph),
  };
}

function cloneGraph(g: Graph): Graph {
  return {
    ...g,
    nodes: g.nodes.map(cloneNode),
    inputs: g.inputs.map((v) => ({ ...v })),
    outputs: g.outputs.map((v) => ({ ...v })),
    valueInfo: g.valueInfo.map((v) => ({ ...v })),
    initializers: [...g.initializers],
    sparseInitializers: [...g.sparseInitializers],
  };
}

function cloneNode(n: Node): Node {
  // Subgraphs are cloned too: the opset upgrade rewrites nodes inside If/Loop bodies in place.
  const attributes = n.attributes.map((a) => (a.type === 'graph' ? { ...a, value: cloneGraph(a.value) } : a.type === 'graphs' ? { ...a, value: a.value.map(cloneGraph) } : { ...a }));
  return { ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes };
}
