/**
 * ONNX file -> IR. One of the two files that touch protobuf (export.ts is the other).
 *
 * Tensor bytes are kept as views into the file buffer (raw_data decodes zero-copy); typed fields
 * (float_data, int64_data...) are converted to raw little-endian bytes once, here, so every pass
 * sees one layout. External data is read by offset from side files that must stay inside the
 * model's folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AT,
  AttributeProtoSchema,
  FunctionProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type FunctionProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type SparseTensorProto,
  type TensorProto,
  type TypeProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { InputError } from '../util/errors.js';
import { DataType, type Attribute, type FunctionDef, type Graph, type Model, type Node, type OpsetImport, type SparseTensor, type Tensor, type ValueInfo, type ValueType } from './ir.js';
import { byteLength, dataTypeName, elementCount, isKnownDataType } from './tensor-data.js';

export interface ImportOptions {
  /** Folder external data locations are resolved against (default: the model file's folder). */
  baseDir?: string;
}

/** Loads an ONNX model from disk. Every problem with the file is an InputError naming it. */
export function loadModel(file: string, options: ImportOptions = {}): Model {
  let bytes: Uint8Array;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new InputError(`${file}: not a file`, file);
    bytes = fs.readFileSync(file);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${file}: no such file`, file);
    if (code === 'ERR_FS_FILE_TOO_LARGE') {
      throw new InputError(`${file}: larger than 2 GiB; store the weights as external data (onnx.save(..., save_as_external_data=True))`, file);
    }
    throw new InputError(`${file}: cannot read (${(err as Error).message})`, file);
  }
  return decodeModel(bytes, { baseDir: options.baseDir ?? path.dirname(path.resolve(file)), label: file });
}

/** Decodes model bytes; `label` names the source in error messages. */
export function decodeModel(bytes: Uint8Array, options: { baseDir?: string; label?: string } = {}): Model {
  const label = options.label ?? '<model bytes>';
  let proto: ModelProto;
  try {
    proto = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: false });
  } catch (err) {
    throw new InputError(`${label}: not a valid ONNX model (protobuf decoding failed: ${(err as Error).message}); is the file truncated or not an .onnx file?`, label);
  }
  if (!proto.graph) throw new InputError(`${label}: not a valid ONNX model (it has no graph)`, label);
  if (proto.irVersion === 0n && proto.opsetImport.length === 0) {
    throw new InputError(`${label}: not a valid ONNX model (no ir_version and no opset_import)`, label);
  }
  const ctx = new ImportContext(label, options.baseDir);
  try {
    return ctx.model(proto);
  } catch (err) {
    if (err instanceof InputError) throw err;
    // A malformed file can still trip the conversion (absurd nesting, unreadable side files):
    // that is a problem with the input, not a crash.
    throw new InputError(`${label}: cannot import the model (${(err as Error).message ?? String(err)})`, label);
  } finally {
    ctx.close();
  }
}

class ImportContext {
  private readonly fds = new Map<string, { fd: number; size: number }>();
  private realBase?: string;

  constructor(
    private readonly label: string,
    private readonly baseDir?: string,
  ) {}

  close(): void {
    for (const { fd } of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }

  model(p: ModelProto): Model {
    const extra = p.trainingInfo.length || p.configuration.length ? toBinary(ModelProtoSchema, create(ModelProtoSchema, { trainingInfo: p.trainingInfo, configuration: p.configuration })) : undefined;
    return {
      irVersion: Number(p.irVersion),
      opsetImports: opsetImports(p.opsetImport),
      producerName: p.producerName,
      producerVersion: p.producerVersion,
      domain: p.domain,
      modelVersion: p.modelVersion,
      docString: p.docString,
      metadata: p.metadataProps.map((e) => ({ key: e.key, value: e.value })),
      graph: this.graph(p.graph as GraphProto),
      functions: p.functions.map((f) => this.func(f)),
      extra,
    };
  }

  graph(g: GraphProto): Graph {
    const extra =
      g.quantizationAnnotation.length || g.metadataProps.length
        ? toBinary(GraphProtoSchema, create(GraphProtoSchema, { quantizationAnnotation: g.quantizationAnnotation, metadataProps: g.metadataProps }))
        : undefined;
    return {
      name: g.name,
      nodes: g.node.map((n) => this.node(n)),
      inputs: g.input.map((v) => this.valueInfo(v)),
      outputs: g.output.map((v) => this.valueInfo(v)),
      valueInfo: g.valueInfo.map((v) => this.valueInfo(v)),
      initializers: g.initializer.map((t) => this.tensor(t)),
      sparseInitializers: g.sparseInitializer.map((s) => this.sparse(s)),
      docString: g.docString || undefined,
      extra,
    };
  }

  func(f: FunctionProto): FunctionDef {
    const extra =
      f.attributeProto.length || f.valueInfo.length || f.metadataProps.length
        ? toBinary(FunctionProtoSchema, create(FunctionProtoSchema, { attributeProto: f.attributeProto, valueInfo: f.valueInfo, metadataProps: f.metadataProps }))
        : undefined;
    return {
      name: f.name,
      domain: f.domain,
      overload: f.overload || undefined,
      inputs: [...f.input],
      outputs: [...f.output],
      attributes: [...f.attribute],
      nodes: f.node.map((n) => this.node(n)),
      opsetImports: opsetImports(f.opsetImport),
      docString: f.docString || undefined,
      extra,
    };
  }

  node(n: NodeProto): Node {
    const extra =
      n.metadataProps.length || n.deviceConfigurations.length
        ? toBinary(NodeProtoSchema, create(NodeProtoSchema, { metadataProps: n.metadataProps, deviceConfigurations: n.deviceConfigurations }))
        : undefined;
    return {
      name: n.name,
      opType: n.opType,
      domain: n.domain === 'ai.onnx' ? '' : n.domain,
      inputs: [...n.input],
      outputs: [...n.output],
      attributes: n.attribute.map((a) => this.attribute(a, n)),
      docString: n.docString || undefined,
      overload: n.overload || undefined,
      extra,
    };
  }

  attribute(a: AttributeProto, n: NodeProto): Attribute {
    const name = a.name;
    if (a.refAttrName) return { name, type: 'opaque', proto: toBinary(AttributeProtoSchema, a) };
    switch (a.type) {
      case AT.FLOAT:
        return { name, type: 'float', value: a.f };
      case AT.INT:
        return { name, type: 'int', value: a.i };
      case AT.STRING:
        return { name, type: 'string', value: a.s };
      case AT.TENSOR:
        return { name, type: 'tensor', value: this.tensor(a.t ?? create(TensorProtoSchema)) };
      case AT.GRAPH:
        return { name, type: 'graph', value: this.graph(a.g ?? create(GraphProtoSchema)) };
      case AT.SPARSE_TENSOR:
        return { name, type: 'sparse_tensor', value: this.sparse(a.sparseTensor as SparseTensorProto) };
      case AT.FLOATS:
        return { name, type: 'floats', value: [...a.floats] };
      case AT.INTS:
        return { name, type: 'ints', value: [...a.ints] };
      case AT.STRINGS:
        return { name, type: 'strings', value: [...a.strings] };
      case AT.TENSORS:
        return { name, type: 'tensors', value: a.tensors.map((t) => this.tensor(t)) };
      case AT.GRAPHS:
        return { name, type: 'graphs', value: a.graphs.map((g) => this.graph(g)) };
      case AT.SPARSE_TENSORS:
        return { name, type: 'sparse_tensors', value: a.sparseTensors.map((s) => this.sparse(s)) };
      case AT.TYPE_PROTO:
      case AT.TYPE_PROTOS:
        return { name, type: 'opaque', proto: toBinary(AttributeProtoSchema, a) };
      default:
        throw new InputError(`${this.label}: node '${n.name || n.opType}' has attribute '${name}' of unknown type ${a.type}`, this.label);
    }
  }

  valueInfo(v: ValueInfoProto): ValueInfo {
    const extra = v.metadataProps.length ? toBinary(ValueInfoProtoSchema, create(ValueInfoProtoSchema, { metadataProps: v.metadataProps })) : undefined;
    return { name: v.name, type: v.type ? this.valueType(v.type) : undefined, docString: v.docString || undefined, extra };
  }

  valueType(t: TypeProto): ValueType {
    const v = t.value;
    if (v.case === 'tensorType' || v.case === 'sparseTensorType') {
      const shape = v.value.shape?.dim.map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : null));
      const dimDenotations = v.value.shape?.dim.some((d) => d.denotation);
      // Dimension denotations are rare; keep such types opaque rather than lose them.
      if (!dimDenotations) {
        return { kind: 'tensor', elemType: v.value.elemType as DataType, shape, sparse: v.case === 'sparseTensorType' || undefined, denotation: t.denotation || undefined };
      }
    }
    return { kind: 'opaque', proto: toBinary(TypeProtoSchema, t) };
  }

  sparse(s: SparseTensorProto): SparseTensor {
    if (!s.values || !s.indices) throw new InputError(`${this.label}: a sparse tensor lacks its values or indices`, this.label);
    return { values: this.tensor(s.values), indices: this.tensor(s.indices), dims: s.dims.map(Number) };
  }

  tensor(t: TensorProto): Tensor {
    const name = t.name;
    const what = () => `${this.label}: tensor '${name}'`;
    if (!isKnownDataType(t.dataType) || t.dataType === DataType.UNDEFINED) {
      throw new InputError(`${what()} has unknown data type ${t.dataType}; this build of prune-gate knows ONNX types 1-26`, this.label);
    }
    const dims = t.dims.map((d) => {
      if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(`${what()} has an invalid dimension ${d}`, this.label);
      return Number(d);
    });
    const extra = t.segment || t.metadataProps.length ? toBinary(TensorProtoSchema, create(TensorProtoSchema, { segment: t.segment, metadataProps: t.metadataProps })) : undefined;
    const base = { name, dataType: t.dataType as DataType, dims, docString: t.docString || undefined, extra };
    const count = elementCount(dims);
    if (t.dataType === DataType.STRING) {
      if (t.stringData.length !== count && !t.segment) throw new InputError(`${what()} has ${t.stringData.length} strings for shape [${dims}]`, this.label);
      return { ...base, raw: new Uint8Array(0), strings: [...t.stringData] };
    }
    const expected = byteLength(t.dataType, count);
    if (t.dataLocation === 1) {
      const { raw, external } = this.readExternal(t, expected);
      return { ...base, raw, external };
    }
    const raw = t.rawData.byteLength > 0 || expected === 0 ? t.rawData : typedFieldsToRaw(t, count);
    if (raw.byteLength !== expected && !t.segment) {
      throw new InputError(`${what()} holds ${raw.byteLength} bytes but ${dataTypeName(t.dataType)}[${dims.join(',')}] needs ${expected}`, this.label);
    }
    return { ...base, raw };
  }

  private readExternal(t: TensorProto, expected: number): { raw: Uint8Array; external: Tensor['external'] } {
    const what = `${this.label}: tensor '${t.name}'`;
    const entries = new Map(t.externalData.map((e) => [e.key, e.value]));
    const location = entries.get('location');
    if (!location) throw new InputError(`${what} is stored externally but names no location`, this.label);
    const offset = parseCount(entries.get('offset') ?? '0', `${what}: external data offset`);
    const length = entries.has('length') ? parseCount(entries.get('length') as string, `${what}: external data length`) : expected;
    if (length !== expected) throw new InputError(`${what}: external data length ${length} does not match the ${expected} bytes its shape needs`, this.label);
    const file = this.resolveExternal(location, what);
    let handle = this.fds.get(file);
    if (!handle) {
      const fd = fs.openSync(file, 'r');
      handle = { fd, size: fs.fstatSync(fd).size };
      this.fds.set(file, handle);
    }
    if (offset + length > handle.size) {
      throw new InputError(`${what}: external file '${location}' holds ${handle.size} bytes, too short for offset ${offset} + length ${length}`, this.label);
    }
    const raw = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(handle.fd, raw, done, length - done, offset + done);
      if (n === 0) throw new InputError(`${what}: external file '${location}' ended early`, this.label);
      done += n;
    }
    return { raw: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), external: { location, offset, length } };
  }

  /** Refuses absolute paths, '..' escapes, and links whose target leaves the model's folder. */
  private resolveExternal(location: string, what: string): string {
    if (!this.baseDir) throw new InputError(`${what} is stored in external file '${location}', but the model was not loaded from a file`, this.label);
    if (path.isAbsolute(location) || /^[a-zA-Z]:[\\/]/.test(location) || location.startsWith('\\')) {
      throw new InputError(`${what}: external data location '${location}' is absolute; it must be a path relative to the model's folder`, this.label);
    }
    this.realBase ??= fs.realpathSync(this.baseDir);
    const joined = path.resolve(this.realBase, location);
    if (!isInside(this.realBase, joined)) {
      throw new InputError(`${what}: external data location '${location}' leaves the model's folder; refused`, this.label);
    }
    let real: string;
    try {
      real = fs.realpathSync(joined);
    } catch {
      throw new InputError(`${what}: external data file '${location}' is missing (looked in ${this.realBase})`, this.label);
    }
    if (!isInside(this.realBase, real)) {
      throw new InputError(`${what}: external data file '${location}' is a link pointing outside the model's folder; refused`, this.label);
    }
    if (!fs.statSync(real).isFile()) throw new InputError(`${what}: external data location '${location}' is not a file`, this.label);
    return real;
  }
}

