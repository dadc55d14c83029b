/**
 * Concrete activation shapes, learned by running the model once in ORT with every intermediate
 * value exposed as a graph output. Static shape inference cannot see through Shape/Reshape chains
 * and data-dependent ops; one real run can. FLOPs counting and the passes read shapes from here.
 *
 * Extra outputs are added without a type: ORT infers their types itself (it accepts untyped graph
 * outputs), so no guessing of element types is needed. Where ORT refuses that, the probe falls back
 * to the values whose type value_info declares, then to the model's own outputs.
 */
import { DataType, NameGenerator, subgraphsOf, type Dim, type Model, type Node, type ValueInfo } from '../onnx/index.js';
import { openSession, type OpenSession } from './activations.js';
import type { ElementType, Feeds, HostTensor } from './session.js';
import { uniform } from './rng.js';

export interface ProbeOptions {
  /** Seed for generated inputs (default 1). */
  seed?: number;
  /** Sizes for symbolic dimensions by name (default `otherDims` for every symbolic or unknown dimension). */
  dimValues?: Record<string, number>;
  /** Size of every symbolic or unknown dimension not in `dimValues` (default 1). */
  otherDims?: number;
  /** Label for error messages (usually the model's path). */
  label?: string;
}

/** Shapes of every value in the main graph (inputs, initializers, node outputs), from one run on `feeds` or seeded random inputs. */
export async function probeShapes(model: Model, feeds?: Feeds, options: ProbeOptions = {}): Promise<Map<string, number[]>> {
  return (await probeAllShapes(model, feeds ?? randomFeeds(model, options), options.label)).shapes;
}

/**
 * Shapes of every value of the main graph, found with little memory. First a run that returns only
 * Shape outputs, with the weights read in place (probeByShapeNodes); when ORT refuses that graph,
 * every intermediate value as an untyped output, then the typed ones, then none; each session
 * opened by `openSession` (a large model as a file with external data, not a serialized buffer,
 * which costs three copies of the weights at once). `complete`: every intermediate value was seen.
 */
export async function probeAllShapes(model: Model, feeds?: Feeds, label = 'shape probe'): Promise<{ shapes: Map<string, number[]>; complete: boolean }> {
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
      opened = await openSession(probe, { label, graphOptimizationLevel: 'disabled' });
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

/** Seeded random inputs from the declared input shapes; symbolic dims from `dimValues`, else 1. */
export function randomFeeds(model: Model, options: Pick<ProbeOptions, 'seed' | 'dimValues' | 'otherDims'> = {}): Feeds {
  const rand = uniform(options.seed ?? 1);
  const initializerNames = new Set(model.graph.initializers.map((t) => t.name));
  const feeds: Feeds = {};
  for (const input of model.graph.inputs) {
    if (initializerNames.has(input.name)) continue;
    const t = input.type;
    if (t?.kind !== 'tensor') throw new Error(`input '${input.name}' is not a tensor; pass feeds explicitly`);
    const dims = (t.shape ?? []).map((d) => concreteDim(d, options.dimValues, options.otherDims));
    feeds[input.name] = randomTensor(t.elemType, dims, rand, input.name);
  }
  return feeds;
}

function concreteDim(d: Dim, dimValues: Record<string, number> = {}, otherDims = 1): number {
  if (typeof d === 'number' && d >= 0) return d;
  if (typeof d === 'string' && dimValues[d] !== undefined) return dimValues[d];
  return otherDims;
}

function randomTensor(dataType: DataType, dims: number[], rand: () => number, name: string): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const type = hostType(dataType);
  switch (type) {
    case 'float32':
      return { type, dims, data: Float32Array.from({ length: n }, () => rand() * 2 - 1) };
    case 'float64':
      return { type, dims, data: Float64Array.from({ length: n }, () => rand() * 2 - 1) };
    case 'int64':
      return { type, dims, data: new BigInt64Array(n) };
    case 'int32':
      return { type, dims, data: new Int32Array(n) };
    case 'uint8':
    case 'bool':
      return { type, dims, data: new Uint8Array(n) };
    case 'int8':
      return { type, dims, data: new Int8Array(n) };
    case 'float16':
      // float16 bits: uniform values in [-1, 1) have exponents below 15.
      return { type, dims, data: Uint16Array.from({ length: n }, () => Math.floor(rand() * 0x3c00) | (rand() < 0.5 ? 0x8000 : 0)) };
    default:
      throw new Error(`input '${name}' has element type ${DataType[dataType] ?? dataType}; pass feeds explicitly`);
  }
}

const HOST_TYPES: Partial<Record<DataType, ElementType>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.DOUBLE]: 'float64',
  [DataType.FLOAT16]: 'float16',
  [DataType.INT8]: 'int8',
  [DataType.UINT8]: 'uint8',
  [DataType.INT16]: 'int16',
  [DataType.UINT16]: 'uint16',
  [DataType.INT32]: 'int32',
  [DataType.UINT32]: 'uint32',
  [DataType.INT64]: 'int64',
  [DataType.UINT64]: 'uint64',
  [DataType.BOOL]: 'bool',
  [DataType.STRING]: 'string',
};

/** The ORT element type for an ONNX data type, when ORT's JS API has one. */
export function hostType(dataType: DataType): ElementType | undefined {
  return HOST_TYPES[dataType];
}

/** The ONNX data type of an ORT element type. */
export function dataTypeOfHost(type: ElementType): DataType {
  const found = Object.entries(HOST_TYPES).find(([, t]) => t === type);
  if (!found) throw new Error(`no ONNX data type for ORT element type '${type}'`);
  return Number(found[0]) as DataType;
}

