/**
 * `prune-gate optimize`: apply the recipe's passes as written (each scheduled step in turn, no
 * validation, rollback or sensitivity scan: that is `run`'s loop) and save the result, for trying
 * passes by hand; or, with `--replay report.json`, apply the decisions a run recorded and rebuild
 * its candidate byte for byte without measuring. Both go through the same replay: each step cuts
 * what the same step of `run` would (FLOP-weighted per-layer ratios, cumulative from the stage's
 * start).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../util/errors.js';
import { defaultRecipe } from '../loop/recipe.js';
import { flopShares, modelTraits } from '../loop/model-traits.js';
import { replayDecisions } from '../loop/replay.js';
import type { StepDecision } from '../loop/types.js';
import { describeStage, stageGoals } from '../stages/kinds.js';
import { saveModel } from '../onnx/index.js';
import { sha256File } from '../gate/baseline.js';
import { readDecisions } from './parts.js';
import type { PassSummary } from '../passes/types.js';
import { prepare } from './prepare.js';

export interface OptimizeResult {
  summaries: PassSummary[];
  recipe: string[];
  out: string;
  /** sha256 of the written model. */
  sha256: string;
  /** With --replay: whether it is the report's candidate, byte for byte. */
  replayMatches?: boolean;
}

export async function optimizeOnly(options: { configPath: string; model?: string; out: string; replay?: string; log?: (m: string) => void }): Promise<OptimizeResult> {
  const p = await prepare(options.configPath, { model: options.model });
  const { config } = p;
  const out = path.resolve(options.out);
  if (fs.existsSync(out) && fs.realpathSync(out) === fs.realpathSync(config.model)) {
    throw new InputError(`--out ${options.out} is the input model; the input is never overwritten`, options.out);
  }
  const { traits, cost } = await modelTraits(p.model);
  const report = options.replay ? readDecisions(options.replay) : undefined;
  if (report && !report.decisions) throw new InputError(`${options.replay}: holds no decisions to replay (it is from a run that did not optimize, or from an older prune-gate)`, options.replay);
  // Without a report, the recipe as written: every scheduled step of every stage, none measured or rolled back.
  const recipe = config.recipe ?? defaultRecipe(traits);
  const decisions: StepDecision[] = report?.decisions ?? recipe.flatMap((stage, stageIndex) => stageGoals(stage).map((goal, k, goals) => ({ stageIndex, stage, goal, reached: k ? goals[k - 1] : 0 })));
  const ctx = { calibration: p.calibration, seed: config.seed, log: options.log };
  const { model, summaries } = await replayDecisions(p.model, decisions, ctx, flopShares(cost));
  saveModel(model, out);
  const sha256 = sha256File(out);
  const stages = report ? [...new Map(decisions.map((d) => [d.stageIndex, d.stage])).values()] : recipe;
  return { summaries, recipe: stages.map(describeStage), out, sha256, ...(report?.candidateSha256 && { replayMatches: report.candidateSha256 === sha256 }) };
}
