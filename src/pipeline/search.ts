/**
 * The optimization on the search split alone: the original model measured on the search samples,
 * the loop choosing its steps there, and the never-slower check. `prune-gate run` continues from
 * it to the gate on the test split; `prune-gate search` writes the candidate and a record of its
 * decisions (search.json) for `verify` shards and `bench` parts to judge elsewhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RecipeStage } from '../config/index.js';
import { evaluateModel } from '../evaluate/evaluate.js';
import { benchLatency, type BenchOptions } from '../evaluate/latency.js';
import type { OutputStore } from '../evaluate/output-store.js';
import { profileModel } from '../evaluate/profile.js';
import type { EvalResult } from '../evaluate/types.js';
import { readBaseline, type Baseline } from '../gate/baseline.js';
import { chooseKeepRule, metricResolution } from '../gate/resolution.js';
import { optimizationBudget } from '../gate/verdict.js';
import { flopShares, modelTraits } from '../loop/model-traits.js';
import { optimize, type LoopResult } from '../loop/optimize-loop.js';
import { defaultRecipe } from '../loop/recipe.js';
import { replayDecisions } from '../loop/replay.js';
import type { StepDecision } from '../loop/types.js';
import type { PassSummary } from '../passes/types.js';
import { encodeModel, saveModel, type Model } from '../onnx/index.js';
import { namesTargets } from '../evaluate/targets.js';
import { InputError } from '../util/errors.js';
import { TOOL_VERSION } from '../util/version.js';
import { partFingerprint } from './fingerprint.js';
import { writePart, type SearchRecord } from './parts.js';
import { describeStage } from '../stages/kinds.js';
import { buildJudge } from './judge.js';
import { prepare, type Prepared } from './prepare.js';
import { fidelityReference, type ReferenceSource } from './reference.js';
import { shipFaster, type Shipped } from './ship.js';
import { baselineOn, complement, splitEvaluation, splitNote, splitRecord, type SplitEvaluation } from './split.js';

/** Per-step latency probe budget inside the loop (the final comparison uses the config's budget). */
const LOOP_BENCH_MS = 1500;

export interface SearchSetup {
  baseline?: Baseline;
  /** Label-free: where the reference outputs come from (pipeline/reference.ts). */
  source?: ReferenceSource;
  log: (message: string) => void;
  /** Runs a phase and records its seconds; `budgetMs` is the phase's wall-time budget, for progress lines. */
  timed: <T>(name: string, work: () => Promise<T>, budgetMs?: number) => Promise<T>;
  /** The base branch's model, benchmarked beside the PR model and the candidate (RunOptions.baseModel). */
  baseModel?: { file: string };
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
  /** The candidate some of the loop's kept decisions build, rebuilt with no measurement (none: the original). */
  build(decisions: StepDecision[]): Promise<Model>;
  /** The never-slower check again, for the candidate these decisions build (run's walk-back). */
  ship(candidate: Model, decisions: StepDecision[]): Promise<Shipped>;
  /** The pass summaries of the candidate these decisions build. */
  passesOf(decisions: StepDecision[]): Promise<PassSummary[]>;
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
    latency: { batchSizes: config.bench.batchSizes, timeBudgetMs: Math.min(LOOP_BENCH_MS, config.bench.timeBudgetMs), threads: config.bench.threads, feeds: p.evalSet, precision: config.bench.precision, seed: config.seed, targets: config.targets },
  });
  // The frozen baseline on the same samples (explicit search data is not in it).
  const searchIndices = p.split.how === 'explicit' ? undefined : p.split.how === 'none' ? p.split.testIndices : complement(p.split.testIndices, p.evalSet.count);
  const baseline = setup.baseline && searchIndices && baselineOn(setup.baseline, searchIndices, p.evalSet.count);
  const budget = optimizationBudget(config.metrics[0], config.gate, original.result.metrics, baseline?.metrics);
  if (baseline && budget < optimizationBudget(config.metrics[0], config.gate, original.result.metrics)) {
    notes.push(`The committed model already scores below the frozen baseline, so the optimizer had only ${round2(budget)} points of drift left to spend.`);
  }
  const ctx = { calibration: p.calibration, seed: config.seed, log, nativeLatency: config.targets.includes('native') };
  const nodeCostShare = flopShares(cost);
  // What this many samples can confirm, said before the loop spends it (gate/resolution.ts).
  const { keep, budget: loopBudget, note: keepNote } = chooseKeepRule(config.budget.keep, metricResolution(config.metrics[0], p.searchSet.count, budget), budget);
  if (keepNote) {
    notes.push(keepNote);
    log(keepNote);
  }
  const loop = await timed('optimize', () =>
    optimize(p.model, { recipe: recipe as RecipeStage[], budget: loopBudget, keep, objective: config.objective, nodeCostShare, ctx, judge, wallTimeMs: config.budget.wallTimeMs }),
    config.budget.wallTimeMs,
  );

  // Never ship a slower model: measured as the gate measures, an earlier kept step or the original otherwise.
  const base = setup.baseModel;
  const replay = (decisions: StepDecision[]) => replayDecisions(p.model, decisions, { ...ctx, log: undefined }, nodeCostShare);
  const build = async (decisions: StepDecision[]) => (decisions.length === 0 ? p.model : (await replay(decisions)).model);
  // The loop's own summaries while the decisions are a prefix of its; a walk-back that kept a later stage ran it on another model.
  const passesOf = async (decisions: StepDecision[]) => (decisions.every((d, i) => loop.decisions[i] === d) ? loop.passes.slice(0, decisions.length) : (await replay(decisions)).summaries);
  const ship = (candidate: Model, decisions: StepDecision[]) =>
    timed('benchmark', () => {
      log(`benchmarking the PR model vs the candidate${base ? ' and the base branch' : ''} (batch sizes ${config.bench.batchSizes.join(', ')})`);
      return shipFaster({
        original: p.model,
        candidate,
        decisions,
        objective: config.objective,
        rebuild: (count) => build(decisions.slice(0, count)),
        measure: async (model) => {
          const bytes = encodeModel(model);
          const results = [];
          for (const target of config.targets) {
            if (namesTargets(config.targets)) log(`benchmarking on the ${target} target`);
            results.push(
              await benchLatency({
                ...benchSettings(p),
                target,
                models: [
                  { model: config.model, label: 'PR model' },
                  { model: bytes, label: 'candidate' },
                  ...(base ? [{ model: base.file, label: `base branch (${base.file})` }] : []),
                ] as BenchOptions['models'],
                onProgress: log,
              }),
            );
          }
          return results;
        },
        log,
      });
    });
  const shipped = await ship(loop.model, loop.decisions);
  return { loop, shipped, original, evaluation, notes, build, ship, passesOf };
}

