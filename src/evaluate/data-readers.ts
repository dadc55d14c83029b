/**
 * Readers for evaluation data: one .npy per input, one .npz, an ONNX test_data_set folder, or
 * JSON Lines. Each returns plain arrays (first axis = samples) for data.ts to validate.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { unzipSync } from 'fflate';
import { InputError } from '../util/errors.js';
import { decodeTensorFile } from '../onnx/index.js';
import { dataTypeName, toTypedArray } from '../onnx/tensor-data.js';
import { parseNpy, readNpy, type NpyArray, type NpyData } from './npy.js';
import type { ElementType } from './session.js';

export interface RawArray extends NpyData {
  /** Where it came from, for messages (file, or file:entry). */
  source: string;
  /** JSON numbers carry no dtype: they may be cast to any numeric model input type. */
  untyped?: boolean;
}

export interface RawData {
  /** Arrays whose first axis counts samples (empty for test_data_set folders). */
  inputs: Record<string, RawArray>;
  labels?: RawArray;
  /** test_data_set folders: each set's inputs as they are, and its expected outputs (output_K.pb). */
  sets?: Array<{ inputs: Record<string, RawArray>; outputs: Record<string, RawArray>; source: string }>;
}

export function readInputsMap(files: Record<string, string>, labels?: string): RawData {
  const inputs: Record<string, RawArray> = {};
  for (const [name, file] of Object.entries(files)) inputs[name] = { ...readNpy(file), source: file };
  return { inputs, labels: labels ? readLabels(labels) : undefined };
}

export function readLabels(file: string): RawArray {
  if (!file.endsWith('.npy')) throw new InputError(`${file}: labels must be a .npy file (class ids or regression targets)`, file);
  return { ...readNpy(file), source: file };
}

/** A single path: .npz, .jsonl, .npy (the model's only input) or a test_data_set folder. */
export function readSinglePath(file: string, labels?: string): RawData {
  let data: RawData;
  if (fs.statSync(file).isDirectory()) data = readTestDataFolder(file);
  else if (file.endsWith('.npz')) data = readNpz(file);
  else if (file.endsWith('.jsonl') || file.endsWith('.ndjson')) data = readJsonl(file);
  else if (file.endsWith('.npy')) data = { inputs: { '': { ...readNpy(file), source: file } } };
  else throw new InputError(`${file}: unknown data format; use .npy per input, one .npz, a .jsonl file or an ONNX test_data_set folder`, file);
  if (labels) {
    if (data.labels) throw new InputError(`${labels}: labels are given twice (also inside ${file}); keep one`, labels);
    data.labels = readLabels(labels);
  }
  return data;
}

export function readNpz(file: string): RawData {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(fs.readFileSync(file));
  } catch (err) {
    throw new InputError(`${file}: not a readable .npz (zip) file: ${(err as Error).message}`, file);
  }
  const inputs: Record<string, RawArray> = {};
  let labels: RawArray | undefined;
  for (const [entry, bytes] of Object.entries(entries)) {
    if (!entry.endsWith('.npy')) continue;
    const name = entry.slice(0, -4);
    const arr: RawArray = { ...parseNpy(bytes, `${file}:${entry}`), source: `${file}:${entry}` };
    if (name === 'labels') labels = arr;
    else inputs[name] = arr;
  }
  if (!Object.keys(inputs).length) throw new InputError(`${file}: the .npz holds no arrays besides labels; save one array per model input name`, file);
  return { inputs, labels };
}

/** `{"inputs": {"x": [[...]]}, "label": 3}` per line. */
export function readJsonl(file: string): RawData {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const values: Record<string, number[]> = {};
  const shapes: Record<string, number[]> = {};
  const labels: number[] = [];
  let count = 0;
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${file}:${i + 1}`;
    let rec: { inputs?: Record<string, unknown>; label?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch (err) {
      throw new InputError(`${where}: not valid JSON (${(err as Error).message})`, file);
    }
    if (!rec || typeof rec.inputs !== 'object' || rec.inputs === null) throw new InputError(`${where}: each line needs {"inputs": {"<input name>": [...]}, "label": ...}`, file);
    const names = Object.keys(rec.inputs);
    if (!names.length) throw new InputError(`${where}: "inputs" is empty; give one entry per model input, e.g. {"inputs": {"<input name>": [...]}}`, file);
    if (count > 0 && names.sort().join() !== Object.keys(values).sort().join()) {
      throw new InputError(`${where}: inputs ${names.join(', ')} differ from the first line's ${Object.keys(values).join(', ')}`, file);
    }
    for (const name of names) {
      const flat: number[] = [];
      const shape = flatten(rec.inputs[name], flat, `${where}: input '${name}'`, file, 0);
      if (count === 0) {
        shapes[name] = shape;
        values[name] = [];
      } else if (shape.join() !== shapes[name].join()) {
        throw new InputError(`${where}: input '${name}' has shape [${shape}] but the first line's is [${shapes[name]}]`, file);
      }
      for (const v of flat) values[name].push(v);
    }
    if (rec.label !== undefined) {
      if (typeof rec.label !== 'number') throw new InputError(`${where}: "label" must be a number (got ${JSON.stringify(rec.label)})`, file);
      labels.push(rec.label);
    } else if (labels.length) throw new InputError(`${where}: "label" is missing (earlier lines have one)`, file);
    count++;
  });
  if (count === 0) throw new InputError(`${file}: no samples (empty file)`, file);
  if (labels.length && labels.length !== count) throw new InputError(`${file}: the first lines have no "label" but later lines do; label every line or none`, file);
  const inputs: Record<string, RawArray> = {};
  for (const [name, v] of Object.entries(values)) {
    inputs[name] = { type: 'float64', shape: [count, ...shapes[name]], data: Float64Array.from(v), source: file, untyped: true };
  }
  const labelArr = labels.length ? { type: 'float64' as ElementType, shape: [count], data: Float64Array.from(labels), source: file, untyped: true } : undefined;
  return { inputs, labels: labelArr };
}

