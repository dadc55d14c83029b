/**
 * Int4 weight-only quantization: MatMul (and Gemm, split into MatMulNBits + Add) with a constant
 * 2-D B becomes com.microsoft.MatMulNBits. Activations stay float; accuracy_level 4 lets MLAS
 * quantize A to int8 on the fly, which is what makes it fast on AVX2 (shared README: 1.5-7.7x at
 * batch 1, slower than float at batch 32).
 */
import { InputError } from '../../util/errors.js';
import { cleanup, cloneModel, countParams, DataType, fromTypedArray, initializerBytes, getFloat, getInt, GraphIndex, intAttr, NameGenerator, requireOpset, toFloat32, toposort, type Model, type Node, type Tensor } from '../../onnx/index.js';
import { forEachCalibrationBatch } from './calibration.js';
import type { LayerChange, PassContext, PassResult, Skipped } from '../types.js';
import { sizeChange } from './size-note.js';
import { quantizeBlocks4 } from './nbits-pack.js';
import { sqnrDb } from './params.js';
import { constantsToInitializers } from './preprocess.js';
import { checkCalibration, checkFloatModel, checkNodeNames } from './validate.js';

export interface Int4Options {
  blockSize: 32 | 64 | 128;
  symmetric: boolean;
  accuracyLevel?: 0 | 1 | 2 | 3 | 4;
  method: 'rtn' | 'calibrated';
  nodesToExclude?: string[];
}

interface Candidate {
  node: Node;
  /** B as [K, N] float. */
  w: Float32Array;
  K: number;
  N: number;
  bias?: string;
}

