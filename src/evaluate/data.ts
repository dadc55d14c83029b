/**
 * Evaluation data sets. Two kinds, one interface:
 * - samples: named arrays whose first axis counts samples (.npy, .npz, .jsonl). Each input has a
 *   layout: samples stacked along the model's batch axis (axis 0, or 1 for a state [2, N, 64]), one
 *   sample per run for a scalar input, or one constant for every run (a sample rate).
 * - feeds: ONNX test_data_set folders, each set one run of the model with its inputs as they are
 *   (shapes the sets fix, broadcast operands, scalars), and its expected outputs.
 * `loadDataset` reads any supported format; `Dataset.forModel` checks it against the model's
 * declared inputs (names, element types, shapes, NaN/Inf), plans casts and layouts; `runs` yields
 * the feeds of each run with the samples it covers.
 */
import * as fs from 'node:fs';
import { InputError } from '../util/errors.js';
import { batchSymbol, inferBatchAxis, isFreeAxis, moveSampleAxisTo } from './batch-axes.js';
import { readInputsMap, readSinglePath, type RawArray, type RawData } from './data-readers.js';
import type { NpyArray } from './npy.js';
import type { ElementType, Feeds, HostTensor, IoInfo } from './session.js';
import { gaussian } from './rng.js';
import { float32ToFloat16 } from '../onnx/tensor-data.js';

/** Where a data set's files are, as the config names them (absolute paths). */
export interface DataSource {
  /** Input name -> .npy file, or one .npz / .jsonl file / test_data_set folder. */
  inputs: string | Record<string, string>;
  labels?: string;
}

/** How an input's data maps onto the model input. */
export type InputLayout =
  /** data [S, ...rest]: the samples of a run go into the model input at `axis`. */
  | { kind: 'stacked'; axis: number }
  /** data [S, ...shape]: one sample per run, fed without a batch axis (a scalar per sample). */
  | { kind: 'single' }
  /** data is the model input itself, the same for every run. */
  | { kind: 'constant' };

export interface DatasetInput {
  name: string;
  /** Element type of the loaded data. */
  type: ElementType;
  /** Element type fed to the model (differs when a cast was planned). */
  feedType: ElementType;
  /** Shape of one sample (the data's shape without the first axis); for a constant, the whole shape. */
  sampleShape: number[];
  data: NpyArray;
  source: string;
  untyped?: boolean;
  layout: InputLayout;
  /** The name in the data (a test_data_set tensor's, '#k' when it has none) when it differs from the model input's. */
  dataName?: string;
}

export interface Labels {
  values: Float64Array;
  /** True when every label is a whole number (class ids). */
  integral: boolean;
  source: string;
}

/** One test_data_set: a run's inputs as they are, its expected outputs, and the samples it holds. */
export interface FeedSet {
  inputs: Record<string, RawArray>;
  outputs: Record<string, RawArray>;
  source: string;
  /** Samples in the set: the size of the model's batch axis in its inputs, else 1 (set by forModel). */
  n: number;
}

/** One run of the model: its feeds and the samples [start, start + n) they hold. */
export interface Batch {
  feeds: Feeds;
  start: number;
  n: number;
  /** Expected outputs of this run (test_data_set), as they are. */
  expected?: Record<string, RawArray>;
}

/** How samples map onto model inputs, from the config (`data.batch-axis`, `data.carry`). */
export interface LayoutOptions {
  /** Input name -> the model axis its samples stack along, or 'none' for one value used in every run. */
  batchAxes?: Record<string, number | 'none'>;
  /**
   * Recurrent state: input name -> the output of the previous run that feeds it. Samples then run
   * one at a time in order; a state input without data starts at zeros.
   */
  carry?: Record<string, string>;
}

const FLOAT_TYPES = new Set<ElementType>(['float32', 'float64', 'float16']);
const INT_TYPES = new Set<ElementType>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool']);

