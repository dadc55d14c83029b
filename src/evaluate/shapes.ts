/**
 * Concrete activation shapes, learned by running the model once in ORT with every intermediate
 * value exposed as a graph output. Static shape inference cannot see through Shape/Reshape chains
 * and data-dependent ops; one real run can. FLOPs counting and the passes read shapes from here.
 *
 * Extra outputs are added without a type: ORT infers their types itself (it accepts untyped graph
 * outputs), so no guessing of element types is needed. Where ORT refuses that, the probe falls back
 * to the values whose type value_info declares, then to the model's own outputs.
 */
import { DataType, encodeModel, type Dim, type Model, type ValueInfo } from '../onnx/index.js';
import { ModelSession, type ElementType, type Feeds, type HostTensor } from './session.js';
import { uniform } from './rng.js';

export interface ValueProbe {
  dims: number[];
  type: ElementType;
}

export interface ProbeOptions {
  /** Seed for generated inputs (default 1). */
  seed?: number;
  /** Sizes for symbolic dimensions by name (default 1 for every symbolic or unknown dimension). */
  dimValues?: Record<string, number>;
  /** Label for error messages (usually the model's path). */
  label?: string;
}

/** Shapes of every value in the main graph: inputs, initializers, node outputs. */
export async function probeShapes(model: Model, feeds?: Feeds, options: ProbeOptions = {}): Promise<Map<string, number[]>> {
  const probed = await probeValues(model, feeds, options);
  return new Map([...probed].map(([name, p]) => [name, p.dims]));
}

/** Like probeShapes, with ORT's element type for each value. */
export async function probeValues(model: Model, feeds?: Feeds, options: ProbeOptions = {}): Promise<Map<string, ValueProbe>> {
  const g = model.graph;
  const initializerNames = new Set(g.initializers.map((t) => t.name));
  const realInputs = g.inputs.filter((i) => !initializerNames.has(i.name));
  const inputs = feeds ?? randomFeeds(model, options);
  const result = new Map<string, ValueProbe>();
  for (const t of g.initializers) result.set(t.name, { dims: [...t.dims], type: hostType(t.dataType) ?? 'float32' });
  for (const i of realInputs) {
    const fed = inputs[i.name];
    if (fed) result.set(i.name, { dims: [...fed.dims], type: fed.type });
  }
  const existing = new Set([...g.outputs.map((o) => o.name), ...realInputs.map((i) => i.name), ...initializerNames]);
  const intermediate = [...new Set(g.nodes.flatMap((n) => n.outputs))].filter((o) => o && !existing.has(o));
  const declared = new Map<string, ValueInfo>(g.valueInfo.map((v) => [v.name, v]));
  const attempts: ValueInfo[][] = [
    intermediate.map((name) => ({ name })),
    intermediate.flatMap((name) => (declared.get(name)?.type?.kind === 'tensor' ? [declared.get(name) as ValueInfo] : [])),
    [],
  ];
  let lastError: unknown;
  for (const extra of attempts) {
    let session: ModelSession;
    try {
      const probe = { ...model, graph: { ...g, outputs: [...g.outputs, ...extra] } };
      session = await ModelSession.create(encodeModel(probe), { label: options.label ?? 'shape probe', graphOptimizationLevel: 'disabled' });
    } catch (err) {
      lastError = err;
      continue;
    }
    try {
      const out = await session.run(inputs);
      for (const [name, t] of Object.entries(out)) result.set(name, { dims: [...t.dims], type: t.type });
      return result;
    } finally {
      await session.release();
    }
  }
  throw lastError;
}

/** Seeded random inputs from the declared input shapes; symbolic dims from `dimValues`, else 1. */
export function randomFeeds(model: Model, options: Pick<ProbeOptions, 'seed' | 'dimValues'> = {}): Feeds {
  const rand = uniform(options.seed ?? 1);
  const initializerNames = new Set(model.graph.initializers.map((t) => t.name));
  const feeds: Feeds = {};
  for (const input of model.graph.inputs) {
    if (initializerNames.has(input.name)) continue;
    const t = input.type;
    if (t?.kind !== 'tensor') throw new Error(`input '${input.name}' is not a tensor; pass feeds explicitly`);
    const dims = (t.shape ?? []).map((d) => concreteDim(d, options.dimValues));
    feeds[input.name] = randomTensor(t.elemType, dims, rand, input.name);
  }
  return feeds;
}

function concreteDim(d: Dim, dimValues: Record<string, number> = {}): number {
  if (typeof d === 'number' && d >= 0) return d;
  if (typeof d === 'string' && dimValues[d] !== undefined) return dimValues[d];
  return 1;
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

