/**
 * Shared plumbing of the pruning passes: option checks, layer selection, cost measurement.
 */
import { InputError } from '../../errors.js';
import { openSession, type OpenSession } from '../../evaluate/activations.js';
import { randomFeeds } from '../../evaluate/shapes.js';
import type { Feeds } from '../../evaluate/session.js';
import { DataType, graphCost, NameGenerator, subgraphsOf, type Model, type Node, type ValueInfo } from '../../onnx/index.js';
import { countParams } from './tensors.js';

export function checkTarget(target: unknown, field = 'target'): number {
  if (typeof target !== 'number' || !Number.isFinite(target) || target < 0 || target >= 1) {
    throw new InputError(`${field} must be a number in [0, 1) (the fraction to remove), got ${String(target)}`, field);
  }
  return target;
}

export function checkChoice<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (!allowed.includes(value as T)) throw new InputError(`${field} must be one of ${allowed.join(', ')}, got '${String(value)}'`, field);
  return value as T;
}

/** Every name in `layers`/`exclude`/`layerRatios` must be a node of the model. */
export function checkLayerNames(model: Model, fields: Record<string, string[] | undefined>): void {
  const nodes = new Set(model.graph.nodes.map((n) => n.name));
  for (const [field, names] of Object.entries(fields)) {
    for (const name of names ?? []) {
      if (!nodes.has(name)) {
        const close = [...nodes].filter((n) => n.toLowerCase().includes(name.toLowerCase())).slice(0, 3);
        throw new InputError(`${field}: no node named '${name}' in the model${close.length ? ` (did you mean ${close.map((c) => `'${c}'`).join(', ')}?)` : ''}`, field);
      }
    }
  }
}

/** Whether a layer (or any of a group's producers) is selected by layers/exclude. */
export function selected(names: string[], layers?: string[], exclude?: string[]): boolean {
  if (layers && layers.length && !names.some((n) => layers.includes(n))) return false;
  if (exclude && names.some((n) => exclude.includes(n))) return false;
  return true;
}

export interface Cost {
  params: number;
  flops?: number;
  shapes?: Map<string, number[]>;
  /** The probe saw every intermediate value (see probeAllShapes). */
  complete?: boolean;
}

/** Parameters, and FLOPs when one probe run in ORT succeeds (shapes from the given feeds or generated ones). */
export async function measure(model: Model, feeds?: Feeds, log?: (m: string) => void): Promise<Cost> {
  const params = countParams(model);
  try {
    const { shapes, complete } = await probeAllShapes(model, feeds);
    return { params, flops: graphCost(model.graph, shapes).totalFlops, shapes, complete };
  } catch (err) {
    log?.(`shape probe failed (${(err as Error).message.split('\n')[0]}); FLOPs not counted`);
    return { params };
  }
}

/**
 * Shapes of every value of the main graph: the same map evaluate/shapes.ts `probeShapes` returns,
 * found with far less memory. First a run that returns only Shape outputs, with the weights read
 * in place (probeByShapeNodes); when ORT refuses that graph, probeShapes's own attempts (every
 * intermediate value as an untyped output, then the typed ones, then none), each session opened by
 * `openSession` (a large model as a file with external data, not a serialized buffer, which costs
 * three copies of the weights at once). `complete`: every intermediate value was seen.
 * (For evaluate/shapes.ts: probing the same way there would let this copy go.)
 */
