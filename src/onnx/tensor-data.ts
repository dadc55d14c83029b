/**
 * Typed-array views of tensors and conversions to and from float32 for every numeric ONNX type.
 * `toTypedArray` returns a view of the tensor's bytes when their alignment allows (zero-copy),
 * a copy otherwise; `fromTypedArray` builds a tensor over the given array's bytes.
 */
import { DataType, type Tensor } from './ir.js';

export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

interface TypeInfo {
  name: string;
  /** Bits per element (4 and 2 for packed types). */
  bits: number;
  /** The typed array holding raw elements (sub-byte types are unpacked by toFloat32 only). */
  array?: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray; new (length: number): NumericArray; BYTES_PER_ELEMENT: number };
}

const TYPES: Record<number, TypeInfo> = {
  [DataType.FLOAT]: { name: 'float32', bits: 32, array: Float32Array },
  [DataType.UINT8]: { name: 'uint8', bits: 8, array: Uint8Array },
  [DataType.INT8]: { name: 'int8', bits: 8, array: Int8Array },
  [DataType.UINT16]: { name: 'uint16', bits: 16, array: Uint16Array },
  [DataType.INT16]: { name: 'int16', bits: 16, array: Int16Array },
  [DataType.INT32]: { name: 'int32', bits: 32, array: Int32Array },
  [DataType.INT64]: { name: 'int64', bits: 64, array: BigInt64Array },
  [DataType.STRING]: { name: 'string', bits: 0 },
  [DataType.BOOL]: { name: 'bool', bits: 8, array: Uint8Array },
  [DataType.FLOAT16]: { name: 'float16', bits: 16, array: Uint16Array },
  [DataType.DOUBLE]: { name: 'float64', bits: 64, array: Float64Array },
  [DataType.UINT32]: { name: 'uint32', bits: 32, array: Uint32Array },
  [DataType.UINT64]: { name: 'uint64', bits: 64, array: BigUint64Array },
  [DataType.COMPLEX64]: { name: 'complex64', bits: 64, array: Float32Array },
  [DataType.COMPLEX128]: { name: 'complex128', bits: 128, array: Float64Array },
  [DataType.BFLOAT16]: { name: 'bfloat16', bits: 16, array: Uint16Array },
  [DataType.FLOAT8E4M3FN]: { name: 'float8e4m3fn', bits: 8, array: Uint8Array },
  [DataType.FLOAT8E4M3FNUZ]: { name: 'float8e4m3fnuz', bits: 8, array: Uint8Array },
  [DataType.FLOAT8E5M2]: { name: 'float8e5m2', bits: 8, array: Uint8Array },
  [DataType.FLOAT8E5M2FNUZ]: { name: 'float8e5m2fnuz', bits: 8, array: Uint8Array },
  [DataType.UINT4]: { name: 'uint4', bits: 4, array: Uint8Array },
  [DataType.INT4]: { name: 'int4', bits: 4, array: Uint8Array },
  [DataType.FLOAT4E2M1]: { name: 'float4e2m1', bits: 4, array: Uint8Array },
  [DataType.FLOAT8E8M0]: { name: 'float8e8m0', bits: 8, array: Uint8Array },
  [DataType.UINT2]: { name: 'uint2', bits: 2, array: Uint8Array },
  [DataType.INT2]: { name: 'int2', bits: 2, array: Uint8Array },
};

export class UnknownDataTypeError extends Error {
  constructor(readonly dataType: number) {
    super(`unknown tensor data type ${dataType}`);
  }
}

function info(dataType: number): TypeInfo {
  const t = TYPES[dataType];
  if (!t) throw new UnknownDataTypeError(dataType);
  return t;
}

export function isKnownDataType(dataType: number): boolean {
  return TYPES[dataType] !== undefined;
}

export function dataTypeName(dataType: number): string {
  return TYPES[dataType]?.name ?? `type${dataType}`;
}