interface DatasetParts {
  inputs: DatasetInput[];
  count: number;
  labels?: Labels;
  notes?: string[];
  /** Set when the model fixes the batch dimension (or runs one sample at a time): runs are exactly this size. */
  fixedBatch?: number;
  /** test_data_set folders: one run per set, inputs as they are. */
  sets?: FeedSet[];
  carry?: Record<string, string>;
  layout?: LayoutOptions;
}

export class Dataset {
  readonly inputs: DatasetInput[];
  readonly count: number;
  readonly labels?: Labels;
  /** Notes for the user (casts made, layouts inferred). */
  readonly notes: string[];
  readonly fixedBatch?: number;
  readonly sets?: FeedSet[];
  readonly carry?: Record<string, string>;
  /** The layout options this set was prepared with (forModel again keeps them). */
  readonly layout: LayoutOptions;

  constructor(parts: DatasetParts) {
    this.inputs = parts.inputs;
    this.count = parts.count;
    this.labels = parts.labels;
    this.notes = parts.notes ?? [];
    this.fixedBatch = parts.fixedBatch;
    this.sets = parts.sets;
    this.carry = parts.carry;
    this.layout = parts.layout ?? {};
  }

  private with(parts: Partial<DatasetParts>): Dataset {
    return new Dataset({ inputs: this.inputs, count: this.count, labels: this.labels, notes: this.notes, fixedBatch: this.fixedBatch, sets: this.sets, carry: this.carry, layout: this.layout, ...parts });
  }

  /** Whether the data carries expected outputs (test_data_set output_K.pb). */
  get hasExpectedOutputs(): boolean {
    return Boolean(this.sets?.some((s) => Object.keys(s.outputs).length));
  }

  /** A dataset holding samples [start, end) (views, no copy); test_data_set sets are kept whole. */
  slice(start: number, end: number): Dataset {
    const labels = this.labels ? { ...this.labels, values: this.labels.values.subarray(start, end) } : undefined;
    if (this.sets) {
      const sets: FeedSet[] = [];
      let at = 0;
      for (const set of this.sets) {
        if (at >= start && at < end) sets.push(set);
        at += set.n;
      }
      return this.with({ sets, count: sets.reduce((a, s) => a + s.n, 0), labels });
    }
    const cut = (i: DatasetInput): DatasetInput => {
      if (i.layout.kind === 'constant') return i;
      const size = sampleSize(i.sampleShape);
      return { ...i, data: i.data.subarray(start * size, end * size) as NpyArray };
    };
    return this.with({ inputs: this.inputs.map(cut), count: end - start, labels });
  }

  /** Units of the data: samples, or test_data_set folders (which are kept whole). */
  get units(): number {
    return this.sets ? this.sets.length : this.count;
  }

  /** The first sample of each unit (a test_data_set folder's label is its first sample's). */
  unitStarts(): number[] {
    if (!this.sets) return Array.from({ length: this.count }, (_, s) => s);
    let at = 0;
    return this.sets.map((set) => ((at += set.n), at - set.n));
  }

  /** A dataset of these units (ascending indices from `units`), copied; returns the sample indices they hold too. */
  pick(units: number[]): { dataset: Dataset; samples: number[] } {
    const starts = this.unitStarts();
    const samples = this.sets ? units.flatMap((u) => Array.from({ length: this.sets![u].n }, (_, k) => starts[u] + k)) : units;
    const labels = this.labels ? { ...this.labels, values: Float64Array.from(samples, (s) => this.labels!.values[s]) } : undefined;
    if (this.sets) return { dataset: this.with({ sets: units.map((u) => this.sets![u]), count: samples.length, labels }), samples };
    const gather = (i: DatasetInput): DatasetInput => {
      if (i.layout.kind === 'constant') return i;
      const per = sampleSize(i.sampleShape);
      const out = new (i.data.constructor as new (n: number) => NpyArray)(per * samples.length);
      samples.forEach((s, k) => (out as Float32Array).set((i.data as Float32Array).subarray(s * per, (s + 1) * per), k * per));
      return { ...i, data: out };
    };
    return { dataset: this.with({ inputs: this.inputs.map(gather), count: samples.length, labels }), samples };
  }

