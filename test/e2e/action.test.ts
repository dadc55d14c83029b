/**
 * The bundled Action (dist/index.js, what `uses:` runs) end to end: a child process with the
 * runner's environment, the real pipeline on a real model, and the GitHub REST API served by a
 * local server on 127.0.0.1. dist/ is checked against src/ by .ci/run, so this tests the release.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
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

function runAction(env: ActionEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [path.join(ROOT, 'dist/index.js')], { cwd: env.env.GITHUB_WORKSPACE, env: { PATH: process.env.PATH ?? '', ...env.env } }, (_err, stdout) => {
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