/** 'ai.onnx' is the default domain's other spelling; a model naming both keeps one entry. */
function opsetImports(list: Array<{ domain: string; version: bigint }>): OpsetImport[] {
  const out: OpsetImport[] = [];
  for (const o of list) {
    const domain = o.domain === 'ai.onnx' ? '' : o.domain;
    const version = Number(o.version);
    const seen = out.find((e) => e.domain === domain);
    if (seen) seen.version = Math.max(seen.version, version);
    else out.push({ domain, version });
  }
  return out;
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function parseCount(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) > Number.MAX_SAFE_INTEGER) throw new InputError(`${what} '${text}' is not a byte count`);
  return Number(text);
}

/** Converts the typed repeated fields of a TensorProto into raw little-endian bytes (also used by tensor-file.ts). */
export function typedFieldsToRaw(t: TensorProto, count: number): Uint8Array {
  const dt = t.dataType as DataType;
  switch (dt) {
    case DataType.FLOAT:
    case DataType.COMPLEX64:
      return bytesOf(Float32Array.from(t.floatData));
    case DataType.DOUBLE:
    case DataType.COMPLEX128:
      return bytesOf(Float64Array.from(t.doubleData));
    case DataType.INT64:
      return bytesOf(BigInt64Array.from(t.int64Data));
    case DataType.UINT32:
      return bytesOf(Uint32Array.from(t.uint64Data, Number));
    case DataType.UINT64:
      return bytesOf(BigUint64Array.from(t.uint64Data));
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
    case DataType.INT4:
    case DataType.UINT4:
    case DataType.FLOAT4E2M1:
    case DataType.INT2:
    case DataType.UINT2: {
      // The spec (and ORT, onnx.helper) store one packed byte per int32; some writers store one
      // element per int32 instead. The count tells them apart.
      const bits = dt === DataType.INT2 || dt === DataType.UINT2 ? 2 : 4;
      const packedLength = Math.ceil((count * bits) / 8);
      if (t.int32Data.length === packedLength || t.int32Data.length !== count) return Uint8Array.from(t.int32Data, (v) => v & 0xff);
      const out = new Uint8Array(packedLength);
      const perByte = 8 / bits;
      const mask = (1 << bits) - 1;
      for (let i = 0; i < count; i++) out[Math.floor(i / perByte)] |= (t.int32Data[i] & mask) << ((i % perByte) * bits);
      return out;
    }
    default:
      // uint8, bool and the float8 variants: one element per int32.
      return Uint8Array.from(t.int32Data, (v) => v & 0xff);
  }
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
