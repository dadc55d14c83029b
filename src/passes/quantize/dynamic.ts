/**
 * Dynamic int8: weights quantized offline (per-column int8), activations quantized per batch at run
 * time. MatMul/Gemm with a constant B become com.microsoft.DynamicQuantizeMatMul, the kernel ORT
 * fuses DynamicQuantizeLinear + MatMulInteger (+ Cast/Mul/Add) into anyway; emitting it directly
 * gives the same kernel with fewer nodes (bench/quantize.ts measures both forms).
 * Conv is left alone unless `allowConv`: ConvInteger measured 5.5x slower than float here.
 */
import { cleanup, cloneModel, countParams, DataType, fromTypedArray, initializerBytes, getFloat, getInt, GraphIndex, intAttr, NameGenerator, requireOpset, toFloat32, toposort, type Model, type Node, type Tensor } from '../../onnx/index.js';
import type { LayerChange, PassContext, PassResult, Skipped } from '../types.js';
import { machineQuantDefaults } from './machine.js';
import { sizeChange } from './size-note.js';
import { quantizeWeightsSymmetric } from './params.js';
import { constantsToInitializers } from './preprocess.js';
import { checkFloatModel, checkNodeNames, ensureOpset } from './validate.js';

export interface DynamicInt8Options {
  nodesToExclude?: string[];
  opTypesToQuantize?: string[];
  allowConv?: boolean;
  /** Default from machineQuantDefaults (7 on AVX2 without VNNI). */
  weightBits?: 7 | 8;
}

export async function quantizeInt8Dynamic(model: Model, options: DynamicInt8Options, ctx: PassContext): Promise<PassResult> {
  const pass = 'int8-dynamic';
  checkFloatModel(model, pass);
  const exclude = checkNodeNames(model, options.nodesToExclude);
  const opTypes = options.opTypesToQuantize ? new Set(options.opTypesToQuantize) : undefined;
  const m = cloneModel(model);
  const notes: string[] = [];
  constantsToInitializers(m);
  const g = m.graph;
  const before = initializerBytes(m);
  const index = new GraphIndex(g);
  const names = new NameGenerator(g);
  const machine = machineQuantDefaults();
  const bits = options.weightBits ?? machine.weightBits;
  if (bits === 7) notes.push(machine.weightBits === 7 ? `weights limited to 7 bits (+-63): ${machine.note}` : 'weights limited to 7 bits (+-63) as requested');
  const changed: LayerChange[] = [];
  const skipped: Skipped[] = [];
  const added: Node[] = [];
  let convs = 0;
  for (const n of [...g.nodes]) {
    if (n.domain !== '' || !['MatMul', 'Gemm', 'Conv'].includes(n.opType)) continue;
    const label = `${n.name} (${n.opType})`;
    if (exclude.has(n.name)) {
      skipped.push({ what: label, reason: 'excluded (nodesToExclude)' });
      continue;
    }
    if (opTypes && !opTypes.has(n.opType)) {
      skipped.push({ what: label, reason: 'op type not in opTypesToQuantize' });
      continue;
    }
    if (n.opType === 'Conv' && !options.allowConv) {
      skipped.push({ what: label, reason: 'dynamic ConvInteger is ~5x slower than float on this machine (use static int8 for Conv)' });
      continue;
    }
    const bt = index.initializer.get(n.inputs[1]);
    if (!bt || bt.dataType !== DataType.FLOAT) {
      skipped.push({ what: label, reason: bt ? 'weights are not float32' : 'weights are not a constant initializer' });
      continue;
    }
    const ctxq = { m, g, index, names, bits, added };
    const result = n.opType === 'Conv' ? quantizeConv(n, bt, ctxq) : quantizeMatMul(n, bt, ctxq);
    if (typeof result === 'string') skipped.push({ what: label, reason: result });
    else {
      changed.push(result);
      if (result.opType === 'Conv') convs++;
    }
  }
  if (convs) {
    notes.push(`warning: ${convs} Conv quantized dynamically (allowConv): ConvInteger measured ~5x slower than float on this machine`);
    const note = ensureOpset(m, 11, 'DynamicQuantizeLinear + ConvInteger');
    if (note) notes.push(note);
  } else notes.push('dynamic ConvInteger is ~5x slower than float on this machine: Conv not quantized dynamically');
  g.nodes.push(...added);
  requireOpset(m, 'com.microsoft', 1);
  toposort(g);
  cleanup(g);
  notes.push(`weights ${sizeChange(before, initializerBytes(m))}`);
  ctx.log?.(`${pass}: ${changed.length} nodes quantized`);
  return { model: m, summary: { pass, paramsBefore: countParams(model), paramsAfter: countParams(m), changed, skipped, notes } };
}

interface Ctx {
  m: Model;
  g: Model['graph'];
  index: GraphIndex;
  names: NameGenerator;
  bits: 7 | 8;
  added: Node[];
}