  /** `count` samples cycling through these (sample i is sample i mod the original count); copies. */
  cycled(count: number): Dataset {
    const repeat = (i: DatasetInput): DatasetInput => {
      if (i.layout.kind === 'constant') return i;
      const per = sampleSize(i.sampleShape);
      const out = new (i.data.constructor as new (n: number) => NpyArray)(per * count);
      for (let s = 0; s < count; s++) (out as Float32Array).set((i.data as Float32Array).subarray((s % this.count) * per, ((s % this.count) + 1) * per), s * per);
      return { ...i, data: out };
    };
    const labels = this.labels ? { ...this.labels, values: Float64Array.from({ length: count }, (_, s) => this.labels!.values[s % this.count]) } : undefined;
    return this.with({ inputs: this.inputs.map(repeat), count, labels });
  }

  /** Feeds of at most `batchSize` samples (see `runs`). */
  *batches(batchSize: number, options: { noise?: { sigma: number; seed: number } } = {}): Generator<Feeds> {
    for (const run of this.runs(batchSize, options)) yield run.feeds;
  }

  /**
   * The runs over the data in order: at most `batchSize` samples each (exactly `fixedBatch` when
   * the model fixes it; one test_data_set each). With `noise`, seeded Gaussian noise is added to
   * float sample inputs (robustness), deterministically per seed.
   */
  *runs(batchSize: number, options: { noise?: { sigma: number; seed: number } } = {}): Generator<Batch> {
    const next = options.noise ? gaussian(options.noise.seed) : undefined;
    const addNoise = (data: NpyArray, type: ElementType, copied: boolean): NpyArray => {
      if (!next || !options.noise || (type !== 'float32' && type !== 'float64')) return data;
      const noisy = (copied ? data : data.slice()) as Float32Array;
      for (let k = 0; k < noisy.length; k++) noisy[k] += options.noise.sigma * next();
      return noisy;
    };
    if (this.sets) {
      let start = 0;
      for (const set of this.sets) {
        const feeds: Feeds = {};
        for (const input of this.inputs) {
          const raw = set.inputs[input.name];
          const cast = input.feedType !== raw.type;
          const data = addNoise(cast ? castArray(raw.data, input.feedType) : raw.data, input.feedType, cast);
          feeds[input.name] = { type: input.feedType, dims: [...raw.shape], data: data as HostTensor['data'] };
        }
        yield { feeds, start, n: set.n, expected: set.outputs };
        start += set.n;
      }
      return;
    }
    const size = this.fixedBatch ?? Math.max(1, Math.floor(batchSize));
    for (let start = 0; start < this.count; start += size) {
      const n = Math.min(size, this.count - start);
      const feeds: Feeds = {};
      for (const input of this.inputs) {
        const { layout } = input;
        if (layout.kind === 'constant') {
          const cast = input.feedType !== input.type;
          feeds[input.name] = { type: input.feedType, dims: [...input.sampleShape], data: (cast ? castArray(input.data, input.feedType) : input.data) as HostTensor['data'] };
          continue;
        }
        const per = sampleSize(input.sampleShape);
        let data = input.data.subarray(start * per, (start + n) * per) as NpyArray;
        const cast = input.feedType !== input.type;
        if (cast) data = castArray(data, input.feedType);
        data = addNoise(data, input.feedType, cast);
        if (layout.kind === 'single') {
          feeds[input.name] = { type: input.feedType, dims: [...input.sampleShape], data: data as HostTensor['data'] };
          continue;
        }
        const dims = [...input.sampleShape];
        dims.splice(layout.axis, 0, n);
        feeds[input.name] = { type: input.feedType, dims, data: moveSampleAxisTo(data, n, input.sampleShape, layout.axis) as HostTensor['data'] };
      }
      yield { feeds, start, n };
    }
  }

