/**
 * Static int8 QDQ quantization: calibrate activation ranges on the float model, then insert
 * QuantizeLinear/DequantizeLinear pairs the way ORT's CPU optimizer fuses them (see qdq-rules.ts).
 *
 * Naming: a quantized tensor T keeps its name as the DequantizeLinear output, so consumers and
 * graph outputs are untouched and the float and quantized graphs can be compared tensor by tensor;
 * its producer writes `T_float`, which the QuantizeLinear reads.
 */
import { InputError } from '../../util/errors.js';
import { cleanup, cloneModel, countParams, DataType, GraphIndex, initializerBytes, toposort, type Model, type Node } from '../../onnx/index.js';
import type { LayerChange, PassContext, PassResult, Skipped } from '../types.js';
import { calibrateRanges, type CalibrationMethod, type TensorRange } from './calibration.js';
import { machineQuantDefaults } from './machine.js';
import { sizeChange } from './size-note.js';
import type { ActivationType } from './params.js';
import { QdqEmitter } from './qdq-emitter.js';
import { planQdq, type PlannedNode } from './qdq-plan.js';
import { constantsToInitializers, foldBatchNorms } from './preprocess.js';
import { checkCalibration, checkFloatModel, checkNodeNames, ensureOpset } from './validate.js';

export interface StaticInt8Options {
  calibration: CalibrationMethod;
  percentile?: number;
  activationType?: 'uint8' | 'int8' | 'auto';
  perChannel?: boolean;
  weightBits?: 7 | 8;
  nodesToExclude?: string[];
  opTypesToQuantize?: string[];
}

export async function quantizeInt8Static(model: Model, options: StaticInt8Options, ctx: PassContext): Promise<PassResult> {
  const pass = 'int8-static';
  if (!['minmax', 'percentile', 'entropy'].includes(options.calibration)) {
    throw new InputError(`${pass}: calibration '${String(options.calibration)}' is not one of minmax, percentile, entropy`, 'calibration');
  }
  const percentile = options.percentile ?? 99.999;
  if (!(percentile > 50 && percentile <= 100)) throw new InputError(`${pass}: percentile ${percentile} must be in (50, 100]`, 'percentile');
  checkFloatModel(model, pass);
  const exclude = checkNodeNames(model, options.nodesToExclude);
  const batches = checkCalibration(model, ctx.calibration, pass);
  const notes: string[] = [];

  const m = cloneModel(model);
  const opsetNote = ensureOpset(m, 13, 'per-axis DequantizeLinear');
  if (opsetNote) notes.push(opsetNote);
  const moved = constantsToInitializers(m);
  const bnFolded = foldBatchNorms(m);
  if (bnFolded.length) notes.push(`folded ${bnFolded.length} BatchNormalization into the preceding Conv before quantizing`);
  if (moved) ctx.log?.(`${pass}: ${moved} Constant nodes turned into initializers`);
  toposort(m.graph);

  const machine = machineQuantDefaults();
  const actType: ActivationType = !options.activationType || options.activationType === 'auto' ? machine.activationType : options.activationType;
  const weightBits: 7 | 8 = options.weightBits ?? (actType === 'uint8' ? machine.weightBits : 8);
  if (actType === 'uint8' && weightBits === 7) notes.push(machine.weightBits === 7 ? `weights limited to 7 bits (+-63): ${machine.note}` : 'weights limited to 7 bits (+-63) as requested (this CPU has VNNI, where 8 bits do not saturate)');
  else if (actType === 'uint8' && machine.weightBits === 7) notes.push(`8-bit weights with uint8 activations on a CPU without VNNI: u8s8 products may saturate (vpmaddubsw); weightBits 7 avoids it`);
  const floatModel = cloneModel(m);
  const perChannel = options.perChannel ?? true;

  // Plan, calibrate what the plan needs; nodes whose tensors got no range are re-planned as float.
  const extraSkips = new Map<string, string>();
  const ranges = new Map<string, TensorRange>();
  let plan = planQdq(m, new GraphIndex(m.graph), { exclude, opTypes: options.opTypesToQuantize ? new Set(options.opTypesToQuantize) : undefined, perChannel, extraSkips });
  for (let round = 0; round < 4; round++) {
    const need = [...rangeTensors(plan.nodes, new GraphIndex(m.graph))].filter((t) => !ranges.has(t));
    if (need.length) {
      ctx.log?.(`${pass}: calibrating ${need.length} tensors over ${batches.length} batches (${options.calibration})`);
      const got = await calibrateRanges(floatModel, need, batches, options.calibration, percentile);
      for (const [k, v] of got) ranges.set(k, v);
    }
    const index = new GraphIndex(m.graph);
    const missing = plan.nodes.filter((p) => [...rangeTensorsOf(p, index)].some((t) => !ranges.has(t)));
    if (!missing.length) break;
    for (const p of missing) extraSkips.set(p.node.name, 'no calibration range (the tensor carried no finite float data)');
    plan = planQdq(m, index, { exclude, opTypes: options.opTypesToQuantize ? new Set(options.opTypesToQuantize) : undefined, perChannel, extraSkips });
  }

  const changed = rewrite(m, plan.nodes, ranges, actType, weightBits);
  // cleanup walks nodes in reverse order, so the appended Q/DQ nodes must be sorted in first.
  toposort(m.graph);
  cleanup(m.graph);
  const skipped: Skipped[] = plan.skipped;
  notes.push(`weights ${sizeChange(initializerBytes(floatModel), initializerBytes(m))}`);
  if (actType === 'int8') notes.push('int8 activations: ORT 1.30 CPU left Conv/Add unfused in residual blocks in our tests (a quantized tensor feeding two consumers); uint8 fuses fully on x86');
  notes.push(`activations ${actType} (${actType === 'uint8' ? 'asymmetric' : 'symmetric; ReLU outputs use zero point -128'}), calibration ${options.calibration}${options.calibration === 'percentile' ? ` ${percentile}` : ''} over ${batches.length} batches`);
  notes.push('run with graph optimization level all: unfused QDQ (level basic) is many times slower than float');
  return {
    model: m,
    summary: { pass, paramsBefore: countParams(model), paramsAfter: countParams(m), changed, skipped, notes },
  };
}

