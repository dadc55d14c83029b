/**
 * Structured pruning: whole channels (and attention heads) leave every member of their dependency
 * group, so tensors get smaller and ONNX Runtime does proportionally less work.
 */
import { InputError } from '../../util/errors.js';
import { cleanup, countParams, getInt, graphCost, NameGenerator, toposort, type Graph, type Model, type Node, type Tensor } from '../../onnx/index.js';
import type { Feeds } from '../../evaluate/session.js';
import type { LayerChange, PassContext, PassResult, Skipped } from '../types.js';
import { collectStats, validateCalibration, type ChannelStats, type StatsRequest } from './calibration.js';
import { checkChoice, checkLayerNames, checkTarget, measure, selected, type Cost } from './common.js';
import { batchNormsFedBy, reestimateBatchNorm } from './batchnorm.js';
import { applyRemoval, removedPositions, type DepGraph, type PruneGroup } from './depgraph.js';
import { channelScores, lowest, unitScores, type Importance } from './importance.js';
import { repairConsumer, type RepairMode, type RepairOutcome } from './repair.js';
import { shapesAfterRemoval } from './shapes-after.js';
import { withValues } from './tensors.js';
import { simplifyNotes, traceForPruning } from './traced.js';

export interface StructuredOptions {
  /** Fraction of prunable channels (per-layer) or parameters (global) to remove, in [0, 1). */
  target: number;
  importance: Importance;
  repair: RepairMode;
  /** Round every layer's kept channel count to this multiple (overrides `channelBlock`). */
  multiple?: number;
  /**
   * Round kept counts of layers with 32 channels or more to this block (default 8; layers under
   * 32 channels are not rounded, the step would be too coarse). ORT's NCHWc convolutions work in
   * blocks of 8 (AVX2, NEON) or 16 (AVX-512) channels: on the example CNN a 30 % cut to counts like
   * 22 and 34 took 48 % of the FLOPs but only 25 % of the batch-32 time, rounded to multiples of 8
   * it took 44 % (16: 55 %). The stage kind picks the runner's block (stages/kinds.ts) and records it.
   */
  channelBlock?: number;
  scope?: 'per-layer' | 'global';
  layers?: string[];
  exclude?: string[];
  /** Floor fraction of channels kept per layer (default 0.1): no layer is emptied. */
  minKeep?: number;
  /** Per-layer ratios (producer node name -> fraction to remove), e.g. from a sensitivity scan. */
  layerRatios?: Record<string, number>;
  /**
   * Each node's share of the model's cost (node name -> 0..1; FLOPs, which follow time and, unlike a
   * measured profile, give the same model on every run). Per-layer ratios then lean towards the
   * groups whose producers and consumers cost most: `target` is scaled by
   * sqrt(group cost / mean group cost), clamped to [0.5, 1.5].
   */
  nodeCostShare?: Record<string, number>;
  /**
   * One step of a scheduled stage (per-layer scope): the stage's cumulative target and each
   * group's units (channels, or heads) when the stage began, as `unitsBefore` of its first step
   * reported them. Ratios then apply to the starting sizes, so a group of 4 heads loses one when
   * the cumulative target crosses a quarter of it, rather than never: a 12.5 % step of the current
   * 4 heads rounds to 0 every time. Groups the stage did not start with get `target`.
   */
  stage?: { cumulativeTarget: number; startUnits: Record<string, number> };
}

export interface StructuredResult extends PassResult {
  /** Units (channels, or heads) of each prunable group before this cut, by group id. */
  unitsBefore: Record<string, number>;
}

