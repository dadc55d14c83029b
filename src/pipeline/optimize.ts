/**
 * `prune-gate optimize`: apply the recipe's passes as written (each scheduled step in turn, no
 * validation, rollback or sensitivity scan: that is `run`'s loop) and save the result. For trying
 * passes by hand. Each step cuts what the same step of `run` would: FLOP-weighted per-layer
 * ratios, cumulative from the stage's start.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../util/errors.js';
import { defaultRecipe } from '../loop/recipe.js';
import { flopShares, modelTraits } from '../loop/model-traits.js';
import { describeStage, runStep, stageGoals } from '../stages/kinds.js';
import { saveModel, type Model } from '../onnx/index.js';
import type { PassSummary } from '../passes/types.js';
import { prepare } from './prepare.js';

export async function optimizeOnly(options: { configPath: string; model?: string; out: string; log?: (m: string) => void }): Promise<{ summaries: PassSummary[]; recipe: string[]; out: string }> {
  const p = await prepare(options.configPath, { model: options.model });
  const { config } = p;
  const out = path.resolve(options.out);
  if (fs.existsSync(out) && fs.realpathSync(out) === fs.realpathSync(config.model)) {
    throw new InputError(`--out ${options.out} is the input model; the input is never overwritten`, options.out);
  }
  const { traits, cost } = await modelTraits(p.model);
  const recipe = config.recipe ?? defaultRecipe(traits);
  const nodeCostShare = flopShares(cost);
  const ctx = { calibration: p.calibration, seed: config.seed, log: options.log };
  let model: Model = p.model;
  const summaries: PassSummary[] = [];
  for (const stage of recipe) {
    let reached = 0;
    let stageUnits: Record<string, number> | undefined;
    for (const goal of stageGoals(stage)) {
      const result = await runStep(model, stage, { goal, reached, nodeCostShare, stageUnits }, ctx);
      stageUnits ??= result.unitsBefore;
      model = result.model;
      summaries.push(result.summary);
      reached = goal;
    }
  }
  saveModel(model, out);
  return { summaries, recipe: recipe.map(describeStage), out };
}