/** Tensors whose ranges the plan needs: activation inputs entering the region and node outputs. */
function rangeTensors(nodes: PlannedNode[], index: GraphIndex): Set<string> {
  const out = new Set<string>();
  for (const p of nodes) for (const t of rangeTensorsOf(p, index)) out.add(t);
  return out;
}

function rangeTensorsOf(p: PlannedNode, index: GraphIndex): Set<string> {
  const out = new Set<string>();
  for (const i of p.activations) {
    const name = p.node.inputs[i];
    if (!index.initializer.has(name)) out.add(name);
  }
  if (p.rule.kind !== 'drop' && p.quantizeOutput) out.add(p.output);
  return out;
}

/** Applies the plan: dequantized inputs, weights and biases and a quantized output per planned node. */
function rewrite(m: Model, planned: PlannedNode[], ranges: Map<string, TensorRange>, actType: ActivationType, weightBits: 7 | 8): LayerChange[] {
  const g = m.graph;
  const index = new GraphIndex(g);
  const producedQuantized = new Map<string, PlannedNode>();
  for (const p of planned) if (p.quantizeOutput) producedQuantized.set(p.output, p);
  const qdq = new QdqEmitter(index, {
    activationType: actType,
    weightBits,
    paramsSource: (tensor) => {
      const p = producedQuantized.get(tensor);
      // ORT drops the Q/DQ around a drop op, so its output must share its input's parameters.
      if (p?.rule.kind === 'drop') return { sameAs: p.node.inputs[p.activations[0]] };
      const r = ranges.get(tensor) as TensorRange;
      // A folded Relu/Clip(0, max) clamps the range the output quantization covers.
      if (p?.fold) return { lo: 0, hi: p.fold.max !== undefined ? Math.min(Math.max(r.hi, 0), p.fold.max) : r.hi };
      return r;
    },
  });

  const changed: LayerChange[] = [];
  const removed = new Set<Node>();
  for (const p of planned) {
    const n = p.node;
    const xTensor = p.activations.length ? n.inputs[p.activations[0]] : undefined;
    for (const i of p.activations) {
      const name = n.inputs[i];
      if (index.initializer.has(name)) n.inputs[i] = qdq.dequantizeConstant(name);
      else if (!producedQuantized.has(name)) n.inputs[i] = qdq.quantizeDequantize(name);
      // else: the producer's DQ already writes `name`.
    }
    let desc = p.rule.kind === 'compute' ? 'int8 QDQ' : p.rule.kind === 'drop' ? 'int8 pass-through (QDQ dropped by ORT)' : `int8 QDQ (QLinear${n.opType})`;
    let sqnr: number | undefined;
    if (p.weight) {
      const w = qdq.dequantizeWeight(n.inputs[p.weight.input], p.weight.axis);
      n.inputs[p.weight.input] = w.dq;
      sqnr = w.sqnr;
      desc += `, weights ${p.weight.axis >= 0 ? `per-channel (axis ${p.weight.axis})` : 'per-tensor'} ${weightBits}-bit, weight SQNR ${w.sqnr.toFixed(1)} dB`;
      const bSlot = p.rule.bias;
      const bName = bSlot !== undefined ? n.inputs[bSlot] : undefined;
      if (bSlot !== undefined && bName && index.initializer.get(bName)?.dataType === DataType.FLOAT) {
        if (xTensor === undefined || index.initializer.has(xTensor)) throw new Error(`internal: ${n.name} has a bias but no activation input`);
        n.inputs[bSlot] = qdq.dequantizeBias(bName, qdq.activationParams(xTensor).scale, w.scales);
        desc += ', bias int32';
      }
    }
    if (p.quantizeOutput) {
      n.outputs[0] = qdq.quantizeOutput(p.output);
      if (p.fold) {
        removed.add(p.fold.node);
        desc += `, ${p.fold.node.opType} folded into the output quantization`;
      }
    } else {
      desc += ', float output';
    }
    changed.push({ name: n.name, opType: n.opType, change: desc, error: sqnr });
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n)).concat(qdq.nodes);
  g.initializers.push(...qdq.initializers);
  return changed;
}