export async function pruneStructured(model: Model, options: StructuredOptions, ctx: PassContext): Promise<StructuredResult> {
  const target = checkTarget(options.target);
  const importance = checkChoice(options.importance, ['l1', 'l2', 'activation', 'reconstruction'] as const, 'importance');
  const repair = checkChoice(options.repair, ['none', 'least-squares', 'bias-correction'] as const, 'repair');
  const scope = checkChoice(options.scope ?? 'per-layer', ['per-layer', 'global'] as const, 'scope');
  const minKeep = options.minKeep ?? 0.1;
  if (!(minKeep > 0 && minKeep <= 1)) throw new InputError(`minKeep must be in (0, 1], got ${minKeep}`, 'minKeep');
  if (options.multiple !== undefined && !(Number.isInteger(options.multiple) && options.multiple >= 1)) {
    throw new InputError(`multiple must be a positive integer, got ${options.multiple}`, 'multiple');
  }
  if (options.channelBlock !== undefined && !(Number.isInteger(options.channelBlock) && options.channelBlock >= 1)) {
    throw new InputError(`channel-block must be a positive integer, got ${options.channelBlock}`, 'channel-block');
  }
  for (const [name, r] of Object.entries(options.layerRatios ?? {})) checkTarget(r, `layerRatios.${name}`);
  if (options.stage) checkTarget(options.stage.cumulativeTarget, 'stage.cumulativeTarget');
  checkLayerNames(model, { layers: options.layers, exclude: options.exclude, layerRatios: Object.keys(options.layerRatios ?? {}) });
  const needsData = importance === 'activation' || importance === 'reconstruction' || repair !== 'none';
  const batches = needsData || ctx.calibration?.length ? validateCalibration(model, ctx.calibration, `importance '${importance}' / repair '${repair}'`) : undefined;

  const { work, fold, hardSwish, before, traceShapes, dg } = await traceForPruning(model, batches?.[0], ctx.log, repair !== 'none' ? addZeroBiases : undefined);
  const initializersBefore = new Map(work.graph.initializers.map((t) => [t.name, t]));
  const skipped: Skipped[] = [...dg.unprunable];
  const candidates: number[] = [];
  dg.groups.forEach((g, i) => {
    if (!selected(g.producers, options.layers, options.exclude)) skipped.push({ what: g.id, reason: 'not selected (layers/exclude)' });
    else candidates.push(i);
  });

  const requests: StatsRequest[] = [];
  for (const gi of candidates) {
    for (const s of dg.groups[gi].slices) {
      if (s.role !== 'in' || !s.activation || s.activationAxis === undefined) continue;
      const linear = s.node.opType === 'Gemm' || s.node.opType === 'MatMul';
      requests.push({ value: s.activation, axis: s.activationAxis, keepRows: repair !== 'none' && linear });
    }
  }
  // Inputs of BatchNormalization nodes after layers that may lose input channels: re-estimated below.
  const consumerNodes = new Set(candidates.flatMap((gi) => dg.groups[gi].slices.filter((s) => s.role === 'in').map((s) => s.node.name)));
  const batchNorms = repair !== 'none' ? batchNormsFedBy(work.graph, consumerNodes) : [];
  for (const bn of batchNorms) requests.push({ value: bn.inputs[0], axis: 1, keepRows: false });
  const stats: Map<string, ChannelStats> = needsData && batches ? await collectStats(work, requests, batches) : new Map();
  const constant = (name: string) => work.graph.initializers.find((t) => t.name === name);
  const scores = new Map<number, Float64Array>();
  for (const gi of candidates) scores.set(gi, unitScores(channelScores(dg.groups[gi], importance, constant, stats), dg.groups[gi].granule));

  const removed = decide(dg, candidates, scores, { ...options, target, scope, minKeep });
  const unitsBefore: Record<string, number> = {};
  for (const gi of candidates) unitsBefore[dg.groups[gi].id] = dg.groups[gi].channels / dg.groups[gi].granule;

  // Repair first, on full-size weights (removed rows are zeroed, then cut with the rest).
  const outcomes: RepairOutcome[] = [];
  if (repair !== 'none' && removed.size) {
    const consumers = new Map<string, { node: (typeof dg.groups)[number]['slices'][number]['node']; activation: string }>();
    for (const gi of removed.keys()) {
      for (const s of dg.groups[gi].slices) if (s.role === 'in' && s.activation) consumers.set(s.node.name + '\u0000' + s.activation, { node: s.node, activation: s.activation });
    }
    for (const { node, activation } of consumers.values()) {
      const layout = dg.layouts.get(activation);
      if (!layout) continue;
      const positions = removedPositions(dg, layout, removed);
      outcomes.push(repairConsumer(work.graph, node, positions, stats.get(activation), repair));
    }
  }
  applyRemoval(work, dg, removed);
  cleanup(work.graph);
  toposort(work.graph);
  const reestimated = batches ? await reestimateBatchNorms(work, dg, removed, batchNorms, stats, batches) : [];
  // Shapes after removal follow from the traced shapes; when those are not the cost probe's, probe again.
  const after = await measureAfter(work, dg, removed, traceShapes === before ? before : { ...before, complete: false }, initializersBefore, batches?.[0], ctx.log);

  const changed: LayerChange[] = [];
  for (const [gi, channels] of removed) {
    const g = dg.groups[gi];
    const kept = g.channels - channels.size;
    const what = g.granule > 1 ? `${g.channels / g.granule} -> ${kept / g.granule} heads (${g.channels} -> ${kept} channels)` : `${g.channels} -> ${kept} output channels`;
    for (const p of g.producers) {
      const node = work.graph.nodes.find((n) => n.name === p);
      changed.push({ name: p, opType: node?.opType ?? '', change: what });
    }
  }
  changed.push(...reestimated);
  for (const o of outcomes) {
    const node = work.graph.nodes.find((n) => n.name === o.node);
    const err = o.errorBefore !== undefined ? ` (relative output error ${fmt(o.errorBefore)} without repair -> ${fmt(o.errorAfter)})` : '';
    changed.push({ name: o.node, opType: node?.opType ?? '', change: `input channels removed; ${o.method} repair${err}${o.note ? `; ${o.note}` : ''}`, error: o.errorAfter ?? o.errorBefore });
  }
  ctx.log?.(`structured pruning: ${removed.size} of ${dg.groups.length} groups pruned, ${skipped.length} skipped`);
  return {
    model: work,
    unitsBefore,
    summary: {
      pass: 'structured',
      paramsBefore: before.params,
      paramsAfter: after.params,
      flopsBefore: before.flops,
      flopsAfter: after.flops,
      changed,
      skipped,
      notes: [
        `importance ${importance}, ${scope} target ${target}${options.nodeCostShare && scope === 'per-layer' ? ' (per-layer ratios weighted by FLOPs)' : ''}, repair ${repair}`,
        ...simplifyNotes(fold, hardSwish),
        ...(reestimated.length ? [`${reestimated.length} BatchNormalization node(s) after repaired layers re-estimated on calibration data`] : []),
      ],
    },
  };
}