  /**
   * This data set checked against a model's inputs: every input present, shapes compatible,
   * types equal or castable (integer/float64 data to a float32 input is cast with a note; float
   * data for an integer input is refused), each input's layout planned, and a fixed batch
   * dimension honoured.
   */
  forModel(modelInputs: IoInfo[], modelLabel: string, layout: LayoutOptions = {}): Dataset {
    const options = { ...this.layout, ...layout };
    const notes = [...this.notes];
    const byName = this.matchNames(modelInputs);
    const carry = options.carry && Object.keys(options.carry).length ? options.carry : undefined;
    for (const state of Object.keys(carry ?? {})) {
      const m = modelInputs.find((i) => i.name === state);
      if (!m) throw new InputError(`${modelLabel}: data.carry names the input '${state}', which the model does not have (inputs: ${modelInputs.map((i) => i.name).join(', ')})`, state);
      if (!byName.has(state) && !this.sets) byName.set(state, zeroState(m));
    }
    if (this.sets) return this.setsForModel(modelInputs, modelLabel, byName, notes, carry).with({ layout: options });

    const symbol = batchSymbol(modelInputs);
    let fixedBatch: number | undefined = carry ? 1 : undefined;
    const fix = (size: number) => {
      if (fixedBatch !== undefined && fixedBatch !== size) throw new InputError(`${modelLabel}: inputs fix different batch sizes (${fixedBatch} and ${size})`, modelLabel);
      fixedBatch = size;
    };
    const prepared: DatasetInput[] = [];
    for (const m of modelInputs) {
      const d = this.takeInput(byName, m, modelInputs, modelLabel);
      const feedType = planCast(d, m, modelLabel, notes);
      const layout = planLayout(d, m, symbol, options.batchAxes?.[m.name], modelLabel);
      // A file read with samples first but configured as the whole input keeps its whole shape.
      const sampleShape = layout.kind === 'constant' && d.layout.kind !== 'constant' ? [d.data.length / sampleSize(d.sampleShape), ...d.sampleShape] : d.sampleShape;
      if (layout.kind === 'single') {
        if (fixedBatch !== 1) notes.push(`${d.source}: input '${m.name}' has no batch axis in ${modelLabel}: samples run one at a time`);
        fix(1);
      }
      if (layout.kind === 'stacked' && !isFreeAxis(m, layout.axis) && typeof m.shape[layout.axis] === 'number') fix(m.shape[layout.axis] as number);
      prepared.push({ ...d, feedType, layout, sampleShape });
    }
    this.refuseLeftovers(byName, modelInputs, modelLabel);
    if (fixedBatch !== undefined && fixedBatch > 1 && this.count % fixedBatch !== 0) {
      throw new InputError(`${modelLabel}: the model's batch dimension is fixed at ${fixedBatch} but the data has ${this.count} samples (not a multiple); export the model with a dynamic batch axis or trim the data`, modelLabel);
    }
    return this.with({ inputs: prepared, notes: [...new Set(notes)], fixedBatch, carry, layout: options });
  }

  /** Data inputs by model input name: unnamed arrays ('' or '#k', a bare .npy path) feed inputs by position. */
  private matchNames(modelInputs: IoInfo[]): Map<string, DatasetInput> {
    const byName = new Map(this.inputs.map((i) => [i.name, i]));
    if (modelInputs.length === 1 && this.inputs.length === 1 && (this.inputs[0].name === '' || this.inputs[0].name.startsWith('#'))) {
      byName.clear();
      byName.set(modelInputs[0].name, { ...this.inputs[0], name: modelInputs[0].name, dataName: this.inputs[0].name });
    }
    const unnamed = this.inputs.filter((i) => i.name.startsWith('#'));
    if (unnamed.length && modelInputs.length > 1) {
      unnamed.forEach((i) => {
        const k = Number(i.name.slice(1));
        if (modelInputs[k]) {
          byName.delete(i.name);
          byName.set(modelInputs[k].name, { ...i, name: modelInputs[k].name, dataName: i.name });
        }
      });
    }
    return byName;
  }

