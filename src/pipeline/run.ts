/**
 * `prune-gate run`: optimize the committed model by the recipe, measure original and candidate on
 * the same data and in the same process, gate against the frozen baseline (or the original), and
 * write model.onnx, report.json and report.md. Orchestration only: every step lives in its module.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RecipeStage } from '../config/index.js';
import { evaluateModel, type EvaluateOptions } from '../evaluate/evaluate.js';
import type { OutputStore } from '../evaluate/output-store.js';
import { metricDef } from '../metrics/index.js';
import { benchLatency, feedsFor } from '../evaluate/latency.js';
import { machineInfo } from '../evaluate/machine.js';
import { measureMemory } from '../evaluate/memory.js';
import { profileModel } from '../evaluate/profile.js';
import { InputError } from '../util/errors.js';
import { readBaseline, sha256File } from '../gate/baseline.js';
import { decideVerdict, optimizationBudget } from '../gate/verdict.js';
import { chooseKeepRule, metricResolution } from '../gate/resolution.js';
import { defaultRecipe } from '../loop/recipe.js';
import { describeStage } from '../stages/kinds.js';
import { flopShares, modelTraits } from '../loop/model-traits.js';
import { optimize } from '../loop/optimize-loop.js';
import { replayDecisions } from '../loop/replay.js';
import { encodeModel, saveModel } from '../onnx/index.js';
import { buildReport, errorReport } from '../report/build.js';
import { renderMarkdown } from '../report/markdown.js';
import type { Report } from '../report/types.js';
import { writeReportFiles } from '../report/validate.js';
import { buildJudge } from './judge.js';
import { prepare } from './prepare.js';
import { fidelityReference } from './reference.js';
import { comparisons, shipFaster } from './ship.js';
import { TOOL_VERSION } from '../util/version.js';
import { displayPath } from '../util/display-path.js';
import { progressLog } from './progress.js';

export interface RunOptions {
  configPath: string;
  outDir: string;
  log?: (message: string) => void;
  /** Called as each timed phase starts (prepare, optimize, benchmark, ...): the Action groups its log by them. */
  phase?: (name: string) => void;
  /**
   * The base branch's model (the Action reads it from the base commit; the CLI's --base-model):
   * benchmarked interleaved with the PR model and the candidate, the PR model gated against it
   * by `gate.p95-regression`.
   */
  baseModel?: { file: string; commit?: string; /** How the report names it (the Action: its path in the repository); default: the file. */ name?: string };
}

export interface RunOutcome {
  report: Report;
  reportPath: string;
  markdownPath: string;
  modelPath?: string;
  exitCode: 0 | 1 | 2;
}

/** Profile rows shown in the report. */
const PROFILE_TOP = 12;
/** Per-step latency probe budget inside the loop (the final comparison uses the config's budget). */
const LOOP_BENCH_MS = 1500;

