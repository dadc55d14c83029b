import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProto_SegmentSchema, type TensorProto, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, AttributeProtoSchema, AttributeProto_AttributeType, OperatorSetIdProtoSchema, TensorProtoSchema, ValueInfoProtoSchema, TypeProtoSchema, TypeProto_TensorSchema } from 'onnx-buf';
import { DataType, GraphBuilder, dataTypeName, decodeModel, encodeModel, fromFloat32, fromTypedArray, toFloat32, toTypedArray, type Tensor } from '../../src/onnx/index.js';
import { runModel } from './helpers.js';
import { convNet as convNetForViews } from './families.js';

// Values chosen to hit rounding, saturation and the sign of every type.
const VALUES = [0, 1, -1, 0.5, -2, 3, 7, -8, 100, -0.3, 1e-3, 6, 0.75, -1.5, 250, -300];

/** One constant of `dataType` cast to float by ORT: ORT's own reading of our bytes. */
async function ortToFloat(tensor: Tensor, opset: number, irVersion: number): Promise<number[]> {
  const b = new GraphBuilder('cast');
  b.constant(tensor);
  b.op('Cast', [tensor.name], { to: DataType.FLOAT }, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, [...tensor.dims]);
  const out = await runModel(b.model({ opset, irVersion }), {});
  return Array.from(out.y.data as Float32Array);
}

const ORT_TYPES: Array<[DataType, number, number]> = [
  [DataType.FLOAT, 21, 10], [DataType.UINT8, 21, 10], [DataType.INT8, 21, 10], [DataType.UINT16, 21, 10], [DataType.INT16, 21, 10],
  [DataType.INT32, 21, 10], [DataType.INT64, 21, 10], [DataType.BOOL, 21, 10], [DataType.FLOAT16, 21, 10], [DataType.DOUBLE, 21, 10],
  [DataType.UINT32, 21, 10], [DataType.UINT64, 21, 10], [DataType.BFLOAT16, 21, 10], [DataType.FLOAT8E4M3FN, 21, 10],
  [DataType.FLOAT8E4M3FNUZ, 21, 10], [DataType.FLOAT8E5M2, 21, 10], [DataType.FLOAT8E5M2FNUZ, 21, 10], [DataType.UINT4, 21, 10],
  [DataType.INT4, 21, 10], [DataType.FLOAT8E8M0, 24, 11], [DataType.UINT2, 25, 11], [DataType.INT2, 25, 11],
];