export function bitsPerElement(dataType: number): number {
  return info(dataType).bits;
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Bytes that `count` elements take in raw_data (sub-byte types round up to whole bytes). */
export function byteLength(dataType: number, count: number): number {
  return Math.ceil((count * info(dataType).bits) / 8);
}

/**
 * The tensor's elements as a typed array of the type's storage (float16/bfloat16 as Uint16Array,
 * int64 as BigInt64Array, 4-bit and 2-bit types as their packed bytes). A view when aligned.
 */
export function toTypedArray(tensor: Tensor): NumericArray {
  const t = info(tensor.dataType);
  if (!t.array) throw new Error(`tensor '${tensor.name}' of type ${t.name} has no numeric view`);
  const bytes = tensor.raw;
  const width = t.array.BYTES_PER_ELEMENT;
  const length = Math.floor(bytes.byteLength / width);
  if (bytes.byteOffset % width === 0) return new t.array(bytes.buffer, bytes.byteOffset, length);
  const copy = new Uint8Array(length * width);
  copy.set(bytes.subarray(0, length * width));
  return new t.array(copy.buffer, 0, length);
}

/** A tensor over the bytes of `data` (no copy). */
export function fromTypedArray(name: string, dataType: DataType, dims: number[], data: NumericArray): Tensor {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const expected = byteLength(dataType, elementCount(dims));
  if (raw.byteLength !== expected) {
    throw new Error(`tensor '${name}': ${raw.byteLength} bytes given, ${expected} expected for ${dataTypeName(dataType)}[${dims.join(',')}]`);
  }
  return { name, dataType, dims: [...dims], raw };
}

export function float32Tensor(name: string, dims: number[], data: Float32Array | number[]): Tensor {
  return fromTypedArray(name, DataType.FLOAT, dims, data instanceof Float32Array ? data : Float32Array.from(data));
}

export function int64Tensor(name: string, dims: number[], data: ArrayLike<number | bigint>): Tensor {
  const arr = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) arr[i] = BigInt(data[i]);
  return fromTypedArray(name, DataType.INT64, dims, arr);
}

// ---- half precision and 8-bit floats -------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Round-to-nearest-even float32 -> float16 bits. */
export function float32ToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = mant >> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

