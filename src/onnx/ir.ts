/**
 * The in-memory model every pass edits. Plain data: no protobuf types leak in here
 * (import.ts and export.ts are the only files that know the wire format).
 *
 * Values are named by strings, as in ONNX itself: a node's inputs and outputs are value names,
 * an empty string is an omitted optional input. graph-ops.ts derives producers and consumers.
 */

/** ONNX TensorProto.DataType codes. */
export enum DataType {
  UNDEFINED = 0,
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  STRING = 8,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  UINT32 = 12,
  UINT64 = 13,
  COMPLEX64 = 14,
  COMPLEX128 = 15,
  BFLOAT16 = 16,
  FLOAT8E4M3FN = 17,
  FLOAT8E4M3FNUZ = 18,
  FLOAT8E5M2 = 19,
  FLOAT8E5M2FNUZ = 20,
  UINT4 = 21,
  INT4 = 22,
  FLOAT4E2M1 = 23,
  FLOAT8E8M0 = 24,
  UINT2 = 25,
  INT2 = 26,
}

/** Where a tensor's bytes came from, kept so that `inspect` can report external data files. */
export interface ExternalSource {
  location: string;
  offset: number;
  length: number;
}

/**
 * A dense tensor. `raw` holds the little-endian bytes exactly as ONNX's raw_data lays them out
 * (sub-byte types packed two or four to a byte); for STRING tensors `strings` holds the elements.
 * `raw` is usually a view into the file buffer: treat it as read-only and replace it, never write into it.
 */
export interface Tensor {
  name: string;
  dataType: DataType;
  dims: number[];
  raw: Uint8Array;
  strings?: Uint8Array[];
  docString?: string;
  /** Set on import when the bytes lived in an external file. Export decides afresh where to put them. */
  external?: ExternalSource;
  /** Opaque extras (segment, metadata_props) carried through unchanged. */
  extra?: Uint8Array;
}

export interface SparseTensor {
  values: Tensor;
  indices: Tensor;
  dims: number[];
}

/** A dimension: a fixed size, a symbolic name, or unknown. */
export type Dim = number | string | null;

export type ValueType =
  | { kind: 'tensor'; elemType: DataType; shape?: Dim[]; sparse?: boolean; denotation?: string }
  /** Sequence, map, optional and other types the passes do not inspect: kept as serialized TypeProto bytes. */
  | { kind: 'opaque'; proto: Uint8Array };

export interface ValueInfo {
  name: string;
  type?: ValueType;
  docString?: string;
  /** Opaque extras (metadata_props) carried through unchanged. */
  extra?: Uint8Array;
}

export type Attribute =
  | { name: string; type: 'float'; value: number }
  | { name: string; type: 'int'; value: bigint }
  | { name: string; type: 'string'; value: Uint8Array }
  | { name: string; type: 'tensor'; value: Tensor }
  | { name: string; type: 'graph'; value: Graph }
  | { name: string; type: 'sparse_tensor'; value: SparseTensor }
  | { name: string; type: 'floats'; value: number[] }
  | { name: string; type: 'ints'; value: bigint[] }
  | { name: string; type: 'strings'; value: Uint8Array[] }
  | { name: string; type: 'tensors'; value: Tensor[] }
  | { name: string; type: 'graphs'; value: Graph[] }
  | { name: string; type: 'sparse_tensors'; value: SparseTensor[] }
  /** type_proto(s) attributes and references to a function's attributes, kept as serialized AttributeProto. */
  | { name: string; type: 'opaque'; proto: Uint8Array };

export interface Node {
  name: string;
  opType: string;
  /** '' is the default ONNX domain (also written 'ai.onnx'). */
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Attribute[];
  docString?: string;
  overload?: string;
  /** Opaque extras (metadata_props, device configurations) carried through unchanged. */
  extra?: Uint8Array;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: ValueInfo[];
  initializers: Tensor[];
  sparseInitializers: SparseTensor[];
  docString?: string;
  /** Opaque extras (quantization annotations, metadata_props) carried through unchanged. */
  extra?: Uint8Array;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface FunctionDef {
  name: string;
  domain: string;
  overload?: string;
  inputs: string[];
  outputs: string[];
  attributes: string[];
  nodes: Node[];
  opsetImports: OpsetImport[];
  docString?: string;
  /** attribute_proto defaults, value_info, metadata_props: serialized and carried through. */
  extra?: Uint8Array;
}

export interface Model {
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: bigint;
  docString: string;
  metadata: Array<{ key: string; value: string }>;
  graph: Graph;
  functions: FunctionDef[];
  /** training_info and configuration: serialized and carried through unchanged. */
  extra?: Uint8Array;
}

export function emptyGraph(name = 'graph'): Graph {
  return { name, nodes: [], inputs: [], outputs: [], valueInfo: [], initializers: [], sparseInitializers: [] };
}

export function createModel(graph: Graph, opsetImports: OpsetImport[], irVersion = 8): Model {
  return {
    irVersion,
    opsetImports,
    producerName: 'prune-gate',
    producerVersion: '',
    domain: '',
    modelVersion: 0n,
    docString: '',
    metadata: [],
    graph,
    functions: [],
  };
}
