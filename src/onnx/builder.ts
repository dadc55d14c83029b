/**
 * A small fluent builder for graphs, used by tests, examples and passes that emit new subgraphs.
 *
 *   const b = new GraphBuilder('mlp');
 *   const x = b.input('x', DataType.FLOAT, ['N', 784]);
 *   const h = b.op('Relu', [b.op('Gemm', [x, b.constant(w1), b.constant(b1)], { transB: 1 })]);
 *   b.output(h, DataType.FLOAT, ['N', 128]);
 *   const model = b.model({ opset: 17 });
 */
import { createModel, type Attribute, type DataType, type Dim, type Graph, type Model, type Node, type Tensor } from './ir.js';
import { floatAttr, intAttr, intsAttr, stringAttr } from './graph-ops.js';

export type AttrValue = number | bigint | string | number[] | Tensor | Graph | { float: number } | { floats: number[] };

export class GraphBuilder {
  readonly graph: Graph;
  private counter = 0;

  constructor(name = 'graph') {
    this.graph = { name, nodes: [], inputs: [], outputs: [], valueInfo: [], initializers: [], sparseInitializers: [] };
  }

  input(name: string, elemType: DataType, shape: Dim[]): string {
    this.graph.inputs.push({ name, type: { kind: 'tensor', elemType, shape } });
    return name;
  }

  output(name: string, elemType: DataType, shape?: Dim[]): string {
    this.graph.outputs.push({ name, type: { kind: 'tensor', elemType, shape } });
    return name;
  }

  /** Adds an initializer and returns its name. */
  constant(tensor: Tensor): string {
    this.graph.initializers.push(tensor);
    return tensor.name;
  }

  /**
   * Adds a node and returns its first output's name. Integer attributes are ints, number arrays are
   * ints (use { floats: [...] } / { float: x } for floats), strings are strings.
   */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, options: { outputs?: number | string[]; domain?: string; name?: string } = {}): string {
    return this.opMulti(opType, inputs, attrs, options)[0];
  }

  opMulti(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, options: { outputs?: number | string[]; domain?: string; name?: string } = {}): string[] {
    const id = this.counter++;
    const name = options.name ?? `${opType}_${id}`;
    const outputs = Array.isArray(options.outputs) ? options.outputs : Array.from({ length: options.outputs ?? 1 }, (_, k) => `${name}_out${k}`);
    const node: Node = { name, opType, domain: options.domain ?? '', inputs, outputs, attributes: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)) };
    this.graph.nodes.push(node);
    return outputs;
  }

  model(options: { opset?: number; irVersion?: number; extraOpsets?: Array<{ domain: string; version: number }> } = {}): Model {
    return createModel(this.graph, [{ domain: '', version: options.opset ?? 17 }, ...(options.extraOpsets ?? [])], options.irVersion ?? 8);
  }
}

function toAttribute(name: string, v: AttrValue): Attribute {
  if (typeof v === 'number') return Number.isInteger(v) ? intAttr(name, v) : floatAttr(name, v);
  if (typeof v === 'bigint') return intAttr(name, v);
  if (typeof v === 'string') return stringAttr(name, v);
  if (Array.isArray(v)) return intsAttr(name, v);
  if ('float' in v) return floatAttr(name, v.float);
  if ('floats' in v) return { name, type: 'floats', value: v.floats };
  if ('nodes' in v) return { name, type: 'graph', value: v };
  return { name, type: 'tensor', value: v };
}