export async function probeAllShapes(model: Model, feeds?: Feeds): Promise<{ shapes: Map<string, number[]>; complete: boolean }> {
  const g = model.graph;
  const initializerNames = new Set(g.initializers.map((t) => t.name));
  const realInputs = g.inputs.filter((i) => !initializerNames.has(i.name));
  const inputs = feeds ?? randomFeeds(model);
  const result = new Map<string, number[]>();
  for (const t of g.initializers) result.set(t.name, [...t.dims]);
  for (const i of realInputs) {
    const fed = inputs[i.name];
    if (fed) result.set(i.name, [...fed.dims]);
  }
  const existing = new Set([...g.outputs.map((o) => o.name), ...realInputs.map((i) => i.name), ...initializerNames]);
  const intermediate = [...new Set(g.nodes.flatMap((n) => n.outputs))].filter((o) => o && !existing.has(o));
  const byShapeNodes = await probeByShapeNodes(model, [...new Set([...g.outputs.map((o) => o.name), ...intermediate])], inputs);
  if (byShapeNodes) {
    for (const [name, dims] of byShapeNodes) result.set(name, dims);
    return { shapes: result, complete: true };
  }
  const declared = new Map<string, ValueInfo>(g.valueInfo.map((v) => [v.name, v]));
  const attempts: ValueInfo[][] = [
    intermediate.map((name) => ({ name })),
    intermediate.flatMap((name) => (declared.get(name)?.type?.kind === 'tensor' ? [declared.get(name) as ValueInfo] : [])),
    [],
  ];
  let lastError: unknown;
  for (const [k, extra] of attempts.entries()) {
    let opened: OpenSession;
    try {
      const probe = { ...model, graph: { ...g, outputs: [...g.outputs, ...extra] } };
      opened = await openSession(probe, { label: 'shape probe', graphOptimizationLevel: 'disabled' });
    } catch (err) {
      lastError = err;
      continue;
    }
    try {
      const out = await opened.session.run(inputs);
      for (const [name, t] of Object.entries(out)) result.set(name, [...t.dims]);
      return { shapes: result, complete: k === 0 };
    } finally {
      await opened.close();
    }
  }
  throw lastError;
}

/**
 * The first probe, done cheaply: a Shape node on every value, and only those shapes as outputs,
 * so ORT returns a few integers instead of every activation (on a BERT-base batch, hundreds of MB
 * on both sides of the border). Consumers read each value through Reshape(value, Shape(value)),
 * which is the same tensor; it makes ORT run each Shape as soon as its value exists, where it
 * would otherwise keep every activation alive until all Shape nodes ran at the end. Undefined
 * when ORT does not take that graph (a value that is not a tensor, say) or cannot run it, and
 * for graphs with subgraphs: the caller then probes the plain way.
 */
async function probeByShapeNodes(model: Model, values: string[], inputs: Feeds): Promise<Map<string, number[]> | undefined> {
  const g = model.graph;
  if (g.nodes.some((n) => subgraphsOf(n).length)) return undefined;
  const names = new NameGenerator(g);
  const watch = values.map((value) => ({ value, output: names.next(`${value}_probe_shape`) }));
  const shapeNode = (value: string, output: string): Node => ({ name: names.next(`${value}_probe_Shape`), opType: 'Shape', domain: '', inputs: [value], outputs: [output], attributes: [] });
  const produced = new Set(g.nodes.flatMap((n) => n.outputs));
  const shapeOutput = new Map(watch.map((w) => [w.value, w.output]));
  const same = new Map<string, string>();
  for (const w of watch) if (produced.has(w.value)) same.set(w.value, names.next(`${w.value}_probe_same`));
  const nodes: Node[] = watch.filter((w) => !produced.has(w.value)).map((w) => shapeNode(w.value, w.output));
  for (const n of g.nodes) {
    nodes.push({ ...n, inputs: n.inputs.map((v) => same.get(v) ?? v) });
    for (const o of n.outputs) {
      const alias = o ? same.get(o) : undefined;
      if (!alias) continue;
      const shape = shapeOutput.get(o) as string;
      nodes.push(shapeNode(o, shape), { name: names.next(`${o}_probe_Reshape`), opType: 'Reshape', domain: '', inputs: [o, shape], outputs: [alias], attributes: [] });
    }
  }
  const outputs: ValueInfo[] = watch.map((w) => ({ name: w.output, type: { kind: 'tensor', elemType: DataType.INT64, shape: [null] } }));
  const probe: Model = { ...model, graph: { ...g, nodes, outputs } };
  let opened: OpenSession;
  try {
    // The same values, only not constants, and at level 'disabled' nothing treats constants
    // specially: ORT reads the weights in place instead of holding a copy.
    opened = await openSession(probe, { label: 'shape probe', graphOptimizationLevel: 'disabled', feedAsInput: () => true });
  } catch {
    return undefined;
  }
  try {
    const out = await opened.run(inputs);
    const shapes = new Map<string, number[]>();
    for (const w of watch) {
      const t = out[w.output];
      if (!t) return undefined;
      shapes.set(w.value, Array.from(t.data as BigInt64Array, Number));
    }
    return shapes;
  } catch {
    return undefined;
  } finally {
    await opened.close();
  }
}

export const FINE_GRAINED_NOTE =
  "fine-grained sparsity keeps tensor shapes: it saves storage after compression (gzip/sparse_initializer), not time, on ONNX Runtime's CPU provider";
