/**
 * The bundled Action (dist/index.js, what `uses:` runs) end to end: a child process with the
 * runner's environment, the real pipeline on a real model, and the GitHub REST API served by a
 * local server on 127.0.0.1. dist/ is checked against src/ by .ci/run, so this tests the release.
 */
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseMarkers } from '../../src/report/markers.js';
import { readReport } from '../../src/report/validate.js';
import { buildActionEnv, type ActionEnv } from '../helpers/action-env.js';
import { FakeGitHub } from '../helpers/fake-github-server.js';
import { makeProject, type Project } from './project.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHA = 'ab12'.padEnd(40, '0');
let gh: FakeGitHub;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  gh = new FakeGitHub();
  await gh.start();
});
afterAll(async () => {
  cleanups.forEach((c) => c());
  await gh.stop();
});

function runAction(env: ActionEnv, entry = path.join(ROOT, 'dist/index.js')): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [entry], { cwd: env.env.GITHUB_WORKSPACE, env: { PATH: process.env.PATH ?? '', ...env.env } }, (_err, stdout) => {
      resolve({ code: child.exitCode ?? -1, stdout });
    });
  });
}

function setup(p: Project, inputs: Record<string, string>): ActionEnv {
  const env = buildActionEnv({ apiUrl: gh.baseUrl, workspace: p.dir, pullRequest: { number: 3, headSha: SHA }, inputs: { token: 'bot-token', config: 'prune-gate.yml', ...inputs } });
  cleanups.push(env.cleanup);
  return env;
}

