/**
 * Seeded mutations of evaluation data: .npy files cut short, with a bad magic, version, header
 * length, header text, dtype, shape (against the model's [N, 784] input), fortran order, NaN/Inf
 * values, label counts that do not match; and a few .npz / .jsonl / test_data_set files, including
 * the shapes that once crashed the readers. Each says what a correct reader must do with it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { zipSync } from 'fflate';
import { TensorProtoSchema } from 'onnx-buf';
import { castArray } from '../../src/evaluate/data.js';
import { encodeNpy, type NpyArray } from '../../src/evaluate/npy.js';
import type { ElementType } from '../../src/evaluate/session.js';
import { mulberry32, randomInt } from '../helpers/seeded-random.js';
import type { Expectation } from './config-mutants.js';

export type DataField = '/data/eval/inputs/input' | '/data/eval/labels' | '/data/calibration/inputs/input' | '/data/eval/inputs';

export interface DataMutant {
  label: string;
  /** The config pointer whose file is replaced by the mutant. */
  field: DataField;
  /** File name ending (the extension picks the reader). */
  name: string;
  /** Writes the mutant at `file` (a file, or a folder for test_data_set cases). */
  write(file: string): void;
  /** Remove data.eval.labels from the config (the format carries labels, or the case wants none). */
  dropLabels?: boolean;
  /** When it fails, the message names the mutant's file, or (configPointer) the config and this pointer. */
  expect: Expectation & { configPointer?: string; maxMessage?: number };
}

export interface BaseData {
  /** Evaluation inputs [n, 784] float32, labels [n] int64, calibration inputs [m, 784] float32. */
  x: Float32Array;
  y: BigInt64Array;
  c: Float32Array;
  n: number;
  m: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** A .npy file with a header written by hand (for headers numpy would never write). */
export function rawNpy(header: string, data: Uint8Array, options: { major?: number; align?: 'numpy' | 'odd' } = {}): Uint8Array {
  const major = options.major ?? 1;
  const pre = major === 1 ? 10 : 12;
  let text = header;
  if ((options.align ?? 'numpy') === 'numpy') {
    const total = Math.ceil((pre + text.length + 1) / 64) * 64;
    text = text.padEnd(total - pre - 1, ' ') + '\n';
  } else {
    text += '\n';
    if ((pre + text.length) % 2 === 0) text = ` ${text}`;
  }
  const head = Buffer.alloc(pre);
  Buffer.from(MAGIC).copy(head);
  head[6] = major;
  if (major === 1) head.writeUInt16LE(text.length, 8);
  else head.writeUInt32LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, major === 3 ? 'utf8' : 'latin1'), data]);
}

