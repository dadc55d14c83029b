/**
 * Per-node quantization sensitivity, like ORT's qdq_loss_debug: run the float and the quantized
 * model on the calibration batches, compare each quantized node's (dequantized) output with the
 * same tensor of the float model, and rank nodes by SQNR, worst first.
 */
import { GraphIndex, type Model, type Node } from '../../onnx/index.js';
import { openSession, withExtraOutputs, type OpenSession } from '../../evaluate/activations.js';
import { InputError } from '../../util/errors.js';
import type { PassContext } from '../types.js';
import { energies, sqnrFromSums } from './params.js';

/** Batches beyond this add time, not ranking quality. */
const MAX_BATCHES = 8;

export interface NodeSensitivity {
  node: string;
  opType: string;
  sqnrDb: number;
}

/** Pairs each quantized node with the tensor to compare, present in both graphs. */
export function quantizedNodeTensors(floatModel: Model, quantModel: Model): Array<{ node: string; opType: string; tensor: string }> {
  const fIndex = new GraphIndex(floatModel.graph);
  const floatNodes = new Map(floatModel.graph.nodes.map((n) => [n.name, n]));
  const floatTensors = new Set<string>([...fIndex.producer.keys(), ...floatModel.graph.inputs.map((i) => i.name)]);
  const qIndex = new GraphIndex(quantModel.graph);
  const out: Array<{ node: string; opType: string; tensor: string }> = [];
  for (const n of quantModel.graph.nodes) {
    const f = n.name ? floatNodes.get(n.name) : undefined;
    if (!f) continue;
    const fromDq = (i: string | undefined) => !!i && qIndex.producer.get(i)?.opType === 'DequantizeLinear';
    const requantized = dequantizedOutput(n, qIndex);
    // Float nodes at a region boundary read DQ outputs too; quantized ones also write a Q
    // (or, for MatMul/Gemm with a float output, take a dequantized weight).
    const replaced = f.opType !== n.opType || f.domain !== n.domain;
    const qdq = n.inputs.some(fromDq) && (requantized !== undefined || ((n.opType === 'MatMul' || n.opType === 'Gemm') && fromDq(n.inputs[1])));
    if (!replaced && !qdq) continue;
    const tensor = requantized ?? f.outputs[0];
    if (!floatTensors.has(tensor) || !(qIndex.producer.has(tensor))) continue;
    out.push({ node: n.name, opType: f.opType, tensor });
  }
  return out;
}

function dequantizedOutput(n: Node, index: GraphIndex): string | undefined {
  const q = index.consumersOf(n.outputs[0]).find((c) => c.opType === 'QuantizeLinear');
  if (!q) return undefined;
  return index.consumersOf(q.outputs[0]).find((c) => c.opType === 'DequantizeLinear')?.outputs[0];
}

export async function rankQuantSensitivity(floatModel: Model, quantModel: Model, ctx: PassContext): Promise<NodeSensitivity[]> {
  const batches = ctx.calibration?.slice(0, MAX_BATCHES);
  if (!batches?.length) throw new InputError('quantization sensitivity needs calibration data (data.calibration); none was given', 'data.calibration');
  const pairs = quantizedNodeTensors(floatModel, quantModel);
  if (!pairs.length) return [];
  const tensors = [...new Set(pairs.map((p) => p.tensor))];
  const float = await openSession(withExtraOutputs(floatModel, tensors), { label: 'sensitivity (float)' });
  let quant: OpenSession;
  try {
    quant = await openSession(withExtraOutputs(quantModel, tensors), { label: 'sensitivity (quantized)' });
  } catch (err) {
    await float.close();
    throw err;
  }
  const fs = float.session;
  const qs = quant.session;
  const signal = new Map<string, number>();
  const noise = new Map<string, number>();
  try {
    for (const batch of batches) {
      const a = await fs.run(batch, tensors);
      const b = await qs.run(batch, tensors);
      for (const t of tensors) {
        const x = a[t]?.data as Float32Array | undefined;
        const y = b[t]?.data as Float32Array | undefined;
        if (!x || !y || x.length !== y.length) continue;
        const e = energies(x, y);
        signal.set(t, (signal.get(t) ?? 0) + e.signal);
        noise.set(t, (noise.get(t) ?? 0) + e.noise);
      }
    }
  } finally {
    await float.close();
    await quant.close();
  }
  return pairs
    .filter((p) => signal.has(p.tensor))
    .map((p) => ({ node: p.node, opType: p.opType, sqnrDb: sqnrFromSums(signal.get(p.tensor) ?? 0, noise.get(p.tensor) ?? 0) }))
    .sort((x, y) => x.sqnrDb - y.sqnrDb || x.node.localeCompare(y.node));
}
