import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const load = (f: string) => parse(fs.readFileSync(path.join(root, f), 'utf8'));

test('action.yml declares exactly the inputs the code reads and the outputs it sets, with the documented defaults', () => {
  const a = load('action.yml');
  expect(a.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
  expect(a.branding).toMatchObject({ icon: expect.any(String), color: expect.any(String) });
  const inputsSrc = fs.readFileSync(path.join(root, 'src/action/inputs.ts'), 'utf8');
  const read = new Set([...inputsSrc.matchAll(/(?:getInput|bool)\('([a-z0-9-]+)'/g)].map((m) => m[1]));
  expect(new Set(Object.keys(a.inputs))).toEqual(read);
  expect(a.inputs.config.default).toBe('prune-gate.yml');
  expect(a.inputs.token.default).toBe('${{ github.token }}');
  expect(a.inputs.comment.default).toBe('true');
  expect(a.inputs['fail-on-gate'].default).toBe('true');
  expect(a.inputs.mode.default).toBe('run');
  // Empty: the code derives them from the config path (the gate id) and the id (the report folder).
  expect(a.inputs.id.default).toBe('');
  expect(a.inputs['report-path'].default).toBe('');
  const runSrc = ['run.ts', 'baseline-mode.ts'].map((f) => fs.readFileSync(path.join(root, 'src/action', f), 'utf8')).join('\n');
  const set = new Set([...runSrc.matchAll(/setOutput\('([a-z0-9-]+)'/g)].map((m) => m[1]));
  expect(new Set(Object.keys(a.outputs))).toEqual(set);
  expect(set).toEqual(new Set(['id', 'verdict', 'accuracy-drift', 'p95-ratio', 'report-path', 'model-path', 'baseline-files', 'artifact-name']));
});

test('the fork-safe example pair hands the report over by artifact and only the comment side can write', () => {
  const measure = load('examples/workflows/prune-gate-measure.yml');
  const comment = load('examples/workflows/prune-gate-comment.yml');
  expect(Object.keys(measure.on)).toEqual(['pull_request']);
  expect(measure.permissions).toEqual({ contents: 'read' });
  const mSteps = measure.jobs.measure.steps;
  expect(mSteps.find((s: { with?: { mode?: string } }) => s.with?.mode === 'measure')).toBeDefined();
  const upload = mSteps.find((s: { uses?: string }) => s.uses?.startsWith('actions/upload-artifact'));
  expect(comment.on.workflow_run.workflows).toEqual([measure.name]);
  expect(comment.permissions['pull-requests']).toBe('write');
  const cSteps = comment.jobs.comment.steps;
  expect(cSteps.some((s: { uses?: string }) => s.uses?.startsWith('actions/checkout'))).toBe(false);
  const download = cSteps.find((s: { uses?: string }) => s.uses?.startsWith('actions/download-artifact'));
  expect(download.with.name).toBe(upload.with.name);
  expect(download.with['run-id']).toBe('${{ github.event.workflow_run.id }}');
  const post = cSteps.find((s: { with?: { mode?: string } }) => s.with?.mode === 'comment');
  expect(post.with['report-path']).toBe(download.with.path);
});

test("the matrix example is the fork-safe pair's first half: mode: merge takes every artifact the verify and bench jobs upload, and hands its report to the comment side", () => {
  type Step = { uses?: string; with?: Record<string, string> };
  const matrix = load('examples/workflows/prune-gate-matrix.yml');
  const measure = load('examples/workflows/prune-gate-measure.yml');
  const comment = load('examples/workflows/prune-gate-comment.yml');
  expect(matrix.name).toBe(measure.name);
  expect(matrix.permissions).toEqual({ contents: 'read' });
  expect(Object.values(matrix.jobs).every((job) => !(job as { permissions?: unknown }).permissions)).toBe(true);
  const uploaded = (job: string) => (matrix.jobs[job].steps as Step[]).find((s) => s.uses?.startsWith('actions/upload-artifact'))!.with!.name;
  const merge = matrix.jobs.merge.steps as Step[];
  const step = merge.find((s) => s.with?.mode === 'merge')!;
  expect(step.uses).toBe('prune-gate/prune-gate@v1');
  // A read-only token: the comment workflow posts.
  expect(step.with!.comment).toBe(false);
  const download = merge.find((s) => s.uses?.startsWith('actions/download-artifact'))!.with!;
  // Each parts line is download path / artifact pattern, and matches what the shard and bench jobs upload.
  const patterns = step.with!.parts.trim().split('\n').map((l) => new RegExp(`^${l.replace(`${download.path}/`, '').replace(/\*/g, '.*')}$`));
  const artifact = (job: string, value: string) => uploaded(job).replace(/\$\{\{ matrix\.[a-z-]+ \}\}/, value);
  for (const name of [artifact('verify', '1'), artifact('verify', '4'), artifact('bench', 'ubuntu-24.04-arm')]) {
    expect(patterns.some((re) => re.test(name))).toBe(true);
    expect(new RegExp(`^${download.pattern.replace(/\*/g, '.*')}$`).test(name)).toBe(true);
  }
  expect(patterns.some((re) => re.test(uploaded('search')))).toBe(false);
  const upload = merge.find((s) => s.uses?.startsWith('actions/upload-artifact'))!.with!;
  expect(upload.path.replace(/\/$/, '')).toBe(step.with!['report-path']);
  const commentDownload = (comment.jobs.comment.steps as Step[]).find((s) => s.uses?.startsWith('actions/download-artifact'))!.with!;
  expect(upload.name).toBe(commentDownload.name);
  expect(matrix.jobs.merge.needs).toEqual(['search', 'verify', 'bench']);
});

test('CI runs lint, typecheck, test, check-dist and the action itself via uses: ./', () => {
  const ci = load('.github/workflows/ci.yml');
  expect(Object.keys(ci.jobs)).toEqual(expect.arrayContaining(['lint', 'typecheck', 'test', 'check-dist', 'action']));
  expect(ci.jobs.action.steps.some((s: { uses?: string }) => s.uses === './')).toBe(true);
  const cd = load('.github/workflows/check-dist.yml');
  const steps = cd.jobs['check-dist'].steps;
  expect(steps.find((s: { run?: string }) => s.run === 'npm ci').env).toEqual({ ONNXRUNTIME_NODE_INSTALL: 'skip' });
  expect(steps.some((s: { run?: string }) => s.run === 'npm run build')).toBe(true);
  expect(steps.some((s: { run?: string }) => s.run?.includes('git diff --exit-code') && s.run.includes('dist/'))).toBe(true);
});

test('the history example records pushes to main with contents write, and publishes the page from the history branch', () => {
  const wf = load('examples/workflows/prune-gate-history.yml');
  expect(wf.on.push.branches).toEqual(['main']);
  expect(wf.permissions).toEqual({ contents: 'read' });
  expect(wf.jobs.record.permissions).toEqual({ contents: 'write' });
  const record = wf.jobs.record.steps.find((s: { with?: { mode?: string } }) => s.with?.mode === 'history');
  const a = load('action.yml');
  expect(record.with['history-branch']).toBe(a.inputs['history-branch'].default);
  expect(record.with['history-path']).toBe(a.inputs['history-path'].default);
  const pages = wf.jobs.pages.steps;
  expect(pages[0].with.ref).toBe(record.with['history-branch']);
  expect(pages.some((s: { run?: string }) => s.run?.includes(`history render --store ${pages[0].with.path}/${record.with['history-path']} --out site`))).toBe(true);
  expect(pages.find((s: { uses?: string }) => s.uses?.startsWith('actions/upload-pages-artifact')).with.path).toBe('site');
});

test('the baseline example freezes on pushes to main and by hand, read-only, and uploads exactly what the step names', () => {
  const wf = load('examples/workflows/prune-gate-baseline.yml');
  expect(wf.on.push.branches).toEqual(['main']);
  expect(Object.keys(wf.on)).toEqual(['push', 'workflow_dispatch']);
  expect(wf.permissions).toEqual({ contents: 'read' });
  const steps = wf.jobs.baseline.steps;
  const freeze = steps.find((s: { with?: { mode?: string } }) => s.with?.mode === 'baseline');
  const upload = steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/upload-artifact'));
  expect(upload.if).toBe(`steps.${freeze.id}.outputs.artifact-name != ''`);
  expect(upload.with).toEqual({ name: `\${{ steps.${freeze.id}.outputs.artifact-name }}`, path: `\${{ steps.${freeze.id}.outputs.baseline-files }}` });
});

test("the README's pattern for a required check runs on every PR and skips the gate job by its if: (a paths: filter would leave the check pending)", () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Required checks and the `paths:` filter'));
  const wf = parse(/```yaml\n([\s\S]*?)```/.exec(section)![1]);
  expect(wf.on).toBe('pull_request');
  const diff = wf.jobs.changes.steps.find((s: { id?: string }) => s.id === 'diff');
  expect(wf.jobs.changes.outputs.model).toBe('${{ steps.diff.outputs.model }}');
  expect(diff.run).toContain('echo model=true >> "$GITHUB_OUTPUT"');
  expect(wf.jobs.gate.needs).toBe('changes');
  expect(wf.jobs.gate.if).toBe("needs.changes.outputs.model == 'true'");
  for (const f of ['prune-gate.yml', 'prune-gate-measure.yml']) expect(fs.readFileSync(path.join(root, 'examples/workflows', f), 'utf8')).toContain('"Required checks and the paths: filter"');
});
