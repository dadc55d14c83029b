/**
 * The example transformer: its parameters, its tfjs forward, and its ONNX export.
 *
 * input [N,16,49] (16 patches of 7x7) -> MatMul+Add embedding to 128 + learned positions
 * -> 2 pre-LN encoder layers (4 heads of 32, FFN 128->512->128 with erf Gelu) -> mean over tokens
 * -> LayerNormalization -> Gemm(128->10) -> logits.
 *
 * The attention is exported node for node the way torch.onnx.export writes nn.MultiheadAttention-
 * style code, because the head pruner matches that pattern:
 *   MatMul(x,Wq) Add(bq) Reshape([0,16,4,32]) Transpose([0,2,1,3])      (K: Transpose([0,2,3,1]))
 *   MatMul(Q,K^T) Div(sqrt 32) Softmax(-1) MatMul(.,V) Transpose([0,2,1,3]) Reshape([0,16,128])
 *   MatMul(Wo) Add(bo) Add(residual)
 * Every Reshape gets its own shape initializer so that a pass can rewrite one layer's head count
 * without touching another's.
 */
import { DataType, GraphBuilder, float32Tensor, int64Tensor, type Model } from '../../src/onnx/index.js';
import { matMul } from './im2col.js';
import { Prng } from './prng.js';
import { tf, values, variable, zeros, ones, type Params } from './tf-train.js';

export const TOKENS = 16;
export const PATCH = 49;
export const D = 128;
export const HEADS = 4;
export const HEAD_DIM = 32;
export const FFN = 512;
export const LAYERS = 2;
export const EPS = 1e-5;

export function initParams(seed: number): Params {
  const r = new Prng(seed);
  const p: Params = {
    emb_w: variable('emb_w', [PATCH, D], r.glorot(PATCH * D, PATCH, D)),
    emb_b: zeros('emb_b', [D]),
    pos: variable('pos', [TOKENS, D], r.glorot(TOKENS * D, TOKENS, D).map((v) => v * 0.1)),
  };
  for (let l = 0; l < LAYERS; l++) {
    p[`l${l}_ln1_g`] = ones(`l${l}_ln1_g`, [D]);
    p[`l${l}_ln1_b`] = zeros(`l${l}_ln1_b`, [D]);
    for (const m of ['q', 'k', 'v', 'o']) {
      p[`l${l}_w${m}`] = variable(`l${l}_w${m}`, [D, D], r.glorot(D * D, D, D));
      p[`l${l}_b${m}`] = zeros(`l${l}_b${m}`, [D]);
    }
    p[`l${l}_ln2_g`] = ones(`l${l}_ln2_g`, [D]);
    p[`l${l}_ln2_b`] = zeros(`l${l}_ln2_b`, [D]);
    p[`l${l}_w1`] = variable(`l${l}_w1`, [D, FFN], r.glorot(D * FFN, D, FFN));
    p[`l${l}_b1`] = zeros(`l${l}_b1`, [FFN]);
    p[`l${l}_w2`] = variable(`l${l}_w2`, [FFN, D], r.glorot(FFN * D, FFN, D));
    p[`l${l}_b2`] = zeros(`l${l}_b2`, [D]);
  }
  p.lnf_g = ones('lnf_g', [D]);
  p.lnf_b = zeros('lnf_b', [D]);
  p.cls_w = variable('cls_w', [D, 10], r.glorot(D * 10, D, 10));
  p.cls_b = zeros('cls_b', [10]);
  return p;
}

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPS))), g), b);
}

/** x [rows..., in] times W [in, out], through a 2-D matMul (tfjs's batched matMul does not broadcast W cheaply). */
function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const y = tf.add(matMul(tf.reshape(x, [-1, shape[shape.length - 1]]), w), b);
  return tf.reshape(y, [...shape.slice(0, -1), w.shape[1] as number]);
}

function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1));
}

