/**
 * The Action's work, with the pipeline injected: `runActionWith({ runPipeline })`.
 *
 * run (default): measure, gate, then job summary, annotations, outputs, PR comment, and
 *   setFailed when the gate fails (and fail-on-gate is on).
 * measure: the same without the comment; report.json records the PR so a later `comment` run
 *   can post it (the fork-safe pattern: upload the report folder as an artifact).
 * comment: read a downloaded report, validate it against the schema, post it.
 * history: measure as in `measure`, then append the run to the history store on a branch
 *   (for pushes to the default branch). With a `history` store file, comments carry a trend line.
 * merge: the last job of the matrix (docs/scale-out.md): merge the downloaded verify and bench
 *   parts into one report, then publish and comment as `run` does; a missing or foreign part is
 *   an error report (exit 2) that names it.
 *
 * It never rejects: every failure becomes setFailed/warning and an exit code in the outcome.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as core from '@actions/core';
import { InputError } from '../util/errors.js';
import { readRunContext, runUrl, type RunContext } from '../github/event.js';
import { createGitHubClient, type ClientOptions } from '../github/client.js';
import { errorReport } from '../report/build.js';
import { renderJobSummary, renderMarkdown } from '../report/markdown.js';
import type { Verdict } from '../gate/types.js';
import type { Report } from '../report/types.js';
import { readReport, writeReportFiles } from '../report/validate.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { TOOL_VERSION } from '../util/version.js';
import { postReportComment, shownGate, FORK_NOTICE, MERGE_FORK_NOTICE, type CommentOutcome, type CommentTarget } from './comment.js';
import { parseInputs, type ActionInputs, type ActionMode } from './inputs.js';
import { recordHistory, trendFromInput, type HistoryOutcome } from './history.js';
import { LogGroups } from './log-groups.js';
import { expandParts } from './parts-input.js';
import { baseModelFromGit } from './base-model.js';
import { baselineMode, type BaselineDeps, type BaselineOutcome } from './baseline-mode.js';
import { loadConfig } from '../config/index.js';

export interface PipelineResult {
  report: Report;
  reportPath: string;
  markdownPath: string;
  modelPath?: string;
  exitCode: 0 | 1 | 2;
}

export type RunPipeline = (options: { configPath: string; outDir: string; phase?: (name: string) => void; baseModel?: { file: string; commit?: string; name?: string } }) => Promise<PipelineResult>;

/** mode: merge: one report from the matrix's part files or folders (src/pipeline/merge.ts, wired by src/index.ts). */
export type RunMerge = (options: { parts: string[]; outDir: string; log?: (message: string) => void }) => Omit<PipelineResult, 'modelPath'>;

export interface ActionDeps {
  runPipeline: RunPipeline;
  /** mode: baseline: freezing and the committed baseline's status (src/pipeline/baseline.ts, wired by src/index.ts). */
  baseline?: BaselineDeps;
  merge?: RunMerge;
  /** GitHub client settings other than the token (tests shorten delays and turn off write spacing). */
  client?: Partial<Omit<ClientOptions, 'token'>>;
  toolVersion?: string;
}

export interface ActionOutcome {
  mode?: ActionMode;
  verdict: Verdict;
  /** 0 pass/warn, 1 gate failed, 2 input error, 3 internal error. */
  exitCode: number;
  comment: CommentOutcome;
  reportPath?: string;
  history?: HistoryOutcome;
  baseline?: BaselineOutcome;
}

export async function runActionWith(deps: ActionDeps): Promise<ActionOutcome> {
  let inputs: ActionInputs;
  let ctx: RunContext;
  try {
    inputs = parseInputs();
    ctx = readRunContext();
  } catch (err) {
    core.setFailed((err as Error).message);
    return { verdict: 'error', exitCode: err instanceof InputError ? 2 : 3, comment: { posted: false, skipped: 'error' } };
  }
  try {
    if (inputs.mode === 'baseline') return await freezeMode(inputs, ctx, deps);
    return inputs.mode === 'comment' ? await commentMode(inputs, ctx, deps) : await measureMode(inputs, ctx, deps);
  } catch (err) {
    // Publishing itself failed (e.g. the report folder is not writable): still say why, once.
    core.setFailed(`prune-gate: ${(err as Error).message}`);
    return { mode: inputs.mode, verdict: 'error', exitCode: err instanceof InputError ? 2 : 3, comment: { posted: false, skipped: 'error' } };
  }
}

