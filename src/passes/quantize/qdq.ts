/**
 * Static int8 QDQ quantization: calibrate activation ranges on the float model, then insert
 * QuantizeLinear/DequantizeLinear pairs the way ORT's CPU optimizer fuses them (see qdq-rules.ts).
 *
 * Naming: a quantized tensor T keeps its name as the DequantizeLinear output, so consumers and
 * graph outputs are untouched and the float and quantized graphs can be compared tensor by tensor;
 * its producer writes `T_float`, which the QuantizeLinear reads.
 */
import { InputError } from '../../util/errors.js';
import {
  cleanup,
  cloneModel,
  countParams,
  DataType,
  fromTypedArray,
  GraphIndex,
  initializerBytes,
  intAttr,
  NameGenerator,
  toFloat32,
  toposort,
  type Model,
  type Node,
  type Tensor,
} from '../../onnx/index.js';
import type { LayerChange, PassContext, PassResult, Skipped } from '../types.js';
import { calibrateRanges, type CalibrationMethod, type TensorRange } from './calibration.js';
import { machineQuantDefaults } from './machine.js';
import { sizeChange } from './size-note.js';
import { activationParams, quantizeBias, quantizeWeightsSymmetric, type ActivationType, type AffineParams } from './params.js';
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

export async function quantizeStaticInt8(model: Model, options: StaticInt8Options, ctx: PassContext): Promise<PassResult> {
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

interface QParams extends AffineParams {
  scaleName: string;
  zpName: string;
}

function rewrite(m: Model, planned: PlannedNode[], ranges: Map<string, TensorRange>, actType: ActivationType, weightBits: 7 | 8): LayerChange[] {
  const g = m.graph;
  const index = new GraphIndex(g);
  const names = new NameGenerator(g);
  const newNodes: Node[] = [];
  const newInits: Tensor[] = [];
  const params = new Map<string, QParams>();
  /** Tensor -> name of its dequantized (float) version for quantized consumers. */
  const dequantized = new Map<string, string>();
  const producedQuantized = new Map<string, PlannedNode>();
  for (const p of planned) if (p.quantizeOutput) producedQuantized.set(p.output, p);
  const zpType = actType === 'uint8' ? DataType.UINT8 : DataType.INT8;

  const makeParams = (tensor: string, lo: number, hi: number): QParams => {
    const a = activationParams(lo, hi, actType, actType === 'int8');
    const scaleName = names.next(`${tensor}_scale`);
    const zpName = names.next(`${tensor}_zero_point`);
    newInits.push(fromTypedArray(scaleName, DataType.FLOAT, [], Float32Array.of(a.scale)));
    newInits.push(fromTypedArray(zpName, zpType, [], zpType === DataType.UINT8 ? Uint8Array.of(a.zeroPoint) : Int8Array.of(a.zeroPoint)));
    return { ...a, scaleName, zpName };
  };

  // Output parameters first, in topological order, so drop ops can inherit their input's.
  const paramsFor = (tensor: string): QParams => {
    const known = params.get(tensor);
    if (known) return known;
    const p = producedQuantized.get(tensor);
    let qp: QParams;
    if (p?.rule.kind === 'drop') {
      qp = paramsFor(p.node.inputs[p.activations[0]]);
    } else {
      const r = ranges.get(tensor) as TensorRange;
      let lo = r.lo;
      let hi = r.hi;
      if (p?.fold) {
        lo = 0;
        if (p.fold.max !== undefined) hi = Math.min(Math.max(hi, 0), p.fold.max);
      }
      qp = makeParams(tensor, lo, hi);
    }
    params.set(tensor, qp);
    return qp;
  };

  const constantAsActivation = (name: string): string => {
    const done = dequantized.get(name);
    if (done) return done;
    const t = index.initializer.get(name) as Tensor;
    const v = toFloat32(t);
    let lo = 0;
    let hi = 0;
    for (const x of v) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const qp = makeParams(name, lo, hi);
    const qName = names.next(`${name}_quantized`);
    const q = v.map((x) => Math.min(actType === 'uint8' ? 255 : 127, Math.max(actType === 'uint8' ? 0 : -128, Math.round(x / qp.scale) + qp.zeroPoint)));
    newInits.push(fromTypedArray(qName, zpType, [...t.dims], zpType === DataType.UINT8 ? Uint8Array.from(q) : Int8Array.from(q)));
    const dq = names.next(`${name}_dequantized`);
    newNodes.push({ name: names.next(`${name}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [qName, qp.scaleName, qp.zpName], outputs: [dq], attributes: [] });
    dequantized.set(name, dq);
    return dq;
  };

  /** Q -> DQ on a tensor entering the region from float (graph input or float producer). */
  const boundary = (tensor: string): string => {
    const done = dequantized.get(tensor);
    if (done) return done;
    const qp = paramsFor(tensor);
    const q = names.next(`${tensor}_quantized`);
    const dq = names.next(`${tensor}_dequantized`);
    newNodes.push({ name: names.next(`${tensor}_QuantizeLinear`), opType: 'QuantizeLinear', domain: '', inputs: [tensor, qp.scaleName, qp.zpName], outputs: [q], attributes: [] });
    newNodes.push({ name: names.next(`${tensor}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [q, qp.scaleName, qp.zpName], outputs: [dq], attributes: [] });
    dequantized.set(tensor, dq);
    return dq;
  };

  const weights = new Map<string, { dq: string; scales: Float32Array; sqnr: number }>();
  const weightDq = (name: string, axis: number) => {
    const key = `${name}|${axis}`;
    const done = weights.get(key);
    if (done) return done;
    const t = index.initializer.get(name) as Tensor;
    const w = toFloat32(t);
    const cq = quantizeWeightsSymmetric(w, t.dims, axis, weightBits);
    const sqnr = cq.sqnrDb;
    const qName = names.next(`${name}_quantized`);
    const sName = names.next(`${name}_scale`);
    const zName = names.next(`${name}_zero_point`);
    const perAxis = axis >= 0;
    newInits.push(fromTypedArray(qName, DataType.INT8, [...t.dims], cq.q));
    newInits.push(fromTypedArray(sName, DataType.FLOAT, perAxis ? [cq.scales.length] : [], cq.scales));
    newInits.push(fromTypedArray(zName, DataType.INT8, perAxis ? [cq.scales.length] : [], new Int8Array(cq.scales.length)));
    const dq = names.next(`${name}_dequantized`);
    newNodes.push({ name: names.next(`${name}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [qName, sName, zName], outputs: [dq], attributes: perAxis ? [intAttr('axis', axis)] : [] });
    const entry = { dq, scales: cq.scales, sqnr };
    weights.set(key, entry);
    return entry;
  };

  const changed: LayerChange[] = [];
  const removed = new Set<Node>();
  for (const p of planned) {
    const n = p.node;
    const xTensor = p.activations.length ? n.inputs[p.activations[0]] : undefined;
    // Inputs.
    for (const i of p.activations) {
      const name = n.inputs[i];
      if (index.initializer.has(name)) n.inputs[i] = constantAsActivation(name);
      else if (!producedQuantized.has(name)) n.inputs[i] = boundary(name);
      // else: the producer's DQ already writes `name`.
    }
    let desc = p.rule.kind === 'compute' ? 'int8 QDQ' : p.rule.kind === 'drop' ? 'int8 pass-through (QDQ dropped by ORT)' : `int8 QDQ (QLinear${n.opType})`;
    let sqnr: number | undefined;
    if (p.weight) {
      const wName = n.inputs[p.weight.input];
      const wt = index.initializer.get(wName) as Tensor;
      const w = weightDq(wName, p.weight.axis);
      n.inputs[p.weight.input] = w.dq;
      sqnr = w.sqnr;
      desc += `, weights ${p.weight.axis >= 0 ? `per-channel (axis ${p.weight.axis})` : 'per-tensor'} ${weightBits}-bit, weight SQNR ${w.sqnr.toFixed(1)} dB`;
      const bSlot = p.rule.bias;
      const bName = bSlot !== undefined ? n.inputs[bSlot] : undefined;
      if (bSlot !== undefined && bName && index.initializer.get(bName)?.dataType === DataType.FLOAT) {
        if (xTensor === undefined || index.initializer.has(xTensor)) throw new Error(`internal: ${n.name} has a bias but no activation input`);
        const xParams = paramsFor(xTensor);
        const channels = p.weight.axis >= 0 ? (wt.dims[p.weight.axis] ?? 1) : 1;
        const b = toFloat32(index.initializer.get(bName) as Tensor);
        const wScales = w.scales.length === 1 && channels > 1 ? new Float32Array(b.length).fill(w.scales[0]) : w.scales;
        const qb = quantizeBias(b, xParams.scale, wScales);
        const qName = names.next(`${bName}_quantized`);
        const sName = names.next(`${bName}_scale`);
        const zName = names.next(`${bName}_zero_point`);
        newInits.push(fromTypedArray(qName, DataType.INT32, [b.length], qb.q));
        newInits.push(fromTypedArray(sName, DataType.FLOAT, [b.length], qb.scales));
        newInits.push(fromTypedArray(zName, DataType.INT32, [b.length], new Int32Array(b.length)));
        const dq = names.next(`${bName}_dequantized`);
        newNodes.push({ name: names.next(`${bName}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [qName, sName, zName], outputs: [dq], attributes: [intAttr('axis', 0)] });
        n.inputs[bSlot] = dq;
        desc += ', bias int32';
      }
    }
    // Output.
    if (p.quantizeOutput) {
      const qp = paramsFor(p.output);
      const floatOut = names.next(`${p.output}_float`);
      const q = names.next(`${p.output}_quantized`);
      n.outputs[0] = floatOut;
      if (p.fold) {
        removed.add(p.fold.node);
        desc += `, ${p.fold.node.opType} folded into the output quantization`;
      }
      newNodes.push({ name: names.next(`${p.output}_QuantizeLinear`), opType: 'QuantizeLinear', domain: '', inputs: [floatOut, qp.scaleName, qp.zpName], outputs: [q], attributes: [] });
      newNodes.push({ name: names.next(`${p.output}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [q, qp.scaleName, qp.zpName], outputs: [p.output], attributes: [] });
    } else {
      desc += ', float output';
    }
    changed.push({ name: n.name, opType: n.opType, change: desc, error: sqnr });
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n)).concat(newNodes);
  g.initializers.push(...newInits);
  return changed;
}

