/**
 * Shapes of the pruned graph from the shapes probed before pruning, without a second ORT run (which
 * would hold another copy of the weights while the input model and the pruned one are both alive).
 *
 * Removal changes a value's shape only along the axis its layout tracks, by the positions removed
 * there; every other value keeps its shape. That holds when (checked here, else undefined and the
 * caller probes again):
 *  - the first probe saw every value;
 *  - every node that reads a value whose shape changed writes only traced values (or is Shape/Size);
 *  - no value whose contents changed (weights, and everything downstream of them) reaches an input
 *    whose contents decide an output shape (Reshape's shape, Slice bounds, NonZero, unknown ops...),
 *    except the shape constants removal itself rewrote for traced outputs.
 */
import { nodeInputsWithSubgraphs, subgraphsOf, type Model, type Tensor } from '../../onnx/index.js';
import { removedPositions, type DepGraph } from './depgraph.js';

/** Ops whose output shapes follow from input shapes and attributes alone, whatever the inputs hold. */
const SHAPE_FROM_SHAPES = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Gelu',
  'Erf', 'Exp', 'Log', 'Abs', 'Neg', 'Sqrt', 'Reciprocal', 'Identity', 'Dropout', 'Cast', 'CastLike', 'Ceil', 'Floor', 'Round', 'Sign',
  'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Mish', 'ThresholdedRelu', 'Clip', 'IsNaN', 'IsInf', 'Not',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Mean', 'Sum', 'Where', 'Equal', 'Less', 'LessOrEqual', 'Greater',
  'GreaterOrEqual', 'And', 'Or', 'Xor', 'MatMul', 'Gemm', 'Conv', 'ConvTranspose', 'BatchNormalization', 'InstanceNormalization',
  'LayerNormalization', 'GroupNormalization', 'LpNormalization', 'MeanVarianceNormalization', 'Softmax', 'LogSoftmax', 'Hardmax',
  'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool', 'GlobalLpPool', 'Transpose', 'Flatten', 'Concat',
  'Gather', 'GatherElements', 'Shape', 'Size', 'Einsum', 'ArgMax', 'ArgMin', 'DepthToSpace', 'SpaceToDepth', 'CumSum', 'Trilu',
]);

/** Ops whose output shapes depend on the contents of these inputs. */
const SHAPE_FROM_VALUES: Record<string, number[]> = {
  Reshape: [1],
  Expand: [1],
  Tile: [1],
  Slice: [1, 2, 3, 4],
  Split: [1],
  Squeeze: [1],
  Unsqueeze: [1],
  ReduceMean: [1],
  ReduceSum: [1],
  ReduceMax: [1],
  ReduceMin: [1],
  ReduceProd: [1],
  ReduceL1: [1],
  ReduceL2: [1],
  ReduceLogSum: [1],
  ReduceLogSumExp: [1],
  ReduceSumSquare: [1],
  Pad: [1, 3],
  Resize: [1, 2, 3],
  Upsample: [1],
};

/**
 * `probed`: shapes of every value before repair and removal; `initializersThen`: the model's
 * initializers at that time (tensors are replaced, never written, so identity tells what changed).
 * Returns the shapes of every value of `model` after removal, or undefined when they cannot be
 * derived safely.
 */
export function shapesAfterRemoval(model: Model, dg: DepGraph, removed: Map<number, Set<number>>, probed: Map<string, number[]>, initializersThen: Map<string, Tensor>): Map<string, number[]> | undefined {
  const g = model.graph;
  const initializers = new Map(g.initializers.map((t) => [t.name, t]));
  const changedShape = new Map<string, number[]>();
  for (const [value, layout] of dg.layouts) {
    const r = removedPositions(dg, layout, removed).size;
    if (!r) continue;
    const dims = probed.get(value);
    if (!dims || dims.length !== layout.rank || dims[layout.axis] !== layout.size) return undefined;
    const next = [...dims];
    next[layout.axis] -= r;
    changedShape.set(value, next);
  }
  const tainted = new Set<string>();
  const shapeChanged = new Set<string>(changedShape.keys());
  for (const t of g.initializers) {
    const then = initializersThen.get(t.name);
    if (then === t) continue;
    tainted.add(t.name);
    if (!then || then.dims.length !== t.dims.length || then.dims.some((d, i) => d !== t.dims[i])) shapeChanged.add(t.name);
  }
  for (const n of g.nodes) {
    const reads = nodeInputsWithSubgraphs(n);
    const anyTainted = reads.some((v) => v && tainted.has(v));
    const anyReshaped = reads.some((v) => v && shapeChanged.has(v));
    if (!anyTainted && !anyReshaped) continue;
    if ((n.domain !== '' && n.domain !== 'ai.onnx') || subgraphsOf(n).length) return undefined;
    const outputsTraced = n.outputs.every((o) => !o || dg.layouts.has(o));
    const valueInputs = SHAPE_FROM_VALUES[n.opType];
    if (!valueInputs && !SHAPE_FROM_SHAPES.has(n.opType)) return undefined;
    for (const i of valueInputs ?? []) {
      const v = n.inputs[i];
      if (v && tainted.has(v) && !(initializers.has(v) && outputsTraced)) return undefined;
    }
    const shapeOnly = n.opType === 'Shape' || n.opType === 'Size';
    if (anyReshaped && !shapeOnly && !outputsTraced) return undefined;
    // Shape and Size read only the shape; everything else passes changed contents on.
    if (shapeOnly ? shapeChanged.has(n.inputs[0]) : true) for (const o of n.outputs) if (o) tainted.add(o);
  }
  const out = new Map<string, number[]>();
  for (const [value, dims] of probed) if (!initializersThen.has(value)) out.set(value, changedShape.get(value) ?? dims);
  for (const t of g.initializers) out.set(t.name, [...t.dims]);
  return out;
}