describe('to/from float32 agrees with ORT for every type ORT can cast', () => {
  test.each(ORT_TYPES)('type %i', async (dt, opset, ir) => {
    const values = VALUES.map((v) => (dt === DataType.BOOL ? (v ? 1 : 0) : dt === DataType.FLOAT8E8M0 ? Math.abs(v) + 0.25 : v));
    const t = fromFloat32('c', dt, [values.length], values);
    const ours = Array.from(toFloat32(t));
    expect(await ortToFloat(t, opset, ir)).toEqual(ours);
    // Encoding what we decoded is lossless.
    expect(Array.from(toFloat32(fromFloat32('d', dt, t.dims, ours)))).toEqual(ours);
  });

  test('float4e2m1 (no ORT CPU kernel) decodes to the spec table and rounds to nearest even', () => {
    const codes = Uint8Array.from({ length: 8 }, (_, i) => (2 * i) | ((2 * i + 1) << 4));
    const t: Tensor = { name: 'f4', dataType: DataType.FLOAT4E2M1, dims: [16], raw: codes };
    expect(Array.from(toFloat32(t))).toEqual([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6]);
    expect(Array.from(toFloat32(fromFloat32('r', DataType.FLOAT4E2M1, [5], [0.25, 2.5, 5, 100, -0.7])))).toEqual([0, 2, 4, 6, -0.5]);
  });

  test('typed views are zero-copy when aligned and copies when not', () => {
    const buf = new Uint8Array(4 * 9);
    new Float32Array(buf.buffer).set([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const aligned: Tensor = { name: 'a', dataType: DataType.FLOAT, dims: [8], raw: buf.subarray(4, 36) };
    const view = toTypedArray(aligned) as Float32Array;
    expect(view.buffer).toBe(buf.buffer);
    expect(Array.from(view)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const odd = new Uint8Array(33);
    odd.set(buf.subarray(4, 36), 1);
    const unaligned: Tensor = { name: 'u', dataType: DataType.FLOAT, dims: [8], raw: odd.subarray(1) };
    const copy = toTypedArray(unaligned) as Float32Array;
    expect(copy.buffer).not.toBe(odd.buffer);
    expect(Array.from(copy)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const made = fromTypedArray('m', DataType.FLOAT, [2], new Float32Array([1, 2]));
    expect(() => fromTypedArray('bad', DataType.FLOAT, [3], new Float32Array([1, 2]))).toThrow(/12 expected/);
    expect(toFloat32(made).buffer).toBe(made.raw.buffer);
  });
});

/** A model whose only node casts a constant stored in the typed fields (not raw_data). */
interface TypedFill {
  dataType: number;
  dims: bigint[];
  floatData?: number[];
  doubleData?: number[];
  int32Data?: number[];
  int64Data?: bigint[];
  uint64Data?: bigint[];
}

function typedFieldModel(fill: TypedFill, opset = 21): Uint8Array {
  const tensor = create(TensorProtoSchema, { name: 'c', ...fill });
  const node = create(NodeProtoSchema, {
    opType: 'Cast', input: ['c'], output: ['y'],
    attribute: [create(AttributeProtoSchema, { name: 'to', type: AttributeProto_AttributeType.INT, i: 1n })],
  });
  const out = create(ValueInfoProtoSchema, { name: 'y', type: create(TypeProtoSchema, { value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: 1 }) } }) });
  const graph = create(GraphProtoSchema, { name: 'g', node: [node], initializer: [tensor], output: [out] });
  // 'ai.onnx' spelled out: the importer normalises it, the exporter writes '' and ORT accepts both.
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, { irVersion: 10n, opsetImport: [create(OperatorSetIdProtoSchema, { domain: 'ai.onnx', version: BigInt(opset) })], graph }));
}

