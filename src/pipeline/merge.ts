/**
 * `prune-gate merge S1 … Sn L1 … Lk --out DIR`: one report and one verdict from the parts of a
 * matrix. Every part must carry the same fingerprint (candidate, committed model, config, data,
 * baseline, prune-gate version) and every verify shard 1..n must be there exactly once, else the
 * merge refuses and names the part. Shards are joined in order, so the per-sample results, the
 * metrics and their paired intervals are exactly those of an unsharded `verify --shard 1/1`.
 * Latency is never pooled across runner kinds: each bench part is its own section, the gate
 * applies to each, and the verdict is the worst of them.
 */
import type { EvalResult } from '../evaluate/types.js';
import { concatResults } from '../evaluate/subset.js';
import type { Baseline } from '../gate/baseline.js';
import { decideVerdict } from '../gate/verdict.js';
import { worstOf } from '../gate/worst.js';
import { buildReport } from '../report/build.js';
import { renderMarkdown } from '../report/markdown.js';
import type { Report } from '../report/types.js';
import { writeReportFiles } from '../report/validate.js';
import { InputError } from '../util/errors.js';
import { TOOL_VERSION } from '../util/version.js';
import { fingerprintDifference } from './fingerprint.js';
import { readPart, type BenchPart, type VerifyPart } from './parts.js';

export interface MergeOptions {
  /** Part files or the folders (artifacts) holding them, in any order. */
  parts: string[];
  outDir: string;
  /** The pull request the parts measured, for a later `mode: comment` run (fork-safe workflows). */
  pullRequest?: Report['pullRequest'];
  log?: (message: string) => void;
}

export interface MergeOutcome {
  report: Report;
  reportPath: string;
  markdownPath: string;
  exitCode: 0 | 1;
}

interface Labelled<T> {
  label: string;
  part: T;
}

export function runMerge(options: MergeOptions): MergeOutcome {
  if (!options.parts.length) throw new InputError('merge: no parts given; pass every verify shard folder and every bench folder, e.g. prune-gate merge verify-1 verify-2 bench-linux-x64 --out merged', 'merge');
  const all = options.parts.map((label) => ({ label, part: readPart(label, ['verify', 'bench']) }));
  const shards = all.filter((p): p is Labelled<VerifyPart> => p.part.kind === 'verify');
  const benches = all.filter((p): p is Labelled<BenchPart> => p.part.kind === 'bench');
  if (!shards.length) throw new InputError(`merge: none of ${options.parts.join(', ')} is a verify shard; the verdict needs every shard of \`prune-gate verify --shard i/n\``, options.parts[0]);
  checkSameRun(shards[0], all);
  const ordered = checkShards(shards);
  const runners = checkRunners(benches);
  const first = ordered[0].part;

  const original = concatResults(ordered.map((s) => s.part.original));
  const candidate = concatResults(ordered.map((s) => s.part.candidate));
  const baseline = joinBaselines(ordered.map((s) => s.part));
  const search = first.search;
  const gateFor = (latency: BenchPart['latency']) =>
    decideVerdict({
      metrics: first.gate.metrics,
      rules: first.gate.rules,
      baseline,
      original,
      candidate,
      latency,
      prModelChanged: first.prModelChanged,
      seed: first.gate.seed,
      objective: first.gate.objective,
      // As in run: the loop kept steps, but none shipped (not faster), so the candidate is the original.
      candidateIsOriginal: search && search.decisions.length === 0 && search.steps.some((step) => step.kept) ? 'not-faster' : undefined,
    });
  const perRunner = runners.length ? runners.map((r) => ({ label: r.part.runner.kind, tag: { runner: r.part.runner.kind }, decision: gateFor(r.part.latency) })) : [{ decision: gateFor([]) }];
  const decision = worstOf(perRunner);
  const notes = [
    `Merged from ${ordered.length} verify shard${ordered.length === 1 ? '' : 's'} (${first.testSamples} test samples, joined in order: the metrics and their intervals are those of one unsharded run)${runners.length ? ` and ${runners.length} bench part${runners.length === 1 ? '' : 's'}` : '; no bench part, so no latency was measured'}.`,
    ...runners.map((r) => `Latency on ${r.part.runner.kind}: ${r.part.runner.machine.cpuModel}, ${r.part.runner.machine.cores} cores (machine fingerprint ${r.part.runner.fingerprint}); gated on its own, never pooled with another runner kind.`),
    ...(search ? search.notes : ['No search.json was found beside the candidate when the shards were verified: the report has no steps.']),
    ...first.notes,
  ];
  const report = buildReport({
    toolVersion: TOOL_VERSION,
    configPath: first.configPath,
    gatedMeaning: first.gate.gatedMeaning,
    models: { original: first.models.original, candidate: first.models.candidate, candidateSha256: first.fingerprint.candidate },
    decision,
    split: first.split,
    prModelChanged: first.prModelChanged,
    storedBaseline: baseline,
    ...(runners.length === 1 && { machine: runners[0].part.runner.machine }),
    steps: search?.steps,
    decisions: search?.decisions,
    passes: search?.passes,
    fallbackNodes: search?.fallbackNodes,
    notes: [...new Set(notes)].slice(0, 100),
    timings: search?.timings,
  });
  if (options.pullRequest) report.pullRequest = options.pullRequest;
  const written = writeReportFiles(options.outDir, report, renderMarkdown(report));
  options.log?.(`wrote ${written.reportPath}`);
  return { report, ...written, exitCode: report.verdict === 'fail' ? 1 : 0 };
}