async function measureMode(inputs: ActionInputs, ctx: RunContext, deps: ActionDeps): Promise<ActionOutcome> {
  const outDir = inputs.reportPath;
  let result: PipelineResult;
  let exitCode: number;
  const groups = new LogGroups();
  try {
    if (inputs.mode === 'merge') {
      result = await mergeParts(inputs, deps, groups);
    } else {
      const baseModel = inputs.compareBase ? baseBranchModel(inputs, ctx) : undefined;
      result = await deps.runPipeline({ configPath: inputs.configPath, outDir, phase: (name) => groups.start(name), ...(baseModel && { baseModel }) });
    }
    exitCode = result.exitCode;
  } catch (err) {
    // The pipeline should turn input errors into an error report itself; if it threw, do it here
    // so the PR still gets a comment that says what to fix. In merge, every input error is about the parts.
    const kind = inputs.mode === 'merge' && err instanceof InputError ? ('parts' as const) : undefined;
    const report = errorReport({ toolVersion: deps.toolVersion ?? TOOL_VERSION, configPath: inputs.configPath, error: err, ...(kind && { kind }) });
    const written = writeReportFiles(outDir, report, renderMarkdown(report));
    result = { report, ...written, exitCode: 2 };
    exitCode = err instanceof InputError ? 2 : 3;
    if (exitCode === 3) core.error(`prune-gate internal error: ${(err as Error).stack ?? (err as Error).message}`);
  } finally {
    // The verdict's annotations and outputs come after, outside any group.
    groups.end();
  }
  const pr = ctx.pullRequest;
  // Recorded for `mode: comment`, which runs later in another workflow without this context.
  result.report.gate = inputs.gateId;
  const link = runUrl(ctx, ctx.runId, ctx.runAttempt);
  if (link) result.report.run = { url: link, artifact: inputs.artifact };
  if (pr && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(pr.headSha)) {
    result.report.pullRequest = { number: pr.number, headSha: pr.headSha, ...(ctx.runId ? { runId: ctx.runId, runAttempt: ctx.runAttempt ?? 1 } : {}) };
  }
  writeFileAtomic(result.reportPath, JSON.stringify(result.report, null, 2) + '\n');
  publish(result.report, { reportPath: result.reportPath, modelPath: result.modelPath, gate: inputs.gateId });
  core.setOutput('artifact-name', inputs.artifact);

  let comment: CommentOutcome = { posted: false, skipped: 'disabled' };
  let history: HistoryOutcome | undefined;
  groups.start(inputs.mode === 'history' ? 'history' : 'comment');
  if (inputs.mode === 'history') {
    history = await recordHistory(result.report, inputs, ctx, deps.client);
  } else if (inputs.mode === 'measure') {
    core.info(`mode: measure: report written to ${result.reportPath} for a later \`mode: comment\` run; no comment posted.`);
  } else if (!inputs.comment) {
    if (inputs.mode === 'merge') core.info(`comment: false: report written to ${result.reportPath} for a later \`mode: comment\` run; no comment posted.`);
    comment = { posted: false, skipped: 'disabled' };
  } else if (!pr) {
    core.info(`Not a pull_request event (${ctx.eventName || 'none'}): no PR comment.`);
    comment = { posted: false, skipped: 'not-a-pr' };
  } else if (pr.isFork && ctx.eventName !== 'pull_request_target') {
    core.notice(inputs.mode === 'merge' ? MERGE_FORK_NOTICE : FORK_NOTICE);
    comment = { posted: false, skipped: 'fork' };
  } else {
    const meta = { gate: inputs.gateId, headSha: pr.headSha, runId: ctx.runId, runAttempt: ctx.runAttempt };
    const target: CommentTarget = { owner: ctx.owner, repo: ctx.repo, issueNumber: pr.number, meta, event: ctx.eventName, adoptLegacy: !inputs.gateIdGiven };
    comment = await postReportComment(result.report, target, { token: inputs.token, expectedAuthor: inputs.commentAuthor, client: deps.client, trend: trendFromInput(result.report, inputs) });
  }
  groups.end();
  fail(result.report, inputs, exitCode);
  return { mode: inputs.mode, verdict: result.report.verdict, exitCode, comment, reportPath: result.reportPath, ...(history ? { history } : {}) };
}

