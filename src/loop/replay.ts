/**
 * Rebuilds an optimized model from the loop's recorded decisions, with no measurement: each kept
 * step is applied again through its stage kind's pass, with the same schedule position, per-layer
 * ratios and fallback exclusions. Same model, calibration data, seed and decisions: the same bytes.
 */
import type { Model } from '../onnx/index.js';
import type { PassContext, PassSummary } from '../passes/types.js';
import { runStep } from '../stages/kinds.js';
import type { RecipeStage } from '../stages/types.js';
import type { StepDecision } from './types.js';

export async function replayDecisions(model: Model, decisions: StepDecision[], ctx: PassContext, nodeCostShare?: Record<string, number>): Promise<{ model: Model; summaries: PassSummary[] }> {
  let current = model;
  let stageIndex = -1;
  let stageUnits: Record<string, number> | undefined;
  const summaries: PassSummary[] = [];
  for (const d of decisions) {
    // Steps of one stage are cut relative to the units the stage started with.
    if (d.stageIndex !== stageIndex) {
      stageIndex = d.stageIndex;
      stageUnits = undefined;
    }
    const out = await runStep(current, withExclusions(d.stage, d.excluded), { goal: d.goal, reached: d.reached, nodeCostShare, stageUnits, layerRatios: d.layerRatios }, ctx);
    stageUnits ??= out.unitsBefore;
    current = out.model;
    summaries.push(out.summary);
  }
  return { model: current, summaries };
}

/** A quantization stage with the fallback's exclusions made explicit (after the user's, in order), and no fallback. */
function withExclusions(stage: RecipeStage, excluded: string[] | undefined): RecipeStage {
  if (stage.stage !== 'quantize' || !excluded?.length) return stage;
  return { stage: 'quantize', quantize: { ...stage.quantize, nodesToExclude: [...(stage.quantize.nodesToExclude ?? []), ...excluded], fallback: 'none' } };
}