/** Every part belongs to the first shard's candidate, model, config, data and baseline. */
function checkSameRun(reference: Labelled<VerifyPart>, all: Labelled<VerifyPart | BenchPart>[]): void {
  for (const { label, part } of all) {
    const diff = fingerprintDifference(reference.part.fingerprint, part.fingerprint);
    if (diff) throw new InputError(`${label}: belongs to ${diff} than ${reference.label}; every part must come from the same search candidate, config and data: download the artifacts of one workflow run`, label);
  }
}

/** Shards 1..n, each once, covering the test split in order. */
function checkShards(shards: Labelled<VerifyPart>[]): Labelled<VerifyPart>[] {
  const of = shards[0].part.shard.of;
  const byIndex = new Map<number, Labelled<VerifyPart>>();
  for (const s of shards) {
    if (s.part.shard.of !== of) throw new InputError(`${s.label}: is shard ${s.part.shard.index}/${s.part.shard.of}, but ${shards[0].label} is of ${of} shards; verify every shard with the same --shard i/${of}`, s.label);
    const twin = byIndex.get(s.part.shard.index);
    if (twin) throw new InputError(`${s.label}: shard ${s.part.shard.index}/${of} is given twice (also ${twin.label}); pass each shard once`, s.label);
    byIndex.set(s.part.shard.index, s);
  }
  const missing = Array.from({ length: of }, (_, k) => k + 1).filter((i) => !byIndex.has(i));
  if (missing.length) {
    throw new InputError(`merge: shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${of}`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing (given: ${[...byIndex.keys()].sort((a, b) => a - b).map((i) => `${i}/${of}`).join(', ')}); a verdict needs every shard of the test split: download every verify artifact`, 'merge');
  }
  const ordered = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
  let at = 0;
  for (const s of ordered) {
    if (s.part.samples.start !== at || s.part.testSamples !== ordered[0].part.testSamples) throw new InputError(`${s.label}: covers test samples ${s.part.samples.start}..${s.part.samples.end}, expected to start at ${at} of ${ordered[0].part.testSamples}; its shards do not tile one test split`, s.label);
    at = s.part.samples.end;
  }
  if (at !== ordered[0].part.testSamples) throw new InputError(`${ordered.at(-1)!.label}: the shards end at sample ${at} of ${ordered[0].part.testSamples}`, ordered.at(-1)!.label);
  return ordered;
}

/** One bench part per runner kind: timings of two runs are not pooled. */
function checkRunners(benches: Labelled<BenchPart>[]): Labelled<BenchPart>[] {
  const seen = new Map<string, string>();
  for (const b of benches) {
    const other = seen.get(b.part.runner.kind);
    if (other) throw new InputError(`${b.label}: a second bench part for runner kind '${b.part.runner.kind}' (the first is ${other}); latency is never pooled across runs: give each runner kind one bench part (or a distinct --runner)`, b.label);
    seen.set(b.part.runner.kind, b.label);
  }
  return [...benches].sort((a, b) => a.part.runner.kind.localeCompare(b.part.runner.kind));
}

/** The frozen baseline over every shard's samples, joined in order (as one baseline over the test split). */
function joinBaselines(parts: VerifyPart[]): Baseline | undefined {
  const pieces = parts.map((p) => p.baseline);
  if (!pieces.every((b): b is Baseline => b !== undefined)) return undefined;
  const results: EvalResult[] = pieces.map((b) => ({ task: b.task, samples: b.samples, metrics: b.metrics, perSample: b.perSample }));
  const joined = concatResults(results);
  return { ...pieces[0], samples: joined.samples, metrics: joined.metrics, perSample: joined.perSample };
}