  private takeInput(byName: Map<string, DatasetInput>, m: IoInfo, modelInputs: IoInfo[], modelLabel: string): DatasetInput {
    const d = byName.get(m.name);
    if (!d) {
      const have = [...byName.keys()].map((k) => `'${k}'`).join(', ');
      // Name the data's files too: the fix is there (or in the config's input map).
      const sources = [...new Set(this.inputs.map((i) => i.source))].join(', ');
      throw new InputError(`${modelLabel}: the model input '${m.name}' has no data (the data provides ${have}); name the data after the model's inputs: ${modelInputs.map((i) => i.name).join(', ')} (data: ${sources})`, m.name);
    }
    byName.delete(m.name);
    return d;
  }

  private refuseLeftovers(byName: Map<string, DatasetInput>, modelInputs: IoInfo[], modelLabel: string): void {
    if (byName.size) {
      throw new InputError(`${[...byName.values()][0].source}: data for '${[...byName.keys()].join("', '")}' matches no model input (${modelLabel} has ${modelInputs.map((i) => i.name).join(', ')})`, [...byName.keys()][0]);
    }
  }

  /**
   * test_data_set folders: every set's inputs go to the model as they are. The types are checked
   * (and cast) once; a set holds as many samples as its inputs' batch axis is long (1 when the
   * model's inputs name no batch axis), so per-sample metrics still pair sample by sample.
   */
  private setsForModel(modelInputs: IoInfo[], modelLabel: string, byName: Map<string, DatasetInput>, notes: string[], carry?: Record<string, string>): Dataset {
    if (carry) throw new InputError(`${modelLabel}: data.carry runs samples in order from arrays; a test_data_set folder holds whole runs, so give their state inputs in each set instead`, modelLabel);
    const prepared: DatasetInput[] = [];
    for (const m of modelInputs) {
      const d = this.takeInput(byName, m, modelInputs, modelLabel);
      prepared.push({ ...d, feedType: planCast(d, m, modelLabel, notes), layout: { kind: 'constant' } });
    }
    this.refuseLeftovers(byName, modelInputs, modelLabel);
    const symbol = batchSymbol(modelInputs);
    const dataNames = new Map(prepared.map((d) => [d.name, d.dataName ?? d.name]));
    const sets = this.sets!.map((set) => {
      const sizes = new Set<number>();
      for (const m of modelInputs) {
        const raw = set.inputs[m.name] ?? set.inputs[dataNames.get(m.name)!];
        if (!raw) throw new InputError(`${set.source}: no tensor for the model input '${m.name}'`, set.source);
        if (m.shape.length && raw.shape.length !== m.shape.length) {
          throw new InputError(`${raw.source}: input '${m.name}' has shape [${raw.shape}] but ${modelLabel} expects [${m.shape.join(', ')}] (rank ${m.shape.length}, got ${raw.shape.length})`, raw.source);
        }
        m.shape.forEach((dim, k) => {
          if (typeof dim === 'number' && dim > 0 && dim !== raw.shape[k]) throw new InputError(`${raw.source}: input '${m.name}' has shape [${raw.shape}] but ${modelLabel} expects [${m.shape.join(', ')}] (axis ${k}: ${dim} expected, got ${raw.shape[k]})`, raw.source);
        });
        const axis = symbol === undefined ? -1 : m.shape.indexOf(symbol);
        if (axis >= 0) sizes.add(raw.shape[axis]);
      }
      // An empty batch (size 0) still makes one run: the run is then the sample.
      const n = sizes.size === 1 && [...sizes][0] > 0 ? [...sizes][0] : 1;
      return { ...set, inputs: Object.fromEntries(modelInputs.map((m) => [m.name, set.inputs[m.name] ?? set.inputs[dataNames.get(m.name)!]])), n };
    });
    const count = sets.reduce((a, s) => a + s.n, 0);
    if (this.labels && this.labels.values.length !== count) {
      throw new InputError(`${this.labels.source}: ${this.labels.values.length} labels for ${count} samples in ${sets.length} test_data_set folders; each set holds as many samples as its batch axis is long (1 without one)`, this.labels.source);
    }
    return this.with({ inputs: prepared, sets, count, notes });
  }
}

