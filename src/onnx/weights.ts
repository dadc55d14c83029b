/**
 * How much model a model holds: its parameter count and the bytes of its initializers. One
 * definition for every pass, so "params before -> after" in the report compares like with like
 * whether a pass pruned, sparsified or quantized.
 */
import { DataType, type Graph, type Model, type Node } from './ir.js';
import { getInt } from './graph-ops.js';
import { elementCount } from './tensor-data.js';

/**
 * Input slots that hold quantization parameters (scales and zero points), not weights: a tensor
 * read only through these slots is not a parameter. The weight itself (a DequantizeLinear's int8
 * input, an integer MatMul's B) is.
 */
const QUANT_PARAM_SLOTS: Record<string, readonly number[]> = {
  QuantizeLinear: [1, 2],
  DequantizeLinear: [1, 2],
  MatMulInteger: [2, 3],
  ConvInteger: [2, 3],
  DynamicQuantizeMatMul: [2, 3],
  MatMulNBits: [2, 3],
  QLinearConv: [1, 2, 4, 5, 6, 7],
  QLinearMatMul: [1, 2, 4, 5, 6, 7],
};

/**
 * Parameters of the main graph, in elements of their logical shape: every initializer (dense or
 * sparse) with more than one element, except int64 shape and index constants and tensors read only
 * as quantization scales or zero points. A MatMulNBits weight counts as its K x N values, not its
 * packed bytes. Quantization therefore keeps the count; pruning lowers it.
 */
export function countParams(model: Model): number {
  const g = model.graph;
  const weightUse = weightUses(g);
  let n = 0;
  const add = (name: string, dataType: DataType, dims: readonly number[]) => {
    if (dataType === DataType.INT64) return;
    const use = weightUse.get(name);
    if (use === 'quant-param') return;
    const count = typeof use === 'number' ? use : elementCount(dims);
    if (count > 1) n += count;
  };
  for (const t of g.initializers) add(t.name, t.dataType, t.dims);
  for (const s of g.sparseInitializers) add(s.values.name, s.values.dataType, s.dims);
  return n;
}

/**
 * Per tensor read by a node: 'quant-param' when every read is a scale or zero-point slot, or its
 * logical element count when a MatMulNBits packs it (otherwise absent: counted by its dims).
 */
function weightUses(g: Graph): Map<string, 'quant-param' | number> {
  const asParam = new Map<string, boolean>();
  const packed = new Map<string, number>();
  const note = (name: string, isParam: boolean) => asParam.set(name, (asParam.get(name) ?? true) && isParam);
  for (const node of g.nodes) {
    const slots = node.domain === '' || node.domain === 'com.microsoft' ? QUANT_PARAM_SLOTS[node.opType] : undefined;
    node.inputs.forEach((name, slot) => {
      if (name) note(name, slots?.includes(slot) ?? false);
    });
    if (node.opType === 'MatMulNBits' && node.inputs[1]) packed.set(node.inputs[1], nbitsElements(node));
  }
  const out = new Map<string, 'quant-param' | number>();
  for (const [name, isParam] of asParam) if (isParam) out.set(name, 'quant-param');
  for (const [name, count] of packed) out.set(name, count);
  return out;
}

function nbitsElements(node: Node): number {
  return getInt(node, 'K', 0) * getInt(node, 'N', 0);
}

/** Bytes of the main graph's initializers as stored (raw data, external data included). */
export function initializerBytes(model: Model): number {
  return model.graph.initializers.reduce((a, t) => a + t.raw.byteLength, 0);
}
