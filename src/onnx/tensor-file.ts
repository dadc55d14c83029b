/**
 * A single serialized TensorProto (the input_K.pb / output_K.pb files of ONNX test_data_set
 * folders) -> IR Tensor. Part of the protobuf border, like import.ts.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from 'onnx-buf';
import { InputError } from '../util/errors.js';
import { typedFieldsToRaw } from './import.js';
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
  const raw = t.rawData.byteLength > 0 || expected === 0 ? t.rawData : typedFieldsToRaw(t, count);
  if (raw.byteLength !== expected) {
    throw new InputError(`${label}: tensor holds ${raw.byteLength} bytes but ${dataTypeName(t.dataType)}[${dims.join(',')}] needs ${expected}`, label);
  }
  return { name: t.name, dataType: t.dataType as DataType, dims, raw };
}