export function bfloat16ToFloat32(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

export function float32ToBfloat16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if (Number.isNaN(value)) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

interface MiniFloat {
  expBits: number;
  mantBits: number;
  bias: number;
  /** 'fn': no infinities, all-ones is NaN; 'fnuz': 0x80 is NaN, no negative zero; 'ieee': IEEE-like. */
  kind: 'ieee' | 'fn' | 'fnuz' | 'e8m0' | 'fp4';
}

const MINIFLOATS: Record<number, MiniFloat> = {
  [DataType.FLOAT8E4M3FN]: { expBits: 4, mantBits: 3, bias: 7, kind: 'fn' },
  [DataType.FLOAT8E4M3FNUZ]: { expBits: 4, mantBits: 3, bias: 8, kind: 'fnuz' },
  [DataType.FLOAT8E5M2]: { expBits: 5, mantBits: 2, bias: 15, kind: 'ieee' },
  [DataType.FLOAT8E5M2FNUZ]: { expBits: 5, mantBits: 2, bias: 16, kind: 'fnuz' },
  [DataType.FLOAT8E8M0]: { expBits: 8, mantBits: 0, bias: 127, kind: 'e8m0' },
  [DataType.FLOAT4E2M1]: { expBits: 2, mantBits: 1, bias: 1, kind: 'fp4' },
};

function miniFloatToFloat32(bits: number, f: MiniFloat): number {
  const total = 1 + f.expBits + f.mantBits;
  if (f.kind === 'e8m0') return bits === 0xff ? NaN : 2 ** (bits - 127);
  const signBit = 1 << (total - 1);
  if (f.kind === 'fnuz' && bits === 0x80) return NaN;
  const sign = bits & signBit ? -1 : 1;
  const exp = (bits >> f.mantBits) & ((1 << f.expBits) - 1);
  const mant = bits & ((1 << f.mantBits) - 1);
  const maxExp = (1 << f.expBits) - 1;
  if (f.kind === 'fn' && exp === maxExp && mant === (1 << f.mantBits) - 1) return NaN;
  if (f.kind === 'ieee' && exp === maxExp) return mant ? NaN : sign * Infinity;
  if (exp === 0) return sign * mant * 2 ** (1 - f.bias - f.mantBits);
  return sign * (1 + mant / (1 << f.mantBits)) * 2 ** (exp - f.bias);
}

/** Nearest representable value by search over the (at most 256) codes; saturating. */
function float32ToMiniFloat(value: number, f: MiniFloat, table: Float32Array): number {
  if (Number.isNaN(value)) {
    if (f.kind === 'fnuz') return 0x80;
    if (f.kind === 'e8m0') return 0xff;
    if (f.kind === 'fp4') return 0x7;
    return f.kind === 'fn' ? 0x7f : 0x7e;
  }
  let best = 0;
  let bestErr = Infinity;
  for (let code = 0; code < table.length; code++) {
    const v = table[code];
    if (Number.isNaN(v) || !Number.isFinite(v)) continue;
    const err = Math.abs(v - value);
    if (err < bestErr || (err === bestErr && (code & 1) === 0 && (best & 1) === 1)) {
      best = code;
      bestErr = err;
    }
  }
  return best;
}

const miniTables = new Map<number, Float32Array>();
function miniTable(dataType: number): Float32Array {
  let t = miniTables.get(dataType);
  if (!t) {
    const f = MINIFLOATS[dataType];
    const codes = 1 << (1 + f.expBits + f.mantBits - (f.kind === 'e8m0' ? 1 : 0));
    t = new Float32Array(codes);
    for (let c = 0; c < codes; c++) t[c] = miniFloatToFloat32(c, f);
    miniTables.set(dataType, t);
  }
  return t;
}

function unpackSubByte(raw: Uint8Array, count: number, bits: number, signed: boolean): Int32Array {
  const out = new Int32Array(count);
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  for (let i = 0; i < count; i++) {
    const byte = raw[Math.floor(i / perByte)];
    let v = (byte >> ((i % perByte) * bits)) & mask;
    if (signed && v & (1 << (bits - 1))) v -= 1 << bits;
    out[i] = v;
  }
  return out;
}

function packSubByte(values: ArrayLike<number>, bits: number): Uint8Array {
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(Math.ceil(values.length / perByte));
  for (let i = 0; i < values.length; i++) out[Math.floor(i / perByte)] |= (values[i] & mask) << ((i % perByte) * bits);
  return out;
}

/** The tensor's elements converted to float32 (complex types: interleaved real/imaginary). */
export function toFloat32(tensor: Tensor): Float32Array {
  const dt = tensor.dataType;
  const count = elementCount(tensor.dims);
  switch (dt) {
    case DataType.FLOAT: {
      const view = toTypedArray(tensor) as Float32Array;
      return view.length === count ? view : view.subarray(0, count);
    }
    case DataType.FLOAT16:
    case DataType.BFLOAT16: {
      const src = toTypedArray(tensor) as Uint16Array;
      const out = new Float32Array(count);
      const conv = dt === DataType.FLOAT16 ? float16ToFloat32 : bfloat16ToFloat32;
      for (let i = 0; i < count; i++) out[i] = conv(src[i]);
      return out;
    }
    case DataType.INT4:
    case DataType.UINT4:
    case DataType.INT2:
    case DataType.UINT2: {
      const bits = bitsPerElement(dt);
      return Float32Array.from(unpackSubByte(tensor.raw, count, bits, dt === DataType.INT4 || dt === DataType.INT2));
    }
    case DataType.FLOAT4E2M1: {
      const codes = unpackSubByte(tensor.raw, count, 4, false);
      const table = miniTable(dt);
      return Float32Array.from(codes, (c) => table[c]);
    }
    case DataType.STRING:
      throw new Error(`tensor '${tensor.name}' holds strings, not numbers`);
    default: {
      if (MINIFLOATS[dt]) {
        const table = miniTable(dt);
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = table[tensor.raw[i]];
        return out;
      }
      const src = toTypedArray(tensor);
      const n = dt === DataType.COMPLEX64 || dt === DataType.COMPLEX128 ? count * 2 : count;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]);
      return out;
    }
  }
}

