/**
 * Decides which nodes the static pass quantizes (pure graph analysis, no data): walks the graph in
 * topological order growing "quantized regions" from Conv/MatMul/Gemm, so data-movement and
 * elementwise ops are quantized only where their inputs are already quantized (a lone Q -> Reshape
 * -> DQ between float ops would only add work). Relu/Clip(0, max) right after a quantized op are
 * folded into that op's output quantization.
 */
import { DataType, getFloat, type GraphIndex, type Model, type Node } from '../../onnx/index.js';
import type { Skipped } from '../types.js';
import { QDQ_RULES, UNSUPPORTED_REASON, needsQuantizedInput, type QuantRule } from './qdq-rules.js';

export interface PlannedNode {
  node: Node;
  rule: QuantRule;
  /** Constant weight input slot and its per-channel axis (-1 per tensor). */
  weight?: { input: number; axis: number };
  /** Activation input slots (excluding the weight). */
  activations: number[];
  /** The Relu/Clip folded into this node's output, and the clamp it implies. */
  fold?: { node: Node; max?: number };
  /** Name of the tensor the output Q/DQ produces (the folded activation's output when folded). */
  output: string;
  /** False for MatMul/Gemm whose consumers are all float: ORT fuses to a float-output kernel. */
  quantizeOutput: boolean;
}

export interface QdqPlan {
  nodes: PlannedNode[];
  skipped: Skipped[];
}

/** Ops that are neither quantized nor worth a line in the summary (shape plumbing, constants). */
const QUIET = new Set(['Constant', 'Shape', 'Cast', 'Identity', 'Relu', 'Clip']);

export function planQdq(model: Model, index: GraphIndex, options: { exclude: Set<string>; opTypes?: Set<string>; perChannel: boolean; extraSkips: Map<string, string> }): QdqPlan {
  const g = model.graph;
  const quantizedValues = new Set<string>();
  const plannedByNode = new Map<Node, PlannedNode>();
  const skipped: Skipped[] = [];
  const isFloatConst = (name: string) => index.initializer.get(name)?.dataType === DataType.FLOAT;
  const folded = new Set<Node>();

  for (const n of g.nodes) {
    const label = n.name || n.outputs[0];
    const rule = n.domain === '' ? QDQ_RULES[n.opType] : undefined;
    const skip = (reason: string) => {
      if (!QUIET.has(n.opType) || reason.startsWith('excluded')) skipped.push({ what: `${label} (${n.opType})`, reason });
    };
    if (folded.has(n)) continue;
    if (!rule) {
      skip(n.domain !== '' ? `custom domain '${n.domain}'` : (UNSUPPORTED_REASON[n.opType] ?? 'unsupported op: ORT CPU has no QDQ fusion for it'));
      continue;
    }
    if (options.exclude.has(n.name)) {
      skip('excluded (nodesToExclude)');
      continue;
    }
    if (options.opTypes && !options.opTypes.has(n.opType)) {
      skip('op type not in opTypesToQuantize');
      continue;
    }
    const extra = options.extraSkips.get(n.name);
    if (extra) {
      skip(extra);
      continue;
    }
    const problem = rule.check?.(n, index);
    if (problem) {
      skip(problem);
      continue;
    }
    let weight: PlannedNode['weight'];
    const slot = rule.weight?.(n);
    if (slot && n.inputs[slot.input] && index.initializer.has(n.inputs[slot.input])) {
      const w = index.initializer.get(n.inputs[slot.input]);
      if (w?.dataType !== DataType.FLOAT) {
        skip(`weights are ${w?.dataType === DataType.FLOAT16 ? 'float16' : 'not float32'}`);
        continue;
      }
      weight = { input: slot.input, axis: options.perChannel ? slot.axis(w.dims.length) : -1 };
    }
    const activations = rule.activations(n).filter((i) => n.inputs[i] && i !== weight?.input);
    if (needsQuantizedInput(rule)) {
      const dynamic = activations.filter((i) => !isFloatConst(n.inputs[i]));
      const inRegion = dynamic.filter((i) => quantizedValues.has(n.inputs[i]));
      if (inRegion.length === 0 || inRegion.length !== dynamic.length) {
        skip(inRegion.length === 0 ? 'input is not quantized (outside a quantized region)' : 'some inputs are float (mixed region)');
        continue;
      }
      if (rule.kind === 'drop' && activations.length !== 1) {
        skip('unsupported input layout');
        continue;
      }
    }
    const planned: PlannedNode = { node: n, rule, weight, activations, output: n.outputs[0], quantizeOutput: true };
    if (rule.kind !== 'drop') {
      const fold = foldableActivation(n, index, options.exclude);
      if (fold) {
        planned.fold = fold;
        planned.output = fold.node.outputs[0];
        folded.add(fold.node);
      }
    }
    plannedByNode.set(n, planned);
    quantizedValues.add(planned.output);
  }

  // A data-movement or elementwise op whose result only feeds float ops adds a DQ -> op -> Q -> DQ
  // round trip and saves nothing (PP-OCR's hard-swish: Conv -> Add(+3) -> Clip -> Div -> Mul):
  // drop such dead ends, repeatedly, since dropping one can strand its producer.
  for (let again = true; again; ) {
    again = false;
    for (const p of [...plannedByNode.values()]) {
      if (p.rule.kind === 'compute' || index.isGraphOutput(p.output)) continue;
      if (index.consumersOf(p.output).some((c) => plannedByNode.has(c))) continue;
      plannedByNode.delete(p.node);
      skipped.push({ what: `${p.node.name || p.node.outputs[0]} (${p.node.opType})`, reason: 'only float ops consume its output: quantizing it would only add a Q/DQ round trip' });
      again = true;
    }
  }

  // MatMul/Gemm without quantized consumers keep a float output (MatMulIntegerToFloat, float QGemm).
  for (const p of plannedByNode.values()) {
    if (p.rule.outputQRequired || p.fold) continue;
    const consumers = index.consumersOf(p.output);
    if (!consumers.some((c) => plannedByNode.has(c))) p.quantizeOutput = false;
  }
  return { nodes: [...plannedByNode.values()], skipped };
}

function foldableActivation(n: Node, index: GraphIndex, exclude: Set<string>): PlannedNode['fold'] {
  const out = n.outputs[0];
  if (index.isGraphOutput(out)) return undefined;
  const consumers = index.consumersOf(out);
  if (consumers.length !== 1) return undefined;
  const a = consumers[0];
  if (a.domain !== '' || exclude.has(a.name)) return undefined;
  if (a.opType === 'Relu') return { node: a };
  if (a.opType === 'Clip') {
    const lo = clipBound(a, 1, 'min', index);
    const hi = clipBound(a, 2, 'max', index);
    if (lo === 0 && hi !== undefined && hi > 0) return { node: a, max: hi };
  }
  return undefined;
}

function clipBound(n: Node, input: number, attr: string, index: GraphIndex): number | undefined {
  const name = n.inputs[input];
  if (name) {
    const t = index.initializer.get(name);
    if (!t || t.dataType !== DataType.FLOAT || t.raw.byteLength < 4) return undefined;
    return new DataView(t.raw.buffer, t.raw.byteOffset, 4).getFloat32(0, true);
  }
  const v = getFloat(n, attr, NaN);
  return Number.isNaN(v) ? undefined : v;
}
