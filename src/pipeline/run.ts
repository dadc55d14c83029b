/**
 * `prune-gate run`: optimize the committed model by the recipe on the search split (search.ts),
 * measure original and candidate on the test split and in the same process, gate against the
 * frozen baseline (or the original), and write model.onnx, report.json and report.md: the one-job
 * path of search, verify, bench and merge, plus memory and profile. Orchestration only: every step
 * lives in its module.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateModel } from '../evaluate/evaluate.js';
import type { OutputStore } from '../evaluate/output-store.js';
import { metricDef } from '../metrics/index.js';
import { machineInfo } from '../evaluate/machine.js';
import { measureMemory } from '../evaluate/memory.js';
import { profileModel } from '../evaluate/profile.js';
import { InputError } from '../util/errors.js';
import { readBaseline, sha256File } from '../gate/baseline.js';
import { feedsFor } from '../evaluate/latency.js';
import { decideVerdict } from '../gate/verdict.js';
import { encodeModel, saveModel } from '../onnx/index.js';
import type { EvalResult } from '../evaluate/types.js';
import { buildReport, errorReport } from '../report/build.js';
import { renderMarkdown } from '../report/markdown.js';
import type { Report } from '../report/types.js';
import { writeReportFiles } from '../report/validate.js';
import { prepare } from './prepare.js';
import { fidelityReference } from './reference.js';
import { refuseOverwrite, searchCandidate, timer } from './search.js';
import { baselineOn, splitEvaluation, splitNote, splitRecord } from './split.js';
import { comparisons } from './ship.js';
import { checkLoads, compareOutputs, extraTargets } from './targets.js';
import { withCheck, worstOf } from '../gate/worst.js';
import type { BenchResult } from '../evaluate/latency.js';
import { namesTargets } from '../evaluate/targets.js';
import { TOOL_VERSION } from '../util/version.js';
import { displayPath } from '../util/display-path.js';
import { progressLog } from './progress.js';
import { holdOnTest } from './walk-back.js';

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

export async function runPipeline(options: RunOptions): Promise<RunOutcome> {
  const progress = progressLog(options.log ?? (() => {}));
  const log = progress.log;
  const timings: Record<string, number> = {};
  const timed = timer(timings, (name, budgetMs) => {
    options.phase?.(name);
    progress.phase(name, budgetMs);
  });
  const releases: OutputStore[] = [];
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
    // A missing operator on a listed target fails now, not after the search.
    await timed('targets', () => checkLoads(config.model, config.targets));
    // The loop chooses its steps on the search split (search.ts); the gate judges the test split.
    const base = options.baseModel;
    const searched = await searchCandidate(p, { baseline, source, log, timed, releases, baseModel: base });
    const { loop } = searched;
    const test = p.split.how === 'none' ? searched.evaluation : splitEvaluation(p, source, 'test', releases);
    const original = p.split.how === 'none' ? searched.original : await timed('evaluate-original', () => evaluateModel(config.model, p.testSet, { ...test.original, label: config.model }));
    const gateBaseline = baseline && baselineOn(baseline, p.split.testIndices, p.evalSet.count);
    const notes = [...p.notes, ...original.notes, ...(source ? [source.note] : []), ...splitNote(p.split), ...searched.notes];

    // The gate's accuracy rule on the test split overrules the search's choice (walk-back.ts).
    const accuracyRule = (result: EvalResult) => {
      const gated = decideVerdict({ metrics: config.metrics, rules: config.gate, baseline: gateBaseline, original: original.result, candidate: result, latency: [], seed: config.seed }).metrics.find((m) => m.gated)!;
      return { pass: gated.status !== 'fail', drift: gated.drift };
    };
    const held = await holdOnTest({
      search: searched,
      original: original.result,
      evaluate: (model) => evaluateModel(encodeModel(model), p.testSet, { ...test.candidates, label: 'candidate' }).then((e) => e.result),
      judge: accuracyRule,
      timed,
      log,
    });
    const { shipped } = held;
    notes.push(...held.notes);
    const loopBatch = Math.max(...config.bench.batchSizes);
    // One latency section per runtime target, each gated on its own; machine info from the first.
    const bench = shipped.benches[0];
    saveModel(shipped.model, modelPath);
    log(`wrote ${modelPath}`);
    const targetChecks = await timed('targets-outputs', async () => {
      const checks = [];
      for (const target of extraTargets(config.targets)) {
        log(`running the PR model and the candidate on the ${target} target, outputs against the native run`);
        checks.push(await compareOutputs(p, { file: config.model, role: 'original' }, target), await compareOutputs(p, { file: modelPath, role: 'candidate' }, target));
      }
      return checks;
    });

    const noise = config.data.noiseSigma ? { sigma: config.data.noiseSigma, seed: config.seed } : undefined;
    const [originalFinal, candidate] = await timed('evaluate', async () => [
      noise ? (await evaluateModel(config.model, p.testSet, { ...test.original, keep: undefined, noise, label: config.model })).result : original.result,
      // Already measured on the test split above, unless the data is perturbed for this comparison.
      !noise && held.candidateOnTest ? held.candidateOnTest : (await evaluateModel(modelPath, p.testSet, { ...test.candidates, noise, label: modelPath })).result,
    ]);

    // One batch of the evaluation data (zeros can be refused: a reflect Pad on a size-1 axis).
    const memoryFeeds = feedsFor(p.modelInputs, config.model, loopBatch, { inputs: p.evalSet });
    const [memOriginal, memCandidate] = await timed('memory', async () => [await measureMemory(config.model, { feeds: memoryFeeds }), await measureMemory(modelPath, { feeds: memoryFeeds })]);
    const profile = await timed('profile', () => profileModel(modelPath, { dataset: p.evalSet, batchSize: loopBatch, threads: config.bench.threads, label: modelPath }));

    const prModelChanged = baseline ? baseline.modelSha256 !== sha256File(config.model) : undefined;
    const gateOn = (targetBench: BenchResult) =>
      decideVerdict({
        metrics: config.metrics,
        rules: config.gate,
        baseline: gateBaseline,
        original: originalFinal,
        candidate,
        latency: comparisons(targetBench),
        baseLatency: base && targetBench.batches.flatMap((b) => b.firstVsThird ?? []),
        prModelChanged,
        seed: config.seed,
        objective: config.objective,
        candidateIsOriginal: shipped.unchanged && loop.decisions.length > 0 ? (held.noStepHeld ? 'drifted' : 'not-faster') : undefined,
      });
    const tagged = namesTargets(config.targets);
    let decision = worstOf(shipped.benches.map((b) => ({ label: b.target, ...(tagged && { tag: { target: b.target } }), decision: gateOn(b) })));
    // The candidate's outputs on each further target are gated; the PR model's are shown.
    for (const c of targetChecks) if (c.record.model === 'candidate') decision = withCheck(decision, { label: `The candidate's outputs on ${c.record.target}`, verdict: c.decision.verdict, reason: c.decision.reason });
    const report = buildReport({
      toolVersion: TOOL_VERSION,
      configPath: displayPath(config.file),
      gatedMeaning: gatedMeaning(config.metrics[0]),
      models: { original: displayPath(config.model), candidate: displayPath(modelPath), candidateSha256: sha256File(modelPath) },
      ...(base && { baseBranch: { model: base.name ?? displayPath(base.file), ...(base.commit && { commit: base.commit.toLowerCase() }), changed: sha256File(base.file) !== sha256File(config.model) } }),
      created: new Date().toISOString(),
      decision,
      split: splitRecord(p.split),
      prModelChanged,
      storedBaseline: baseline,
      machine: machineInfo({ intraOpThreads: bench.intraOpThreads, interOpThreads: bench.interOpThreads }),
      resources: { original: stripExtras(memOriginal), candidate: stripExtras(memCandidate) },
      targets: targetChecks.map((c) => c.record),
      steps: loop.steps,
      decisions: shipped.decisions,
      passes: await searched.passesOf(shipped.decisions),
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
    for (const store of releases) store.release();
  }
}

/** Fails in a second, not after the search, on a base model that is not there. */
function checkBaseModel(base: RunOptions['baseModel']): void {
  if (!base) return;
  if (!fs.existsSync(base.file) || !fs.statSync(base.file).isFile()) throw new InputError(`--base-model ${base.file}: no such file; give the base branch's model (e.g. \`git show origin/main:model.onnx > base.onnx\`)`, base.file, 'model');
  if (base.commit !== undefined && !/^[0-9a-f]{7,64}$/i.test(base.commit)) throw new InputError(`--base-commit must be a commit SHA (7-64 hex digits), got "${base.commit}"`, 'base-commit', 'config');
}

function stripExtras<T extends { peakRssBytes: number; fileBytes: number; gzipBytes: number; weightBytesByType: Record<string, number> }>(m: T) {
  return { peakRssBytes: m.peakRssBytes, fileBytes: m.fileBytes, gzipBytes: m.gzipBytes, weightBytesByType: m.weightBytesByType };
}

/** One sentence on what the gated number is, from the metric registry. */
export function gatedMeaning(metric: string): string {
  const def = metricDef(metric);
  const output = metric.includes(':') ? ` of output '${metric.slice(metric.indexOf(':') + 1)}'` : '';
  return def ? `The gated metric, ${metric}, is ${def.meaning}${output}.` : `The gated metric is ${metric}.`;
}