export function forward(x: tf.Tensor, p: Params): tf.Tensor {
  const n = x.shape[0] as number;
  let h = tf.add(linear(x, p.emb_w, p.emb_b), p.pos);
  for (let l = 0; l < LAYERS; l++) {
    const a = layerNorm(h, p[`l${l}_ln1_g`], p[`l${l}_ln1_b`]);
    const heads = (m: string, perm: number[]) => tf.transpose(tf.reshape(linear(a, p[`l${l}_w${m}`], p[`l${l}_b${m}`]), [n, TOKENS, HEADS, HEAD_DIM]), perm);
    const q = heads('q', [0, 2, 1, 3]);
    const kT = heads('k', [0, 2, 3, 1]);
    const v = heads('v', [0, 2, 1, 3]);
    const attn = tf.softmax(tf.div(matMul(q, kT), Math.sqrt(HEAD_DIM)), -1);
    const ctx = tf.reshape(tf.transpose(matMul(attn, v), [0, 2, 1, 3]), [n, TOKENS, D]);
    h = tf.add(h, linear(ctx, p[`l${l}_wo`], p[`l${l}_bo`]));
    const f = layerNorm(h, p[`l${l}_ln2_g`], p[`l${l}_ln2_b`]);
    h = tf.add(h, linear(gelu(linear(f, p[`l${l}_w1`], p[`l${l}_b1`])), p[`l${l}_w2`], p[`l${l}_b2`]));
  }
  const pooled = layerNorm(tf.mean(h, 1), p.lnf_g, p.lnf_b);
  return tf.add(matMul(pooled, p.cls_w), p.cls_b);
}

/** Dense kernel [in, out] -> Gemm B [out, in] (transB=1). */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