/** More nested list levels than any tensor has; deeper input would overflow the stack. */
const MAX_JSON_RANK = 32;

function flatten(v: unknown, out: number[], what: string, file: string, depth: number): number[] {
  if (depth > MAX_JSON_RANK) throw new InputError(`${what} is nested more than ${MAX_JSON_RANK} lists deep`, file);
  if (typeof v === 'number') {
    out.push(v);
    return [];
  }
  if (typeof v === 'boolean') {
    out.push(v ? 1 : 0);
    return [];
  }
  if (!Array.isArray(v) || v.length === 0) throw new InputError(`${what} must be a number or a non-empty (nested) list of numbers`, file);
  let inner: number[] | undefined;
  for (const item of v) {
    const s = flatten(item, out, what, file, depth + 1);
    if (inner && s.join() !== inner.join()) throw new InputError(`${what} is ragged (rows of different lengths)`, file);
    inner = s;
  }
  return [v.length, ...(inner ?? [])];
}

/**
 * `folder` is one test_data_set_N folder (input_K.pb ...) or a folder holding several. Each set
 * is one run of the model with its tensors as they are; every set names the same tensors.
 */
export function readTestDataFolder(folder: string): RawData {
  const dirs = fs.existsSync(path.join(folder, 'input_0.pb'))
    ? [folder]
    : fs
        .readdirSync(folder)
        .filter((d) => /^test_data_set_\d+$/.test(d))
        .sort((a, b) => Number(a.split('_').pop()) - Number(b.split('_').pop()))
        .map((d) => path.join(folder, d));
  if (!dirs.length) throw new InputError(`${folder}: no input_0.pb and no test_data_set_N folders inside`, folder);
  const named = (series: Array<RawArray & { name: string }>) => Object.fromEntries(series.map((a, k) => [a.name || `#${k}`, a as RawArray]));
  const sets = dirs.map((dir) => {
    const inputs = readPbSeries(dir, 'input');
    if (!inputs.length) throw new InputError(`${dir}: no input_0.pb; a test_data_set folder holds input_0.pb, input_1.pb, ... (and optionally output_K.pb)`, dir);
    return { inputs: named(inputs), outputs: named(readPbSeries(dir, 'output')), source: dir };
  });
  const names = (r: Record<string, RawArray>) => Object.keys(r).join(', ');
  for (const set of sets.slice(1)) {
    if (names(set.inputs) !== names(sets[0].inputs) || names(set.outputs) !== names(sets[0].outputs)) {
      throw new InputError(`${set.source}: holds ${names(set.inputs)} -> ${names(set.outputs)} but ${sets[0].source} holds ${names(sets[0].inputs)} -> ${names(sets[0].outputs)}; every set must name the same tensors`, set.source);
    }
  }
  return { inputs: {}, sets };
}

function readPbSeries(dir: string, prefix: 'input' | 'output'): Array<RawArray & { name: string }> {
  const out: Array<RawArray & { name: string }> = [];
  for (let k = 0; fs.existsSync(path.join(dir, `${prefix}_${k}.pb`)); k++) {
    const file = path.join(dir, `${prefix}_${k}.pb`);
    const t = decodeTensorFile(fs.readFileSync(file), file);
    const type = dataTypeName(t.dataType) as ElementType;
    if (t.strings) throw new InputError(`${file}: string tensors are not supported as evaluation data`, file);
    out.push({ name: t.name, type, shape: [...t.dims], data: toTypedArray(t) as NpyArray, source: file });
  }
  return out;
}
