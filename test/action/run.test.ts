import * as fs from 'node:fs';
import * as path from 'node:path';
import { runActionWith, type RunPipeline } from '../../src/action/run.js';
import { InputError } from '../../src/util/errors.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { COMMENT_MARKER, markerBlock, parseMarkers } from '../../src/report/markers.js';
import { gateIdOf } from '../../src/action/inputs.js';
import { reportProblems, writeReportFiles } from '../../src/report/validate.js';
import type { Report } from '../../src/report/types.js';
import { applyEnv, buildActionEnv, setInput, type ActionEnv, type ActionEnvOptions } from '../helpers/action-env.js';
import { BOT, FakeGitHub } from '../helpers/fake-github-server.js';
import { failReport, passReport } from '../report/fixtures.js';

const SHA = 'c0ffee'.padEnd(40, '0');
const REPO = 'acme/models';
let gh: FakeGitHub;
let envs: ActionEnv[] = [];
let restore: (() => void) | undefined;
let stdout: string[] = [];
const realWrite = process.stdout.write.bind(process.stdout);

beforeEach(async () => {
  gh = new FakeGitHub();
  await gh.start();
  stdout = [];
  // Workflow commands (::error::, ::notice::) go to stdout; keep a copy to assert on.
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
});

afterEach(async () => {
  process.stdout.write = realWrite;
  restore?.();
  restore = undefined;
  process.exitCode = undefined;
  for (const e of envs) e.cleanup();
  envs = [];
  await gh.stop();
});

function setup(options: ActionEnvOptions): ActionEnv {
  const e = buildActionEnv({ apiUrl: gh.baseUrl, ...options, inputs: { token: 'bot-token', ...options.inputs } });
  envs.push(e);
  restore?.();
  restore = applyEnv(e.env);
  return e;
}

/** The edge we may fake: a pipeline that writes a fixed report to disk, as the real one does. */
function pipelineWriting(report: Report, exitCode: 0 | 1 | 2 = report.verdict === 'fail' ? 1 : 0): RunPipeline & { calls: { configPath: string; outDir: string }[] } {
  const calls: { configPath: string; outDir: string }[] = [];
  const fn = async (options: { configPath: string; outDir: string }) => {
    calls.push(options);
    const written = writeReportFiles(options.outDir, report, renderMarkdown(report));
    return { report: JSON.parse(JSON.stringify(report)) as Report, ...written, modelPath: path.join(options.outDir, 'model.optimized.onnx'), exitCode };
  };
  return Object.assign(fn, { calls });
}

const fast = { client: { retryBaseMs: 1, spaceWrites: false } };
const out = () => stdout.join('');
const prComments = (n = 7) => gh.list('acme', 'models', n);

test('run mode on a same-repo PR: outputs, job summary, sticky comment, no failure on pass', async () => {
  const e = setup({ pullRequest: { number: 7, headSha: SHA }, runId: 555, inputs: { config: 'models/prune-gate.yml' } });
  setInput('report-path', path.join(e.dir, 'report'));
  const pipeline = pipelineWriting(passReport());
  const outcome = await runActionWith({ runPipeline: pipeline, ...fast });
  expect(pipeline.calls).toEqual([{ configPath: 'models/prune-gate.yml', outDir: path.join(e.dir, 'report'), phase: expect.any(Function) }]);
  expect(outcome).toMatchObject({ mode: 'run', verdict: 'pass', exitCode: 0, comment: { posted: true, action: 'created' } });
  expect(process.exitCode).toBeUndefined();
  const outputs = e.readOutputs();
  expect(outputs.verdict).toBe('pass');
  // The gate's id comes from the config path; its heading names it (only the default prune-gate.yml's does not).
  expect(outputs.id).toBe('models-prune-gate');
  expect(Number(outputs['accuracy-drift'])).toBeCloseTo(0.7, 4);
  expect(Number(outputs['p95-ratio'])).toBeCloseTo(0.52, 4);
  expect(outputs['report-path']).toBe(path.join(e.dir, 'report', 'report.json'));
  expect(outputs['model-path']).toBe(path.join(e.dir, 'report', 'model.optimized.onnx'));
  expect(e.readSummary()).toContain('### ✅ prune-gate (models-prune-gate): pass');
  expect(prComments()).toHaveLength(1);
  const c = prComments()[0];
  expect(c.user).toEqual(BOT);
  expect(parseMarkers(c.body)).toEqual({ gate: 'models-prune-gate', headSha: SHA, runId: 555, runAttempt: 1 });
  expect(c.body).toContain('| **accuracy** (drop ≤ 2 pts) |');
  // The same report is in the summary and the comment.
  expect(c.body.endsWith(e.readSummary())).toBe(true);

  // A later run of the same PR updates the comment in place.
  const e2 = setup({ pullRequest: { number: 7, headSha: 'd'.repeat(40) }, runId: 556, inputs: { config: 'models/prune-gate.yml', 'report-path': path.join(e.dir, 'report2') } });
  const again = await runActionWith({ runPipeline: pipelineWriting(failReport()), ...fast });
  expect(again.comment).toMatchObject({ posted: true, action: 'updated', commentId: c.id });
  expect(prComments()).toHaveLength(1);
  expect(prComments()[0].body).toContain('❌ prune-gate (models-prune-gate): fail');
  expect(e2.readOutputs().verdict).toBe('fail');
});

