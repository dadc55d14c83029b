/**
 * Evaluation data sets: named inputs (first axis = samples), optional labels and expected
 * outputs. `loadDataset` reads any supported format; `Dataset.forModel` checks it against the
 * model's declared inputs (names, element types, shapes, NaN/Inf) and plans casts; `batches`
 * yields feeds whose arrays are views (or per-batch casts) of the loaded data.
 */
import * as fs from 'node:fs';
import { InputError } from '../util/errors.js';
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

export interface DatasetInput {
  name: string;
  /** Element type of the loaded data. */
  type: ElementType;
  /** Element type fed to the model (differs when a cast was planned). */
  feedType: ElementType;
  /** Shape of one sample (the data's shape without the first axis). */
  sampleShape: number[];
  data: NpyArray;
  source: string;
  untyped?: boolean;
}

export interface Labels {
  values: Float64Array;
  /** True when every label is a whole number (class ids). */
  integral: boolean;
  source: string;
}

const FLOAT_TYPES = new Set<ElementType>(['float32', 'float64', 'float16']);
const INT_TYPES = new Set<ElementType>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool']);

export class Dataset {
  constructor(
    readonly inputs: DatasetInput[],
    readonly count: number,
    readonly labels?: Labels,
    /** Expected outputs that came with the data (test_data_set folders), by output name. */
    readonly expectedOutputs?: DatasetInput[],
    /** Notes for the user (casts made). */
    readonly notes: string[] = [],
    /** Set when the model has a fixed batch dimension: batches are exactly this size. */
    readonly fixedBatch?: number,
  ) {}

  get inputNames(): string[] {
    return this.inputs.map((i) => i.name);
  }

  /** A dataset holding samples [start, end) (views, no copy). */
  slice(start: number, end: number): Dataset {
    const cut = (i: DatasetInput): DatasetInput => {
      const size = sampleSize(i.sampleShape);
      return { ...i, data: i.data.subarray(start * size, end * size) as NpyArray };
    };
    const labels = this.labels ? { ...this.labels, values: this.labels.values.subarray(start, end) } : undefined;
    return new Dataset(this.inputs.map(cut), end - start, labels, this.expectedOutputs?.map(cut), this.notes, this.fixedBatch);
  }

  /**
   * Feeds of at most `batchSize` samples (exactly `fixedBatch` when the model fixes it). With
   * `noise`, seeded Gaussian noise is added to float inputs (robustness), deterministically per seed.
   */
  *batches(batchSize: number, options: { noise?: { sigma: number; seed: number } } = {}): Generator<Feeds> {
    const size = this.fixedBatch ?? Math.max(1, Math.floor(batchSize));
    const next = options.noise ? gaussian(options.noise.seed) : undefined;
    for (let start = 0; start < this.count; start += size) {
      const n = Math.min(size, this.count - start);
      const feeds: Feeds = {};
      for (const input of this.inputs) {
        const per = sampleSize(input.sampleShape);
        let data = input.data.subarray(start * per, (start + n) * per) as NpyArray;
        if (input.feedType !== input.type) data = castArray(data, input.feedType);
        if (next && options.noise && (input.feedType === 'float32' || input.feedType === 'float64')) {
          const noisy = (input.feedType === input.type ? (data as Float32Array).slice() : data) as Float32Array;
          for (let k = 0; k < noisy.length; k++) noisy[k] += options.noise.sigma * next();
          data = noisy;
        }
        feeds[input.name] = { type: input.feedType, dims: [n, ...input.sampleShape], data: data as HostTensor['data'] };
      }
      yield feeds;
    }
  }