/**
 * Re-estimates the BatchNormalization nodes whose input producer lost input channels (the input's
 * statistics before pruning are in `before`; one more calibration pass gives them after).
 */
async function reestimateBatchNorms(work: Model, dg: DepGraph, removed: Map<number, Set<number>>, batchNorms: Node[], before: Map<string, ChannelStats>, batches: Feeds[]): Promise<LayerChange[]> {
  const touched = new Set<string>();
  for (const gi of removed.keys()) for (const s of dg.groups[gi].slices) if (s.role === 'in') touched.add(s.node.name);
  const affected = batchNorms.filter((bn) => batchNormsFedBy(work.graph, touched).includes(bn) && before.has(bn.inputs[0]));
  if (!affected.length) return [];
  const after = await collectStats(work, affected.map((bn) => ({ value: bn.inputs[0], axis: 1, keepRows: false })), batches);
  const changes: LayerChange[] = [];
  for (const bn of affected) {
    const value = bn.inputs[0];
    const a = after.get(value);
    const b = before.get(value) as ChannelStats;
    if (!a) continue;
    const layout = dg.layouts.get(value);
    const gone = layout ? removedPositions(dg, layout, removed) : new Set<number>();
    const kept = Array.from({ length: b.sum.length }, (_, c) => c).filter((c) => !gone.has(c));
    const change = reestimateBatchNorm(work.graph, bn, b, a, kept);
    if (change) changes.push(change);
  }
  return changes;
}