test('a failed gate: annotation per failed metric, setFailed with the reason, comment still posted', async () => {
  const e = setup({ pullRequest: { number: 7, headSha: SHA } });
  setInput('report-path', path.join(e.dir, 'r'));
  const outcome = await runActionWith({ runPipeline: pipelineWriting(failReport()), ...fast });
  expect(outcome).toMatchObject({ verdict: 'fail', exitCode: 1, comment: { posted: true } });
  expect(process.exitCode).toBe(1);
  expect(out()).toMatch(/::error title=prune-gate%3A accuracy,file=models\/prune-gate\.yml::Accuracy dropped 3\.20 points .*above the 2-point limit\n/);
  expect(out()).toMatch(/::error::prune-gate: Accuracy dropped 3\.20 points .* against the PR model\./);
  expect(e.readOutputs().verdict).toBe('fail');
});

test('fail-on-gate: false keeps the step green on a failed gate', async () => {
  const e = setup({ pullRequest: { number: 7, headSha: SHA }, inputs: { 'fail-on-gate': 'false', comment: 'false' } });
  setInput('report-path', path.join(e.dir, 'r'));
  const outcome = await runActionWith({ runPipeline: pipelineWriting(failReport()), ...fast });
  expect(outcome).toMatchObject({ verdict: 'fail', comment: { posted: false, skipped: 'disabled' } });
  expect(process.exitCode).toBeUndefined();
  expect(out()).toContain('fail-on-gate is off');
  expect(gh.requests).toHaveLength(0);
});

test('a PR from a fork: no API call, a notice pointing to the two-workflow pattern, verdict unchanged', async () => {
  const e = setup({ pullRequest: { number: 9, headSha: SHA, headRepo: 'mallory/models' } });
  setInput('report-path', path.join(e.dir, 'r'));
  const outcome = await runActionWith({ runPipeline: pipelineWriting(failReport()), ...fast });
  expect(outcome).toMatchObject({ verdict: 'fail', exitCode: 1, comment: { posted: false, skipped: 'fork' } });
  expect(gh.requests).toHaveLength(0);
  expect(out()).toMatch(/::notice::This pull request comes from a fork.*mode: measure.*mode: comment/);
  expect(process.exitCode).toBe(1);
});

test('mode: merge on a PR from a fork: the expanded parts merged, no API call, a notice pointing to the matrix example with comment: false', async () => {
  const e = setup({ pullRequest: { number: 9, headSha: SHA, headRepo: 'mallory/models' }, inputs: { mode: 'merge' } });
  for (const name of ['prune-gate-verify-1', 'prune-gate-verify-2', 'prune-gate-search']) fs.mkdirSync(path.join(e.dir, 'parts', name), { recursive: true });
  setInput('parts', `${e.dir}/parts/prune-gate-verify-*\n`);
  setInput('report-path', path.join(e.dir, 'r'));
  const calls: string[][] = [];
  const merge = ({ parts, outDir }: { parts: string[]; outDir: string }) => {
    calls.push(parts);
    const report = failReport();
    return { report, ...writeReportFiles(outDir, report, renderMarkdown(report)), exitCode: 1 as const };
  };
  const pipeline = pipelineWriting(passReport());
  const outcome = await runActionWith({ runPipeline: pipeline, merge, ...fast });
  expect(calls).toEqual([[path.join(e.dir, 'parts', 'prune-gate-verify-1'), path.join(e.dir, 'parts', 'prune-gate-verify-2')]]);
  expect(pipeline.calls).toHaveLength(0);
  expect(outcome).toMatchObject({ mode: 'merge', verdict: 'fail', exitCode: 1, comment: { posted: false, skipped: 'fork' } });
  expect(gh.requests).toHaveLength(0);
  expect(out()).toMatch(/::notice::This pull request comes from a fork.*`comment: false` on the `mode: merge` step.*prune-gate-matrix\.yml/);
  // Recorded for the comment workflow, as mode: measure records it.
  expect(JSON.parse(fs.readFileSync(path.join(e.dir, 'r', 'report.json'), 'utf8')).pullRequest).toMatchObject({ number: 9, headSha: SHA });
  expect(e.readOutputs()['model-path']).toBe('');
  expect(process.exitCode).toBe(1);
});