const dict = (descr: string, shape: string, fortran = 'False') => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
const bytesOf = (a: NpyArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
/** Offset of the data in a well-formed file. */
const dataOffset = (b: Uint8Array) => (b[6] === 1 ? 10 + (b[8] | (b[9] << 8)) : 12 + Buffer.from(b).readUInt32LE(8));

interface Target {
  key: 'x' | 'y' | 'c';
  field: DataField;
  type: ElementType;
  arr: NpyArray;
  shape: number[];
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[randomInt(rand, xs.length)];

function targets(d: BaseData): Target[] {
  return [
    { key: 'x', field: '/data/eval/inputs/input', type: 'float32', arr: d.x, shape: [d.n, 784] },
    { key: 'y', field: '/data/eval/labels', type: 'int64', arr: d.y, shape: [d.n] },
    { key: 'c', field: '/data/calibration/inputs/input', type: 'float32', arr: d.c, shape: [d.m, 784] },
  ];
}

const shapeText = (dims: Array<number | string>) => (dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`);
const fileOf = (bytes: Uint8Array) => (file: string) => fs.writeFileSync(file, bytes);

type Gen = (t: Target, rand: () => number, d: BaseData) => Omit<DataMutant, 'field' | 'name'> & { name?: string };

const good = (t: Target) => encodeNpy(t.type, t.shape, t.arr);

const truncate: Gen = (t, rand) => {
  const bytes = good(t);
  const at = randomInt(rand, bytes.length);
  return { label: `${t.key}: cut at ${at} of ${bytes.length}`, write: fileOf(bytes.subarray(0, at)), expect: { mustFail: true } };
};

const badMagic: Gen = (t, rand) => {
  const bytes = Buffer.from(good(t));
  const i = randomInt(rand, 6);
  bytes[i] ^= 1 + randomInt(rand, 255);
  return { label: `${t.key}: magic byte ${i} = ${bytes[i]}`, write: fileOf(bytes), expect: { mustFail: true } };
};

const badVersion: Gen = (t, rand) => {
  const bytes = Buffer.from(good(t));
  const v = pick(rand, [0, 2, 3, 4, 9, 255]);
  bytes[6] = v;
  // 2 and 3 read a 4-byte header length from a version-1 file: garbage, but it must fail cleanly.
  return { label: `${t.key}: version ${v}`, write: fileOf(bytes), expect: v === 2 || v === 3 ? {} : { mustFail: true } };
};

const headerLength: Gen = (t, rand) => {
  const bytes = Buffer.from(good(t));
  const len = pick(rand, [0, 1, 5, 63, 65, 118, 127, 129, 1000, 65_535, randomInt(rand, 65_536)]);
  bytes.writeUInt16LE(len, 8);
  return { label: `${t.key}: header length ${len}`, write: fileOf(bytes), expect: len === dataOffset(good(t)) - 10 ? { mustPass: true } : {} };
};

const headerFlip: Gen = (t, rand) => {
  const bytes = Buffer.from(good(t));
  const off = dataOffset(bytes);
  const n = 1 + randomInt(rand, 4);
  const at: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = 10 + randomInt(rand, off - 10);
    bytes[i] = randomInt(rand, 256);
    at.push(i);
  }
  return { label: `${t.key}: header bytes ${at.join(',')} changed`, write: fileOf(bytes), expect: {} };
};

const FAIL_DESCR = ['<f2', '<c8', '>f4', '>i8', '<U8', '|O', '<M8[ns]', '|V4', 'bogus', '', '<f16', '>u2'];
// An extra header key is ignored (numpy would refuse it; harmless here).
const ANY_DESCR = ['<i4', '<f8', '|u1', '|b1', '<i8', '|i1', '<u2', '<u4', '=f4', '|f4', '<u8', '<i2', "<f4', 'x': '"];

const descr: Gen = (t, rand) => {
  const fail = randomInt(rand, 2) === 0;
  const dt = pick(rand, fail ? FAIL_DESCR : ANY_DESCR);
  const bytes = rawNpy(dict(dt, shapeText(t.shape)), bytesOf(t.arr));
  return { label: `${t.key}: descr '${dt}' over ${t.type} bytes`, write: fileOf(bytes), expect: fail ? { mustFail: true } : {} };
};

const fortran: Gen = (t) => {
  const desc = { float32: '<f4', int64: '<i8' }[t.type as 'float32'];
  return { label: `${t.key}: fortran_order True`, write: fileOf(rawNpy(dict(desc, shapeText(t.shape), 'True'), bytesOf(t.arr))), expect: { mustFail: true } };
};

const shape: Gen = (t, rand) => {
  const n = t.shape[0];
  const desc = { float32: '<f4', int64: '<i8' }[t.type as 'float32'];
  const fail: string[] =
    t.key === 'y'
      ? [shapeText([n + 1]), shapeText([n - 1]), shapeText([0]), '()', shapeText([n, 2]), shapeText([-1]), shapeText([n / 2, 2]), '(64L,)', shapeText([1e20])]
      : [shapeText([n, 28, 28]), shapeText([n * 784]), shapeText([n, 784, 1]), shapeText([n + 1, 784]), shapeText([0, 784]), '()', shapeText([-1, 784]), '(99999999999999999999, 0)', `(${n}L, 784L)`, shapeText([n, 783.5]), `(${n} 784)`, shapeText([n, 783])];
  // Fewer evaluation samples than labels fails; fewer calibration samples is fine.
  // 0x310 is 784 to Python's literal_eval (numpy's reader) as to Number().
  const any: string[] = t.key === 'y' ? [shapeText([n, 1])] : [shapeText([n - 1, 784]), shapeText([1, 784]), `(${n}, 784,)`, shapeText([n, '0x310'])];
  const useFail = randomInt(rand, 3) > 0;
  const s = pick(rand, useFail ? fail : any);
  return { label: `${t.key}: shape ${s}`, write: fileOf(rawNpy(dict(desc, s), bytesOf(t.arr))), expect: useFail ? { mustFail: true } : {} };
};

const nonFinite: Gen = (t, rand) => {
  const v = pick(rand, [NaN, Infinity, -Infinity]);
  if (t.key === 'y') {
    const labels = Float64Array.from(t.arr as BigInt64Array, Number);
    const k = randomInt(rand, labels.length);
    labels[k] = v;
    return { label: `y: float64 labels, ${v} at ${k}`, write: fileOf(encodeNpy('float64', t.shape, labels)), expect: { mustFail: true } };
  }
  const data = Float32Array.from(t.arr as Float32Array);
  const k = randomInt(rand, data.length);
  data[k] = v;
  return { label: `${t.key}: ${v} at element ${k}`, write: fileOf(encodeNpy('float32', t.shape, data)), expect: { mustFail: true } };
};

const dataFlip: Gen = (t, rand) => {
  const bytes = Buffer.from(good(t));
  const off = dataOffset(bytes);
  const n = 1 + randomInt(rand, 8);
  for (let k = 0; k < n; k++) bytes[off + randomInt(rand, bytes.length - off)] = randomInt(rand, 256);
  return { label: `${t.key}: ${n} data bytes changed`, write: fileOf(bytes), expect: {} };
};

const recast: Gen = (t, rand) => {
  const types: ElementType[] = t.key === 'y' ? ['int32', 'uint8', 'float32', 'float64', 'int8', 'uint16', 'uint64'] : ['float64', 'int32', 'uint8', 'int64', 'uint64', 'bool', 'int8', 'int16', 'uint16', 'uint32'];
  const type = pick(rand, types);
  const src = t.arr instanceof BigInt64Array ? Float64Array.from(t.arr, Number) : t.arr;
  return { label: `${t.key}: saved as ${type}`, write: fileOf(encodeNpy(type, t.shape, castArray(src, type))), expect: { mustPass: true } };
};

const sampleCount: Gen = (t, rand) => {
  const delta = pick(rand, [-t.shape[0], -t.shape[0] + 1, -1, 1, 7]);
  const n = t.shape[0] + delta;
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = t.key === 'y' ? new BigInt64Array(n).map((_, i) => (t.arr as BigInt64Array)[i % t.shape[0]]) : new Float32Array(n * per).map((_, i) => (t.arr as Float32Array)[i % t.arr.length] as number);
  const expect: Expectation = n === 0 || t.key !== 'c' ? { mustFail: true } : { mustPass: true };
  return { label: `${t.key}: ${n} samples instead of ${t.shape[0]}`, write: fileOf(encodeNpy(t.type, [n, ...t.shape.slice(1)], data)), expect };
};

const framing: Gen = (t, rand) => {
  const desc = { float32: '<f4', int64: '<i8' }[t.type as 'float32'];
  const v = randomInt(rand, 6);
  const body = bytesOf(t.arr);
  const variants: Array<[string, Uint8Array]> = [
    ['version 2', rawNpy(dict(desc, shapeText(t.shape)), body, { major: 2 })],
    ['version 3', rawNpy(dict(desc, shapeText(t.shape)), body, { major: 3 })],
    ['unaligned data', rawNpy(dict(desc, shapeText(t.shape)), body, { align: 'odd' })],
    ['trailing bytes', Buffer.concat([good(t), Buffer.alloc(13, 7)])],
    ['keys reordered', rawNpy(`{'shape': ${shapeText(t.shape)}, 'fortran_order': False, 'descr': '${desc}'}`, body)],
    ['extra spaces', rawNpy(`{ 'descr' :  '${desc}' ,  'fortran_order' : False , 'shape' : ( ${t.shape.join(' , ')} , ) }`, body)],
  ];
  const [name, bytes] = variants[v];
  return { label: `${t.key}: ${name}`, write: fileOf(bytes), expect: { mustPass: true } };
};

const garbageHeader: Gen = (t, rand) => {
  const len = pick(rand, [8, 200, 5000, 60_000]);
  const text = Array.from({ length: len }, () => String.fromCharCode(randomInt(rand, 256))).join('');
  // Regression: the whole header (any bytes, any length) went into the message.
  return { label: `${t.key}: ${len} bytes of garbage header`, write: fileOf(rawNpy(text, bytesOf(t.arr))), expect: { mustFail: true, maxMessage: 600 } };
};

// ---- other formats, and fixed regressions -------------------------------------------------------

function tensorPb(name: string, dims: number[], data: Float32Array): Uint8Array {
  return toBinary(TensorProtoSchema, create(TensorProtoSchema, { name, dataType: 1, dims: dims.map(BigInt), rawData: new Uint8Array(Float32Array.from(data).buffer) }));
}

function jsonl(d: BaseData, lines: number, edit: (rec: Record<string, unknown>, i: number) => unknown = (r) => r): string {
  return (
    Array.from({ length: lines }, (_, i) => {
      const rec = { inputs: { input: Array.from(d.x.subarray(i * 784, (i + 1) * 784)) }, label: Number(d.y[i]) };
      const out = edit(rec, i);
      return typeof out === 'string' ? out : JSON.stringify(out);
    }).join('\n') + '\n'
  );
}

function fixedData(d: BaseData): DataMutant[] {
  const x = encodeNpy('float32', [d.n, 784], d.x);
  const y = encodeNpy('int64', [d.n], d.y);
  const asPath = { field: '/data/eval/inputs' as const, dropLabels: true };
  const text = (s: string) => (file: string) => fs.writeFileSync(file, s);
  const deep = `{"inputs": {"input": ${'['.repeat(100_000)}1${']'.repeat(100_000)}}, "label": 1}\n`;
  const folder = (sets: Array<Record<string, Uint8Array>>) => (dir: string) => {
    sets.forEach((files, s) => {
      const set = path.join(dir, `test_data_set_${s}`);
      fs.mkdirSync(set, { recursive: true });
      for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(set, name), bytes);
    });
  };
  const half = d.n / 2;
  const pb0 = tensorPb('input', [half, 784], d.x.subarray(0, half * 784));
  const pb1 = tensorPb('input', [half, 784], d.x.subarray(half * 784));
  return [
    { label: 'x: empty file', field: '/data/eval/inputs/input', name: 'x.npy', write: text(''), expect: { mustFail: true } },
    { label: 'y: empty file', field: '/data/eval/labels', name: 'y.npy', write: text(''), expect: { mustFail: true } },
    // Regression: versions 2 and 3 read a 4-byte length past the end of a 10- or 11-byte file (RangeError).
    { label: 'x: 10-byte version-2 file', field: '/data/eval/inputs/input', name: 'x.npy', write: fileOf(Buffer.from([...MAGIC, 2, 0, 5, 0])), expect: { mustFail: true } },
    { label: 'y: 11-byte version-3 file', field: '/data/eval/labels', name: 'y.npy', write: fileOf(Buffer.from([...MAGIC, 3, 0, 5, 0, 0])), expect: { mustFail: true } },
    // Regression: zero calibration samples were accepted (empty calibration, NaN downstream).
    { label: 'c: zero samples', field: '/data/calibration/inputs/input', name: 'c.npy', write: fileOf(encodeNpy('float32', [0, 784], new Float32Array(0))), expect: { mustFail: true } },
    { label: 'x: zero samples', field: '/data/eval/inputs/input', name: 'x.npy', write: fileOf(encodeNpy('float32', [0, 784], new Float32Array(0))), expect: { mustFail: true } },
    { label: 'y: one-hot labels', field: '/data/eval/labels', name: 'y.npy', write: fileOf(encodeNpy('float32', [d.n, 10], new Float32Array(d.n * 10))), expect: { mustFail: true } },
    { label: 'y: fractional labels', field: '/data/eval/labels', name: 'y.npy', write: fileOf(encodeNpy('float64', [d.n], Float64Array.from(d.y, (v) => Number(v) + 0.5))), expect: { mustPass: true } },
    { label: 'x: a .npy that is really a .npz', field: '/data/eval/inputs/input', name: 'x.npy', write: fileOf(zipSync({ 'input.npy': x })), expect: { mustFail: true } },
    // .jsonl
    { label: 'jsonl: valid, with labels', ...asPath, name: 'd.jsonl', write: text(jsonl(d, 8)), expect: { mustPass: true } },
    { label: 'jsonl: empty file', ...asPath, name: 'd.jsonl', write: text(''), expect: { mustFail: true } },
    // Regressions: {"inputs": {}} reached datasetFromRaw with no inputs (TypeError); deep nesting overflowed the stack.
    { label: 'jsonl: empty inputs', ...asPath, name: 'd.jsonl', write: text('{"inputs": {}, "label": 1}\n'), expect: { mustFail: true } },
    { label: 'jsonl: 100,000 nested lists', ...asPath, name: 'd.jsonl', write: text(deep), expect: { mustFail: true } },
    { label: 'jsonl: a broken line', ...asPath, name: 'd.jsonl', write: text(jsonl(d, 4, (r, i) => (i === 2 ? '{"inputs": [1, 2' : r))), expect: { mustFail: true } },
    { label: 'jsonl: ragged input', ...asPath, name: 'd.jsonl', write: text('{"inputs": {"input": [[1, 2], [3]]}, "label": 1}\n'), expect: { mustFail: true } },
    { label: 'jsonl: 1e400', ...asPath, name: 'd.jsonl', write: text(jsonl(d, 3, (r, i) => (i === 1 ? `{"inputs": {"input": [${'0, '.repeat(783)}1e400]}, "label": 1}` : r))), expect: { mustFail: true } },
    { label: 'jsonl: label is a string', ...asPath, name: 'd.jsonl', write: text(jsonl(d, 3, (r) => ({ ...r, label: 'seven' }))), expect: { mustFail: true } },
    { label: 'jsonl: wrong input name', ...asPath, name: 'd.jsonl', write: text(jsonl(d, 3, (r) => ({ inputs: { image: (r.inputs as Record<string, unknown>).input }, label: r.label }))), expect: { mustFail: true } },
    { label: 'jsonl: null line', ...asPath, name: 'd.jsonl', write: text('null\n'), expect: { mustFail: true } },
    // .npz
    { label: 'npz: valid', ...asPath, name: 'd.npz', write: fileOf(zipSync({ 'input.npy': x, 'labels.npy': y })), expect: { mustPass: true } },
    // Regression: a labelled task whose .npz has no labels said "data.eval.labels", not the pointer.
    { label: 'npz: no labels for a classification task', ...asPath, name: 'd.npz', write: fileOf(zipSync({ 'input.npy': x })), expect: { mustFail: true, configPointer: '/data/eval/labels' } },
    { label: 'npz: garbage', ...asPath, name: 'd.npz', write: fileOf(Buffer.from('PK\u0003\u0004 not really a zip')), expect: { mustFail: true } },
    { label: 'npz: truncated', ...asPath, name: 'd.npz', write: fileOf(zipSync({ 'input.npy': x, 'labels.npy': y }).subarray(0, 5000)), expect: { mustFail: true } },
    { label: 'npz: labels only', ...asPath, name: 'd.npz', write: fileOf(zipSync({ 'labels.npy': y })), expect: { mustFail: true } },
    { label: 'npz: wrong entry name', ...asPath, name: 'd.npz', write: fileOf(zipSync({ 'image.npy': x, 'labels.npy': y })), expect: { mustFail: true } },
    { label: 'npz: a corrupt entry', ...asPath, name: 'd.npz', write: fileOf(zipSync({ 'input.npy': x.subarray(0, 300), 'labels.npy': y })), expect: { mustFail: true } },
    // test_data_set folders (labels from the config's labels file).
    { label: 'test_data_set: two valid sets', field: '/data/eval/inputs', name: 'sets', write: folder([{ 'input_0.pb': pb0 }, { 'input_0.pb': pb1 }]), expect: { mustPass: true } },
    // Regression: a set folder without input_0.pb reached datasetFromRaw with no inputs (TypeError).
    { label: 'test_data_set: an empty set folder', field: '/data/eval/inputs', name: 'sets', write: folder([{}]), expect: { mustFail: true } },
    { label: 'test_data_set: garbage input_0.pb', field: '/data/eval/inputs', name: 'sets', write: folder([{ 'input_0.pb': Buffer.from('\u00ff\u00ff garbage') }]), expect: { mustFail: true } },
    { label: 'test_data_set: truncated input_0.pb', field: '/data/eval/inputs', name: 'sets', write: folder([{ 'input_0.pb': pb0.subarray(0, 4000) }]), expect: { mustFail: true } },
    { label: 'test_data_set: second set lacks input_0.pb', field: '/data/eval/inputs', name: 'sets', write: folder([{ 'input_0.pb': pb0 }, { 'output_0.pb': pb1 }]), expect: { mustFail: true } },
  ];
}

/** `count` data mutants: the fixed ones, then seeded random .npy mutations of the three files. */
export function dataMutants(d: BaseData, count: number, seed: number): DataMutant[] {
  const rand = mulberry32(seed);
  const gens: Array<[Gen, number]> = [
    [truncate, 3],
    [badMagic, 1],
    [badVersion, 1],
    [headerLength, 2],
    [headerFlip, 3],
    [descr, 3],
    [fortran, 1],
    [shape, 4],
    [nonFinite, 3],
    [dataFlip, 3],
    [recast, 2],
    [sampleCount, 2],
    [framing, 2],
    [garbageHeader, 1],
  ];
  const weighted = gens.flatMap(([g, w]) => Array<Gen>(w).fill(g));
  const ts = targets(d);
  const out = fixedData(d);
  while (out.length < count) {
    const t = pick(rand, ts);
    const m = pick(rand, weighted)(t, rand, d);
    out.push({ ...m, field: t.field, name: m.name ?? `${t.key}.npy` });
  }
  return out;
}

