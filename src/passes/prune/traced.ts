/**
 * What every structured cut starts from (structured.ts, and the sensitivity scan that must see the
 * same groups): a simplified copy of the model, its cost, and its dependency groups.
 */
import { cloneModel, type Graph, type Model } from '../../onnx/index.js';
import { probeAllShapes, randomFeeds } from '../../evaluate/shapes.js';
import type { Feeds } from '../../evaluate/session.js';
import { foldShapeArithmetic, type FoldResult } from '../simplify/fold-shapes.js';
import { rewriteHardSwish } from '../simplify/hard-swish.js';
import { measure, type Cost } from './common.js';
import { traceDependencies, type DepGraph } from './depgraph.js';
import { intValues, materializeConstants } from './tensors.js';

export interface Traced {
  /** A copy of the model, constants materialized and shape arithmetic folded: the one to cut. */
  work: Model;
  fold: FoldResult;
  /** Spelled-out HardSwish activations rewritten (simplify/hard-swish.ts). */
  hardSwish: number;
  /** Parameters and FLOPs of `work` on the cost probe's feeds. */
  before: Cost;
  /** The shapes the trace read (`before` unless the fold asked for size one). */
  traceShapes: Cost;
  dg: DepGraph;
}

/**
 * Everything before a cut: copy, materialize constants, simplify (spelled-out HardSwish as two ops
 * ORT fuses; shape arithmetic folded, so that counts computed at run time can be cut), measure, and
 * trace the dependency groups. `prepare` edits the copy before it is measured (zero biases for repair).
 */
export async function traceForPruning(model: Model, feeds: Feeds | undefined, log?: (m: string) => void, prepare?: (g: Graph) => void): Promise<Traced> {
  const copy = cloneModel(model);
  materializeConstants(copy.graph);
  const hardSwish = rewriteHardSwish(copy);
  const fold = await foldShapeArithmetic(hardSwish.model);
  const work = fold.model;
  prepare?.(work.graph);
  const before = await measure(work, feeds, log);
  const traceShapes = leavesDimensionsToReshape(work) ? await shapesAtSizeOne(work, before) : before;
  return { work, fold, hardSwish: hardSwish.rewritten, before, traceShapes, dg: traceDependencies(work, traceShapes.shapes) };
}

/** Whether the model has symbolic input dimensions and a constant Reshape target that leaves a dimension to -1 or 0. */
function leavesDimensionsToReshape(model: Model): boolean {
  const g = model.graph;
  const symbolic = g.inputs.some((v) => v.type?.kind === 'tensor' && v.type.shape?.some((d) => typeof d !== 'number' || d < 0));
  if (!symbolic) return false;
  const constants = new Map(g.initializers.map((t) => [t.name, t]));
  return g.nodes.some((n) => {
    const target = n.opType === 'Reshape' ? constants.get(n.inputs[1]) : undefined;
    return target !== undefined && intValues(target).some((v) => v <= 0);
  });
}

/**
 * Shapes for the dependency trace of a model whose Reshape targets say -1 or 0 (folded ones too): with every
 * symbolic dimension at 1, a dimension that a -1 merges with a dynamic axis (torch's heads into the
 * batch axis: [seq, batch, heads*dim] -> [seq, batch*heads, dim]) is seen as the dimension alone,
 * and the cut stays right at every size because the -1 absorbs the dynamic factor. Falls back to
 * the calibration shapes when the model does not run on generated inputs.
 */
async function shapesAtSizeOne(work: Model, before: Cost): Promise<Cost> {
  try {
    const { shapes, complete } = await probeAllShapes(work, randomFeeds(work, { otherDims: 1 }));
    return { ...before, shapes, complete };
  } catch {
    return before;
  }
}

export function simplifyNotes(fold: FoldResult, hardSwish: number): string[] {
  const notes = hardSwish ? [`${hardSwish} HardSwish activation(s) spelled out as x * Clip(x + 3, 0, 6) / 6 rewritten as x * HardSigmoid(x), which ONNX Runtime fuses into the convolution`] : [];
  if (fold.note) return [...notes, fold.note];
  if (!fold.folded && !fold.reshapeTargets) return notes;
  return [...notes, `shape arithmetic folded before tracing: ${fold.folded} value(s) became constants, ${fold.reshapeTargets} Reshape target(s) written with 0/-1, ${fold.nodesRemoved} node(s) removed; outputs checked against the original`];
}
