/**
 * The optimization on the search split alone: the original model measured on the search samples,
 * the loop choosing its steps there, and the never-slower check. `prune-gate run` continues from
 * it to the gate on the test split; `prune-gate search` writes the candidate and a record of its
 * decisions for other jobs to judge.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RecipeStage } from '../config/index.js';
import { evaluateModel } from '../evaluate/evaluate.js';
import { benchLatency, type BenchOptions } from '../evaluate/latency.js';
import type { OutputStore } from '../evaluate/output-store.js';
import { profileModel } from '../evaluate/profile.js';
import type { EvalResult } from '../evaluate/types.js';
import type { Baseline } from '../gate/baseline.js';
import { chooseKeepRule, metricResolution } from '../gate/resolution.js';
import { optimizationBudget } from '../gate/verdict.js';
import { flopShares, modelTraits } from '../loop/model-traits.js';
import { optimize, type LoopResult } from '../loop/optimize-loop.js';
import { defaultRecipe } from '../loop/recipe.js';
import { replayDecisions } from '../loop/replay.js';
import { encodeModel } from '../onnx/index.js';
import { InputError } from '../util/errors.js';
import { describeStage } from '../stages/kinds.js';
import { buildJudge } from './judge.js';
import type { Prepared } from './prepare.js';
import type { ReferenceSource } from './reference.js';
import { shipFaster, type Shipped } from './ship.js';
import { baselineOn, complement, splitEvaluation, type SplitEvaluation } from './split.js';

/** Per-step latency probe budget inside the loop (the final comparison uses the config's budget). */
const LOOP_BENCH_MS = 1500;

export interface SearchSetup {
  baseline?: Baseline;
  /** Label-free: where the reference outputs come from (pipeline/reference.ts). */
  source?: ReferenceSource;
  log: (message: string) => void;
  timed: <T>(name: string, work: () => Promise<T>) => Promise<T>;
  /** Stores to release when the caller is done. */
  releases: OutputStore[];
}

export interface SearchOutcome {
  loop: LoopResult;
  shipped: Shipped;
  /** The original on the search samples (the loop's reference). */
  original: { result: EvalResult; notes: string[] };
  /** How models are evaluated on the search split (run reuses it when there is no split). */
  evaluation: SplitEvaluation;
  notes: string[];
}

export async function searchCandidate(p: Prepared, setup: SearchSetup): Promise<SearchOutcome> {
  const { config } = p;
  const { log, timed } = setup;
  const evaluation = splitEvaluation(p, setup.source, 'search', setup.releases);
  log(`evaluating ${config.model} on ${p.searchSet.count} search samples`);
  const original = await timed('evaluate-original-search', () => evaluateModel(config.model, p.searchSet, { ...evaluation.original, label: config.model }));
  const notes: string[] = [];
  let recipe: RecipeStage[] | undefined = config.recipe;
  // Profile first: the static costs (FLOPs, parameters) aim the cuts and pick the default recipe.
  const { traits, cost } = await modelTraits(p.model);
  if (!recipe) {
    recipe = defaultRecipe(traits);
    notes.push(`Default recipe for this model: ${recipe.map(describeStage).join(', then ')}.`);
  }
  const loopBatch = Math.max(...config.bench.batchSizes);
  // ...and the measured one says where the time goes.
  const before = await timed('profile-original', () => profileModel(config.model, { dataset: p.evalSet, batchSize: loopBatch, threads: config.bench.threads, label: config.model }));
  const hottest = before.nodes[0];
  if (hottest) notes.push(`Profiled first (batch ${loopBatch}): ${hottest.originalNames?.join(', ') || hottest.name} (${hottest.opType}) takes ${Math.round(hottest.share * 100)} % of the time.`);
  const judge = buildJudge({
    dataset: p.searchSet,
    metric: config.metrics[0],
    evaluate: evaluation.candidates,
    reference: original.result,
    seed: config.seed,
    latency: { batchSizes: config.bench.batchSizes, timeBudgetMs: Math.min(LOOP_BENCH_MS, config.bench.timeBudgetMs), threads: config.bench.threads, feeds: p.evalSet, precision: config.bench.precision, seed: config.seed },
  });
  // The frozen baseline on the same samples (explicit search data is not in it).
  const searchIndices = p.split.how === 'explicit' ? undefined : p.split.how === 'none' ? p.split.testIndices : complement(p.split.testIndices, p.evalSet.count);
  const baseline = setup.baseline && searchIndices && baselineOn(setup.baseline, searchIndices, p.evalSet.count);
  const budget = optimizationBudget(config.metrics[0], config.gate, original.result.metrics, baseline?.metrics);
  if (baseline && budget < optimizationBudget(config.metrics[0], config.gate, original.result.metrics)) {
    notes.push(`The committed model already scores below the frozen baseline, so the optimizer had only ${round2(budget)} points of drift left to spend.`);
  }
  const ctx = { calibration: p.calibration, seed: config.seed, log };
  const nodeCostShare = flopShares(cost);
  // What this many samples can confirm, said before the loop spends it (gate/resolution.ts).
  const { keep, note: keepNote } = chooseKeepRule(config.budget.keep, metricResolution(config.metrics[0], p.searchSet.count, budget), budget);
  if (keepNote) {
    notes.push(keepNote);
    log(keepNote);
  }
  const loop = await timed('optimize', () =>
    optimize(p.model, { recipe: recipe as RecipeStage[], budget, keep, objective: config.objective, nodeCostShare, ctx, judge, wallTimeMs: config.budget.wallTimeMs }),
  );

  // Never ship a slower model: measured as the gate measures, an earlier kept step or the original otherwise.
  log(`benchmarking original vs candidate (batch sizes ${config.bench.batchSizes.join(', ')})`);
  const shipped = await timed('benchmark', () =>
    shipFaster({
      original: p.model,
      candidate: loop.model,
      decisions: loop.decisions,
      objective: config.objective,
      rebuild: async (count) => (await replayDecisions(p.model, loop.decisions.slice(0, count), { ...ctx, log: undefined }, nodeCostShare)).model,
      measure: (model) => benchLatency({ ...benchSettings(p), models: [{ model: config.model, label: 'original' }, { model: encodeModel(model), label: 'candidate' }] }),
      log,
    }),
  );
  return { loop, shipped, original, evaluation, notes };
}

/** The final comparison's settings from the config (models aside): what `run`, `search` and `bench` measure with. */
export function benchSettings(p: Prepared): Omit<BenchOptions, 'models'> {
  const { bench } = p.config;
  return { batchSizes: bench.batchSizes, timeBudgetMs: bench.timeBudgetMs, minRuns: bench.minRuns, warmup: bench.warmup, precision: bench.precision, threads: bench.threads, inputs: p.evalSet, seed: p.config.seed };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** `timed(name, work)`: runs `work` and records its seconds under `name`. */
export function timer(timings: Record<string, number>): SearchSetup['timed'] {
  return async (name, work) => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      timings[name] = Math.round((performance.now() - t0) / 10) / 100;
    }
  };
}

/** The user's model is never overwritten, whatever --out says. */
export function refuseOverwrite(output: string, input: string): void {
  const resolvedOut = path.resolve(output);
  const same = fs.existsSync(resolvedOut) ? fs.realpathSync(resolvedOut) === fs.realpathSync(input) : resolvedOut === path.resolve(input);
  if (same) throw new InputError(`--out would overwrite the model ${input}; choose another output folder`, input);
}
