/**
 * Per-layer sensitivity: prune each group alone at several ratios and measure with the caller's
 * metric. The optimization loop turns the table into per-layer ratios (layerRatios).
 */
import { InputError } from '../../util/errors.js';
import type { Model } from '../../onnx/index.js';
import type { PassContext } from '../types.js';
import { checkLayerNames, checkTarget, selected } from './common.js';
import type { Importance } from './importance.js';
import type { RepairMode } from './repair.js';
import { pruneStructured } from './structured.js';
import { traceForPruning } from './traced.js';

export interface SensitivityOptions {
  importance?: Importance;
  repair?: RepairMode;
  /** Channel-count rounding of each cut (default: structured pruning's own, so the scan cuts what a stage would). */
  multiple?: number;
  channelBlock?: number;
  layers?: string[];
  exclude?: string[];
}

export interface SensitivityRow {
  /** The group's first producer node (the name layerRatios takes). */
  layer: string;
  ratio: number;
  metric: number;
}

export async function scanLayerSensitivity(
  model: Model,
  ratios: number[],
  evaluate: (m: Model) => Promise<number>,
  ctx: PassContext,
  options: SensitivityOptions = {},
): Promise<SensitivityRow[]> {
  if (!ratios.length) throw new InputError('ratios must list at least one fraction in [0, 1)', 'ratios');
  ratios.forEach((r, i) => checkTarget(r, `ratios[${i}]`));
  checkLayerNames(model, { layers: options.layers, exclude: options.exclude });
  // The groups a stage would find: traced as pruneStructured traces them (folded shape arithmetic included).
  const { dg } = await traceForPruning(model, ctx.calibration?.[0]);
  const groups = dg.groups.filter((g) => selected(g.producers, options.layers, options.exclude));
  const rows: SensitivityRow[] = [];
  // One line per measurement below; the passes' own summaries would repeat it for every group.
  const quiet = { ...ctx, log: undefined };
  for (const g of groups) {
    const layer = g.producers[0];
    for (const ratio of ratios) {
      const { model: pruned } = await pruneStructured(
        model,
        { target: ratio, importance: options.importance ?? 'l1', repair: options.repair ?? 'none', layers: [layer], multiple: options.multiple, channelBlock: options.channelBlock },
        quiet,
      );
      rows.push({ layer, ratio, metric: await evaluate(pruned) });
      ctx.log?.(`sensitivity: ${layer} cut alone by ${Math.round(ratio * 1000) / 10} %: ${Number(rows[rows.length - 1].metric.toPrecision(4))}`);
    }
  }
  return rows;
}
