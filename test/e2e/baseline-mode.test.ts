/**
 * `mode: baseline` end to end: a real repository whose model changed on purpose after its baseline
 * was frozen; the bundled Action (dist/index.js) freezes a new baseline on the push to main, with
 * the runner's environment and the local GitHub server as its API; the job summary's commands,
 * run in a clone (the artifact's files put where `gh run download --dir` puts them), commit it;
 * on that commit the Action finds the baseline current and freezes nothing.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freezeBaseline } from '../../src/pipeline/baseline.js';
import { readBaseline } from '../../src/gate/baseline.js';
import { buildActionEnv, type ActionEnv, type ActionEnvOptions } from '../helpers/action-env.js';
import { FakeGitHub } from '../helpers/fake-github-server.js';
import { commitAll, git, initRepo } from '../helpers/git-repo.js';
import { makeProject } from './project.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const cleanups: Array<() => void> = [];
let gh: FakeGitHub;
beforeAll(async () => {
  gh = new FakeGitHub();
  await gh.start();
});
afterAll(async () => {
  cleanups.forEach((c) => c());
  await gh.stop();
});

function action(workspace: string, options: ActionEnvOptions): Promise<{ code: number; stdout: string; env: ActionEnv }> {
  const env = buildActionEnv({ apiUrl: gh.baseUrl, workspace, runId: 77, ...options, inputs: { token: 'bot-token', config: 'prune-gate.yml', mode: 'baseline', ...options.inputs } });
  cleanups.push(env.cleanup);
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [path.join(ROOT, 'dist/index.js')], { cwd: workspace, env: { PATH: process.env.PATH ?? '', ...env.env } }, (_err, stdout) => resolve({ code: child.exitCode ?? -1, stdout, env }));
  });
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('a push that changed the model freezes a new baseline, hands it over by artifact and commands; committed, it is current', async () => {
  const p = makeProject({ baseline: 'baseline.json', bench: { 'batch-sizes': [1], 'time-budget': '200ms', threads: 1 } });
  cleanups.push(p.cleanup);
  fs.copyFileSync(path.join(ROOT, 'test/fixtures/models/mnist-mlp-half.onnx'), p.model);
  await freezeBaseline({ configPath: p.config });
  initRepo(p.dir);
  commitAll(p.dir, 'the half-size model and its baseline');
  fs.copyFileSync(path.join(ROOT, 'test/fixtures/models/mnist-mlp.onnx'), p.model);
  const changed = commitAll(p.dir, 'the full model, on purpose');
  const before = gh.requests.length;

  const run = await action(p.dir, { push: { sha: changed } });
  expect(run.stdout).not.toMatch(/::error/);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('Freezing the baseline: the model changed: baseline.json was frozen from sha256');
  const outputs = run.env.readOutputs();
  expect(outputs).toMatchObject({ id: 'prune-gate', 'baseline-files': 'baseline.json', 'artifact-name': 'prune-gate-baseline' });
  // The runner's copy is the new baseline (the artifact's content), frozen from the committed model.
  expect(readBaseline(path.join(p.dir, 'baseline.json')).modelSha256).toBe(sha256(p.model));
  const summary = run.env.readSummary();
  expect(summary).toContain('### 🧊 prune-gate: baseline frozen');
  expect(summary).toContain(`Frozen from the model at \`${changed.slice(0, 12)}\``);
  const block = /```sh\n([\s\S]*?)\n```/.exec(summary)![1].split('\n');
  expect(block).toEqual([
    'gh run download 77 --repo acme/models --name prune-gate-baseline --dir .',
    'git add baseline.json',
    `git commit -m "prune-gate: refreeze the baseline (frozen in CI at ${changed.slice(0, 12)})"`,
    'git push   # or push a branch and open a pull request',
  ]);
  // It needs no API: the token stays read-only (contents: read).
  expect(gh.requests.length).toBe(before);

  // A maintainer adopts it: the artifact's files land where `gh run download --dir .` puts them, then the summary's commands.
  const clone = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-adopt-'));
  cleanups.push(() => fs.rmSync(clone, { recursive: true, force: true }));
  execFileSync('git', ['clone', '-q', p.dir, clone]);
  for (const f of outputs['baseline-files'].split('\n')) fs.copyFileSync(path.join(p.dir, f), path.join(clone, f));
  execFileSync('bash', ['-c', block.slice(1, 3).join('\n')], { cwd: clone, env: { ...process.env, GIT_AUTHOR_NAME: 'maintainer', GIT_AUTHOR_EMAIL: 'm@example.invalid', GIT_COMMITTER_NAME: 'maintainer', GIT_COMMITTER_EMAIL: 'm@example.invalid' } });
  expect(git(clone, 'show', '--name-only', '--format=%s', 'HEAD').split('\n')).toEqual([`prune-gate: refreeze the baseline (frozen in CI at ${changed.slice(0, 12)})`, '', 'baseline.json']);

  const again = await action(clone, { push: { sha: git(clone, 'rev-parse', 'HEAD') } });
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('The frozen baseline is current: baseline.json was frozen from this model');
  expect(again.env.readOutputs()['artifact-name']).toBeUndefined();
  expect(again.env.readSummary()).toContain('### prune-gate: baseline current');
  // By hand (workflow_dispatch), it refreezes anyway.
  const manual = await action(clone, { push: { sha: git(clone, 'rev-parse', 'HEAD') }, eventName: 'workflow_dispatch' });
  expect(manual.stdout).toContain('Freezing the baseline: refrozen on request (workflow_dispatch).');
  expect(manual.env.readOutputs()['artifact-name']).toBe('prune-gate-baseline');
});

test('on a pull request or another branch it freezes nothing and says why', async () => {
  const p = makeProject({ baseline: 'baseline.json' });
  cleanups.push(p.cleanup);
  const pr = await action(p.dir, { pullRequest: { number: 5, headSha: 'ab'.repeat(20) } });
  expect(pr.code).toBe(0);
  expect(pr.stdout).toMatch(/::notice::mode: baseline freezes the default branch's model \(a push to main, or workflow_dispatch\); this run is pull_request/);
  const branch = await action(p.dir, { push: { sha: 'cd'.repeat(20), ref: 'refs/heads/feature' } });
  expect(branch.stdout).toMatch(/::notice::mode: baseline .* this run is push on refs\/heads\/feature: nothing frozen\./);
  expect(fs.existsSync(path.join(p.dir, 'baseline.json'))).toBe(false);
});

test('a config that names no baseline yet: the commands also add `baseline:` to it, and the config then reads the frozen file', async () => {
  const p = makeProject({ bench: { 'batch-sizes': [1], 'time-budget': '200ms', threads: 1 } });
  cleanups.push(p.cleanup);
  initRepo(p.dir);
  const sha = commitAll(p.dir, 'a model, no baseline');
  const run = await action(p.dir, { push: { sha } });
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('Freezing the baseline: the config names no baseline yet.');
  const block = /```sh\n([\s\S]*?)\n```/.exec(run.env.readSummary())![1].split('\n');
  expect(block.slice(1, 3)).toEqual(["printf 'baseline: baseline.json\\n' >> prune-gate.yml", 'git add baseline.json prune-gate.yml']);
  execFileSync('bash', ['-c', block.slice(1, 4).join('\n')], { cwd: p.dir, env: { ...process.env, GIT_AUTHOR_NAME: 'm', GIT_AUTHOR_EMAIL: 'm@example.invalid', GIT_COMMITTER_NAME: 'm', GIT_COMMITTER_EMAIL: 'm@example.invalid' } });
  const again = await action(p.dir, { push: { sha: git(p.dir, 'rev-parse', 'HEAD') } });
  expect(again.stdout).toContain('The frozen baseline is current');
});
