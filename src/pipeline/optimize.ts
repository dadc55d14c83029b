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
import { calibrationNeed, describeStage, stageGoals } from '../stages/kinds.js';
import type { RecipeStage } from '../stages/types.js';
import type { Config } from '../config/index.js';
import type { Feeds } from '../evaluate/session.js';
import { saveModel } from '../onnx/index.js';
import { sha256File } from '../gate/baseline.js';
import { readDecisions } from './parts.js';
import type { PassSummary } from '../passes/types.js';
import { calibrationBatches, loadConfigAndModel, modelIo } from './prepare.js';

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
  const { config, model: input } = loadConfigAndModel(options.configPath, options.model);
  const out = path.resolve(options.out);
  if (fs.existsSync(out) && fs.realpathSync(out) === fs.realpathSync(config.model)) {
    throw new InputError(`--out ${options.out} is the input model; the input is never overwritten`, options.out);
  }
  const { traits, cost } = await modelTraits(input);
  const report = options.replay ? readDecisions(options.replay) : undefined;
  if (report && !report.decisions) throw new InputError(`${options.replay}: holds no decisions to replay (it is from a run that did not optimize, or from an older prune-gate)`, options.replay);
  // Without a report, the recipe as written: every scheduled step of every stage, none measured or rolled back.
  const recipe = config.recipe ?? defaultRecipe(traits);
  const decisions: StepDecision[] = report?.decisions ?? recipe.flatMap((stage, stageIndex) => stageGoals(stage).map((goal, k, goals) => ({ stageIndex, stage, goal, reached: k ? goals[k - 1] : 0 })));
  const stages = report ? new Map(decisions.map((d) => [d.stageIndex, d.stage])) : new Map(recipe.entries());
  const origin: StageOrigin = report ? { replay: options.replay! } : config.recipe ? 'config' : 'default';
  const ctx = { calibration: await calibrationFor(config, stages, origin, options.log), seed: config.seed, log: options.log };
  const { model, summaries } = await replayDecisions(input, decisions, ctx, flopShares(cost));
  saveModel(model, out);
  const sha256 = sha256File(out);
  return { summaries, recipe: [...stages.values()].map(describeStage), out, sha256, ...(report?.candidateSha256 && { replayMatches: report.candidateSha256 === sha256 }) };
}

/** Where the stages come from, for naming the one that needs data. */
type StageOrigin = 'config' | 'default' | { replay: string };

/**
 * Calibration batches when the config has data (data.calibration, else data.eval's first samples:
 * shapes and FLOPs come out better with them), or none; a stage whose pass needs data and finds
 * none is named with what it needs.
 */
async function calibrationFor(config: Config, stages: Map<number, RecipeStage>, origin: StageOrigin, log?: (m: string) => void): Promise<Feeds[] | undefined> {
  const needing = [...stages].map(([i, stage]) => ({ stage, i, why: calibrationNeed(stage) })).find((s) => s.why !== undefined);
  if (!needing && !config.data.calibration && !config.data.eval) return undefined;
  const notes: string[] = [];
  const batches = await calibrationBatches(config, (await modelIo(config.model)).inputs, undefined, notes);
  notes.forEach((n) => log?.(n));
  if (batches || !needing) return batches;
  const stage = `${whichStage(origin, needing.i)} (${describeStage(needing.stage)})`;
  const instead = origin === 'default' ? "; or write a recipe whose stages need no data (e.g. '- prune: { kind: unstructured, target: 0.3 }'; 'recipe: []' applies none)" : '';
  throw new InputError(
    `${config.file}: /data/calibration is missing: ${stage} needs calibration data for its ${needing.why}; add data.calibration.inputs (model input name -> .npy file)${instead}`,
    `${config.file}#/data/calibration`,
    'config',
  );
}

function whichStage(origin: StageOrigin, index: number): string {
  if (origin === 'config') return `/recipe/${index}`;
  if (origin === 'default') return `stage ${index + 1} of the default recipe (the config has no 'recipe:')`;
  return `stage ${index + 1} replayed from ${origin.replay}`;
}