export function exportTransformer(p: Params): Model {
  const b = new GraphBuilder('mnist_transformer');
  const w = (name: string, v: tf.Variable) => b.constant(float32Tensor(name, v.shape, values(v)));
  const scalar = (name: string, value: number) => b.constant(float32Tensor(name, [], [value]));
  const shape = (name: string, dims: number[]) => b.constant(int64Tensor(name, [dims.length], dims));
  const x = b.input('input', DataType.FLOAT, ['N', TOKENS, PATCH]);

  const emb = b.op('Add', [b.op('MatMul', [x, w('embed.weight', p.emb_w)], {}, { name: '/embed/MatMul' }), w('embed.bias', p.emb_b)], {}, { name: '/embed/Add' });
  let h = b.op('Add', [emb, w('pos_embed', p.pos)], {}, { name: '/pos/Add' });

  for (let l = 0; l < LAYERS; l++) {
    const at = `/layers.${l}/attn`;
    const ln1 = b.op('LayerNormalization', [h, w(`layers.${l}.ln1.weight`, p[`l${l}_ln1_g`]), w(`layers.${l}.ln1.bias`, p[`l${l}_ln1_b`])], { axis: -1, epsilon: { float: EPS } }, { name: `/layers.${l}/ln1/LayerNormalization` });
    const project = (m: string, perm: number[]) => {
      const mm = b.op('MatMul', [ln1, w(`layers.${l}.attn.${m}.weight`, p[`l${l}_w${m}`])], {}, { name: `${at}/${m}/MatMul` });
      const add = b.op('Add', [mm, w(`layers.${l}.attn.${m}.bias`, p[`l${l}_b${m}`])], {}, { name: `${at}/${m}/Add` });
      const rs = b.op('Reshape', [add, shape(`${at}/${m}/shape`, [0, TOKENS, HEADS, HEAD_DIM])], {}, { name: `${at}/${m}/Reshape` });
      return b.op('Transpose', [rs], { perm }, { name: `${at}/${m}/Transpose` });
    };
    const q = project('q', [0, 2, 1, 3]);
    const kT = project('k', [0, 2, 3, 1]);
    const v = project('v', [0, 2, 1, 3]);
    const scores = b.op('MatMul', [q, kT], {}, { name: `${at}/scores/MatMul` });
    const scaled = b.op('Div', [scores, scalar(`${at}/scale`, Math.sqrt(HEAD_DIM))], {}, { name: `${at}/scores/Div` });
    const probs = b.op('Softmax', [scaled], { axis: -1 }, { name: `${at}/Softmax` });
    const ctx = b.op('MatMul', [probs, v], {}, { name: `${at}/context/MatMul` });
    const ctxT = b.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }, { name: `${at}/context/Transpose` });
    const merged = b.op('Reshape', [ctxT, shape(`${at}/context/shape`, [0, TOKENS, D])], {}, { name: `${at}/context/Reshape` });
    const o = b.op('Add', [b.op('MatMul', [merged, w(`layers.${l}.attn.out.weight`, p[`l${l}_wo`])], {}, { name: `${at}/out/MatMul` }), w(`layers.${l}.attn.out.bias`, p[`l${l}_bo`])], {}, { name: `${at}/out/Add` });
    h = b.op('Add', [h, o], {}, { name: `/layers.${l}/residual1/Add` });

    const ff = `/layers.${l}/ffn`;
    const ln2 = b.op('LayerNormalization', [h, w(`layers.${l}.ln2.weight`, p[`l${l}_ln2_g`]), w(`layers.${l}.ln2.bias`, p[`l${l}_ln2_b`])], { axis: -1, epsilon: { float: EPS } }, { name: `/layers.${l}/ln2/LayerNormalization` });
    const up = b.op('Add', [b.op('MatMul', [ln2, w(`layers.${l}.ffn.fc1.weight`, p[`l${l}_w1`])], {}, { name: `${ff}/fc1/MatMul` }), w(`layers.${l}.ffn.fc1.bias`, p[`l${l}_b1`])], {}, { name: `${ff}/fc1/Add` });
    // Gelu as torch.onnx exports it before opset 20: x * 0.5 * (1 + erf(x / sqrt 2))
    const erf = b.op('Erf', [b.op('Div', [up, scalar(`${ff}/gelu/sqrt2`, Math.SQRT2)], {}, { name: `${ff}/gelu/Div` })], {}, { name: `${ff}/gelu/Erf` });
    const onePlus = b.op('Add', [erf, scalar(`${ff}/gelu/one`, 1)], {}, { name: `${ff}/gelu/Add` });
    const gelu = b.op('Mul', [b.op('Mul', [up, onePlus], {}, { name: `${ff}/gelu/Mul` }), scalar(`${ff}/gelu/half`, 0.5)], {}, { name: `${ff}/gelu/Mul_1` });
    const down = b.op('Add', [b.op('MatMul', [gelu, w(`layers.${l}.ffn.fc2.weight`, p[`l${l}_w2`])], {}, { name: `${ff}/fc2/MatMul` }), w(`layers.${l}.ffn.fc2.bias`, p[`l${l}_b2`])], {}, { name: `${ff}/fc2/Add` });
    h = b.op('Add', [h, down], {}, { name: `/layers.${l}/residual2/Add` });
  }

  const pooled = b.op('ReduceMean', [h], { axes: [1], keepdims: 0 }, { name: '/pool/ReduceMean' });
  const norm = b.op('LayerNormalization', [pooled, w('norm.weight', p.lnf_g), w('norm.bias', p.lnf_b)], { axis: -1, epsilon: { float: EPS } }, { name: '/norm/LayerNormalization' });
  const clsW = b.constant(float32Tensor('head.weight', [10, D], transpose(values(p.cls_w), D, 10)));
  b.op('Gemm', [norm, clsW, w('head.bias', p.cls_b)], { transB: 1 }, { name: '/head/Gemm', outputs: ['logits'] });
  b.output('logits', DataType.FLOAT, ['N', 10]);
  const model = b.model({ opset: 17, irVersion: 8 });
  model.producerName = 'prune-gate scripts/train/train-transformer.ts';
  return model;
}
