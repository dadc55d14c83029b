/**
 * Folds the shape arithmetic exporters emit (Shape -> Gather -> Div/Mul -> Unsqueeze -> Concat
 * feeding a Reshape, Slice bounds computed from a Shape) into constants, as onnx-simplifier does,
 * so that the pruner can read and rewrite them: torch.onnx computes nn.MultiheadAttention's head
 * count and its packed QKV slices at run time, and a channel count read at run time cannot be cut.
 *
 * Which values are constant is decided by running the model, not by symbolic inference: the shape
 * arithmetic is evaluated twice, with each symbolic input dimension at a size of its own, different
 * in the two runs (PROBE_SIZES). A value that comes out the same both times depends only on static
 * sizes (the weights' and the input's fixed dimensions) and becomes an initializer. A Reshape target that differs keeps its dynamic
 * elements as 0 ("copy the input's dimension", when it equals that dimension in both runs) or, for
 * at most one element, -1 ("whatever is left"), which is what the computed value was in both runs.
 * The folded model is then run on the same inputs and must give the original's outputs; otherwise
 * (or when the model does not run at those sizes) it is left as it was, with a note.
 */
import { cleanup, elementCount, fromTypedArray, getInt, int64Tensor, NameGenerator, nodeInputsWithSubgraphs, subgraphsOf, type Model, type Node, type Tensor, type ValueInfo } from '../../onnx/index.js';
import { openSession } from '../../evaluate/activations.js';
import { dataTypeOfHost, randomFeeds } from '../../evaluate/shapes.js';
import type { Feeds, HostTensor } from '../../evaluate/session.js';

/** Ops that compute on shapes: their output is shape arithmetic when every input is. */
const SHAPE_ARITHMETIC = new Set([
  'Gather', 'Slice', 'Concat', 'Unsqueeze', 'Squeeze', 'Cast', 'Identity', 'Reshape', 'Add', 'Sub', 'Mul', 'Div', 'Mod', 'Neg', 'Abs',
  'Floor', 'Ceil', 'Sqrt', 'Min', 'Max', 'Equal', 'Less', 'Greater', 'Not', 'Where', 'Range', 'ReduceProd', 'ReduceSum',
]);

/** Element types folded into initializers (shape arithmetic is integers, with float detours for scales). */
const FOLDABLE_TYPES = new Set(['int64', 'int32', 'float32', 'float64']);

/** Shape values are small; anything larger is data, not shape arithmetic. */
const MAX_ELEMENTS = 64;

/**
 * The sizes of the symbolic input dimensions in the two probes: every dimension gets its own size
 * (so that a target element equal to one input dimension is never mistaken for another) and a
 * different one in each probe; the second probe's are large enough that a clamp such as Max(batch, 8)
 * shows as dynamic. Past these lists, sizes grow by 17 per round.
 */
const PROBE_SIZES = [
  [2, 5, 7, 11],
  [17, 13, 19, 23],
] as const;

/**
 * Sizes for models whose symbolic dimensions are spatial or sequence lengths that small sizes
 * cannot run (a CNN that downsamples by 32): tried when PROBE_SIZES fail.
 */
const LARGE_PROBE_SIZES = [
  [64, 96, 128, 160],
  [96, 128, 192, 224],
] as const;

/** Relative tolerance when comparing the folded model's outputs with the original's. */
const OUTPUT_TOLERANCE = 1e-5;

export interface FoldResult {
  model: Model;
  /** Values replaced by constants, and Reshape targets rewritten with 0 / -1. */
  folded: number;
  reshapeTargets: number;
  nodesRemoved: number;
  /** Why nothing was folded, when the probe or the check failed. */
  note?: string;
}

/** Shape-arithmetic values of the main graph: Shape/Size outputs and what is computed from them and constants. */
function shapeArithmetic(model: Model): Set<string> {
  const g = model.graph;
  // Small constants take part (paddle2onnx casts a constant 200 before concatenating it with a shape).
  // An initializer that is also a graph input can be overridden at run time: not a constant.
  const inputs = new Set(g.inputs.map((v) => v.name));
  const constants = new Set(g.initializers.filter((t) => elementCount(t.dims) <= MAX_ELEMENTS && !inputs.has(t.name)).map((t) => t.name));
  for (const n of g.nodes) if (n.opType === 'Constant' && n.domain === '') n.outputs.forEach((o) => constants.add(o));
  const derived = new Set<string>();
  for (const n of g.nodes) {
    if (n.domain !== '') continue;
    const fromShape = n.opType === 'Shape' || n.opType === 'Size';
    const computed = SHAPE_ARITHMETIC.has(n.opType) && n.inputs.filter(Boolean).every((v) => constants.has(v) || derived.has(v));
    if (fromShape || computed) n.outputs.forEach((o) => o && derived.add(o));
  }
  return derived;
}