/**
 * Cost of the pruned model: shapes derived from the probe before pruning when that is exact
 * (shapes-after.ts), else a second probe.
 */
async function measureAfter(work: Model, dg: DepGraph, removed: Map<number, Set<number>>, before: Cost, initializersBefore: Map<string, Tensor>, feeds: Feeds | undefined, log?: (m: string) => void): Promise<Cost> {
  const shapes = before.shapes && before.complete ? shapesAfterRemoval(work, dg, removed, before.shapes, initializersBefore) : undefined;
  if (!shapes) return measure(work, feeds, log);
  return { params: countParams(work), flops: graphCost(work.graph, shapes).totalFlops, shapes, complete: true };
}

const fmt = (x: number | undefined) => (x === undefined ? '?' : x.toPrecision(3));

interface Decision {
  target: number;
  scope: 'per-layer' | 'global';
  minKeep: number;
  multiple?: number;
  channelBlock?: number;
  layerRatios?: Record<string, number>;
  nodeCostShare?: Record<string, number>;
  stage?: StructuredOptions['stage'];
}

/** Limits of the cost weighting: no layer gets less than half, or more than 1.5 times, the target. */
const TIME_WEIGHT_RANGE = [0.5, 1.5] as const;
/** No layer loses more than this fraction by cost weighting alone. */
const MAX_WEIGHTED_RATIO = 0.9;

/**
 * What a group's channels cost: its producers' and its consumers' share of the model's cost
 * (a Conv's output channels are also the next Conv's input channels).
 */
export function groupCostWeights(dg: DepGraph, candidates: number[], share: Record<string, number>): Map<number, number> {
  const footprint = new Map<number, number>();
  for (const gi of candidates) {
    const nodes = new Set<string>(dg.groups[gi].producers);
    for (const s of dg.groups[gi].slices) nodes.add(s.node.name);
    footprint.set(gi, [...nodes].reduce((sum, n) => sum + (share[n] ?? 0), 0));
  }
  const mean = [...footprint.values()].reduce((a, b) => a + b, 0) / (footprint.size || 1);
  const weights = new Map<number, number>();
  for (const [gi, f] of footprint) {
    weights.set(gi, mean > 0 ? Math.min(TIME_WEIGHT_RANGE[1], Math.max(TIME_WEIGHT_RANGE[0], Math.sqrt(f / mean))) : 1);
  }
  return weights;
}