/** The matrix's parts (the `parts` input's paths and patterns) merged into the report folder, in one log group. */
async function mergeParts(inputs: ActionInputs, deps: ActionDeps, groups: LogGroups): Promise<PipelineResult> {
  if (!deps.merge) throw new Error('mode: merge is not wired in this entry point');
  groups.start('merge');
  const parts = await expandParts(inputs.parts, process.cwd());
  core.info(`Merging ${parts.length} part${parts.length === 1 ? '' : 's'}: ${parts.join(', ')}`);
  return deps.merge({ parts, outDir: inputs.reportPath, log: (m) => core.info(m) });
}

async function freezeMode(inputs: ActionInputs, ctx: RunContext, deps: ActionDeps): Promise<ActionOutcome> {
  const none = { posted: false, skipped: 'disabled' } as const;
  if (!deps.baseline) throw new Error('mode: baseline is not wired in this entry point');
  try {
    const baseline = await baselineMode(inputs, ctx, deps.baseline);
    return { mode: 'baseline', verdict: 'pass', exitCode: 0, comment: none, baseline };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    core.setFailed(`prune-gate (mode: baseline): ${err.message}`);
    return { mode: 'baseline', verdict: 'error', exitCode: 2, comment: none };
  }
}

async function commentMode(inputs: ActionInputs, ctx: RunContext, deps: ActionDeps): Promise<ActionOutcome> {
  let report: Report;
  try {
    report = readReport(inputs.reportPath);
  } catch (err) {
    core.setFailed(`prune-gate (mode: comment): ${(err as Error).message}`);
    return { mode: 'comment', verdict: 'error', exitCode: 2, comment: { posted: false, skipped: 'error' } };
  }
  const reportPath = fs.existsSync(inputs.reportPath) && fs.statSync(inputs.reportPath).isDirectory() ? path.join(inputs.reportPath, 'report.json') : inputs.reportPath;
  // The measuring step's id, unless this step names one.
  const gate = inputs.gateIdGiven ? inputs.gateId : (report.gate ?? inputs.gateId);
  publish(report, { reportPath, modelPath: report.models.candidate, gate });
  let comment: CommentOutcome;
  const groups = new LogGroups();
  groups.start('comment');
  const found = await commentTarget(report, ctx, inputs, deps);
  const target = 'skipped' in found ? found : { ...found, meta: { ...found.meta, gate }, adoptLegacy: !inputs.gateIdGiven };
  if ('skipped' in target) comment = target;
  else if (!inputs.comment) comment = { posted: false, skipped: 'disabled' };
  else comment = await postReportComment(report, target, { token: inputs.token, expectedAuthor: inputs.commentAuthor, client: deps.client, trend: trendFromInput(report, inputs) });
  groups.end();
  fail(report, inputs, report.verdict === 'error' ? 2 : report.verdict === 'fail' ? 1 : 0);
  return { mode: 'comment', verdict: report.verdict, exitCode: report.verdict === 'fail' ? 1 : report.verdict === 'error' ? 2 : 0, comment, reportPath };
}

/**
 * Which PR the downloaded report belongs to. In a workflow_run, GitHub lists the PR for
 * same-repo branches but not for forks; then the number recorded in the report (untrusted: the
 * fork's code wrote it) is accepted only if that PR's head is the commit the run measured.
 */
