/**
 * IR -> ONNX file. One of the two files that touch protobuf (import.ts is the other).
 *
 * Tensors above a size threshold can go to a side file (external data); they always do when the
 * model would pass protobuf's 2 GiB limit. Output is deterministic: the same IR gives the same bytes.
 */
import * as path from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AT,
  AttributeProtoSchema,
  FunctionProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  SparseTensorProtoSchema,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_SparseTensorSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
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
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Attribute, FunctionDef, Graph, Model, Node, OpsetImport, SparseTensor, Tensor, ValueInfo, ValueType } from './ir.js';

/** Protobuf cannot encode a message of 2 GiB or more; stay clear of it. */
const PROTOBUF_LIMIT = 2 ** 31 - 64 * 1024 * 1024;
const EXTERNAL_ALIGNMENT = 64;

export interface SaveOptions {
  /**
   * Tensors of at least this many bytes go to the external data file. Undefined: inline, unless the
   * model would pass protobuf's 2 GiB limit, in which case tensors of 1 KiB and up go external.
   */
  externalThreshold?: number;
  /** Name of the external data file, relative to the model (default: `<model file name>.data`). */
  externalLocation?: string;
}

export interface SerializedModel {
  bytes: Uint8Array;
  /** External data: the side file's location and its contents in order. */
  external?: { location: string; chunks: Uint8Array[]; size: number };
}

/** The model as inline ONNX bytes (for sessions created from a buffer, hashing, tests). */
export function encodeModel(model: Model): Uint8Array {
  const out = serializeModel(model, {}, 'model.onnx');
  // Dropping the side file would hand ORT a model whose weights are nowhere: refuse instead.
  if (out.external) throw new Error(`model '${model.graph.name}' is too large for one buffer (over 2 GiB of tensors); save it to a file with saveModel`);
  return out.bytes;
}

export function serializeModel(model: Model, options: SaveOptions, fileName: string): SerializedModel {
  let threshold = options.externalThreshold;
  if (threshold === undefined && inlineSize(model) > PROTOBUF_LIMIT) threshold = 1024;
  const writer = new ExportContext(threshold, options.externalLocation ?? `${path.basename(fileName)}.data`);
  const bytes = toBinary(ModelProtoSchema, writer.model(model));
  return { bytes, external: writer.chunks.length ? { location: writer.location, chunks: writer.chunks, size: writer.offset } : undefined };
}

/** Writes the model (and its external data file, if any) atomically. Returns the files written. */
export function saveModel(model: Model, file: string, options: SaveOptions = {}): string[] {
  const out = serializeModel(model, options, file);
  const written: string[] = [];
  if (out.external) {
    const dataFile = path.join(path.dirname(file), out.external.location);
    writeFileAtomic(dataFile, out.external.chunks);
    written.push(dataFile);
  }
  writeFileAtomic(file, out.bytes);
  written.push(file);
  return written;
}

/** Bytes of tensor data the model would hold inline. */
function inlineSize(model: Model): number {
  let total = 0;
  const visit = (g: Graph) => {
    for (const t of g.initializers) total += t.raw.byteLength;
    for (const s of g.sparseInitializers) total += s.values.raw.byteLength + s.indices.raw.byteLength;
    for (const n of g.nodes) for (const a of n.attributes) {
      if (a.type === 'graph') visit(a.value);
      else if (a.type === 'graphs') a.value.forEach(visit);
      else if (a.type === 'tensor') total += a.value.raw.byteLength;
    }
  };
  visit(model.graph);
  return total;
}

class ExportContext {
  readonly chunks: Uint8Array[] = [];
  offset = 0;

  constructor(
    private readonly threshold: number | undefined,
    readonly location: string,
  ) {}

  model(m: Model): ModelProto {
    const p = m.extra ? fromBinary(ModelProtoSchema, m.extra) : create(ModelProtoSchema);
    p.irVersion = BigInt(m.irVersion);
    p.opsetImport = m.opsetImports.map(opset);
    p.producerName = m.producerName;
    p.producerVersion = m.producerVersion;
    p.domain = m.domain;
    p.modelVersion = m.modelVersion;
    p.docString = m.docString;
    p.metadataProps = m.metadata.map((e) => create(StringStringEntryProtoSchema, e));
    p.graph = this.graph(m.graph, true);
    p.functions = m.functions.map((f) => this.func(f));
    return p;
  }

  graph(g: Graph, topLevel = false): GraphProto {
    const p = g.extra ? fromBinary(GraphProtoSchema, g.extra) : create(GraphProtoSchema);
    p.name = g.name;
    p.node = g.nodes.map((n) => this.node(n));
    p.input = g.inputs.map(valueInfo);
    p.output = g.outputs.map(valueInfo);
    p.valueInfo = g.valueInfo.map(valueInfo);
    // Only top-level initializers go to external data: ORT resolves external data for subgraph
    // initializers too, but keeping subgraphs self-contained is what every exporter does.
    p.initializer = g.initializers.map((t) => this.tensor(t, topLevel));
    p.sparseInitializer = g.sparseInitializers.map((s) => this.sparse(s));
    p.docString = g.docString ?? '';
    return p;
  }