test('a 403 on a same-repository PR names the missing permission, not a fork; the passing verdict stays a pass', async () => {
  const e = setup({ pullRequest: { number: 7, headSha: SHA }, inputs: { token: 'readonly-token' } });
  setInput('report-path', path.join(e.dir, 'r'));
  const outcome = await runActionWith({ runPipeline: pipelineWriting(passReport()), ...fast });
  expect(outcome).toMatchObject({ verdict: 'pass', exitCode: 0, comment: { posted: false, skipped: 'read-only' } });
  expect(out()).toMatch(/::warning::prune-gate could not post the PR comment: the token lacks the `pull-requests: write` permission \(GitHub answered 403: Resource not accessible by integration\)\.%0AAdd it to this workflow/);
  expect(out()).toContain('%0Apermissions:%0A  contents: read%0A  pull-requests: write%0A');
  expect(out()).not.toMatch(/fork/i);
  expect(process.exitCode).toBeUndefined();
});

test('a 403 when `mode: comment` posts from workflow_run names the commenting workflow', async () => {
  const e = setup({ pullRequest: { number: 12, headSha: SHA }, inputs: { mode: 'measure' } });
  const artifact = path.join(e.dir, 'artifact');
  setInput('report-path', artifact);
  await runActionWith({ runPipeline: pipelineWriting(passReport()), ...fast });
  setup({ workflowRun: { id: 777, headSha: SHA, headRepo: 'mallory/models', pullRequests: [{ number: 12, headSha: SHA }] }, inputs: { mode: 'comment', 'report-path': artifact, token: 'readonly-token' } });
  const outcome = await runActionWith({ runPipeline: pipelineWriting(passReport()), ...fast });
  expect(outcome.comment).toMatchObject({ posted: false, skipped: 'read-only' });
  expect(out()).toMatch(/::warning::prune-gate could not post the PR comment: the token lacks the `pull-requests: write` permission .*Add it to the workflow that runs `mode: comment`/);
});

test('a 403 on a PR from a fork under pull_request points to the two-workflow pattern', async () => {
  const e = setup({ pullRequest: { number: 9, headSha: SHA, headRepo: 'mallory/models' }, inputs: { mode: 'measure' } });
  const artifact = path.join(e.dir, 'artifact');
  setInput('report-path', artifact);
  await runActionWith({ runPipeline: pipelineWriting(passReport()), ...fast });
  // `mode: comment` run on the fork's own pull_request event: the token is read-only whatever the workflow grants.
  setup({ pullRequest: { number: 9, headSha: SHA, headRepo: 'mallory/models' }, inputs: { mode: 'comment', 'report-path': artifact, token: 'readonly-token' } });
  const outcome = await runActionWith({ runPipeline: pipelineWriting(passReport()), ...fast });
  expect(outcome.comment).toMatchObject({ posted: false, skipped: 'fork' });
  expect(out()).toMatch(/::notice::This pull request comes from a fork.*two-workflow pattern.*GitHub answered 403/);
  expect(out()).not.toContain('pull-requests: write');
});

test('the GitHub API failing for good is a warning, never a change of verdict', async () => {
  const e = setup({ pullRequest: { number: 7, headSha: SHA } });
  setInput('report-path', path.join(e.dir, 'r'));
  gh.failNext('GET', /\/comments$/, { status: 500 }, 20);
  const outcome = await runActionWith({ runPipeline: pipelineWriting(passReport()), client: { ...fast.client, retries: 1 } });
  expect(outcome).toMatchObject({ verdict: 'pass', exitCode: 0, comment: { posted: false, skipped: 'error' } });
  expect(out()).toMatch(/::warning::Could not post the PR comment/);
  expect(process.exitCode).toBeUndefined();
});