async function commentTarget(report: Report, ctx: RunContext, inputs: ActionInputs, deps: ActionDeps): Promise<CommentTarget | Extract<CommentOutcome, { posted: false }>> {
  const wr = ctx.workflowRun;
  if (!wr) {
    if (!ctx.pullRequest) return { posted: false, skipped: 'not-a-pr', message: 'mode: comment runs on workflow_run (or pull_request) events' };
    const pr = ctx.pullRequest;
    const readOnlyFork = pr.isFork && ctx.eventName === 'pull_request';
    return { owner: ctx.owner, repo: ctx.repo, issueNumber: pr.number, meta: { headSha: pr.headSha, runId: ctx.runId, runAttempt: ctx.runAttempt }, readOnlyFork, event: ctx.eventName };
  }
  const meta = { headSha: wr.headSha, runId: wr.id, runAttempt: wr.runAttempt };
  const where = { event: ctx.eventName };
  if (report.pullRequest && report.pullRequest.headSha !== wr.headSha) {
    const message = `The report is for commit ${report.pullRequest.headSha}, but the triggering run measured ${wr.headSha}: not commenting (stale or foreign artifact).`;
    core.warning(message);
    return { posted: false, skipped: 'stale-artifact', message };
  }
  const listed = wr.pullRequests.find((p) => !p.headSha || p.headSha === wr.headSha);
  if (listed) return { owner: ctx.owner, repo: ctx.repo, issueNumber: listed.number, meta, ...where };
  const claimed = report.pullRequest?.number;
  if (!claimed) {
    const message = 'The triggering run lists no pull request and the report records none: nothing to comment on.';
    core.info(message);
    return { posted: false, skipped: 'not-a-pr', message };
  }
  try {
    const octokit = createGitHubClient({ token: inputs.token, log: (m) => core.info(m), ...deps.client });
    const { data } = await octokit.rest.pulls.get({ owner: ctx.owner, repo: ctx.repo, pull_number: claimed });
    if (data.head.sha !== wr.headSha) {
      const message = `PR #${claimed}'s head is ${data.head.sha}, but the triggering run measured ${wr.headSha}: not commenting (the PR moved on, or the report lies).`;
      core.warning(message);
      return { posted: false, skipped: 'stale-artifact', message };
    }
  } catch (err) {
    const message = `Could not check PR #${claimed} (${(err as Error).message}); the comment was skipped.`;
    core.warning(message);
    return { posted: false, skipped: 'error', message };
  }
  return { owner: ctx.owner, repo: ctx.repo, issueNumber: claimed, meta, ...where };
}

/**
 * The PR base commit's model, for the latency column of the base branch; any reason it cannot be
 * read (a bad config, a new model, no git) is logged and the run goes on without it.
 */
function baseBranchModel(inputs: ActionInputs, ctx: RunContext): { file: string; commit: string; name: string } | undefined {
  const baseSha = ctx.pullRequest?.baseSha;
  if (!baseSha) return undefined;
  let model: string;
  try {
    model = loadConfig(inputs.configPath).model;
  } catch {
    return undefined; // the pipeline reports the config's problem
  }
  const found = baseModelFromGit({ commit: baseSha, model, cwd: process.env.GITHUB_WORKSPACE || process.cwd(), tempDir: process.env.RUNNER_TEMP || undefined, log: (m) => core.info(m) });
  if (!found.found) {
    core.info(`No base branch latency: ${found.reason}.`);
    return undefined;
  }
  core.info(`Base branch: ${found.path} at ${found.commit.slice(0, 12)}${found.fetched ? ' (fetched)' : ''}, benchmarked beside the PR model and the candidate.`);
  return { file: found.file, commit: found.commit, name: found.path };
}