/** A tensor of `dataType` holding `values` (rounded to nearest, saturated for integers). */
export function fromFloat32(name: string, dataType: DataType, dims: number[], values: ArrayLike<number>): Tensor {
  const count = elementCount(dims);
  if ((dataType === DataType.COMPLEX64 || dataType === DataType.COMPLEX128 ? count * 2 : count) !== values.length) {
    throw new Error(`tensor '${name}': ${values.length} values for dims [${dims.join(',')}]`);
  }
  const tensorOf = (arr: NumericArray) => fromTypedArray(name, dataType, dims, arr);
  const clampRound = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(v)));
  switch (dataType) {
    case DataType.FLOAT:
      return tensorOf(Float32Array.from(values));
    case DataType.DOUBLE:
    case DataType.COMPLEX128:
      return tensorOf(Float64Array.from(values));
    case DataType.COMPLEX64:
      return tensorOf(Float32Array.from(values));
    case DataType.FLOAT16:
      return tensorOf(Uint16Array.from(values, float32ToFloat16));
    case DataType.BFLOAT16:
      return tensorOf(Uint16Array.from(values, float32ToBfloat16));
    case DataType.INT8:
      return tensorOf(Int8Array.from(values, (v) => clampRound(v, -128, 127)));
    case DataType.UINT8:
      return tensorOf(Uint8Array.from(values, (v) => clampRound(v, 0, 255)));
    case DataType.BOOL:
      return tensorOf(Uint8Array.from(values, (v) => (v ? 1 : 0)));
    case DataType.INT16:
      return tensorOf(Int16Array.from(values, (v) => clampRound(v, -32768, 32767)));
    case DataType.UINT16:
      return tensorOf(Uint16Array.from(values, (v) => clampRound(v, 0, 65535)));
    case DataType.INT32:
      return tensorOf(Int32Array.from(values, (v) => clampRound(v, -2147483648, 2147483647)));
    case DataType.UINT32:
      return tensorOf(Uint32Array.from(values, (v) => clampRound(v, 0, 4294967295)));
    case DataType.INT64:
      return tensorOf(BigInt64Array.from(Array.from(values, (v) => BigInt(Math.round(v)))));
    case DataType.UINT64:
      return tensorOf(BigUint64Array.from(Array.from(values, (v) => BigInt(Math.max(0, Math.round(v))))));
    case DataType.INT4:
    case DataType.UINT4:
    case DataType.INT2:
    case DataType.UINT2: {
      const bits = bitsPerElement(dataType);
      const signed = dataType === DataType.INT4 || dataType === DataType.INT2;
      const lo = signed ? -(1 << (bits - 1)) : 0;
      const hi = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
      return { name, dataType, dims: [...dims], raw: packSubByte(Array.from(values, (v) => clampRound(v, lo, hi)), bits) };
    }
    case DataType.FLOAT4E2M1: {
      const table = miniTable(dataType);
      const f = MINIFLOATS[dataType];
      return { name, dataType, dims: [...dims], raw: packSubByte(Array.from(values, (v) => float32ToMiniFloat(v, f, table)), 4) };
    }
    default: {
      const f = MINIFLOATS[dataType];
      if (!f) throw new Error(`tensor '${name}': cannot encode numbers as ${dataTypeName(dataType)}`);
      const table = miniTable(dataType);
      return tensorOf(Uint8Array.from(values, (v) => float32ToMiniFloat(v, f, table)));
    }
  }
}