  func(f: FunctionDef): FunctionProto {
    const p = f.extra ? fromBinary(FunctionProtoSchema, f.extra) : create(FunctionProtoSchema);
    p.name = f.name;
    p.domain = f.domain;
    p.overload = f.overload ?? '';
    p.input = [...f.inputs];
    p.output = [...f.outputs];
    p.attribute = [...f.attributes];
    p.node = f.nodes.map((n) => this.node(n));
    p.opsetImport = f.opsetImports.map(opset);
    p.docString = f.docString ?? '';
    return p;
  }

  node(n: Node): NodeProto {
    const p = n.extra ? fromBinary(NodeProtoSchema, n.extra) : create(NodeProtoSchema);
    p.name = n.name;
    p.opType = n.opType;
    p.domain = n.domain;
    p.input = [...n.inputs];
    p.output = [...n.outputs];
    p.attribute = n.attributes.map((a) => this.attribute(a));
    p.docString = n.docString ?? '';
    p.overload = n.overload ?? '';
    return p;
  }

  attribute(a: Attribute): AttributeProto {
    if (a.type === 'opaque') return fromBinary(AttributeProtoSchema, a.proto);
    const p = create(AttributeProtoSchema, { name: a.name });
    switch (a.type) {
      case 'float': p.type = AT.FLOAT; p.f = a.value; break;
      case 'int': p.type = AT.INT; p.i = a.value; break;
      case 'string': p.type = AT.STRING; p.s = a.value as Uint8Array<ArrayBuffer>; break;
      case 'tensor': p.type = AT.TENSOR; p.t = this.tensor(a.value, false); break;
      case 'graph': p.type = AT.GRAPH; p.g = this.graph(a.value); break;
      case 'sparse_tensor': p.type = AT.SPARSE_TENSOR; p.sparseTensor = this.sparse(a.value); break;
      case 'floats': p.type = AT.FLOATS; p.floats = [...a.value]; break;
      case 'ints': p.type = AT.INTS; p.ints = [...a.value]; break;
      case 'strings': p.type = AT.STRINGS; p.strings = a.value as Uint8Array<ArrayBuffer>[]; break;
      case 'tensors': p.type = AT.TENSORS; p.tensors = a.value.map((t) => this.tensor(t, false)); break;
      case 'graphs': p.type = AT.GRAPHS; p.graphs = a.value.map((g) => this.graph(g)); break;
      case 'sparse_tensors': p.type = AT.SPARSE_TENSORS; p.sparseTensors = a.value.map((s) => this.sparse(s)); break;
    }
    return p;
  }

  sparse(s: SparseTensor): SparseTensorProto {
    return create(SparseTensorProtoSchema, { values: this.tensor(s.values, false), indices: this.tensor(s.indices, false), dims: s.dims.map(BigInt) });
  }

  tensor(t: Tensor, mayBeExternal: boolean): TensorProto {
    const p = t.extra ? fromBinary(TensorProtoSchema, t.extra) : create(TensorProtoSchema);
    p.name = t.name;
    p.dataType = t.dataType;
    p.dims = t.dims.map(BigInt);
    p.docString = t.docString ?? '';
    if (t.strings) {
      p.stringData = t.strings as Uint8Array<ArrayBuffer>[];
      return p;
    }
    if (mayBeExternal && this.threshold !== undefined && t.raw.byteLength >= this.threshold && t.raw.byteLength > 0) {
      const pad = (EXTERNAL_ALIGNMENT - (this.offset % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
      if (pad) this.chunks.push(new Uint8Array(pad));
      this.offset += pad;
      p.dataLocation = 1;
      p.externalData = [
        create(StringStringEntryProtoSchema, { key: 'location', value: this.location }),
        create(StringStringEntryProtoSchema, { key: 'offset', value: String(this.offset) }),
        create(StringStringEntryProtoSchema, { key: 'length', value: String(t.raw.byteLength) }),
      ];
      this.chunks.push(t.raw);
      this.offset += t.raw.byteLength;
      return p;
    }
    p.rawData = t.raw as Uint8Array<ArrayBuffer>;
    return p;
  }
}

function opset(o: OpsetImport) {
  return create(OperatorSetIdProtoSchema, { domain: o.domain, version: BigInt(o.version) });
}

function valueInfo(v: ValueInfo): ValueInfoProto {
  const p = v.extra ? fromBinary(ValueInfoProtoSchema, v.extra) : create(ValueInfoProtoSchema);
  p.name = v.name;
  if (v.type) p.type = valueType(v.type);
  p.docString = v.docString ?? '';
  return p;
}

function valueType(t: ValueType): TypeProto {
  if (t.kind === 'opaque') return fromBinary(TypeProtoSchema, t.proto);
  const shape = t.shape
    ? create(TensorShapeProtoSchema, {
        dim: t.shape.map((d) =>
          create(TensorShapeProto_DimensionSchema, {
            value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : typeof d === 'string' ? { case: 'dimParam', value: d } : { case: undefined },
          }),
        ),
      })
    : undefined;
  const inner = { elemType: t.elemType, shape };
  return create(TypeProtoSchema, {
    denotation: t.denotation ?? '',
    value: t.sparse
      ? { case: 'sparseTensorType', value: create(TypeProto_SparseTensorSchema, inner) }
      : { case: 'tensorType', value: create(TypeProto_TensorSchema, inner) },
  });
}