export async function runPipeline(options: RunOptions): Promise<RunOutcome> {
  const progress = progressLog(options.log ?? (() => {}));
  const log = progress.log;
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>, budgetMs?: number): Promise<T> => {
    options.phase?.(name);
    progress.phase(name, budgetMs);
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      timings[name] = Math.round((performance.now() - t0) / 10) / 100;
    }
  };
  let reference: OutputStore | undefined;
  try {
    const p = await timed('prepare', () => prepare(options.configPath));
    const { config } = p;
    checkBaseModel(options.baseModel);
    const modelPath = path.join(options.outDir, 'model.onnx');
    refuseOverwrite(modelPath, config.model);
    // Each output is written atomically; clearing the last run's first means a run killed half-way
    // never leaves its new model beside the old report (or the reverse).
    for (const name of ['model.onnx', 'report.json', 'report.md']) fs.rmSync(path.join(options.outDir, name), { force: true });

    // Read first: a missing or broken baseline should fail in a second, not after the search.
    const baseline = config.baseline ? readBaseline(config.baseline) : undefined;
    // Label-free: the outputs every model is compared with (the data's, a frozen baseline's, or the original's).
    const source = config.task === 'fidelity' ? await fidelityReference(p, baseline && { data: baseline, file: config.baseline! }) : undefined;
    reference = source && source.kind !== 'expected' ? source.store : undefined;
    // Candidates are compared with the reference; the original too, or with itself while its outputs are kept.
    const evaluate: EvaluateOptions = { ...p.evaluate, reference };
    const originalOptions: EvaluateOptions = source?.kind === 'original' ? { ...p.evaluate, reference: 'self', keep: source.store } : evaluate;
    log(`evaluating ${config.model} on ${p.evalSet.count} samples`);
    const original = await timed('evaluate-original', () => evaluateModel(config.model, p.evalSet, { ...originalOptions, label: config.model }));

    let recipe: RecipeStage[] | undefined = config.recipe;
    const notes = [...p.notes, ...original.notes, ...(source ? [source.note] : [])];
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
      dataset: p.evalSet,
      metric: config.metrics[0],
      evaluate,
      reference: original.result,
      seed: config.seed,
      latency: { batchSizes: config.bench.batchSizes, timeBudgetMs: Math.min(LOOP_BENCH_MS, config.bench.timeBudgetMs), threads: config.bench.threads, feeds: p.evalSet, precision: config.bench.precision, seed: config.seed },
    });
    const budget = optimizationBudget(config.metrics[0], config.gate, original.result.metrics, baseline?.metrics);
    if (baseline && budget < optimizationBudget(config.metrics[0], config.gate, original.result.metrics)) {
      notes.push(`The committed model already scores below the frozen baseline, so the optimizer had only ${round2(budget)} points of drift left to spend.`);
    }
    const ctx = { calibration: p.calibration, seed: config.seed, log };
    const nodeCostShare = flopShares(cost);
    // What this many samples can confirm, said before the loop spends it (gate/resolution.ts).
    const { keep, note: keepNote } = chooseKeepRule(config.budget.keep, metricResolution(config.metrics[0], p.evalSet.count, budget), budget);
    if (keepNote) {
      notes.push(keepNote);
      log(keepNote);
    }
    const loop = await timed('optimize', () =>
      optimize(p.model, {
        recipe: recipe as RecipeStage[],
        budget,
        keep,
        objective: config.objective,
        nodeCostShare,
        ctx,
        judge,
        wallTimeMs: config.budget.wallTimeMs,
      }),
      config.budget.wallTimeMs,
    );

    // Never ship a slower model: measured as the gate measures, an earlier kept step or the original otherwise.
    const base = options.baseModel;
    log(`benchmarking the PR model vs the candidate${base ? ' and the base branch' : ''} (batch sizes ${config.bench.batchSizes.join(', ')})`);
    const shipped = await timed('benchmark', () =>
      shipFaster({
        original: p.model,
        candidate: loop.model,
        decisions: loop.decisions,
        objective: config.objective,
        rebuild: async (count) => (await replayDecisions(p.model, loop.decisions.slice(0, count), { ...ctx, log: undefined }, nodeCostShare)).model,
        measure: (model) =>
          benchLatency({
            models: [
              { model: config.model, label: 'PR model' },
              { model: encodeModel(model), label: 'candidate' },
              ...(base ? [{ model: base.file, label: `base branch (${base.file})` }] : []),
            ] as Parameters<typeof benchLatency>[0]['models'],
            batchSizes: config.bench.batchSizes,
            timeBudgetMs: config.bench.timeBudgetMs,
            minRuns: config.bench.minRuns,
            warmup: config.bench.warmup,
            precision: config.bench.precision,
            threads: config.bench.threads,
            inputs: p.evalSet,
            seed: config.seed,
            onProgress: log,
          }),
        log,
      }),
    );
    const bench = shipped.bench;
    const latency = comparisons(bench);
    saveModel(shipped.model, modelPath);
    log(`wrote ${modelPath}`);

    const noise = config.data.noiseSigma ? { sigma: config.data.noiseSigma, seed: config.seed } : undefined;
    const [originalFinal, candidate] = await timed('evaluate', async () => [
      noise ? (await evaluateModel(config.model, p.evalSet, { ...originalOptions, keep: undefined, noise, label: config.model })).result : original.result,
      (await evaluateModel(modelPath, p.evalSet, { ...evaluate, noise, label: modelPath })).result,
    ]);


    // One batch of the evaluation data (zeros can be refused: a reflect Pad on a size-1 axis).
    const memoryFeeds = feedsFor(p.modelInputs, config.model, loopBatch, { inputs: p.evalSet });
    const [memOriginal, memCandidate] = await timed('memory', async () => [await measureMemory(config.model, { feeds: memoryFeeds }), await measureMemory(modelPath, { feeds: memoryFeeds })]);
    const profile = await timed('profile', () => profileModel(modelPath, { dataset: p.evalSet, batchSize: loopBatch, threads: config.bench.threads, label: modelPath }));

    const prModelChanged = baseline ? baseline.modelSha256 !== sha256File(config.model) : undefined;
    const decision = decideVerdict({
      metrics: config.metrics,
      rules: config.gate,
      baseline,
      original: originalFinal,
      candidate,
      latency,
      baseLatency: base && bench.batches.flatMap((b) => b.firstVsThird ?? []),
      prModelChanged,
      seed: config.seed,
      objective: config.objective,
      candidateIsOriginal: shipped.unchanged && loop.decisions.length > 0,
    });
    const report = buildReport({
      toolVersion: TOOL_VERSION,
      configPath: displayPath(config.file),
      gatedMeaning: gatedMeaning(config.metrics[0]),
      models: { original: displayPath(config.model), candidate: displayPath(modelPath), candidateSha256: sha256File(modelPath) },
      ...(base && { baseBranch: { model: base.name ?? displayPath(base.file), ...(base.commit && { commit: base.commit.toLowerCase() }), changed: sha256File(base.file) !== sha256File(config.model) } }),
      created: new Date().toISOString(),
      decision,
      prModelChanged,
      storedBaseline: baseline,
      machine: machineInfo({ intraOpThreads: bench.intraOpThreads, interOpThreads: bench.interOpThreads }),
      resources: { original: stripExtras(memOriginal), candidate: stripExtras(memCandidate) },
      steps: loop.steps,
      decisions: shipped.decisions,
      passes: loop.passes.slice(0, shipped.decisions.length),
      fallbackNodes: loop.fallbackNodes.filter((f) => shipped.decisions.some((d) => d.excluded?.includes(f.what))),
      profile: {
        batchSize: loopBatch,
        top: profile.nodes.slice(0, PROFILE_TOP).map((n) => ({ name: n.originalNames?.join(', ') || n.name, opType: n.opType, ms: n.meanUs / 1000, share: n.share })),
      },
      notes: [...notes, ...loop.notes, ...shipped.notes],
      timings,
    });
    const written = writeReportFiles(options.outDir, report, renderMarkdown(report));
    return { report, ...written, modelPath, exitCode: report.verdict === 'fail' ? 1 : 0 };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const report = errorReport({ toolVersion: TOOL_VERSION, configPath: options.configPath, error: err, timings });
    const written = writeReportFiles(options.outDir, report, renderMarkdown(report));
    return { report, ...written, exitCode: 2 };
  } finally {
    reference?.release();
  }
}