/** The final comparison's settings from the config (models aside): what `run`, `search` and `bench` measure with. */
export function benchSettings(p: Prepared): Omit<BenchOptions, 'models'> {
  const { bench } = p.config;
  return { batchSizes: bench.batchSizes, timeBudgetMs: bench.timeBudgetMs, minRuns: bench.minRuns, warmup: bench.warmup, precision: bench.precision, threads: bench.threads, inputs: p.evalSet, seed: p.config.seed };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export interface SearchRunOptions {
  configPath: string;
  outDir: string;
  log?: (message: string) => void;
}

/**
 * `prune-gate search`: the loop alone on the search split; writes DIR/model.onnx and DIR/search.json
 * (the decisions, steps and passes a report would carry, and the fingerprint verify shards check).
 */
export async function runSearch(options: SearchRunOptions): Promise<{ modelPath: string; recordPath: string; record: SearchRecord }> {
  const log = options.log ?? (() => {});
  const timings: Record<string, number> = {};
  const timed = timer(timings);
  const releases: OutputStore[] = [];
  try {
    const p = await timed('prepare', () => prepare(options.configPath));
    const { config } = p;
    const modelPath = path.join(options.outDir, 'model.onnx');
    refuseOverwrite(modelPath, config.model);
    for (const name of ['model.onnx', 'search.json']) fs.rmSync(path.join(options.outDir, name), { force: true });
    const baseline = config.baseline ? readBaseline(config.baseline) : undefined;
    const source = config.task === 'fidelity' ? await fidelityReference(p, baseline && { data: baseline, file: config.baseline! }) : undefined;
    const { loop, shipped, notes } = await searchCandidate(p, { baseline, source, log, timed, releases });
    fs.mkdirSync(options.outDir, { recursive: true });
    saveModel(shipped.model, modelPath);
    log(`wrote ${modelPath}`);
    const record: SearchRecord = {
      schemaVersion: 1,
      kind: 'search',
      toolVersion: TOOL_VERSION,
      fingerprint: partFingerprint(config, modelPath),
      split: splitRecord(p.split),
      steps: loop.steps,
      decisions: shipped.decisions,
      passes: loop.passes.slice(0, shipped.decisions.length),
      fallbackNodes: loop.fallbackNodes.filter((f) => shipped.decisions.some((d) => d.excluded?.includes(f.what))),
      notes: [...new Set([...p.notes, ...(source ? [source.note] : []), ...splitNote(p.split), ...notes, ...loop.notes, ...shipped.notes])].slice(0, 100),
      timings,
    };
    return { modelPath, recordPath: writePart(options.outDir, record), record };
  } finally {
    for (const store of releases) store.release();
  }
}

/** `timed(name, work)`: runs `work` and adds its seconds to `name`, announcing it to `onPhase` first. */
export function timer(timings: Record<string, number>, onPhase?: (name: string, budgetMs?: number) => void): SearchSetup['timed'] {
  return async (name, work, budgetMs) => {
    onPhase?.(name, budgetMs);
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      // A phase that runs twice (the benchmark after a walk-back) adds up.
      timings[name] = Math.round(((timings[name] ?? 0) * 1000 + performance.now() - t0) / 10) / 100;
    }
  };
}

/** The user's model is never overwritten, whatever --out says. */
export function refuseOverwrite(output: string, input: string): void {
  const resolvedOut = path.resolve(output);
  const same = fs.existsSync(resolvedOut) ? fs.realpathSync(resolvedOut) === fs.realpathSync(input) : resolvedOut === path.resolve(input);
  if (same) throw new InputError(`--out would overwrite the model ${input}; choose another output folder`, input);
}
