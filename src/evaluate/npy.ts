/**
 * NumPy .npy files (format versions 1, 2 and 3), little-endian, C order. The array's bytes are
 * viewed, not copied, when aligned. `encodeNpy` writes version 1 files (tests and fixtures).
 */
import * as fs from 'node:fs';
import { InputError } from '../util/errors.js';
import type { ElementType } from './session.js';

export type NpyArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

export interface NpyData {
  type: ElementType;
  shape: number[];
  data: NpyArray;
}

type Ctor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): NpyArray; new (length: number): NpyArray; BYTES_PER_ELEMENT: number };

const DTYPES: Record<string, { type: ElementType; array: Ctor }> = {
  f4: { type: 'float32', array: Float32Array },
  f8: { type: 'float64', array: Float64Array },
  i1: { type: 'int8', array: Int8Array },
  u1: { type: 'uint8', array: Uint8Array },
  i2: { type: 'int16', array: Int16Array },
  u2: { type: 'uint16', array: Uint16Array },
  i4: { type: 'int32', array: Int32Array },
  u4: { type: 'uint32', array: Uint32Array },
  i8: { type: 'int64', array: BigInt64Array },
  u8: { type: 'uint64', array: BigUint64Array },
  b1: { type: 'bool', array: Uint8Array },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function readNpy(file: string): NpyData {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new InputError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file);
  }
  return parseNpy(bytes, file);
}

export function parseNpy(bytes: Uint8Array, label: string): NpyData {
  const bad = (why: string) => new InputError(`${label}: not a readable .npy file: ${why}`, label);
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('missing the \\x93NUMPY magic (save it with numpy.save)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    // Versions 2 and 3 have a 4-byte header length: 12 bytes before the header.
    if (bytes.byteLength < 12) throw bad('the header is truncated');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw bad(`format version ${major} is not supported (1, 2 and 3 are)`);
  }
  if (headerStart + headerLen > bytes.byteLength) throw bad('the header is truncated');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad(`unparsable header ${quoteHeader(header)}`);
  if (fortran === 'True') throw new InputError(`${label}: the array is in Fortran order; save it with numpy.save(path, numpy.ascontiguousarray(a))`, label);
  const order = descr[0];
  const code = descr.slice(1);
  if (order === '>' && code[1] !== '1') throw new InputError(`${label}: big-endian dtype '${field(descr)}' is not supported; convert with a.astype(a.dtype.newbyteorder('<'))`, label);
  const dtype = DTYPES[code];
  if (!dtype || !['<', '|', '='].includes(order)) {
    throw new InputError(`${label}: dtype '${field(descr)}' is not supported; use float32, float64, (u)int8/16/32/64 or bool`, label);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`bad shape (${field(shapeText)})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLen;
  const width = dtype.array.BYTES_PER_ELEMENT;
  if (bytes.byteLength - offset < count * width) {
    throw bad(`it holds ${bytes.byteLength - offset} data bytes but ${field(descr)}[${shape.join(', ')}] needs ${count * width}; is the file truncated?`);
  }
  let data: NpyArray;
  if ((bytes.byteOffset + offset) % width === 0) data = new dtype.array(bytes.buffer, bytes.byteOffset + offset, count);
  else {
    const copy = new Uint8Array(count * width);
    copy.set(bytes.subarray(offset, offset + count * width));
    data = new dtype.array(copy.buffer, 0, count);
  }
  return { type: dtype.type, shape, data };
}

/** A header for a message: one line, at most 120 characters, control characters escaped (a corrupt header can be any bytes). */
function quoteHeader(header: string): string {
  const text = JSON.stringify(header.trim());
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** A header field for a message: as written when short and printable, else quoted and clipped like quoteHeader. */
function field(text: string): string {
  return /^[\x20-\x7e]{0,40}$/.test(text) ? text : quoteHeader(text);
}

const DESCR: Partial<Record<ElementType, string>> = {
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  uint32: '<u4',
  int64: '<i8',
  uint64: '<u8',
  bool: '|b1',
};

/** A version-1 .npy file holding `data` with `shape` (C order). */
export function encodeNpy(type: ElementType, shape: number[], data: NpyArray): Uint8Array {
  const descr = DESCR[type];
  if (!descr) throw new Error(`cannot write ${type} to .npy`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so the data starts on a 64-byte boundary, as numpy does.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