test('a pipeline that throws an InputError still yields an error report, comment and exit code 2', async () => {
  const e = setup({ pullRequest: { number: 7, headSha: SHA } });
  setInput('report-path', path.join(e.dir, 'r'));
  const outcome = await runActionWith({
    runPipeline: async () => {
      throw new InputError('prune-gate.yml: /data/eval/labels: file data/y.npy does not exist.', 'prune-gate.yml#/data/eval/labels');
    },
    ...fast,
  });
  expect(outcome).toMatchObject({ verdict: 'error', exitCode: 2, comment: { posted: true } });
  const report = JSON.parse(fs.readFileSync(path.join(e.dir, 'r', 'report.json'), 'utf8'));
  expect(reportProblems(report)).toEqual([]);
  expect(report.error).toMatchObject({ kind: 'config', where: 'prune-gate.yml#/data/eval/labels' });
  expect(prComments()[0].body).toContain('🛑 prune-gate: error');
  expect(prComments()[0].body).toContain('data/y.npy does not exist');
  expect(out()).toMatch(/::error title=prune-gate%3A config error,file=prune-gate\.yml::prune-gate\.yml: \/data\/eval\/labels: file data\/y\.npy does not exist\./);
  expect(process.exitCode).toBe(1);
});

describe('fork-safe pair: measure, then comment from workflow_run', () => {
  async function measure(headRepo: string): Promise<string> {
    const e = setup({ pullRequest: { number: 12, headSha: SHA, headRepo }, runId: 777, inputs: { mode: 'measure' } });
    const dir = path.join(e.dir, 'artifact');
    setInput('report-path', dir);
    const outcome = await runActionWith({ runPipeline: pipelineWriting(passReport()), ...fast });
    expect(outcome).toMatchObject({ mode: 'measure', verdict: 'pass', comment: { posted: false } });
    expect(gh.requests).toHaveLength(0);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
    expect(report.pullRequest).toEqual({ number: 12, headSha: SHA, runId: 777, runAttempt: 1 });
    expect(reportProblems(report)).toEqual([]);
    return dir;
  }

  test('fork PR: the run lists no PR, the recorded number is checked against the PR head, then posted', async () => {
    const artifact = await measure('mallory/models');
    gh.pulls.set('acme/models#12', { number: 12, headSha: SHA, headRepo: 'mallory/models', baseRepo: REPO });
    const e = setup({ workflowRun: { id: 777, headSha: SHA, headRepo: 'mallory/models', pullRequests: [] }, runId: 900, inputs: { mode: 'comment', 'report-path': artifact, 'fail-on-gate': 'false' } });
    const outcome = await runActionWith({ runPipeline: pipelineWriting(failReport()), ...fast });
    expect(outcome).toMatchObject({ mode: 'comment', verdict: 'pass', comment: { posted: true, action: 'created' } });
    const c = prComments(12);
    expect(c).toHaveLength(1);
    // Ordered by the measuring run, not the commenting one.
    expect(parseMarkers(c[0].body)).toEqual({ gate: 'prune-gate', headSha: SHA, runId: 777, runAttempt: 1 });
    expect(e.readOutputs().verdict).toBe('pass');
    expect(e.readSummary()).toContain('prune-gate: pass');
  });

  test('a report whose PR has moved on (or lies about its PR) is not posted', async () => {
    const artifact = await measure('mallory/models');
    gh.pulls.set('acme/models#12', { number: 12, headSha: 'e'.repeat(40), headRepo: 'mallory/models', baseRepo: REPO });
    setup({ workflowRun: { id: 777, headSha: SHA, pullRequests: [] }, inputs: { mode: 'comment', 'report-path': artifact } });
    const outcome = await runActionWith({ runPipeline: pipelineWriting(failReport()), ...fast });
    expect(outcome.comment).toMatchObject({ posted: false, skipped: 'stale-artifact' });
    expect(prComments(12)).toHaveLength(0);
  });

  test('same-repo PR: the PR listed on the workflow run is used directly', async () => {
    const artifact = await measure(REPO);
    setup({ workflowRun: { id: 777, headSha: SHA, pullRequests: [{ number: 12, headSha: SHA }] }, inputs: { mode: 'comment', 'report-path': artifact } });
    const outcome = await runActionWith({ runPipeline: pipelineWriting(failReport()), ...fast });
    expect(outcome.comment).toMatchObject({ posted: true });
    expect(gh.requests.some((r) => r.path.includes('/pulls/'))).toBe(false);
  });

  test('an invalid report is rejected with the JSON path, nothing is posted', async () => {
    const artifact = await measure(REPO);
    const file = path.join(artifact, 'report.json');
    const bad = JSON.parse(fs.readFileSync(file, 'utf8'));
    bad.verdict = 'pass<script>';
    bad.metrics[0].reference = 'high';
    fs.writeFileSync(file, JSON.stringify(bad));
    setup({ workflowRun: { id: 777, headSha: SHA, pullRequests: [{ number: 12, headSha: SHA }] }, inputs: { mode: 'comment', 'report-path': artifact } });
    const outcome = await runActionWith({ runPipeline: pipelineWriting(passReport()), ...fast });
    expect(outcome).toMatchObject({ verdict: 'error', exitCode: 2, comment: { posted: false } });
    expect(out()).toMatch(/::error::prune-gate \(mode: comment\): .*report\.json does not match schemas\/report\.schema\.json/);
    expect(out()).toContain('/verdict must be one of pass, fail, warn, error');
    expect(out()).toContain("/metrics/0/reference must be a number (got 'high')");
    expect(prComments(12)).toHaveLength(0);
  });
});