/** Sequences, maps and optionals are neither fed from arrays nor compared; say so before any data is read as tensors. */
export function refuseNonTensors(modelInputs: IoInfo[], modelOutputs: IoInfo[], modelLabel: string): void {
  for (const [kind, values] of [['input', modelInputs], ['output', modelOutputs]] as const) {
    const other = values.find((m) => m.type === 'non-tensor');
    if (other) throw new InputError(`${modelLabel}: the model ${kind} '${other.name}' is not a tensor (a sequence, map or optional); prune-gate evaluates models whose inputs and outputs are tensors`, other.name);
  }
}

/** A recurrent state with no data: zeros of the model's shape with a batch of 1. */
function zeroState(m: IoInfo): DatasetInput {
  const shape = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const type = m.type as ElementType;
  return { name: m.name, type, feedType: type, sampleShape: shape, data: castArray(new Float64Array(sampleSize(shape)), type), source: `zeros for '${m.name}'`, layout: { kind: 'constant' } };
}

/**
 * How `d` maps onto model input `m`: the config's `batch-axis` when given, else the model's batch
 * axis (where its batch symbol stands, or its first axis); a scalar model input takes one sample
 * per run, or one constant when the data is a single value.
 */
function planLayout(d: DatasetInput, m: IoInfo, symbol: string | undefined, configured: number | 'none' | undefined, modelLabel: string): InputLayout {
  const fix = `set data.batch-axis.${m.name} to the model axis its samples stack along, or 'none' when the file holds the whole input`;
  if (d.layout.kind === 'constant' || configured === 'none') {
    const shape = d.layout.kind === 'constant' ? d.sampleShape : [d.data.length / sampleSize(d.sampleShape), ...d.sampleShape];
    checkFixedDims(shape, m.shape, `${d.source}: input '${m.name}' (the same for every run)`, modelLabel, fix);
    return { kind: 'constant' };
  }
  if (configured !== undefined) {
    if (configured >= m.shape.length) throw new InputError(`${d.source}: data.batch-axis.${m.name} is ${configured} but the model input has rank ${m.shape.length} in ${modelLabel}`, d.source);
    checkStacked(d, m, configured, modelLabel, fix);
    return { kind: 'stacked', axis: configured };
  }
  const axis = inferBatchAxis(m, symbol);
  if (axis === null) {
    // A scalar model input: one value per sample, each run a single sample.
    if (d.sampleShape.length === 0) return { kind: 'single' };
    throw new InputError(`${d.source}: input '${m.name}' is a scalar in ${modelLabel} but the data holds [${d.sampleShape}] per sample; give one value per sample, or ${fix}`, d.source);
  }
  checkStacked(d, m, axis, modelLabel, fix);
  return { kind: 'stacked', axis };
}

function checkStacked(d: DatasetInput, m: IoInfo, axis: number, modelLabel: string, fix: string): void {
  const rest = m.shape.filter((_, k) => k !== axis);
  const where = axis === 0 ? '' : ` (samples along axis ${axis})`;
  if (m.shape.length !== d.sampleShape.length + 1) {
    throw new InputError(`${d.source}: input '${m.name}' has shape [${['N', ...d.sampleShape].join(', ')}] but ${modelLabel} expects [${m.shape.join(', ')}]${where} (rank ${m.shape.length}, got ${d.sampleShape.length + 1}); ${fix}`, d.source);
  }
  rest.forEach((dim, k) => {
    if (typeof dim === 'number' && dim > 0 && dim !== d.sampleShape[k]) {
      throw new InputError(`${d.source}: input '${m.name}' has per-sample shape [${d.sampleShape}] but ${modelLabel} expects [${rest}]${where} (axis ${k + (k >= axis ? 1 : 0)}: ${dim} expected, got ${d.sampleShape[k]})`, d.source);
    }
  });
}

function checkFixedDims(shape: number[], model: Array<number | string>, what: string, modelLabel: string, fix: string): void {
  const bad = shape.length !== model.length || model.some((dim, k) => typeof dim === 'number' && dim > 0 && dim !== shape[k]);
  if (bad) throw new InputError(`${what} has shape [${shape}] but ${modelLabel} expects [${model.join(', ')}]; ${fix}`, what);
}

