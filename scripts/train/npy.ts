/**
 * Minimal NumPy .npy (format 1.0) writer and reader for the example data: '<f4' and '<i8', C order.
 * The header is padded with spaces so that magic + length + header (newline included) is a
 * multiple of 64 bytes, as numpy.save does, so `np.load` and byte comparisons both work.
 */
import * as fs from 'node:fs';
import { writeFileAtomic } from '../../src/util/atomic-write.js';

export type NpyArray = { dtype: '<f4'; shape: number[]; data: Float32Array } | { dtype: '<i8'; shape: number[]; data: BigInt64Array };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function encodeNpy(array: NpyArray): Uint8Array {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) throw new Error(`npy: shape [${array.shape}] holds ${count} elements, data has ${array.data.length}`);
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${array.dtype}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const body = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(10 + header.length + body.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

export function writeNpy(file: string, array: NpyArray): void {
  writeFileAtomic(file, encodeNpy(array));
}

/** Reads what encodeNpy writes (v1.0, '<f4' or '<i8', C order); anything else is an error. */
export function decodeNpy(bytes: Uint8Array, label = '<npy>'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${label}: not a .npy file`);
  if (bytes[6] !== 1) throw new Error(`${label}: npy format ${bytes[6]}.${bytes[7]} is not supported (1.0 only)`);
  const headerLength = bytes[8] | (bytes[9] << 8);
  const header = Buffer.from(bytes.subarray(10, 10 + headerLength)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (fortran !== 'False') throw new Error(`${label}: Fortran-order arrays are not supported`);
  if (shapeText === undefined) throw new Error(`${label}: header has no shape`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const start = 10 + headerLength;
  // A fresh, aligned copy: `bytes` may be a Buffer, whose slice() is a view into a shared pool.
  const copy = new Uint8Array(bytes.byteLength - start);
  copy.set(bytes.subarray(start));
  if (descr === '<f4') return { dtype: '<f4', shape, data: new Float32Array(copy.buffer, 0, copy.byteLength / 4) };
  if (descr === '<i8') return { dtype: '<i8', shape, data: new BigInt64Array(copy.buffer, 0, copy.byteLength / 8) };
  throw new Error(`${label}: dtype ${descr} is not supported ('<f4' and '<i8' only)`);
}

export function readNpy(file: string): NpyArray {
  return decodeNpy(fs.readFileSync(file), file);
}