/** A bad input value fails with exit code 2 and one error line, before running anything. */
async function expectRefused(inputs: Record<string, string>, message: string): Promise<void> {
  setup({ pullRequest: { number: 7, headSha: SHA }, inputs });
  const pipeline = pipelineWriting(passReport());
  const outcome = await runActionWith({ runPipeline: pipeline, ...fast });
  expect(outcome).toMatchObject({ verdict: 'error', exitCode: 2 });
  expect(pipeline.calls).toHaveLength(0);
  expect(out()).toContain(`::error::${message}`);
}

test('a bad input value fails with exit code 2 before running anything', async () => {
  await expectRefused({ mode: 'deploy' }, 'input "mode" must be run, measure, comment, history, baseline or merge (got "deploy").');
});

describe('several gates on one pull request', () => {
  test('ids derive from the config path; a bad explicit id is refused before running anything', async () => {
    expect(gateIdOf('prune-gate.yml')).toBe('prune-gate');
    expect(gateIdOf('./models/Vision/prune-gate.yaml')).toBe('models-vision-prune-gate');
    expect(gateIdOf('a b/c.json')).toBe('a-b-c');
    expect(gateIdOf('x/'.repeat(40) + 'end.yml')).toMatch(/^[a-z0-9][a-z0-9._-]{0,63}$/);
    await expectRefused({ id: 'bad id -->' }, 'input "id" must be 1-64 letters');
  });

  test('each id keeps its own comment, summary heading, output and report folder', async () => {
    const runGate = async (inputs: Record<string, string>, runId: number) => {
      const e = setup({ pullRequest: { number: 7, headSha: SHA }, runId, inputs });
      process.chdir(e.dir);
      const pipeline = pipelineWriting(passReport());
      const outcome = await runActionWith({ runPipeline: pipeline, ...fast });
      return { e, outcome, outDir: pipeline.calls[0].outDir };
    };
    const cwd = process.cwd();
    try {
      const a = await runGate({}, 600);
      const b = await runGate({ id: 'speech' }, 601);
      expect(a.outDir).toBe('prune-gate-report');
      expect(b.outDir).toBe('prune-gate-report-speech');
      expect([a.e.readOutputs().id, b.e.readOutputs().id]).toEqual(['prune-gate', 'speech']);
      expect(a.e.readSummary()).toContain('### ✅ prune-gate: pass');
      expect(b.e.readSummary()).toContain('### ✅ prune-gate (speech): pass');
      expect(prComments().map((c) => parseMarkers(c.body).gate)).toEqual(['prune-gate', 'speech']);
      const again = await runGate({ id: 'speech' }, 602);
      expect(again.outcome.comment).toMatchObject({ action: 'updated', commentId: prComments()[1].id });
      expect(prComments()).toHaveLength(2);
    } finally {
      process.chdir(cwd);
    }
  });

  test('a comment written before ids existed is taken over by a gate without an explicit id, not by one with an id', async () => {
    const legacy = gh.seedComment('acme', 'models', 7, `${COMMENT_MARKER}\n<!-- prune-gate:run=500.1 -->\n### ✅ prune-gate: pass\nold\n`, BOT);
    const e = setup({ pullRequest: { number: 7, headSha: SHA }, runId: 700, inputs: { id: 'other' } });
    setInput('report-path', path.join(e.dir, 'r1'));
    const named = await runActionWith({ runPipeline: pipelineWriting(passReport()), ...fast });
    expect(named.comment).toMatchObject({ action: 'created' });
    expect(prComments().find((c) => c.id === legacy.id)!.body).toContain('old');
    const d = setup({ pullRequest: { number: 7, headSha: SHA }, runId: 701, inputs: { config: 'models/prune-gate.yml' } });
    setInput('report-path', path.join(d.dir, 'r2'));
    const derived = await runActionWith({ runPipeline: pipelineWriting(failReport()), ...fast });
    expect(derived.comment).toMatchObject({ action: 'updated', commentId: legacy.id });
    expect(prComments()).toHaveLength(2);
    expect(parseMarkers(prComments().find((c) => c.id === legacy.id)!.body)).toMatchObject({ gate: 'models-prune-gate', runId: 701 });
  });

  test('mode: comment posts to the gate the measuring step recorded', async () => {
    const e = setup({ pullRequest: { number: 12, headSha: SHA }, runId: 800, inputs: { mode: 'measure', id: 'vision' } });
    const artifact = path.join(e.dir, 'artifact');
    setInput('report-path', artifact);
    await runActionWith({ runPipeline: pipelineWriting(passReport()), ...fast });
    expect(JSON.parse(fs.readFileSync(path.join(artifact, 'report.json'), 'utf8')).gate).toBe('vision');
    gh.seedComment('acme', 'models', 12, `${markerBlock({ gate: 'prune-gate', runId: 1 })}\nthe other gate\n`, BOT);
    setup({ workflowRun: { id: 800, headSha: SHA, pullRequests: [{ number: 12, headSha: SHA }] }, inputs: { mode: 'comment', 'report-path': artifact } });
    const outcome = await runActionWith({ runPipeline: pipelineWriting(passReport()), ...fast });
    expect(outcome.comment).toMatchObject({ posted: true, action: 'created' });
    expect(prComments(12).map((c) => parseMarkers(c.body).gate)).toEqual(['prune-gate', 'vision']);
    expect(prComments(12)[1].body).toContain('### ✅ prune-gate (vision): pass');
  });
});

