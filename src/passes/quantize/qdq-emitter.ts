/**
 * The QuantizeLinear/DequantizeLinear nodes and quantized initializers the static pass adds to a
 * graph, made once per tensor: one emitter per rewrite owns the new names, nodes and initializers,
 * and caches what it has made so a tensor read by several quantized nodes gets one Q/DQ pair.
 *
 * Nodes and initializers are collected, not inserted: the caller appends them to the graph (and
 * toposorts) when its rewrite is done.
 */
import { DataType, fromTypedArray, intAttr, NameGenerator, toFloat32, type GraphIndex, type Node, type NumericArray, type Tensor } from '../../onnx/index.js';
import { activationParams, quantizeBias, quantizeWeightsSymmetric, type ActivationType, type AffineParams } from './params.js';

/** Activation parameters and the names of their scale and zero point initializers. */
export interface QParams extends AffineParams {
  scaleName: string;
  zpName: string;
}

/** Where an activation's parameters come from: a calibrated range, or another tensor's parameters. */
export type ParamsSource = { lo: number; hi: number } | { sameAs: string };

/** A dequantized weight: the DQ output name, the scales (one per channel, or one) and the weight SQNR. */
export interface WeightDq {
  dq: string;
  scales: Float32Array;
  sqnr: number;
}

export interface QdqEmitterOptions {
  activationType: ActivationType;
  weightBits: 7 | 8;
  /** Called once per activation tensor, the first time its parameters are needed. */
  paramsSource: (tensor: string) => ParamsSource;
}

export class QdqEmitter {
  /** New Q/DQ nodes, in the order they were made. */
  readonly nodes: Node[] = [];
  /** New initializers (quantized values, scales, zero points), in the order they were made. */
  readonly initializers: Tensor[] = [];
  private readonly names: NameGenerator;
  private readonly zpType: DataType;
  private readonly params = new Map<string, QParams>();
  /** Tensor -> name of its dequantized (float) version for quantized consumers. */
  private readonly dequantized = new Map<string, string>();
  /** `weight|axis` -> its DQ. */
  private readonly weights = new Map<string, WeightDq>();

  constructor(
    private readonly index: GraphIndex,
    private readonly options: QdqEmitterOptions,
  ) {
    this.names = new NameGenerator(index.graph);
    this.zpType = options.activationType === 'uint8' ? DataType.UINT8 : DataType.INT8;
  }

  /** Parameters of activation `tensor`, made (scale and zero point initializers) on first use. */
  activationParams(tensor: string): QParams {
    const known = this.params.get(tensor);
    if (known) return known;
    const source = this.options.paramsSource(tensor);
    const qp = 'sameAs' in source ? this.activationParams(source.sameAs) : this.makeParams(tensor, source.lo, source.hi);
    this.params.set(tensor, qp);
    return qp;
  }

  /** Q -> DQ on a float tensor entering the quantized region; returns the DQ output (made once per tensor). */
  quantizeDequantize(tensor: string): string {
    const done = this.dequantized.get(tensor);
    if (done) return done;
    const qp = this.activationParams(tensor);
    const q = this.names.next(`${tensor}_quantized`);
    const dq = this.names.next(`${tensor}_dequantized`);
    this.emit('QuantizeLinear', tensor, [tensor, qp.scaleName, qp.zpName], q);
    this.emit('DequantizeLinear', tensor, [q, qp.scaleName, qp.zpName], dq);
    this.dequantized.set(tensor, dq);
    return dq;
  }

  /**
   * A float initializer read as an activation (an Add's constant operand): quantized here with
   * activation parameters over its own range, so only a DQ is needed. Returns the DQ output.
   */
  dequantizeConstant(name: string): string {
    const done = this.dequantized.get(name);
    if (done) return done;
    const t = this.initializer(name);
    const v = toFloat32(t);
    let lo = 0;
    let hi = 0;
    for (const x of v) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const qp = this.makeParams(name, lo, hi);
    const u8 = this.zpType === DataType.UINT8;
    const q = v.map((x) => Math.min(u8 ? 255 : 127, Math.max(u8 ? 0 : -128, Math.round(x / qp.scale) + qp.zeroPoint)));
    const qName = this.addInitializer(`${name}_quantized`, this.zpType, [...t.dims], u8 ? Uint8Array.from(q) : Int8Array.from(q));
    const dq = this.names.next(`${name}_dequantized`);
    this.emit('DequantizeLinear', name, [qName, qp.scaleName, qp.zpName], dq);
    this.dequantized.set(name, dq);
    return dq;
  }