/** Fails in a second, not after the search, on a base model that is not there. */
function checkBaseModel(base: RunOptions['baseModel']): void {
  if (!base) return;
  if (!fs.existsSync(base.file) || !fs.statSync(base.file).isFile()) throw new InputError(`--base-model ${base.file}: no such file; give the base branch's model (e.g. \`git show origin/main:model.onnx > base.onnx\`)`, base.file, 'model');
  if (base.commit !== undefined && !/^[0-9a-f]{7,64}$/i.test(base.commit)) throw new InputError(`--base-commit must be a commit SHA (7-64 hex digits), got "${base.commit}"`, 'base-commit', 'config');
}

/** The user's model is never overwritten, whatever --out says. */
function refuseOverwrite(output: string, input: string): void {
  const resolvedOut = path.resolve(output);
  const same = fs.existsSync(resolvedOut) ? fs.realpathSync(resolvedOut) === fs.realpathSync(input) : resolvedOut === path.resolve(input);
  if (same) throw new InputError(`--out would overwrite the model ${input}; choose another output folder`, input);
}

function stripExtras<T extends { peakRssBytes: number; fileBytes: number; gzipBytes: number; weightBytesByType: Record<string, number> }>(m: T) {
  return { peakRssBytes: m.peakRssBytes, fileBytes: m.fileBytes, gzipBytes: m.gzipBytes, weightBytesByType: m.weightBytesByType };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Each node's share of the model's FLOPs (empty when shapes were unknown). */

/** One sentence on what the gated number is, from the metric registry. */
export function gatedMeaning(metric: string): string {
  const def = metricDef(metric);
  const output = metric.includes(':') ? ` of output '${metric.slice(metric.indexOf(':') + 1)}'` : '';
  return def ? `The gated metric, ${metric}, is ${def.meaning}${output}.` : `The gated metric is ${metric}.`;
}