test('the log is one group per phase: each pipeline phase, then the PR comment; never nested, the verdict outside', async () => {
  const e = setup({ pullRequest: { number: 7, headSha: SHA } });
  setInput('report-path', path.join(e.dir, 'r'));
  const write = pipelineWriting(failReport());
  const outcome = await runActionWith({
    runPipeline: async (options) => {
      options.phase?.('prepare');
      process.stdout.write('reading the config\n');
      options.phase?.('optimize');
      process.stdout.write('step 1\n');
      return write(options);
    },
    ...fast,
  });
  expect(outcome.verdict).toBe('fail');
  const lines = out().split('\n');
  const groups = lines.filter((l) => l.startsWith('::group::') || l === '::endgroup::');
  expect(groups).toEqual([
    '::group::prune-gate: prepare: config, model and data',
    '::endgroup::',
    '::group::prune-gate: optimize: the recipe, step by step',
    '::endgroup::',
    '::group::prune-gate: the PR comment',
    '::endgroup::',
  ]);
  const at = (text: string) => lines.findIndex((l) => l.startsWith(text));
  expect(at('reading the config')).toBeLessThan(at('::group::prune-gate: optimize'));
  // The failed metric's annotation sits between the groups, where the reader sees it.
  expect(at('::error title=prune-gate%3A accuracy')).toBeGreaterThan(at('::group::prune-gate: optimize'));
  expect(at('::error title=prune-gate%3A accuracy')).toBeLessThan(at('::group::prune-gate: the PR comment'));
  expect(at('PR comment created')).toBeGreaterThan(at('::group::prune-gate: the PR comment'));
});