/** Derived values read by a node that is not shape arithmetic itself: the ones worth folding. */
function frontier(model: Model, derived: Set<string>): { values: string[]; readers: Map<string, Node[]> } {
  const g = model.graph;
  const outputs = new Set(g.outputs.map((o) => o.name));
  const readers = new Map<string, Node[]>();
  const inSubgraph = new Set<string>();
  for (const n of g.nodes) {
    for (const v of n.inputs) if (v && derived.has(v)) readers.set(v, [...(readers.get(v) ?? []), n]);
    if (subgraphsOf(n).length) for (const v of nodeInputsWithSubgraphs(n)) inSubgraph.add(v);
  }
  const values = [...readers.keys()].filter((v) => {
    const users = readers.get(v) as Node[];
    return !outputs.has(v) && !inSubgraph.has(v) && users.some((u) => !u.outputs.some((o) => derived.has(o)));
  });
  return { values, readers };
}

/** Inputs with every symbolic or unknown dimension named (unknown ones get names of their own), and the names. */
function namedDims(inputs: ValueInfo[]): { inputs: ValueInfo[]; names: string[] } {
  const names = new Set<string>();
  const named = inputs.map((v) => {
    if (v.type?.kind !== 'tensor' || !v.type.shape) return v;
    const shape = v.type.shape.map((d, axis) => {
      if (typeof d === 'number' && d >= 0) return d;
      const name = typeof d === 'string' ? d : `${v.name}:${axis}`;
      names.add(name);
      return name;
    });
    return { ...v, type: { ...v.type, shape } };
  });
  return { inputs: named, names: [...names] };
}

interface Probe {
  feeds: Feeds;
  values: Record<string, HostTensor>;
}

/**
 * Runs `model` once per size in PROBE_SIZES (every symbolic dimension at that size), with `extra`
 * values exposed and the shapes of `shapeOf` (returned under `shapeOutput`'s names).
 */
async function probe(model: Model, extra: string[], shapeOf: string[], sizeSets: ReadonlyArray<readonly number[]>): Promise<{ probes: Probe[]; shapeOutput: Map<string, string> }> {
  const names = new NameGenerator(model.graph);
  const shapeOutput = new Map(shapeOf.map((v) => [v, names.next(`${v}/probed_shape`)]));
  const shapeNodes: Node[] = shapeOf.map((v) => ({ name: names.next(`${v}/shape_probe`), opType: 'Shape', domain: '', inputs: [v], outputs: [shapeOutput.get(v) as string], attributes: [] }));
  const exposed = [...extra, ...shapeOutput.values()];
  const g = model.graph;
  const { inputs, names: dimNames } = namedDims(g.inputs);
  const probeModel: Model = { ...model, graph: { ...g, inputs, nodes: [...g.nodes, ...shapeNodes], outputs: [...g.outputs, ...exposed.map((name) => ({ name }))] } };
  const open = await openSession(probeModel);
  try {
    const probes: Probe[] = [];
    for (const sizes of sizeSets) {
      const dimValues = Object.fromEntries(dimNames.map((name, k) => [name, sizes[k % sizes.length] + Math.floor(k / sizes.length) * 17]));
      const feeds = randomFeeds(probeModel, { dimValues, seed: 7 });
      probes.push({ feeds, values: await open.run(feeds) });
    }
    return { probes, shapeOutput };
  } finally {
    await open.close();
  }
}

function sameTensor(a: HostTensor, b: HostTensor): boolean {
  return a.type === b.type && a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]) && a.data.length === b.data.length && Array.prototype.every.call(a.data, (x: unknown, i: number) => x === b.data[i]);
}

const asNumbers = (t: HostTensor) => Array.from(t.data as ArrayLike<number | bigint>, Number);

/**
 * A Reshape target that differs between the probes, rewritten with 0 (copy the input's dimension)
 * and at most one -1 (the rest), each checked against both probes; undefined when that cannot say it.
 */
