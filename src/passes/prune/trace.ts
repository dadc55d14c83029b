/**
 * What op handlers see while the dependency graph is traced: layouts of values, constants, shapes,
 * and the recorders for everything a removal must touch (weight slices, shape constants, attributes).
 * The tracer (depgraph.ts) implements it; handlers (handlers.ts) only call it.
 */
import type { Node, Tensor } from '../../onnx/index.js';
import type { Layout, Segment } from './layout.js';

export type Role = 'out' | 'in' | 'aux';

/** Remove the positions a segment's pruned channels occupy along `axis` of input `input` of `node` (a constant). */
export interface ParamSlice {
  node: Node;
  input: number;
  axis: number;
  seg: Segment;
  role: Role;
  /** For 'in' slices: the value feeding the node whose positions these are (activation-aware scores, repair). */
  activation?: string;
  /** Axis of the activation that carries the positions. */
  activationAxis?: number;
}

/**
 * An integer that counts positions of a layout: subtract the removed positions (all of them, or
 * only those before `before`). Target is an int constant input element or an int/ints attribute.
 */
export interface IntEdit {
  node: Node;
  target: { input: number } | { attr: string };
  /** Element index for tensors and ints attributes; -1 for an int attribute. */
  element: number;
  layout: Layout;
  before?: number;
  /** Explicit Split sizes to write first when the node split evenly without listing them. */
  materializeSplit?: number[];
}

export interface TraceCtx {
  layout(value: string): Layout | undefined;
  shape(value: string): number[] | undefined;
  rank(value: string): number | undefined;
  constant(value: string): Tensor | undefined;
  consumers(value: string): Node[];
  opset: number;
  newSpace(node: Node, channels: number): number;
  param(slice: ParamSlice): void;
  /** Records a slice for every segment of `layout` on `axis` of the node's constant input. */
  paramLayout(node: Node, input: number, axis: number, layout: Layout, role: Role, activation?: string, activationAxis?: number): void;
  /** Couples two layouts' spaces segment by segment; false (and poisons both) when they differ. */
  couple(a: Layout, b: Layout, where: Node): boolean;
  poison(layout: Layout | undefined, reason: string): void;
  intEdit(edit: IntEdit): void;
  /** Channels of a space must be removed in runs of `granule` (whole attention heads). */
  granule(space: number, granule: number): void;
  unprunable(what: string, reason: string): void;
}

/** Returns the layouts of the node's outputs (undefined: not tracked). */
export type Handler = (node: Node, cx: TraceCtx) => Array<Layout | undefined>;