  /**
   * This data set checked against a model's inputs: every input present, shapes compatible,
   * types equal or castable (integer/float64 data to a float32 input is cast with a note; float
   * data for an integer input is refused), and a fixed batch dimension honoured.
   */
  forModel(modelInputs: IoInfo[], modelLabel: string): Dataset {
    const byName = new Map(this.inputs.map((i) => [i.name, i]));
    // A lone unnamed array (a bare .npy path, a test_data_set tensor without a name) feeds a lone input.
    if (modelInputs.length === 1 && this.inputs.length === 1 && (this.inputs[0].name === '' || this.inputs[0].name.startsWith('#'))) {
      byName.clear();
      byName.set(modelInputs[0].name, { ...this.inputs[0], name: modelInputs[0].name });
    }
    const unnamed = this.inputs.filter((i) => i.name.startsWith('#'));
    if (unnamed.length && modelInputs.length > 1) {
      unnamed.forEach((i) => {
        const k = Number(i.name.slice(1));
        if (modelInputs[k]) {
          byName.delete(i.name);
          byName.set(modelInputs[k].name, { ...i, name: modelInputs[k].name });
        }
      });
    }
    const notes = [...this.notes];
    let fixedBatch: number | undefined;
    const prepared: DatasetInput[] = [];
    for (const m of modelInputs) {
      const d = byName.get(m.name);
      if (!d) {
        const have = [...byName.keys()].map((k) => `'${k}'`).join(', ');
        // Name the data's files too: the fix is there (or in the config's input map).
        const sources = [...new Set(this.inputs.map((i) => i.source))].join(', ');
        throw new InputError(`${modelLabel}: the model input '${m.name}' has no data (the data provides ${have}); name the data after the model's inputs: ${modelInputs.map((i) => i.name).join(', ')} (data: ${sources})`, m.name);
      }
      byName.delete(m.name);
      const feedType = planCast(d, m, modelLabel, notes);
      const modelRest = m.shape.slice(1);
      if (m.shape.length && m.shape.length !== d.sampleShape.length + 1) {
        throw new InputError(`${d.source}: input '${m.name}' has shape [${['N', ...d.sampleShape].join(', ')}] but ${modelLabel} expects [${m.shape.join(', ')}] (rank ${m.shape.length}, got ${d.sampleShape.length + 1})`, d.source);
      }
      modelRest.forEach((dim, k) => {
        if (typeof dim === 'number' && dim > 0 && dim !== d.sampleShape[k]) {
          throw new InputError(`${d.source}: input '${m.name}' has per-sample shape [${d.sampleShape}] but ${modelLabel} expects [${m.shape.slice(1)}] (axis ${k + 1}: ${dim} expected, got ${d.sampleShape[k]})`, d.source);
        }
      });
      const batchDim = m.shape[0];
      if (typeof batchDim === 'number' && batchDim > 0) {
        if (fixedBatch !== undefined && fixedBatch !== batchDim) throw new InputError(`${modelLabel}: inputs fix different batch sizes (${fixedBatch} and ${batchDim})`, modelLabel);
        fixedBatch = batchDim;
      }
      prepared.push({ ...d, feedType });
    }
    if (byName.size) {
      throw new InputError(`${[...byName.values()][0].source}: data for '${[...byName.keys()].join("', '")}' matches no model input (${modelLabel} has ${modelInputs.map((i) => i.name).join(', ')})`, [...byName.keys()][0]);
    }
    if (fixedBatch !== undefined && fixedBatch > 1 && this.count % fixedBatch !== 0) {
      throw new InputError(`${modelLabel}: the model's batch dimension is fixed at ${fixedBatch} but the data has ${this.count} samples (not a multiple); export the model with a dynamic batch axis or trim the data`, modelLabel);
    }
    return new Dataset(prepared, this.count, this.labels, this.expectedOutputs, notes, fixedBatch);
  }
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

/** Reads a config data source: a map of input -> .npy, or one .npz / .jsonl / test_data_set folder. */
export function loadDataset(source: DataSource): Dataset {
  for (const f of typeof source.inputs === 'string' ? [source.inputs] : Object.values(source.inputs)) {
    if (!fs.existsSync(f)) throw new InputError(`${f}: no such data file`, f);
  }
  const raw: RawData = typeof source.inputs === 'string' ? readSinglePath(source.inputs, source.labels) : readInputsMap(source.inputs, source.labels);
  return datasetFromRaw(raw);
}

export function datasetFromRaw(raw: RawData): Dataset {
  const entries = Object.entries(raw.inputs);
  // The readers refuse data without inputs, naming the file; this guards other callers.
  if (!entries.length) throw new InputError('the data set has no inputs; give one array per model input');
  const count = entries[0][1].shape[0];
  const inputs = entries.map(([name, a]) => toInput(name, a));
  for (const i of inputs) {
    const arr = raw.inputs[i.name];
    if (arr.shape.length === 0) throw new InputError(`${arr.source}: input '${i.name}' is a scalar; the first axis must count samples`, arr.source);
    if (arr.shape[0] !== count) throw new InputError(`${arr.source}: input '${i.name}' has ${arr.shape[0]} samples but '${entries[0][0]}' (${entries[0][1].source}) has ${count}`, arr.source);
    checkFinite(i);
  }
  // Zero samples give empty calibration and NaN metrics further on; say so here, at the file.
  if (count === 0) throw new InputError(`${entries[0][1].source}: no samples (shape [${entries[0][1].shape}]); the first axis counts samples`, entries[0][1].source);
  let labels: Labels | undefined;
  if (raw.labels) {
    const l = raw.labels;
    const n = l.shape[0] ?? 0;
    if (n !== count) throw new InputError(`${l.source}: ${n} labels for ${count} samples (${entries[0][1].source}); they must match one to one`, l.source);
    if (sampleSize(l.shape.slice(1)) !== 1) throw new InputError(`${l.source}: labels must be one value per sample (shape [${count}]), got shape [${l.shape}]; one-hot labels: save argmax(y, axis=1)`, l.source);
    const values = Float64Array.from(l.data as ArrayLike<number>, (v) => Number(v));
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new InputError(`${l.source}: label of sample ${bad} is ${values[bad]}`, l.source);
    labels = { values, integral: values.every((v) => Number.isInteger(v)), source: l.source };
  }
  const outputs = raw.outputs ? Object.entries(raw.outputs).map(([name, a]) => toInput(name, a)) : undefined;
  return new Dataset(inputs, count, labels, outputs?.length ? outputs : undefined);
}

function toInput(name: string, a: RawArray): DatasetInput {
  return { name, type: a.type, feedType: a.type, sampleShape: a.shape.slice(1), data: a.data, source: a.source, untyped: a.untyped };
}

function checkFinite(i: DatasetInput): void {
  if (!(i.data instanceof Float32Array || i.data instanceof Float64Array)) return;
  const per = sampleSize(i.sampleShape) || 1;
  for (let k = 0; k < i.data.length; k++) {
    if (!Number.isFinite(i.data[k])) {
      throw new InputError(`${i.source}: input '${i.name || '(unnamed)'}' sample ${Math.floor(k / per)} holds ${i.data[k]} (element ${k % per}); clean the data or drop that sample`, i.source);
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
