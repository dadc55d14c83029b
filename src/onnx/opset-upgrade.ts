/**
 * Raises a model's default-domain opset, rewriting the operators whose signature changed on the
 * way (attributes that became inputs, Softmax's axis semantics). Passes call it when they need a
 * newer operator form: per-axis DequantizeLinear (13), INT4 and block_size (21).
 *
 * Only the changes a real model is likely to hit are rewritten; an operator whose meaning changed
 * in a way not handled here is refused with an InputError naming it, never silently mis-converted.
 */
import { InputError } from '../util/errors.js';
import { DataType, type Graph, type Model, type Node, type Tensor } from './ir.js';
import { allGraphs, getAttr, getFloat, getInt, getInts, intAttr, NameGenerator, subgraphsOf } from './graph-ops.js';
import { fromFloat32, int64Tensor } from './tensor-data.js';

/** The highest default-domain opset this module knows how to reach. */
export const MAX_UPGRADE_OPSET = 23;

/** The IR version each opset needs (ONNX's release table). */
export function irVersionForOpset(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

export interface UpgradeResult {
  from: number;
  to: number;
  /** Nodes rewritten, by op type. */
  rewritten: Record<string, number>;
}

/**
 * Upgrades the model in place to default-domain opset `target` (a no-op when it is already at or
 * above it) and raises the IR version to what the opset needs. Function bodies with their own
 * default-domain import are upgraded too.
 */
export function upgradeOpset(model: Model, target: number): UpgradeResult {
  if (!Number.isInteger(target) || target > MAX_UPGRADE_OPSET) {
    throw new InputError(`cannot upgrade to opset ${target}: prune-gate upgrades default-domain opsets up to ${MAX_UPGRADE_OPSET}`);
  }
  const imp = model.opsetImports.find((o) => o.domain === '');
  const from = imp?.version ?? 1;
  const rewritten: Record<string, number> = {};
  if (from >= target) return { from, to: from, rewritten };
  if (from < 7) throw new InputError(`cannot upgrade a model from opset ${from}: prune-gate supports opset 7 and up`);
  // Check every node first so that a refused upgrade leaves the model untouched.
  for (const g of allGraphs(model)) for (const n of g.nodes) checkNode(n, from, target);
  for (const f of model.functions) {
    const fi = f.opsetImports.find((o) => o.domain === '');
    if (fi && fi.version < target) for (const n of f.nodes) checkNode(n, fi.version, target);
  }
  new Upgrader(new NameGenerator(model.graph), from, target, rewritten).graph(model.graph);
  for (const f of model.functions) {
    const fi = f.opsetImports.find((o) => o.domain === '');
    if (!fi || fi.version >= target) continue;
    // A function body is its own naming scope.
    const fnGraph: Graph = { name: f.name, nodes: f.nodes, inputs: f.inputs.map((name) => ({ name })), outputs: f.outputs.map((name) => ({ name })), valueInfo: [], initializers: [], sparseInitializers: [] };
    new Upgrader(new NameGenerator(fnGraph), fi.version, target, rewritten, true).graph(fnGraph);
    f.nodes = fnGraph.nodes;
    fi.version = target;
  }
  if (imp) imp.version = target;
  else model.opsetImports.push({ domain: '', version: target });
  model.irVersion = Math.max(model.irVersion, irVersionForOpset(target));
  return { from, to: target, rewritten };
}

/** Throws an InputError for a default-domain node whose change between `from` and `to` is not handled. */
function checkNode(n: Node, from: number, to: number): void {
  if (n.domain !== '') return;
  const crosses = (v: number) => from < v && to >= v;
  const refuse = (why: string): never => {
    throw new InputError(`cannot upgrade node '${n.name || n.opType}' (${n.opType}) from opset ${from} to ${to}: ${why}`, n.name);
  };
  if (n.opType === 'Upsample' && to >= 10) refuse('Upsample is deprecated from opset 10; re-export the model with Resize');
  if (n.opType === 'Resize' && crosses(11)) refuse('Resize changed its inputs and coordinate modes at opset 11; re-export the model at opset 11 or later');
  if (n.opType === 'Scan' && crosses(9)) refuse('Scan-8 has batch semantics Scan-9 dropped; re-export the model at opset 9 or later');
  if (n.opType === 'GroupNormalization' && crosses(21)) refuse('GroupNormalization changed its scale/bias shapes at opset 21');
  if (n.opType === 'BatchNormalization' && crosses(9) && getInt(n, 'spatial', 1) !== 1) refuse('spatial=0 is not expressible after opset 9');
  if (n.opType === 'TopK' && crosses(10) && getInt(n, 'k', -1) < 0) refuse("TopK-1 without a 'k' attribute");
  if (n.opType === 'Pad' && crosses(11) && !getInts(n, 'pads') && !getInts(n, 'paddings')) refuse("Pad without a 'pads' attribute");
}

function signatureOf(n: Node): string {
  return `${n.opType}|${n.inputs.join(',')}|${n.attributes.map((a) => a.name).join(',')}`;
}

/** `crosses(v)`: the upgrade passes the opset version `v` at which an operator changed. */
class Upgrader {
  /** Known element types of values (inputs, initializers, value_info), to type new constants. */
  private readonly types = new Map<string, DataType>();

  constructor(
    private readonly names: NameGenerator,
    private readonly from: number,
    private readonly to: number,
    private readonly rewritten: Record<string, number>,
    /** Function bodies cannot hold initializers: constants become Constant nodes. */
    private readonly inFunction = false,
  ) {}

  private crosses(version: number): boolean {
    return this.from < version && this.to >= version;
  }

  graph(g: Graph): void {
    for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) if (v.type?.kind === 'tensor') this.types.set(v.name, v.type.elemType);
    for (const t of g.initializers) this.types.set(t.name, t.dataType);
    const out: Node[] = [];
    for (const n of g.nodes) {
      for (const sg of subgraphsOf(n)) this.graph(sg);
      if (n.domain !== '') {
        out.push(n);
        continue;
      }
      const before = out.length;
      const signature = signatureOf(n);
      this.node(g, n, out);
      if (out.length !== before + 1 || signatureOf(n) !== signature) this.count(n.opType);
    }
    g.nodes = out;
  }

  private count(op: string): void {
    this.rewritten[op] = (this.rewritten[op] ?? 0) + 1;
  }

  /** Adds an int64 constant and returns its name. */
  private ints(g: Graph, base: string, values: number[], out: Node[]): string {
    return this.constant(g, int64Tensor(this.names.next(base), [values.length], values), out);
  }

  private constant(g: Graph, t: Tensor, out: Node[]): string {
    if (this.inFunction) {
      out.push({ name: this.names.next(`${t.name}_const`), opType: 'Constant', domain: '', inputs: [], outputs: [t.name], attributes: [{ name: 'value', type: 'tensor', value: t }] });
    } else {
      g.initializers.push(t);
    }
    this.types.set(t.name, t.dataType);
    return t.name;
  }

  /** A scalar of the same element type as `like`: typed directly when known, else via CastLike. */
  private scalarLike(g: Graph, n: Node, base: string, value: number, like: string, out: Node[]): string {
    const known = this.types.get(like);
    if (known !== undefined) return this.constant(g, fromFloat32(this.names.next(base), known, [], [value]), out);
    if (this.to < 15) return this.constant(g, fromFloat32(this.names.next(base), DataType.FLOAT, [], [value]), out);
    const f = this.constant(g, fromFloat32(this.names.next(`${base}_f32`), DataType.FLOAT, [], [value]), out);
    const cast = this.names.next(base);
    out.push({ name: this.names.next(`${n.name || n.opType}_castlike`), opType: 'CastLike', domain: '', inputs: [f, like], outputs: [cast], attributes: [] });
    return cast;
  }

  private dropAttrs(n: Node, ...names: string[]): void {
    n.attributes = n.attributes.filter((a) => !names.includes(a.name));
  }

  /** Moves an ints attribute to input position `index` (padding skipped optional inputs with ''). */
  private attrToInput(g: Graph, n: Node, attr: string, index: number, out: Node[]): void {
    const values = getInts(n, attr);
    this.dropAttrs(n, attr);
    if (values === undefined) return;
    const name = this.ints(g, `${n.name || n.opType}_${attr}`, values, out);
    while (n.inputs.length < index) n.inputs.push('');
    n.inputs[index] = name;
  }

  private node(g: Graph, n: Node, out: Node[]): void {
    switch (n.opType) {
      case 'BatchNormalization':
        if (this.crosses(9)) this.dropAttrs(n, 'spatial');
        break;
      case 'Slice':
        if (this.crosses(10)) {
          const starts = getInts(n, 'starts') ?? [];
          const ends = getInts(n, 'ends') ?? [];
          const axes = getInts(n, 'axes');
          this.dropAttrs(n, 'starts', 'ends', 'axes');
          const base = n.name || 'Slice';
          n.inputs = [n.inputs[0], this.ints(g, `${base}_starts`, starts, out), this.ints(g, `${base}_ends`, ends, out)];
          if (axes) n.inputs.push(this.ints(g, `${base}_axes`, axes, out));
        }
        break;
      case 'TopK':
        if (this.crosses(10)) {
          const k = getInt(n, 'k', -1);
          this.dropAttrs(n, 'k');
          n.inputs = [n.inputs[0], this.ints(g, `${n.name || 'TopK'}_k`, [k], out)];
        }
        break;
      case 'Dropout':
        if (this.crosses(12)) {
          const ratio = getAttr(n, 'ratio') ? getFloat(n, 'ratio', 0.5) : undefined;
          this.dropAttrs(n, 'ratio', 'is_test');
          if (ratio !== undefined) n.inputs = [n.inputs[0], this.constant(g, fromFloat32(this.names.next(`${n.name || 'Dropout'}_ratio`), DataType.FLOAT, [], [ratio]), out)];
        }
        break;
      case 'Clip':
        if (this.crosses(11)) {
          const hasMin = getAttr(n, 'min') !== undefined;
          const hasMax = getAttr(n, 'max') !== undefined;
          const lo = getFloat(n, 'min', 0);
          const hi = getFloat(n, 'max', 0);
          this.dropAttrs(n, 'min', 'max');
          const base = n.name || 'Clip';
          const x = n.inputs[0];
          n.inputs = [x, hasMin ? this.scalarLike(g, n, `${base}_min`, lo, x, out) : '', hasMax ? this.scalarLike(g, n, `${base}_max`, hi, x, out) : ''];
          while (n.inputs.length > 1 && n.inputs[n.inputs.length - 1] === '') n.inputs.pop();
        }
        break;
      case 'Pad':
        if (this.crosses(11)) {
          const pads = getInts(n, 'pads') ?? getInts(n, 'paddings') ?? [];
          const value = getFloat(n, 'value', 0);
          this.dropAttrs(n, 'pads', 'paddings', 'value');
          const base = n.name || 'Pad';
          const x = n.inputs[0];
          n.inputs = [x, this.ints(g, `${base}_pads`, pads, out)];
          if (value !== 0) n.inputs.push(this.scalarLike(g, n, `${base}_value`, value, x, out));
        }
        break;
      case 'Squeeze':
      case 'Unsqueeze':
        if (this.crosses(13)) this.attrToInput(g, n, 'axes', 1, out);
        break;
      case 'ReduceSum':
        if (this.crosses(13)) this.attrToInput(g, n, 'axes', 1, out);
        break;
      case 'ReduceMean':
      case 'ReduceMax':
      case 'ReduceMin':
      case 'ReduceProd':
      case 'ReduceL1':
      case 'ReduceL2':
      case 'ReduceLogSum':
      case 'ReduceLogSumExp':
      case 'ReduceSumSquare':
        if (this.crosses(18)) this.attrToInput(g, n, 'axes', 1, out);
        break;
      case 'Split':
        if (this.crosses(13)) this.attrToInput(g, n, 'split', 1, out);
        if (this.crosses(18) && (n.inputs[1] ?? '') === '' && !getAttr(n, 'num_outputs')) n.attributes.push(intAttr('num_outputs', n.outputs.length));
        break;
      case 'Softmax':
      case 'LogSoftmax':
      case 'Hardmax':
        if (this.crosses(13)) {
          // Before 13 these flattened the input to 2-D at `axis`; from 13 they act on one axis.
          // axis -1 means the same in both; otherwise keep the old meaning with Flatten/Reshape.
          const axis = getInt(n, 'axis', 1);
          if (axis === -1) break;
          this.dropAttrs(n, 'axis');
          const base = n.name || n.opType;
          const shape = this.names.next(`${base}_shape`);
          const flat = this.names.next(`${base}_flat`);
          const result = this.names.next(`${base}_2d`);
          out.push({ name: this.names.next(`${base}_Shape`), opType: 'Shape', domain: '', inputs: [n.inputs[0]], outputs: [shape], attributes: [] });
          out.push({ name: this.names.next(`${base}_Flatten`), opType: 'Flatten', domain: '', inputs: [n.inputs[0]], outputs: [flat], attributes: [intAttr('axis', axis)] });
          const finalOut = n.outputs[0];
          n.inputs = [flat];
          n.outputs = [result];
          n.attributes.push(intAttr('axis', -1));
          out.push(n);
          out.push({ name: this.names.next(`${base}_Reshape`), opType: 'Reshape', domain: '', inputs: [result, shape], outputs: [finalOut], attributes: [] });
          return;
        }
        break;
      case 'Scatter':
        if (this.crosses(11)) n.opType = 'ScatterElements';
        break;
    }
    out.push(n);
  }
}