test('on a pull request: measures, gates, posts one comment, writes the summary and outputs; a failing rerun exits 1 and edits the same comment', async () => {
  // objective size: the verdict then rests on accuracy alone, not on this machine's timing.
  const p = makeProject({ recipe: [{ quantize: { kind: 'int8-dynamic' } }], gate: { 'accuracy-drop': 2 }, objective: 'size' });
  cleanups.push(p.cleanup);
  const env = setup(p, {});
  const first = await runAction(env);
  expect(first.code).toBe(0);
  const outputs = env.readOutputs();
  expect(outputs.verdict).toBe('pass');
  expect(Number(outputs['accuracy-drift'])).toBeLessThanOrEqual(2);
  expect(Number(outputs['p95-ratio'])).toBeGreaterThan(0);
  // Paths are relative to the workspace, as the next steps of the job see them.
  const report = readReport(path.resolve(p.dir, outputs['report-path']));
  expect(report.verdict).toBe('pass');
  expect(fs.existsSync(path.resolve(p.dir, outputs['model-path']))).toBe(true);
  expect(env.readSummary()).toMatch(/prune-gate: pass/);
  // The job log: one group per phase of the real pipeline, balanced and never nested.
  const groups = first.stdout.split('\n').filter((l) => l.startsWith('::group::') || l === '::endgroup::');
  expect(groups.filter((_, i) => i % 2 === 1).every((l) => l === '::endgroup::')).toBe(true);
  expect(groups.filter((_, i) => i % 2 === 0).map((l) => l.replace('::group::prune-gate: ', '').split(':')[0])).toEqual(
    expect.arrayContaining(['prepare', 'evaluate the PR model', 'optimize', 'benchmark', 'evaluate the candidate', 'the PR comment']),
  );

  const comments = gh.list('acme', 'models', 3);
  expect(comments).toHaveLength(1);
  expect(comments[0].body).toMatch(/### ✅ prune-gate: pass/);
  expect(parseMarkers(comments[0].body).headSha).toBe(SHA);

  // The next push makes the gate fail (an impossible latency goal): exit 1, and the same comment now says so.
  fs.writeFileSync(p.config, fs.readFileSync(p.config, 'utf8').replace('accuracy-drop: 2', 'accuracy-drop: 2\n  p95-ratio: 0.01'));
  const failing = setup(p, {});
  const second = await runAction(failing);
  expect(second.code).toBe(1);
  expect(second.stdout).toMatch(/::error::.*p95 latency/i);
  expect(failing.readOutputs().verdict).toBe('fail');
  const after = gh.list('acme', 'models', 3);
  expect(after).toHaveLength(1);
  expect(after[0].id).toBe(comments[0].id);
  expect(after[0].body).toMatch(/### ❌ prune-gate: fail/);
});

test('a config error fails the step with exit 2 and says what to fix in the comment', async () => {
  const p = makeProject({ recipe: [{ quantize: { kind: 'int9' } }] });
  cleanups.push(p.cleanup);
  const env = setup(p, {});
  const r = await runAction(env);
  expect(r.code).toBe(2);
  expect(r.stdout).toMatch(/::error::.*\/recipe\/0\/quantize\/kind/);
  expect(env.readOutputs().verdict).toBe('error');
  expect(gh.list('acme', 'models', 3).at(-1)!.body).toMatch(/prune-gate: error/);
});

test('a 403 on a same-repository PR says the token lacks pull-requests: write and gives the permissions lines', async () => {
  const p = makeProject({ recipe: [], objective: 'size' });
  cleanups.push(p.cleanup);
  const env = setup(p, { token: 'readonly-token' });
  const r = await runAction(env);
  expect(r.code).toBe(0);
  expect(env.readOutputs().verdict).toBe('pass');
  const warning = r.stdout.split('\n').find((l) => l.startsWith('::warning::prune-gate could not post the PR comment'));
  expect(warning).toBeDefined();
  expect(warning).toContain('the token lacks the `pull-requests: write` permission (GitHub answered 403');
  expect(warning).toContain('%0Apermissions:%0A  contents: read%0A  pull-requests: write%0A');
  expect(r.stdout).not.toMatch(/fork/i);
  expect(gh.list('acme', 'models', 3).filter((c) => c.body.includes('prune-gate'))).toHaveLength(gh.list('acme', 'models', 3).length);
});

test('without ONNX Runtime beside dist/ (a branch such as @main) the step says what is missing and to use the release tag', async () => {
  // What `uses: acme/prune-gate@main` checks out: dist/ and package.json, no node_modules; copied outside the repository so nothing resolves from it.
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-no-runtime-'));
  cleanups.push(() => fs.rmSync(tree, { recursive: true, force: true }));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(tree, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'package.json'), JSON.stringify({ type: 'module' }));
  const p = makeProject({ recipe: [] });
  cleanups.push(p.cleanup);
  const env = buildActionEnv({ apiUrl: gh.baseUrl, workspace: p.dir, pullRequest: { number: 4, headSha: SHA }, inputs: { token: 'bot-token', config: 'prune-gate.yml' } });
  cleanups.push(env.cleanup);
  Object.assign(env.env, { GITHUB_ACTION_REPOSITORY: 'acme/prune-gate', GITHUB_ACTION_REF: 'main' });
  const r = await runAction(env, path.join(tree, 'dist/index.js'));
  expect(r.code).toBe(2);
  expect(env.readOutputs().verdict).toBe('error');
  expect(r.stdout).toMatch(/::error title=prune-gate%3A runtime error::ONNX Runtime is missing: the onnxruntime-node package is not installed beside prune-gate/);
  const tag = `v${(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version.split('.')[0]}`;
  expect(r.stdout).toContain(`::error title=prune-gate%3A use the release tag::This step runs \`uses: acme/prune-gate@main\`, a tree without ONNX Runtime's native binaries. Use the release tag, \`uses: acme/prune-gate@${tag}\``);
  expect(r.stdout).not.toMatch(/config is invalid/);
  const comment = gh.list('acme', 'models', 4)[0].body;
  expect(comment).toContain('No verdict: ONNX Runtime&#39;s native binary could not be loaded.');
  expect(comment).toMatch(/What went wrong\*\* \(runtime\)/);
  expect(comment).toContain('use prune-gate\'s release tag');
  expect(comment).not.toMatch(/config is invalid/);
});

test('two gates on one pull request: two comments, each updated in place on the next run, two summary sections and report folders', async () => {
  const p = makeProject({ recipe: [], objective: 'size' });
  cleanups.push(p.cleanup);
  // A second model's config beside the first (the same files will do): its id comes from its path.
  fs.copyFileSync(p.config, path.join(p.dir, 'speech.yml'));
  const gate = async (config: string, runId: number) => {
    const env = buildActionEnv({ apiUrl: gh.baseUrl, workspace: p.dir, runId, pullRequest: { number: 5, headSha: SHA }, inputs: { token: 'bot-token', config } });
    cleanups.push(env.cleanup);
    const r = await runAction(env);
    expect(r.code).toBe(0);
    return env;
  };
  const first = [await gate('prune-gate.yml', 100), await gate('speech.yml', 101)];
  expect(first.map((e) => e.readOutputs().id)).toEqual(['prune-gate', 'speech']);
  expect(first.map((e) => e.readOutputs()['report-path'])).toEqual([path.join('prune-gate-report', 'report.json'), path.join('prune-gate-report-speech', 'report.json')]);
  expect(first[0].readSummary()).toMatch(/^### ✅ prune-gate: pass/m);
  expect(first[1].readSummary()).toMatch(/^### ✅ prune-gate \(speech\): pass/m);
  const comments = gh.list('acme', 'models', 5);
  expect(comments.map((c) => parseMarkers(c.body).gate)).toEqual(['prune-gate', 'speech']);
  const ids = comments.map((c) => c.id);

  await gate('speech.yml', 102);
  await gate('prune-gate.yml', 103);
  const after = gh.list('acme', 'models', 5);
  expect(after.map((c) => c.id)).toEqual(ids);
  expect(after.map((c) => parseMarkers(c.body))).toEqual([
    { gate: 'prune-gate', headSha: SHA, runId: 103, runAttempt: 1 },
    { gate: 'speech', headSha: SHA, runId: 102, runAttempt: 1 },
  ]);
});

describe('mode: merge, the last job of the scale-out matrix', () => {
  let p: Project;
  const CLI = path.join(ROOT, 'dist/cli.js');
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args, '--quiet'], { cwd: p.dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`prune-gate ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  };
  const merge = (parts: string, runId: number) => {
    const env = buildActionEnv({ apiUrl: gh.baseUrl, workspace: p.dir, runId, pullRequest: { number: 6, headSha: SHA }, inputs: { token: 'bot-token', config: 'prune-gate.yml', mode: 'merge', parts } });
    cleanups.push(env.cleanup);
    return { env, done: runAction(env) };
  };

  beforeAll(() => {
    // The matrix's jobs as separate processes, each writing the folder its artifact would hold
    // (download-artifact with pattern: puts each under parts/<artifact name>).
    p = makeProject({ recipe: [{ quantize: { kind: 'int8-dynamic' } }], gate: { 'accuracy-drop': 2 }, objective: 'size' });
    cleanups.push(p.cleanup);
    cli(['search', '--config', 'prune-gate.yml', '--out', 'search']);
    for (const i of [1, 2]) cli(['verify', '--config', 'prune-gate.yml', '--candidate', 'search/model.onnx', '--shard', `${i}/2`, '--out', `parts/prune-gate-verify-${i}`]);
    cli(['bench', '--config', 'prune-gate.yml', '--candidate', 'search/model.onnx', '--runner', 'linux-x64', '--out', 'parts/prune-gate-bench-ubuntu-latest']);
  }, 300_000);

  test('merges real parts into one comment, updated in place by the next run; outputs and summary as in run', async () => {
    const first = merge('parts/prune-gate-verify-*\nparts/prune-gate-bench-*', 201);
    const r = await first.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('::group::prune-gate: merge: the verify shards and bench parts');
    expect(r.stdout).toContain(`Merging 3 parts: ${path.join('parts', 'prune-gate-verify-1')}, ${path.join('parts', 'prune-gate-verify-2')}, ${path.join('parts', 'prune-gate-bench-ubuntu-latest')}`);
    const outputs = first.env.readOutputs();
    expect(outputs.id).toBe('prune-gate');
    const report = readReport(path.resolve(p.dir, outputs['report-path']));
    expect(outputs.verdict).toBe(report.verdict);
    expect(['pass', 'warn']).toContain(report.verdict);
    expect(report.notes).toContainEqual(expect.stringMatching(/^Merged from 2 verify shards \(210 test samples.*and 1 bench part\./));
    expect(report.latency.map((l) => l.runner)).toEqual(['linux-x64', 'linux-x64']);
    // Recorded for a fork-safe `mode: comment` workflow, as mode: measure records it.
    expect(report.pullRequest).toMatchObject({ number: 6, headSha: SHA, runId: 201 });
    expect(first.env.readSummary()).toMatch(/^### (✅|⚠️) prune-gate: (pass|warn)/m);
    const comments = gh.list('acme', 'models', 6);
    expect(comments).toHaveLength(1);
    expect(parseMarkers(comments[0].body)).toEqual({ gate: 'prune-gate', headSha: SHA, runId: 201, runAttempt: 1 });
    expect(comments[0].body).toContain('Merged from 2 verify shards');

    // A re-run of the workflow: the same comment, now naming the new run.
    const second = merge('parts/prune-gate-verify-2\nparts/prune-gate-verify-1\nparts/prune-gate-bench-*', 202);
    expect((await second.done).code).toBe(0);
    const after = gh.list('acme', 'models', 6);
    expect(after).toHaveLength(1);
    expect(after[0].id).toBe(comments[0].id);
    expect(parseMarkers(after[0].body).runId).toBe(202);
    expect(readReport(path.resolve(p.dir, second.env.readOutputs()['report-path'])).metrics).toEqual(report.metrics);
  }, 120_000);

  test('a missing shard fails the step with exit 2, and the summary and comment name it', async () => {
    const { env, done } = merge('parts/prune-gate-verify-1\nparts/prune-gate-bench-*', 203);
    const r = await done;
    expect(r.code).toBe(2);
    expect(env.readOutputs().verdict).toBe('error');
    expect(r.stdout).toMatch(/::error title=prune-gate%3A parts error::merge: shard 2\/2 is missing \(given: 1\/2\); a verdict needs every shard/);
    expect(env.readSummary()).toMatch(/🛑 prune-gate: error/);
    expect(env.readSummary()).toContain('shard 2/2 is missing');
    expect(env.readSummary()).toContain('Every verify shard and bench part of one workflow run must reach the merge job');
    const comments = gh.list('acme', 'models', 6);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain('shard 2/2 is missing');

    // A pattern that matches nothing (a renamed artifact) is named the same way.
    const none = merge('parts/prune-gate-verify-*\nparts/prune-gate-bench-arm*', 204);
    const unmatched = await none.done;
    expect(unmatched.code).toBe(2);
    expect(unmatched.stdout).toContain('::error title=prune-gate%3A parts error::input "parts": "parts/prune-gate-bench-arm*" matches nothing in');
    expect(none.env.readSummary()).toContain('What went wrong** (parts');
  }, 120_000);
});
