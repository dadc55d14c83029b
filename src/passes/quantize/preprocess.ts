/**
 * Graph normalizations every quantizer needs first, as ORT's quant_pre_process does:
 * - `Constant` nodes become initializers (Paddle and older exporters store weights that way, and
 *   a weight must be an initializer to be quantized),
 * - BatchNormalization after Conv is folded into the Conv's weights and bias (a float BN between
 *   a quantized Conv and its consumer would keep the Conv from fusing and cost a DQ/Q round trip).
 */
import { DataType, float32Tensor, getAttr, getFloat, GraphIndex, NameGenerator, toFloat32, type Model } from '../../onnx/index.js';

export function constantsToInitializers(model: Model): number {
  const g = model.graph;
  let moved = 0;
  g.nodes = g.nodes.filter((n) => {
    if (n.opType !== 'Constant' || n.domain !== '' || n.outputs.length !== 1) return true;
    const a = getAttr(n, 'value');
    if (!a || a.type !== 'tensor') return true;
    g.initializers.push({ ...a.value, name: n.outputs[0] });
    moved++;
    return false;
  });
  return moved;
}

/** Folds Conv -> BatchNormalization (constant statistics, Conv output read only by the BN). */
export function foldBatchNorms(model: Model): string[] {
  const g = model.graph;
  const folded: string[] = [];
  let index = new GraphIndex(g);
  const names = new NameGenerator(g);
  for (const bn of [...g.nodes]) {
    if (bn.opType !== 'BatchNormalization' || bn.domain !== '' || bn.outputs.filter(Boolean).length !== 1) continue;
    const conv = index.producer.get(bn.inputs[0]);
    if (!conv || conv.opType !== 'Conv' || conv.domain !== '') continue;
    if (index.consumersOf(conv.outputs[0]).length !== 1 || index.isGraphOutput(conv.outputs[0])) continue;
    const [scaleT, biasT, meanT, varT] = bn.inputs.slice(1, 5).map((i) => index.initializer.get(i));
    const wT = index.initializer.get(conv.inputs[1]);
    const cbT = conv.inputs[2] ? index.initializer.get(conv.inputs[2]) : undefined;
    if (!scaleT || !biasT || !meanT || !varT || !wT || wT.dataType !== DataType.FLOAT || (conv.inputs[2] && !cbT)) continue;
    if ([scaleT, biasT, meanT, varT].some((t) => t.dataType !== DataType.FLOAT)) continue;
    const eps = getFloat(bn, 'epsilon', 1e-5);
    const [gamma, beta, mean, variance] = [scaleT, biasT, meanT, varT].map(toFloat32);
    const w = toFloat32(wT);
    const cout = wT.dims[0];
    const per = w.length / cout;
    const newW = new Float32Array(w.length);
    const newB = new Float32Array(cout);
    const oldB = cbT ? toFloat32(cbT) : new Float32Array(cout);
    for (let c = 0; c < cout; c++) {
      const k = gamma[c] / Math.sqrt(variance[c] + eps);
      for (let i = 0; i < per; i++) newW[c * per + i] = w[c * per + i] * k;
      newB[c] = (oldB[c] - mean[c]) * k + beta[c];
    }
    const wName = names.next(`${conv.name || 'conv'}_W_bnfolded`);
    const bName = names.next(`${conv.name || 'conv'}_B_bnfolded`);
    g.initializers.push(float32Tensor(wName, [...wT.dims], newW), float32Tensor(bName, [cout], newB));
    conv.inputs = [conv.inputs[0], wName, bName];
    conv.outputs = [bn.outputs[0]];
    g.nodes = g.nodes.filter((n) => n !== bn);
    folded.push(bn.name || bn.outputs[0]);
    index = new GraphIndex(g);
  }
  return folded;
}