export function sampleSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function planCast(d: DatasetInput, m: IoInfo, modelLabel: string, notes: string[]): ElementType {
  const want = m.type as ElementType;
  if (d.type === want) return want;
  if (want === 'float16' && (d.type === 'float32' || d.type === 'float64')) {
    if (!d.untyped) notes.push(`${d.source}: ${d.type} data rounded to float16 for input '${m.name}'`);
    return want;
  }
  if (want === 'float32' && (d.type === 'float64' || INT_TYPES.has(d.type))) {
    if (!d.untyped) notes.push(`${d.source}: ${d.type} data cast to float32 for input '${m.name}'`);
    return want;
  }
  if (INT_TYPES.has(want) && (INT_TYPES.has(d.type) || d.untyped)) {
    if (d.untyped) {
      for (let k = 0; k < d.data.length; k++) {
        const v = Number(d.data[k]);
        if (!Number.isInteger(v)) throw new InputError(`${d.source}: input '${m.name}' is ${want} in ${modelLabel} but sample ${Math.floor(k / sampleSize(d.sampleShape))} holds ${v}`, d.source);
      }
    } else notes.push(`${d.source}: ${d.type} data cast to ${want} for input '${m.name}'`);
    return want;
  }
  if (INT_TYPES.has(want) && FLOAT_TYPES.has(d.type)) {
    throw new InputError(`${d.source}: input '${m.name}' is ${want} in ${modelLabel} but the data is ${d.type}; save integer data (e.g. numpy .astype('${want}'))`, d.source);
  }
  throw new InputError(`${d.source}: input '${m.name}' is ${want} in ${modelLabel} but the data is ${d.type}; convert it to ${want}`, d.source);
}

/** Converts to the typed array of `type` (a copy). */
export function castArray(src: NpyArray, type: ElementType): NpyArray {
  const n = src.length;
  const big = src instanceof BigInt64Array || src instanceof BigUint64Array;
  const num = (k: number) => (big ? Number(src[k]) : (src[k] as number));
  if (type === 'float16') {
    // ORT takes float16 tensors as their 16-bit patterns.
    const out = new Uint16Array(n);
    for (let k = 0; k < n; k++) out[k] = float32ToFloat16(num(k));
    return out;
  }
  if (type === 'int64' || type === 'uint64') {
    const out = type === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
    for (let k = 0; k < n; k++) out[k] = BigInt(Math.trunc(num(k)));
    return out;
  }
  const Ctor = NUMBER_ARRAYS[type];
  if (!Ctor) throw new Error(`cannot cast to ${type}`);
  const out = new Ctor(n);
  for (let k = 0; k < n; k++) out[k] = num(k);
  return out;
}

/** Typed arrays that hold an element type as plain numbers (bool as 0/1 bytes). */
const NUMBER_ARRAYS: Partial<Record<ElementType, new (n: number) => Exclude<NpyArray, BigInt64Array | BigUint64Array>>> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
};

/**
 * Reads a config data source: a map of input -> .npy, or one .npz / .jsonl / test_data_set folder.
 * `constants` names inputs whose file holds the whole input (`data.batch-axis: none`): they do not
 * count samples.
 */
export function loadDataset(source: DataSource, options: { constants?: string[] } = {}): Dataset {
  for (const f of typeof source.inputs === 'string' ? [source.inputs] : Object.values(source.inputs)) {
    if (!fs.existsSync(f)) throw new InputError(`${f}: no such data file`, f);
  }
  const raw: RawData = typeof source.inputs === 'string' ? readSinglePath(source.inputs, source.labels) : readInputsMap(source.inputs, source.labels);
  return datasetFromRaw(raw, options);
}