export async function quantizeInt4WeightOnly(model: Model, options: Int4Options, ctx: PassContext): Promise<PassResult> {
  const pass = 'int4-weight-only';
  if (![32, 64, 128].includes(options.blockSize)) throw new InputError(`${pass}: blockSize ${options.blockSize} must be 32, 64 or 128`, 'blockSize');
  const accuracyLevel = options.accuracyLevel ?? 4;
  if (![0, 1, 2, 3, 4].includes(accuracyLevel)) throw new InputError(`${pass}: accuracyLevel ${accuracyLevel} must be 0-4`, 'accuracyLevel');
  checkFloatModel(model, pass);
  const exclude = checkNodeNames(model, options.nodesToExclude);
  const batches = options.method === 'calibrated' ? checkCalibration(model, ctx.calibration, pass) : undefined;
  const m = cloneModel(model);
  constantsToInitializers(m);
  const g = m.graph;
  const before = initializerBytes(m);
  const index = new GraphIndex(g);
  const skipped: Skipped[] = [];
  const candidates: Candidate[] = [];
  for (const n of g.nodes) {
    if (n.domain !== '' || (n.opType !== 'MatMul' && n.opType !== 'Gemm')) continue;
    const label = `${n.name} (${n.opType})`;
    if (exclude.has(n.name)) {
      skipped.push({ what: label, reason: 'excluded (nodesToExclude)' });
      continue;
    }
    const bt = index.initializer.get(n.inputs[1]);
    if (!bt) {
      skipped.push({ what: label, reason: 'B is not a constant initializer' });
      continue;
    }
    if (bt.dataType !== DataType.FLOAT || bt.dims.length !== 2) {
      skipped.push({ what: label, reason: bt.dataType !== DataType.FLOAT ? 'B is not float32' : `B has rank ${bt.dims.length}, MatMulNBits needs a 2-D B` });
      continue;
    }
    let w = toFloat32(bt);
    let [K, N] = bt.dims;
    let bias: string | undefined;
    if (n.opType === 'Gemm') {
      if (getInt(n, 'transA', 0) || getFloat(n, 'alpha', 1) !== 1 || (n.inputs[2] && getFloat(n, 'beta', 1) !== 1)) {
        skipped.push({ what: label, reason: 'Gemm with transA, alpha or beta != 1' });
        continue;
      }
      if (getInt(n, 'transB', 0)) {
        [N, K] = bt.dims;
        w = transpose(w, N, K);
      }
      bias = n.inputs[2] || undefined;
    }
    if (K < 16) {
      skipped.push({ what: label, reason: `K=${K} is too small for block quantization` });
      continue;
    }
    candidates.push({ node: n, w, K, N, bias });
  }

  let importance: Map<string, Float64Array> | undefined;
  if (batches && candidates.length) importance = await inputImportance(model, candidates, batches);

  const names = new NameGenerator(g);
  const changed: LayerChange[] = [];
  const added: Node[] = [];
  for (const c of candidates) {
    const n = c.node;
    const h = importance?.get(n.inputs[0]);
    const q = quantizeBlocks4(c.w, c.K, c.N, { blockSize: options.blockSize, symmetric: options.symmetric, rowImportance: h });
    const base = n.name || n.outputs[0];
    const bName = names.next(`${base}_B_q4`);
    const sName = names.next(`${base}_B_scales`);
    const blob = options.blockSize / 2;
    const inits: Tensor[] = [
      fromTypedArray(bName, DataType.UINT8, [c.N, q.kBlocks, blob], q.packed),
      fromTypedArray(sName, DataType.FLOAT, [c.N * q.kBlocks], q.scales),
    ];
    const inputs = [n.inputs[0], bName, sName];
    if (q.zeroPoints) {
      const zName = names.next(`${base}_B_zero_points`);
      inits.push(fromTypedArray(zName, DataType.UINT8, [q.zeroPoints.length], q.zeroPoints));
      inputs.push(zName);
    }
    g.initializers.push(...inits);
    const out = n.outputs[0];
    const originalOp = n.opType;
    const mmOut = c.bias ? names.next(`${out}_matmul`) : out;
    const replacement: Node = {
      name: n.name,
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      inputs,
      outputs: [mmOut],
      attributes: [intAttr('K', c.K), intAttr('N', c.N), intAttr('bits', 4), intAttr('block_size', options.blockSize), intAttr('accuracy_level', accuracyLevel)],
    };
    Object.assign(n, replacement);
    if (c.bias) added.push({ name: names.next(`${base}_bias_add`), opType: 'Add', domain: '', inputs: [mmOut, c.bias], outputs: [out], attributes: [] });
    const sqnr = sqnrDb(c.w, q.dequantized);
    changed.push({
      name: n.name,
      opType: originalOp,
      change: `int4 MatMulNBits block ${options.blockSize} ${options.symmetric ? 'symmetric' : 'asymmetric'}, ${options.method === 'calibrated' ? 'activation-weighted scale search' : 'round-to-nearest'}, accuracy_level ${accuracyLevel}, weight SQNR ${sqnr.toFixed(1)} dB`,
      error: sqnr,
    });
  }
  g.nodes.push(...added);
  requireOpset(m, 'com.microsoft', 1);
  toposort(g);
  cleanup(g);
  const notes = [
    `weights ${sizeChange(before, initializerBytes(m))}`,
    accuracyLevel === 4
      ? 'accuracy_level 4: A is quantized to int8 inside the kernel (fast on AVX2 at small batch; measured slower than float at batch 32)'
      : `accuracy_level ${accuracyLevel}: measured slower than accuracy_level 4 on AVX2 almost everywhere`,
    'int4 weight-only helps most when weights exceed the L3 cache and at batch 1',
  ];
  return { model: m, summary: { pass, paramsBefore: countParams(model), paramsAfter: countParams(m), changed, skipped, notes } };
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

/** Mean of x_k^2 per input feature k of each candidate's A, over the calibration set. */
async function inputImportance(model: Model, candidates: Candidate[], batches: NonNullable<PassContext['calibration']>): Promise<Map<string, Float64Array>> {
  const byInput = new Map<string, number>();
  for (const c of candidates) byInput.set(c.node.inputs[0], c.K);
  const sums = new Map<string, Float64Array>();
  const counts = new Map<string, number>();
  for (const [name, K] of byInput) {
    sums.set(name, new Float64Array(K));
    counts.set(name, 0);
  }
  await forEachCalibrationBatch(model, [...byInput.keys()], batches, (batch) => {
    for (const [name, t] of Object.entries(batch)) {
      const s = sums.get(name);
      if (!s || t.type !== 'float32') continue;
      const d = t.data as Float32Array;
      const K = s.length;
      for (let i = 0; i < d.length; i++) s[i % K] += d[i] * d[i];
      counts.set(name, (counts.get(name) ?? 0) + d.length / K);
    }
  });
  for (const [name, s] of sums) {
    const c = Math.max(1, counts.get(name) ?? 1);
    // A small floor keeps rows never excited by the calibration set from being ignored entirely.
    let mean = 0;
    for (let k = 0; k < s.length; k++) mean += s[k] / c / s.length;
    for (let k = 0; k < s.length; k++) s[k] = s[k] / c + 1e-3 * mean + 1e-12;
  }
  return sums;
}