function quantizeMatMul(n: Node, bt: Tensor, c: Ctx): LayerChange | string {
  if (bt.dims.length !== 2) return `B has rank ${bt.dims.length}; DynamicQuantizeMatMul takes a 2-D B`;
  let w = toFloat32(bt);
  let [K, N] = bt.dims;
  let bias: string | undefined;
  if (n.opType === 'Gemm') {
    if (getInt(n, 'transA', 0) || getFloat(n, 'alpha', 1) !== 1 || (n.inputs[2] && getFloat(n, 'beta', 1) !== 1)) return 'Gemm with transA, alpha or beta != 1';
    if (getInt(n, 'transB', 0)) {
      [N, K] = bt.dims;
      const t = new Float32Array(w.length);
      for (let r = 0; r < N; r++) for (let k = 0; k < K; k++) t[k * N + r] = w[r * K + k];
      w = t;
    }
    if (n.inputs[2]) {
      const ct = c.index.initializer.get(n.inputs[2]);
      if (!ct || ct.dataType !== DataType.FLOAT || ct.raw.byteLength !== 4 * N) return 'bias C is not a constant [N] vector';
      bias = c.names.next(`${n.name || n.outputs[0]}_bias`);
      c.g.initializers.push(fromTypedArray(bias, DataType.FLOAT, [N], Float32Array.from(toFloat32(ct))));
    }
  }
  const cq = quantizeWeightsSymmetric(w, [K, N], 1, c.bits);
  const sqnr = cq.sqnrDb;
  const base = n.name || n.outputs[0];
  const qName = c.names.next(`${base}_B_quantized`);
  const sName = c.names.next(`${base}_B_scale`);
  const zName = c.names.next(`${base}_B_zero_point`);
  c.g.initializers.push(fromTypedArray(qName, DataType.INT8, [K, N], cq.q), fromTypedArray(sName, DataType.FLOAT, [N], cq.scales), fromTypedArray(zName, DataType.INT8, [N], new Int8Array(N)));
  const opType = n.opType;
  Object.assign(n, { opType: 'DynamicQuantizeMatMul', domain: 'com.microsoft', inputs: [n.inputs[0], qName, sName, zName, ...(bias ? [bias] : [])], attributes: [] });
  return { name: n.name, opType, change: `int8 dynamic (DynamicQuantizeMatMul), weights per-column ${c.bits}-bit, weight SQNR ${sqnr.toFixed(1)} dB`, error: sqnr };
}

/** DynamicQuantizeLinear -> ConvInteger (per-tensor weight zero point: ConvInteger rejects per-channel) -> Cast -> scale -> bias. */
function quantizeConv(n: Node, wt: Tensor, c: Ctx): LayerChange | string {
  const biasTensor = n.inputs[2] ? c.index.initializer.get(n.inputs[2]) : undefined;
  if (n.inputs[2] && biasTensor?.dataType !== DataType.FLOAT) return 'bias is not a constant float initializer';
  const w = toFloat32(wt);
  const cout = wt.dims[0];
  const cq = quantizeWeightsSymmetric(w, wt.dims, 0, c.bits);
  const sqnr = cq.sqnrDb;
  const base = n.name || n.outputs[0];
  const nm = (s: string) => c.names.next(`${base}_${s}`);
  const qName = nm('W_quantized');
  const wzp = nm('W_zero_point');
  const wScale = nm('W_scale');
  const rank = wt.dims.length;
  c.g.initializers.push(
    fromTypedArray(qName, DataType.INT8, [...wt.dims], cq.q),
    fromTypedArray(wzp, DataType.INT8, [], Int8Array.of(0)),
    fromTypedArray(wScale, DataType.FLOAT, [1, cout, ...Array(rank - 2).fill(1)], cq.scales),
  );
  const [xq, xs, xz] = [nm('x_quantized'), nm('x_scale'), nm('x_zero_point')];
  const [acc, accF, scaled, scaled2] = [nm('int32'), nm('float'), nm('scaled'), nm('rescaled')];
  const out = n.outputs[0];
  const biasName = n.inputs[2];
  c.added.push(
    { name: nm('DynamicQuantizeLinear'), opType: 'DynamicQuantizeLinear', domain: '', inputs: [n.inputs[0]], outputs: [xq, xs, xz], attributes: [] },
    { name: nm('Cast'), opType: 'Cast', domain: '', inputs: [acc], outputs: [accF], attributes: [intAttr('to', DataType.FLOAT)] },
    { name: nm('MulX'), opType: 'Mul', domain: '', inputs: [accF, xs], outputs: [scaled], attributes: [] },
    { name: nm('MulW'), opType: 'Mul', domain: '', inputs: [scaled, wScale], outputs: [biasName ? scaled2 : out], attributes: [] },
  );
  if (biasName && biasTensor) {
    const bt = biasTensor;
    const shaped = nm('bias_shaped');
    c.g.initializers.push(fromTypedArray(shaped, DataType.FLOAT, [1, cout, ...Array(rank - 2).fill(1)], Float32Array.from(toFloat32(bt))));
    c.added.push({ name: nm('AddBias'), opType: 'Add', domain: '', inputs: [scaled2, shaped], outputs: [out], attributes: [] });
  }
  Object.assign(n, { opType: 'ConvInteger', inputs: [xq, qName, xz, wzp], outputs: [acc] });
  return { name: n.name, opType: 'Conv', change: `int8 dynamic (ConvInteger), weights per-channel scale ${c.bits}-bit (zero point per tensor), weight SQNR ${sqnr.toFixed(1)} dB`, error: sqnr };
}