  /** Symmetric int8 weights along `axis` (per tensor when negative) and their DQ, made once per weight and axis. */
  dequantizeWeight(name: string, axis: number): WeightDq {
    const key = `${name}|${axis}`;
    const done = this.weights.get(key);
    if (done) return done;
    const t = this.initializer(name);
    const cq = quantizeWeightsSymmetric(toFloat32(t), t.dims, axis, this.options.weightBits);
    const perAxis = axis >= 0;
    const paramDims = perAxis ? [cq.scales.length] : [];
    const qName = this.addInitializer(`${name}_quantized`, DataType.INT8, [...t.dims], cq.q);
    const sName = this.addInitializer(`${name}_scale`, DataType.FLOAT, paramDims, cq.scales);
    const zName = this.addInitializer(`${name}_zero_point`, DataType.INT8, paramDims, new Int8Array(cq.scales.length));
    const dq = this.names.next(`${name}_dequantized`);
    this.emit('DequantizeLinear', name, [qName, sName, zName], dq, perAxis ? axis : undefined);
    const entry = { dq, scales: cq.scales, sqnr: cq.sqnrDb };
    this.weights.set(key, entry);
    return entry;
  }

  /**
   * Int32 bias at scale x_scale * w_scale[c], zero point 0, with a DQ along axis 0: the layout
   * QLinearConv/QGemm take, so ORT folds it into the fused kernel. Returns the DQ output.
   */
  dequantizeBias(name: string, xScale: number, wScales: Float32Array): string {
    const b = toFloat32(this.initializer(name));
    const qb = quantizeBias(b, xScale, wScales);
    const qName = this.addInitializer(`${name}_quantized`, DataType.INT32, [b.length], qb.q);
    const sName = this.addInitializer(`${name}_scale`, DataType.FLOAT, [b.length], qb.scales);
    const zName = this.addInitializer(`${name}_zero_point`, DataType.INT32, [b.length], new Int32Array(b.length));
    const dq = this.names.next(`${name}_dequantized`);
    this.emit('DequantizeLinear', name, [qName, sName, zName], dq, 0);
    return dq;
  }

  /**
   * Q -> DQ after a quantized node: the DQ writes `tensor` itself, so consumers and graph outputs
   * keep reading it. Returns the new name the producer must write instead (`tensor_float`).
   */
  quantizeOutput(tensor: string): string {
    const qp = this.activationParams(tensor);
    const floatOut = this.names.next(`${tensor}_float`);
    const q = this.names.next(`${tensor}_quantized`);
    this.emit('QuantizeLinear', tensor, [floatOut, qp.scaleName, qp.zpName], q);
    this.emit('DequantizeLinear', tensor, [q, qp.scaleName, qp.zpName], tensor);
    return floatOut;
  }

  private makeParams(tensor: string, lo: number, hi: number): QParams {
    const a = activationParams(lo, hi, this.options.activationType, this.options.activationType === 'int8');
    const u8 = this.zpType === DataType.UINT8;
    const scaleName = this.addInitializer(`${tensor}_scale`, DataType.FLOAT, [], Float32Array.of(a.scale));
    const zpName = this.addInitializer(`${tensor}_zero_point`, this.zpType, [], u8 ? Uint8Array.of(a.zeroPoint) : Int8Array.of(a.zeroPoint));
    return { ...a, scaleName, zpName };
  }

  /** The one place a Q or DQ node is built; it is named after the tensor it serves. */
  private emit(opType: 'QuantizeLinear' | 'DequantizeLinear', tensor: string, inputs: string[], output: string, axis?: number): void {
    const name = this.names.next(`${tensor}_${opType}`);
    this.nodes.push({ name, opType, domain: '', inputs, outputs: [output], attributes: axis === undefined ? [] : [intAttr('axis', axis)] });
  }

  private addInitializer(base: string, dataType: DataType, dims: number[], data: NumericArray): string {
    const name = this.names.next(base);
    this.initializers.push(fromTypedArray(name, dataType, dims, data));
    return name;
  }

  private initializer(name: string): Tensor {
    const t = this.index.initializer.get(name);
    if (!t) throw new Error(`internal: ${name} is not an initializer`);
    return t;
  }
}