/** Channels to remove per group index (only groups losing at least one channel). */
export function decide(dg: DepGraph, candidates: number[], scores: Map<number, Float64Array>, d: Decision): Map<number, Set<number>> {
  const keepCount = new Map<number, number>();
  // `size` is the group's size at the stage start when pruning in steps, so later steps keep its multiple.
  const multipleOf = (g: PruneGroup, size: number) => (g.granule > 1 ? 1 : (d.multiple ?? (size < 32 ? 1 : (d.channelBlock ?? 8))));
  const ratioOf = (g: PruneGroup) => {
    const r = g.producers.map((p) => d.layerRatios?.[p]).find((x) => x !== undefined);
    return r;
  };
  if (d.scope === 'per-layer') {
    const weights = d.nodeCostShare ? groupCostWeights(dg, candidates, d.nodeCostShare) : undefined;
    for (const gi of candidates) {
      const g = dg.groups[gi];
      const units = g.channels / g.granule;
      // Within a stage, ratios are cumulative and apply to the group's size at the stage start.
      const start = d.stage?.startUnits[g.id];
      const [size, target] = start !== undefined && d.stage ? [start, d.stage.cumulativeTarget] : [units, d.target];
      const ratio = ratioOf(g) ?? (weights ? Math.min(MAX_WEIGHTED_RATIO, target * (weights.get(gi) ?? 1)) : target);
      keepCount.set(gi, Math.min(units, roundKeep(size - Math.round(ratio * size), size, multipleOf(g, size), d.minKeep)));
    }
  } else {
    // Global: scores normalised per group (mean 1) so layers of different scale compare; the
    // cheapest units go first until the parameter target is met. Explicit layer ratios still win.
    const units: Array<{ gi: number; u: number; s: number; cost: number }> = [];
    let total = 0;
    const cap = new Map<number, number>();
    for (const gi of candidates) {
      const g = dg.groups[gi];
      const n = g.channels / g.granule;
      const sc = scores.get(gi) as Float64Array;
      const mean = sc.reduce((a, b) => a + b, 0) / n || 1;
      const cost = g.paramsPerChannel * g.granule;
      total += cost * n;
      const fixed = ratioOf(g);
      if (fixed !== undefined) {
        keepCount.set(gi, roundKeep(n - Math.round(fixed * n), n, multipleOf(g, n), d.minKeep));
        continue;
      }
      cap.set(gi, n - Math.max(1, Math.ceil(d.minKeep * n)));
      for (let u = 0; u < n; u++) units.push({ gi, u, s: sc[u] / mean, cost });
    }
    units.sort((a, b) => a.s - b.s || a.gi - b.gi || a.u - b.u);
    const goal = d.target * total;
    let done = 0;
    const taken = new Map<number, number>();
    for (const x of units) {
      if (done >= goal) break;
      const t = taken.get(x.gi) ?? 0;
      if (t >= (cap.get(x.gi) ?? 0)) continue;
      taken.set(x.gi, t + 1);
      done += x.cost;
    }
    for (const gi of cap.keys()) {
      const g = dg.groups[gi];
      const n = g.channels / g.granule;
      keepCount.set(gi, roundKeep(n - (taken.get(gi) ?? 0), n, multipleOf(g, n), d.minKeep));
    }
  }
  const removed = new Map<number, Set<number>>();
  for (const [gi, keep] of keepCount) {
    const g = dg.groups[gi];
    const n = g.channels / g.granule;
    if (keep >= n) continue;
    const gone = lowest(scores.get(gi) as Float64Array, n - keep);
    const set = new Set<number>();
    for (const u of gone) for (let k = 0; k < g.granule; k++) set.add(u * g.granule + k);
    removed.set(gi, set);
  }
  return removed;
}

export function roundKeep(keep: number, units: number, multiple: number, minKeep: number): number {
  const floor = Math.max(1, Math.ceil(minKeep * units));
  let k = Math.max(keep, floor);
  if (multiple > 1) {
    k = Math.round(k / multiple) * multiple;
    if (k < floor) k = Math.ceil(floor / multiple) * multiple;
  }
  return Math.min(units, k);
}

/** Gives Conv and Gemm nodes a zero bias so repair can write one; adding zeros changes no output. */
function addZeroBiases(graph: Graph): void {
  const names = new NameGenerator(graph);
  for (const n of graph.nodes) {
    if (n.inputs[2]) continue;
    const w = graph.initializers.find((t) => t.name === n.inputs[1]);
    if (!w) continue;
    let size: number | undefined;
    if (n.opType === 'Conv' && getInt(n, 'group', 1) === 1) size = w.dims[0];
    if (n.opType === 'Gemm' && w.dims.length === 2) size = w.dims[getInt(n, 'transB', 0) ? 0 : 1];
    if (size === undefined) continue;
    const t = withValues(w, [size], new Float32Array(size), names.next(`${n.name || n.opType}_bias`));
    graph.initializers.push(t);
    while (n.inputs.length < 3) n.inputs.push('');
    n.inputs[2] = t.name;
  }
}
