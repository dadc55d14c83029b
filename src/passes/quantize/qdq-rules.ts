/**
 * Which operators the static QDQ pass quantizes, and how, following what ORT's CPU QDQ
 * selector/action transformer actually fuses (qdq_selector_action_transformer.cc):
 * - 'compute': Conv -> QLinearConv, MatMul -> QLinearMatMul (MatMulIntegerToFloat without an output
 *   Q), Gemm -> QGemm. Weights per-channel int8, bias int32.
 * - 'binary'/'variadic': Add, Mul -> QLinearAdd/QLinearMul, Concat -> QLinearConcat: every input DQ'd,
 *   output Q'd.
 * - 'unary': AveragePool, GlobalAveragePool, Sigmoid, LeakyRelu -> com.microsoft QLinear* ops.
 * - 'drop': MaxPool, Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Slice, Gather, Resize: ORT
 *   removes DQ -> op -> Q only when both sides share scale and zero point, so the output reuses the
 *   input's parameters.
 * Relu and Clip(0, max) are not quantized ops: they are folded into their producer's output Q
 * (zero point at the type minimum clamps at zero, as ORT's ReluQuantFusion does).
 * ConvTranspose has no CPU QDQ fusion in ORT 1.30, so it stays float rather than run as DQ->float->Q.
 */
import { getInt, getFloat, type GraphIndex, type Node } from '../../onnx/index.js';

export type RuleKind = 'compute' | 'binary' | 'variadic' | 'unary' | 'drop';

export interface WeightSlot {
  input: number;
  /** Per-channel axis for a 2-D+ constant weight given its rank, or -1 for per-tensor. */
  axis: (rank: number) => number;
}

export interface QuantRule {
  kind: RuleKind;
  /** Input slots carrying activations (quantized with calibrated per-tensor parameters). */
  activations: (n: Node) => number[];
  /** Constant weight slot (per-channel symmetric int8), if any. */
  weight?: (n: Node) => WeightSlot | undefined;
  /** Bias slot (int32 at x_scale * w_scale), if any. */
  bias?: number;
  /** Whether ORT needs a Q on the output to fuse (MatMul and Gemm fuse without one). */
  outputQRequired: boolean;
  /** Why the node cannot be quantized, or undefined when it can. */
  check?: (n: Node, index: GraphIndex) => string | undefined;
}

const first = () => [0];

/** Below this Cin*kh*kw a non-grouped Conv stays float (see the Conv check). */
export const MIN_CONV_REDUCTION = 16;

export const QDQ_RULES: Record<string, QuantRule> = {
  Conv: {
    kind: 'compute',
    activations: first,
    weight: () => ({ input: 1, axis: () => 0 }),
    bias: 2,
    outputQRequired: true,
    check: (n, index) => {
      const w = index.initializer.get(n.inputs[1]);
      if (!w) return 'weights are not a constant initializer';
      // A reduction this short (a 1-channel 3x3 stem: K = 9) leaves the int8 GEMM nothing to
      // amortize its packing over: measured 3.6x slower quantized on AVX2, and on the MNIST CNN
      // the model went from 1.25x to 1.8x faster at batch 32 with it left in float.
      const k = w.dims.slice(1).reduce((a, b) => a * b, 1);
      if (getInt(n, 'group', 1) === 1 && k < MIN_CONV_REDUCTION) return `reduction Cin*kh*kw = ${k} < ${MIN_CONV_REDUCTION}: QLinearConv measured slower than float for such shallow convolutions`;
      return undefined;
    },
  },
  MatMul: {
    kind: 'compute',
    // B is an activation too when it is not constant (attention's Q x K^T).
    activations: () => [0, 1],
    weight: () => ({ input: 1, axis: (rank) => (rank === 2 ? 1 : -1) }),
    outputQRequired: false,
  },
  Gemm: {
    kind: 'compute',
    activations: first,
    weight: (n) => ({ input: 1, axis: () => (getInt(n, 'transB', 0) ? 0 : 1) }),
    bias: 2,
    outputQRequired: false,
    check: (n, index) => {
      if (!index.initializer.has(n.inputs[1])) return 'B is not a constant initializer';
      if (getInt(n, 'transA', 0)) return 'transA=1 (QGemm fusion expects untransposed A)';
      if (n.inputs[2] && getFloat(n, 'beta', 1) !== 1) return 'beta != 1 with a bias';
      const c = n.inputs[2] ? index.initializer.get(n.inputs[2]) : undefined;
      if (n.inputs[2] && !c) return 'bias C is not a constant initializer';
      if (c && c.dims.filter((d) => d !== 1).length > 1) return 'bias C is not a vector';
      return undefined;
    },
  },
  Add: { kind: 'binary', activations: () => [0, 1], outputQRequired: true },
  Mul: { kind: 'binary', activations: () => [0, 1], outputQRequired: true },
  Concat: { kind: 'variadic', activations: (n) => n.inputs.map((_, i) => i), outputQRequired: true },
  AveragePool: { kind: 'unary', activations: first, outputQRequired: true },
  GlobalAveragePool: { kind: 'unary', activations: first, outputQRequired: true },
  Sigmoid: { kind: 'unary', activations: first, outputQRequired: true },
  LeakyRelu: { kind: 'unary', activations: first, outputQRequired: true },
  MaxPool: {
    kind: 'drop',
    activations: first,
    outputQRequired: true,
    check: (n) => (n.outputs.filter(Boolean).length > 1 ? 'MaxPool with an Indices output' : undefined),
  },
  Reshape: { kind: 'drop', activations: first, outputQRequired: true },
  Transpose: { kind: 'drop', activations: first, outputQRequired: true },
  Flatten: { kind: 'drop', activations: first, outputQRequired: true },
  Squeeze: { kind: 'drop', activations: first, outputQRequired: true },
  Unsqueeze: { kind: 'drop', activations: first, outputQRequired: true },
  Slice: { kind: 'drop', activations: first, outputQRequired: true },
  Gather: { kind: 'drop', activations: first, outputQRequired: true },
  Resize: { kind: 'drop', activations: first, outputQRequired: true },
};

/** Ops that only move or pick data: worth quantizing only inside an already-quantized region. */
export function needsQuantizedInput(rule: QuantRule): boolean {
  return rule.kind !== 'compute';
}

export const UNSUPPORTED_REASON: Record<string, string> = {
  ConvTranspose: 'ORT CPU has no QDQ fusion for ConvTranspose (it would run as DQ -> float -> Q, slower than float)',
  If: 'control flow: nodes inside its subgraphs are left in float (only the main graph is quantized)',
  Loop: 'control flow: nodes inside its subgraphs are left in float (only the main graph is quantized)',
  Scan: 'control flow: nodes inside its subgraphs are left in float (only the main graph is quantized)',
  Softmax: 'kept float: QLinearSoftmax loses accuracy on attention/logit outputs for little speed',
};
