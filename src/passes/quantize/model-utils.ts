/** Small graph helpers shared by the quantization passes (no quantization logic here). */
import { DataType, elementCount, type Graph, type Model, type Node, type Tensor } from '../../onnx/index.js';

/** A copy whose graph lists and nodes can be edited freely; tensor bytes are shared (read-only). */
export function cloneModel(model: Model): Model {
  return {
    ...model,
    opsetImports: model.opsetImports.map((o) => ({ ...o })),
    metadata: model.metadata.map((m) => ({ ...m })),
    graph: cloneGraph(model.graph),
  };
}

function cloneGraph(g: Graph): Graph {
  return {
    ...g,
    nodes: g.nodes.map(cloneNode),
    inputs: g.inputs.map((v) => ({ ...v })),
    outputs: g.outputs.map((v) => ({ ...v })),
    valueInfo: g.valueInfo.map((v) => ({ ...v })),
    initializers: [...g.initializers],
    sparseInitializers: [...g.sparseInitializers],
  };
}

function cloneNode(n: Node): Node {
  // Subgraphs are cloned too: the opset upgrade rewrites nodes inside If/Loop bodies in place.
  const attributes = n.attributes.map((a) => (a.type === 'graph' ? { ...a, value: cloneGraph(a.value) } : a.type === 'graphs' ? { ...a, value: a.value.map(cloneGraph) } : { ...a }));
  return { ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes };
}

/** Weight elements: initializers with more than one element, except int64 shape/index constants. */
export function countParams(model: Model): number {
  let n = 0;
  for (const t of model.graph.initializers) {
    if (t.dataType === DataType.INT64) continue;
    const c = elementCount(t.dims);
    if (c > 1) n += c;
  }
  return n;
}

export function initializerBytes(model: Model): number {
  return model.graph.initializers.reduce((a, t: Tensor) => a + t.raw.byteLength, 0);
}

export function formatMb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}