function reshapeTarget(targets: HostTensor[], inputShapes: HostTensor[]): number[] | undefined {
  const [a, b] = targets.map(asNumbers);
  const [sa, sb] = inputShapes.map(asNumbers);
  if (a.length !== b.length) return undefined;
  const out: number[] = [];
  let inferred = a.includes(-1) ? 1 : 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) out.push(a[i]);
    else if (a[i] === sa[i] && b[i] === sb[i]) out.push(0);
    else if (inferred++ === 0) out.push(-1);
    else return undefined;
  }
  return out;
}

function outputsMatch(expected: Record<string, HostTensor>, actual: Record<string, HostTensor>, names: string[]): boolean {
  return names.every((name) => {
    const e = expected[name];
    const a = actual[name];
    if (!e || !a || e.type !== a.type || e.dims.join() !== a.dims.join()) return false;
    if (e.type === 'string' || typeof e.data[0] === 'bigint' || e.type === 'bool') return sameTensor(e, a);
    const ev = e.data as ArrayLike<number>;
    const av = a.data as ArrayLike<number>;
    for (let i = 0; i < ev.length; i++) {
      if (Number.isNaN(ev[i]) && Number.isNaN(av[i])) continue;
      if (!(Math.abs(ev[i] - av[i]) <= OUTPUT_TOLERANCE * (1 + Math.abs(ev[i])))) return false;
    }
    return true;
  });
}

/** A copy of `model` with its shape arithmetic folded where the two probes agree (see the file comment). */
export async function foldShapeArithmetic(model: Model): Promise<FoldResult> {
  const unchanged = (note?: string): FoldResult => ({ model, folded: 0, reshapeTargets: 0, nodesRemoved: 0, note });
  const derived = shapeArithmetic(model);
  const { values, readers } = frontier(model, derived);
  if (!values.length) return unchanged();
  const reshapeData = new Map<string, string>();
  for (const v of values) {
    const users = readers.get(v) as Node[];
    const onlyTarget = users.every((u) => u.opType === 'Reshape' && u.inputs[1] === v && u.inputs[0] !== v && getInt(u, 'allowzero', 0) === 0);
    if (onlyTarget && new Set(users.map((u) => u.inputs[0])).size === 1) reshapeData.set(v, users[0].inputs[0]);
  }
  let probed: Awaited<ReturnType<typeof probe>> | undefined;
  let failure = '';
  for (const sizeSets of [PROBE_SIZES, LARGE_PROBE_SIZES]) {
    try {
      probed = await probe(model, values, [...new Set(reshapeData.values())], sizeSets);
      break;
    } catch (err) {
      failure = (err as Error).message.split('\n')[0];
    }
  }
  if (!probed) return unchanged(`shape arithmetic not folded: the model did not run with its symbolic dimensions at sizes other than 1 (${failure})`);

  const { probes } = probed;
  const work: Model = { ...model, graph: { ...model.graph, nodes: model.graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs] })), initializers: [...model.graph.initializers] } };
  const names = new NameGenerator(work.graph);
  const replacement = new Map<string, string>();
  let reshapeTargets = 0;
  for (const v of values) {
    const [a, b] = probes.map((p) => p.values[v]);
    if (!a || !b || !FOLDABLE_TYPES.has(a.type) || a.data.length > MAX_ELEMENTS) continue;
    let tensor: Tensor | undefined;
    const name = names.next(`${v}/folded`);
    if (sameTensor(a, b)) tensor = fromTypedArray(name, dataTypeOfHost(a.type), [...a.dims], a.data as never);
    else if (reshapeData.has(v) && a.type === 'int64' && a.dims.length === 1) {
      const data = reshapeData.get(v) as string;
      const shape = probed.shapeOutput.get(data) as string;
      const target = reshapeTarget([a, b], probes.map((p) => p.values[shape]));
      if (target) {
        tensor = int64Tensor(name, [target.length], target);
        reshapeTargets++;
      }
    }
    if (!tensor) continue;
    work.graph.initializers.push(tensor);
    replacement.set(v, name);
  }
  if (!replacement.size) return unchanged();
  for (const n of work.graph.nodes) n.inputs = n.inputs.map((v) => replacement.get(v) ?? v);
  const { nodesRemoved } = cleanup(work.graph);

  const outputs = model.graph.outputs.map((o) => o.name);
  const open = await openSession(work);
  try {
    for (const p of probes) {
      if (!outputsMatch(p.values, await open.run(p.feeds, outputs), outputs)) {
        return unchanged('shape arithmetic not folded: the folded model did not reproduce the original outputs');
      }
    }
  } finally {
    await open.close();
  }
  return { model: work, folded: replacement.size - reshapeTargets, reshapeTargets, nodesRemoved };
}
