/**
 * A single serialized TensorProto (the input_K.pb / output_K.pb files of ONNX test_data_set
 * folders) -> IR Tensor. Part of the protobuf border, like import.ts.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from 'onnx-buf';
import { InputError } from '../errors.js';
import { DataType, type Tensor } from './ir.js';
import { byteLength, dataTypeName, elementCount, isKnownDataType } from './tensor-data.js';

export function decodeTensorFile(bytes: Uint8Array, label: string): Tensor {
  let t: TensorProto;
  try {
    t = fromBinary(TensorProtoSchema, bytes, { readUnknownFields: false });
  } catch (err) {
    throw new InputError(`${label}: not a serialized ONNX TensorProto (${(err as Error).message})`, label);
  }
  if (!isKnownDataType(t.dataType) || t.dataType === DataType.UNDEFINED) throw new InputError(`${label}: unknown tensor data type ${t.dataType}`, label);
  if (t.dataLocation === 1) throw new InputError(`${label}: tensors with external data are not supported in test data files`, label);
  const dims = t.dims.map(Number);
  const count = elementCount(dims);
  if (t.dataType === DataType.STRING) return { name: t.name, dataType: DataType.STRING, dims, raw: new Uint8Array(0), strings: [...t.stringData] };
  const expected = byteLength(t.dataType, count);
  const raw = t.rawData.byteLength > 0 || expected === 0 ? t.rawData : typedFields(t);
  if (raw.byteLength !== expected) {
    throw new InputError(`${label}: tensor holds ${raw.byteLength} bytes but ${dataTypeName(t.dataType)}[${dims.join(',')}] needs ${expected}`, label);
  }
  return { name: t.name, dataType: t.dataType as DataType, dims, raw };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function typedFields(t: TensorProto): Uint8Array {
  switch (t.dataType as DataType) {
    case DataType.FLOAT:
      return bytesOf(Float32Array.from(t.floatData));
    case DataType.DOUBLE:
      return bytesOf(Float64Array.from(t.doubleData));
    case DataType.INT64:
      return bytesOf(BigInt64Array.from(t.int64Data));
    case DataType.UINT64:
      return bytesOf(BigUint64Array.from(t.uint64Data));
    case DataType.UINT32:
      return bytesOf(Uint32Array.from(t.uint64Data, Number));
    case DataType.INT32:
      return bytesOf(Int32Array.from(t.int32Data));
    case DataType.INT16:
      return bytesOf(Int16Array.from(t.int32Data));
    case DataType.UINT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return bytesOf(Uint16Array.from(t.int32Data));
    case DataType.INT8:
      return bytesOf(Int8Array.from(t.int32Data));
    case DataType.UINT8:
    case DataType.BOOL:
      return bytesOf(Uint8Array.from(t.int32Data));
    default:
      throw new InputError(`tensor of type ${dataTypeName(t.dataType)} has no raw_data`);
  }
}
