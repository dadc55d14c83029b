/**
 * Applies one recipe stage (at one scheduled target) to a model by calling the matching pass.
 * The table below is the only place that knows which pass serves which recipe key.
 */
import type { PruneParams, QuantizeParams, RecipeStage } from '../config/index.js';
import type { Model } from '../onnx/index.js';
import { factorizeLowRank, pruneNM, pruneStructured, pruneUnstructured } from '../passes/prune/index.js';
import { convertWeightsFloat16, quantizeDynamicInt8, quantizeInt4WeightOnly, quantizeStaticInt8, quantizeWithFallback } from '../passes/quantize/index.js';
import type { PassContext, PassResult, Skipped } from '../passes/types.js';
import { slowerQuantizedNodes } from '../passes/quantize/latency-check.js';

export interface StageInput {
  stage: RecipeStage;
  /** For pruning: the fraction to remove from the current model in this step. */
  stepTarget?: number;
  /** For pruning kinds that keep shapes: the cumulative sparsity to reach. */
  cumulativeTarget?: number;
  /** Each node's share of the model's FLOPs: structured pruning aims at the layers that cost most. */
  nodeCostShare?: Record<string, number>;
  /** Structured pruning: each group's units when the stage began (the first step's `unitsBefore`). */
  stageUnits?: Record<string, number>;
  /** Structured pruning: cumulative ratios of layers a sensitivity scan held back. */
  layerRatios?: Record<string, number>;
}

export interface FallbackHooks {
  /** Drift (points, positive = worse) of a candidate against the reference. */
  drift(model: Model): Promise<number>;
  budget: number;
}

export interface StageOutcome extends PassResult {
  /** Nodes a quantization fallback put back in float, and why. */
  excluded?: Skipped[];
  /** Structured pruning: units of each prunable group before the cut, by group id. */
  unitsBefore?: Record<string, number>;
}

export async function runStage(model: Model, input: StageInput, ctx: PassContext, fallback?: FallbackHooks): Promise<StageOutcome> {
  const { stage } = input;
  if (stage.stage === 'prune') return runPrune(model, stage.prune, input, ctx);
  return runQuantize(model, stage.quantize, ctx, fallback);
}

function runPrune(model: Model, p: PruneParams, input: StageInput, ctx: PassContext): Promise<StageOutcome> {
  switch (p.kind) {
    case 'structured':
      return pruneStructured(
        model,
        {
          target: input.stepTarget ?? p.target ?? 0,
          importance: p.importance ?? 'activation',
          repair: p.repair ?? 'least-squares',
          multiple: p.multiple,
          scope: p.scope,
          layers: p.layers,
          exclude: p.exclude,
          nodeCostShare: input.nodeCostShare,
          layerRatios: input.layerRatios,
          stage: input.stageUnits && input.cumulativeTarget !== undefined ? { cumulativeTarget: input.cumulativeTarget, startUnits: input.stageUnits } : undefined,
        },
        ctx,
      );
    case 'unstructured':
      return pruneUnstructured(model, { target: input.cumulativeTarget ?? p.target ?? 0, scope: p.scope, layers: p.layers, exclude: p.exclude }, ctx);
    case 'n:m':
      return pruneNM(model, { n: p.n ?? 2, m: p.m ?? 4, importance: p.importance === 'activation' ? 'wanda' : 'magnitude', layers: p.layers, exclude: p.exclude }, ctx);
    case 'low-rank':
      return factorizeLowRank(model, { energy: p.energy, activationAware: p.importance === 'activation', layers: p.layers, exclude: p.exclude }, ctx);
  }
}

async function runQuantize(model: Model, q: QuantizeParams, ctx: PassContext, fallback?: FallbackHooks): Promise<StageOutcome> {
  const userExcluded = q.nodesToExclude ?? [];
  const quantize = (m: Model, exclude: string[]): Promise<PassResult> => {
    const nodesToExclude = [...userExcluded, ...exclude];
    switch (q.kind) {
      case 'int8-static':
        return quantizeStaticInt8(
          m,
          {
            calibration: q.calibration ?? 'percentile',
            percentile: q.percentile,
            activationType: q.activationType ?? 'auto',
            perChannel: q.perChannel,
            nodesToExclude,
            opTypesToQuantize: q.opTypesToQuantize,
          },
          ctx,
        );
      case 'int8-dynamic':
        return quantizeDynamicInt8(m, { nodesToExclude, opTypesToQuantize: q.opTypesToQuantize }, ctx);
      case 'int4-weight-only':
        return quantizeInt4WeightOnly(
          m,
          { blockSize: q.blockSize ?? 32, symmetric: q.symmetric ?? true, accuracyLevel: q.accuracyLevel ?? 4, method: q.calibration ? 'calibrated' : 'rtn', nodesToExclude },
          ctx,
        );
      case 'fp16':
        return convertWeightsFloat16(m, { nodesToExclude }, ctx);
    }
  };
  if ((q.fallback ?? 'auto') === 'auto' && fallback && q.kind !== 'fp16') {
    // The latency check profiles on the first calibration batch: the data the pass already has.
    const feeds = ctx.calibration?.[0];
    const latencyCheck = feeds ? (float: Model, quant: PassResult) => slowerQuantizedNodes(float, quant.model, quant.summary.changed.map((c) => c.name), feeds) : undefined;
    return quantizeWithFallback(model, quantize, (m) => fallback.drift(m), fallback.budget, ctx, { latencyCheck });
  }
  return quantize(model, []);
}