/** Job summary (a section headed with the gate's id when it is not the default), annotations and outputs: the same in every mode. */
function publish(report: Report, paths: { reportPath: string; modelPath?: string; gate: string }): void {
  const summaryFile = process.env.GITHUB_STEP_SUMMARY;
  if (summaryFile) {
    // Appended directly rather than through core.summary, which caches the file path of the first
    // call for the life of the process.
    try {
      fs.appendFileSync(summaryFile, renderJobSummary(report, { gate: shownGate(paths.gate) }));
    } catch (err) {
      core.warning(`Could not write the job summary: ${(err as Error).message}`);
    }
  }
  const file = report.configPath || undefined;
  for (const m of report.metrics) {
    if (m.status === 'fail') core.error(capitalize(m.explanation ?? `${m.metric} failed the gate`), { title: `prune-gate: ${m.metric}`, file });
    else if (m.status === 'warn') core.warning(capitalize(m.explanation ?? `${m.metric} is close to its limit`), { title: `prune-gate: ${m.metric}`, file });
  }
  for (const l of report.latency) {
    const r = l.ratios.p95;
    const text = `p95 latency ratio at batch ${l.batchSize}${l.target ? ` on ${l.target}` : ''} is ${r.value.toFixed(2)} (95 % CI ${r.interval.low.toFixed(2)}-${r.interval.high.toFixed(2)}), goal <= ${l.goal}`;
    if (l.status === 'fail') core.error(text, { title: 'prune-gate: latency', file });
    else if (l.status === 'warn') core.warning(`${text}; the interval includes the goal, so this may be noise`, { title: 'prune-gate: latency', file });
  }
  if (report.error?.kind === 'runtime') {
    // Nothing in the repository to point at: the step's `uses:` line is the cause.
    core.error(report.error.message, { title: 'prune-gate: runtime error' });
    core.error(releaseTagAdvice(), { title: 'prune-gate: use the release tag' });
  } else if (report.error?.kind === 'parts') {
    // The parts are downloaded artifacts, not files of the repository: no file to point at.
    core.error(report.error.message, { title: 'prune-gate: parts error' });
  } else if (report.error) {
    core.error(report.error.message, { title: `prune-gate: ${report.error.kind} error`, file: report.error.where?.split('#')[0] || file });
  }
  const gated = report.metrics.find((m) => m.metric === report.gatedMetric);
  const worstP95 = report.latency.length > 0 ? Math.max(...report.latency.map((l) => l.ratios.p95.value)) : undefined;
  core.setOutput('id', paths.gate);
  core.setOutput('verdict', report.verdict);
  core.setOutput('accuracy-drift', gated ? round(gated.drift) : '');
  core.setOutput('p95-ratio', worstP95 === undefined ? '' : round(worstP95));
  core.setOutput('report-path', paths.reportPath);
  core.setOutput('model-path', paths.modelPath ?? '');
}

function fail(report: Report, inputs: ActionInputs, exitCode: number): void {
  if (report.verdict === 'error' || exitCode >= 2) core.setFailed(`prune-gate: ${report.reason}${report.error ? ` ${report.error.message}` : ''}`);
  else if (report.verdict === 'fail' && inputs.failOnGate) core.setFailed(`prune-gate: ${report.reason}`);
  else if (report.verdict === 'fail') core.warning(`prune-gate: ${report.reason} (fail-on-gate is off, so the step passes)`);
}

/**
 * The step's own `uses:` line, when the runner says it (GITHUB_ACTION_REPOSITORY and
 * GITHUB_ACTION_REF), and the one to write instead.
 */
function releaseTagAdvice(): string {
  const repo = process.env.GITHUB_ACTION_REPOSITORY || '<owner>/prune-gate';
  const ref = process.env.GITHUB_ACTION_REF;
  const tag = `v${TOOL_VERSION.split('.')[0]}`;
  const now = ref ? `This step runs \`uses: ${repo}@${ref}\`, a tree without ONNX Runtime's native binaries. ` : '';
  return `${now}Use the release tag, \`uses: ${repo}@${tag}\`: release trees carry dist/ and ONNX Runtime's Linux binaries, so no install step is needed.`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function round(x: number): string {
  return String(Number(x.toFixed(4)));
}