export function datasetFromRaw(raw: RawData, options: { constants?: string[] } = {}): Dataset {
  const labels = raw.labels ? readLabelValues(raw.labels) : undefined;
  if (raw.sets) {
    const first = raw.sets[0];
    const inputs = Object.entries(first.inputs).map(([name, a]) => toInput(name, a, true));
    for (const set of raw.sets) for (const [name, a] of Object.entries(set.inputs)) checkFinite(toInput(name, a, true));
    // One sample per set until forModel knows the model's batch axis.
    return new Dataset({ inputs, count: raw.sets.length, labels, sets: raw.sets.map((s) => ({ ...s, n: 1 })) });
  }
  const entries = Object.entries(raw.inputs);
  // The readers refuse data without inputs, naming the file; this guards other callers.
  if (!entries.length) throw new InputError('the data set has no inputs; give one array per model input');
  // A single value (shape []) or a file named in `constants` is the same for every run: it counts no samples.
  const isConstant = (name: string, a: RawArray) => a.shape.length === 0 || (options.constants ?? []).includes(name);
  const inputs = entries.map(([name, a]) => toInput(name, a, isConstant(name, a)));
  const counting = entries.filter(([name, a]) => !isConstant(name, a));
  if (!counting.length) throw new InputError(`${entries[0][1].source}: every input is a single value; at least one input needs a first axis that counts samples`, entries[0][1].source);
  const [firstName, firstArray] = counting[0];
  const count = firstArray.shape[0];
  for (const [name, arr] of counting) {
    if (arr.shape[0] !== count) throw new InputError(`${arr.source}: input '${name}' has ${arr.shape[0]} samples but '${firstName}' (${firstArray.source}) has ${count}`, arr.source);
  }
  inputs.forEach(checkFinite);
  // Zero samples give empty calibration and NaN metrics further on; say so here, at the file.
  if (count === 0) throw new InputError(`${firstArray.source}: no samples (shape [${firstArray.shape}]); the first axis counts samples`, firstArray.source);
  if (labels && labels.values.length !== count) throw new InputError(`${labels.source}: ${labels.values.length} labels for ${count} samples (${firstArray.source}); they must match one to one`, labels.source);
  return new Dataset({ inputs, count, labels });
}

function readLabelValues(l: RawArray): Labels {
  if (sampleSize(l.shape.slice(1)) !== 1) throw new InputError(`${l.source}: labels must be one value per sample (shape [${l.shape[0] ?? 1}]), got shape [${l.shape}]; one-hot labels: save argmax(y, axis=1)`, l.source);
  const values = Float64Array.from(l.data as ArrayLike<number>, (v) => Number(v));
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new InputError(`${l.source}: label of sample ${bad} is ${values[bad]}`, l.source);
  return { values, integral: values.every((v) => Number.isInteger(v)), source: l.source };
}

function toInput(name: string, a: RawArray, constant: boolean): DatasetInput {
  return { name, type: a.type, feedType: a.type, sampleShape: constant ? [...a.shape] : a.shape.slice(1), data: a.data, source: a.source, untyped: a.untyped, layout: constant ? { kind: 'constant' } : { kind: 'stacked', axis: 0 } };
}

function checkFinite(i: DatasetInput): void {
  if (!(i.data instanceof Float32Array || i.data instanceof Float64Array)) return;
  const per = i.layout.kind === 'constant' ? i.data.length || 1 : sampleSize(i.sampleShape) || 1;
  for (let k = 0; k < i.data.length; k++) {
    if (!Number.isFinite(i.data[k])) {
      const where = i.layout.kind === 'constant' ? `element ${k}` : `sample ${Math.floor(k / per)} holds ${i.data[k]} (element ${k % per})`;
      throw new InputError(`${i.source}: input '${i.name || '(unnamed)'}' ${i.layout.kind === 'constant' ? `${where} is ${i.data[k]}` : where}; clean the data or drop that sample`, i.source);
    }
  }
}

/** In-memory data (tests, generated feeds): arrays with their first axis = samples. */
export function datasetFromArrays(inputs: Record<string, { type: ElementType; shape: number[]; data: NpyArray }>, labels?: ArrayLike<number>): Dataset {
  const raw: RawData = { inputs: {} };
  for (const [name, a] of Object.entries(inputs)) raw.inputs[name] = { ...a, source: `<${name}>` };
  if (labels) raw.labels = { type: 'float64', shape: [labels.length], data: Float64Array.from(labels), source: '<labels>' };
  return datasetFromRaw(raw);
}