describe('typed-field tensors (float_data, int32_data...) are read as ORT reads them', () => {
  const cases: Array<[string, Parameters<typeof typedFieldModel>[0]]> = [
    ['float_data', { dataType: DataType.FLOAT, dims: [3n], floatData: [1.5, -2, 3.25] }],
    ['double_data', { dataType: DataType.DOUBLE, dims: [2n], doubleData: [0.1, -7] }],
    ['int64_data', { dataType: DataType.INT64, dims: [3n], int64Data: [-5n, 0n, 1234567n] }],
    ['uint64_data (uint32)', { dataType: DataType.UINT32, dims: [2n], uint64Data: [7n, 4000000000n] }],
    ['uint64_data (uint64)', { dataType: DataType.UINT64, dims: [2n], uint64Data: [7n, 12345n] }],
    ['int32_data (int8)', { dataType: DataType.INT8, dims: [3n], int32Data: [-128, 5, 127] }],
    ['int32_data (int16)', { dataType: DataType.INT16, dims: [2n], int32Data: [-300, 300] }],
    ['int32_data (uint16)', { dataType: DataType.UINT16, dims: [2n], int32Data: [65535, 3] }],
    ['int32_data (bool)', { dataType: DataType.BOOL, dims: [3n], int32Data: [1, 0, 1] }],
    ['int32_data (float16 bits)', { dataType: DataType.FLOAT16, dims: [3n], int32Data: [0x3c00, 0xc000, 0x3555] }],
    ['int32_data (bfloat16 bits)', { dataType: DataType.BFLOAT16, dims: [2n], int32Data: [0x3f80, 0xc0a0] }],
    ['int32_data (float8e4m3fn)', { dataType: DataType.FLOAT8E4M3FN, dims: [2n], int32Data: [0x38, 0xc4] }],
    ['int32_data (int4, packed)', { dataType: DataType.INT4, dims: [3n], int32Data: [0x8f, 0x07] }],
    ['int32_data (uint4, packed)', { dataType: DataType.UINT4, dims: [4n], int32Data: [0x21, 0xf0] }],
  ];
  test.each(cases)('%s', async (_label, fill) => {
    const bytes = typedFieldModel(fill);
    const model = decodeModel(bytes);
    const ours = Array.from(toFloat32(model.graph.initializers[0]));
    const theirs = Array.from((await runModel(bytes, {})).y.data as Float32Array);
    expect(ours).toEqual(theirs);
    // After import the bytes are raw_data; the re-exported model reads the same in ORT.
    expect(Array.from((await runModel(encodeModel(model), {})).y.data as Float32Array)).toEqual(theirs);
  });

  test('int4 stored one element per int32 is packed on import', () => {
    const model = decodeModel(typedFieldModel({ dataType: DataType.INT4, dims: [3n], int32Data: [-1, 7, -8] }));
    expect(Array.from(toFloat32(model.graph.initializers[0]))).toEqual([-1, 7, -8]);
  });

  test('ai.onnx is normalised to the default domain and written back as it', () => {
    const model = decodeModel(typedFieldModel({ dataType: DataType.FLOAT, dims: [1n], floatData: [1] }));
    expect(model.opsetImports).toEqual([{ domain: '', version: 21 }]);
    expect(dataTypeName(DataType.FLOAT8E5M2FNUZ)).toBe('float8e5m2fnuz');
  });

  test('a model importing both ai.onnx and the default domain keeps one entry', () => {
    const proto = fromBinary(ModelProtoSchema, typedFieldModel({ dataType: DataType.FLOAT, dims: [1n], floatData: [1] }, 13));
    proto.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: '', version: 17n }));
    expect(decodeModel(toBinary(ModelProtoSchema, proto)).opsetImports).toEqual([{ domain: '', version: 17 }]);
  });

  test('segment tensors and tensor metadata are carried through export unchanged', () => {
    const proto = fromBinary(ModelProtoSchema, typedFieldModel({ dataType: DataType.FLOAT, dims: [2n], floatData: [1, 2] }));
    const t = proto.graph?.initializer[0] as TensorProto;
    t.segment = create(TensorProto_SegmentSchema, { begin: 4n, end: 6n });
    t.metadataProps = [create(StringStringEntryProtoSchema, { key: 'origin', value: 'test' })];
    const again = fromBinary(ModelProtoSchema, encodeModel(decodeModel(toBinary(ModelProtoSchema, proto))));
    const back = again.graph?.initializer[0] as TensorProto;
    expect([back.segment?.begin, back.segment?.end]).toEqual([4n, 6n]);
    expect(back.metadataProps.map((e) => [e.key, e.value])).toEqual([['origin', 'test']]);
    expect(Array.from(new Float32Array(back.rawData.slice().buffer))).toEqual([1, 2]);
  });

  test('an unknown data type is an InputError naming the file and tensor', () => {
    const proto = fromBinary(ModelProtoSchema, typedFieldModel({ dataType: DataType.FLOAT, dims: [1n], floatData: [1] }));
    (proto.graph?.initializer[0] as TensorProto).dataType = 99;
    expect(() => decodeModel(toBinary(ModelProtoSchema, proto), { label: 'x.onnx' })).toThrow(/x\.onnx: tensor 'c' has unknown data type 99/);
  });

  test('raw_data tensors are views into the file buffer, not copies', () => {
    const model = decodeModel(encodeModel(convNetForViews()));
    const buffers = new Set(model.graph.initializers.map((t) => t.raw.buffer));
    expect(buffers.size).toBe(1);
  });

  test('a tensor whose typed field holds too few values is an InputError naming it', () => {
    expect(() => decodeModel(typedFieldModel({ dataType: DataType.FLOAT, dims: [4n], floatData: [1, 2] }), { label: 'm.onnx' })).toThrow(
      /m\.onnx: tensor 'c' holds 8 bytes but float32\[4\] needs 16/,
    );
  });
});
