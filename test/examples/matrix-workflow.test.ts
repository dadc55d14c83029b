/**
 * The scale-out example workflow (examples/workflows/prune-gate-matrix.yml): fork-safe like the
 * measure/comment pair, search → verify shards × bench runner kinds → merge, every shard and runner
 * kind reaching the merge, and every prune-gate command line using flags the CLI has.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { buildProgram } from '../../src/cli/program.js';

const root = path.resolve(import.meta.dirname, '../..');
const load = (f: string) => parse(fs.readFileSync(path.join(root, f), 'utf8'));
const text = fs.readFileSync(path.join(root, 'examples/workflows/prune-gate-matrix.yml'), 'utf8');
const wf = load('examples/workflows/prune-gate-matrix.yml');

type Step = { uses?: string; run?: string; if?: string; with?: Record<string, string> };
const steps = (job: string): Step[] => wf.jobs[job].steps;
const runs = (job: string) => steps(job).filter((s) => s.run).map((s) => s.run!.replace(/\s+/g, ' ').trim());
const upload = (job: string) => steps(job).find((s) => s.uses?.startsWith('actions/upload-artifact'))!;

test('it runs on pull requests with a read-only token and no secrets, and hands its report to the comment workflow', () => {
  expect(Object.keys(wf.on)).toEqual(['pull_request']);
  expect(wf.permissions).toEqual({ contents: 'read' });
  for (const job of Object.values(wf.jobs) as { permissions?: unknown }[]) expect(job.permissions).toBeUndefined();
  expect(text).not.toMatch(/secrets\./);
  // The same name as the measure workflow: the comment workflow's trigger and artifact name fit it unchanged.
  const measure = load('examples/workflows/prune-gate-measure.yml');
  const comment = load('examples/workflows/prune-gate-comment.yml');
  expect(wf.name).toBe(measure.name);
  expect(comment.on.workflow_run.workflows).toEqual([wf.name]);
  const download = comment.jobs.comment.steps.find((s: Step) => s.uses?.startsWith('actions/download-artifact'));
  expect(upload('merge').with!.name).toBe(download.with.name);
  expect(upload('merge').if).toBe('always()');
});

test('search, then verify shards and bench runner kinds from its artifact, then one merge of all of them', () => {
  expect(wf.jobs.verify.needs).toBe('search');
  expect(wf.jobs.bench.needs).toBe('search');
  // The merge also runs after a failed shard (it then names the missing part), never without a search.
  expect(wf.jobs.merge.needs).toEqual(['search', 'verify', 'bench']);
  expect(wf.jobs.merge.if).toContain("needs.search.result == 'success'");
  const shards: number[] = wf.jobs.verify.strategy.matrix.shard;
  expect(shards).toEqual(Array.from({ length: shards.length }, (_, k) => k + 1));
  expect(runs('verify').join('\n')).toContain(`--shard \${{ matrix.shard }}/${shards.length}`);
  expect(wf.jobs.bench.strategy.matrix['runs-on'].length).toBeGreaterThanOrEqual(2);
  expect(wf.jobs.bench['runs-on']).toBe('${{ matrix.runs-on }}');
  // Verify and bench download what search uploaded; merge downloads every part into its own folder.
  const searched = upload('search').with!;
  for (const job of ['verify', 'bench']) {
    const dl = steps(job).find((s) => s.uses?.startsWith('actions/download-artifact'))!.with!;
    expect(dl.name).toBe(searched.name);
    expect(runs(job).join('\n')).toContain(`--candidate ${dl.path}/model.onnx`);
  }
  const pattern = steps('merge').find((s) => s.uses?.startsWith('actions/download-artifact'))!.with!;
  const glob = new RegExp(`^${pattern.pattern.replace(/\*/g, '.*')}$`);
  expect(upload('verify').with!.name).toMatch(glob);
  expect(upload('bench').with!.name).toMatch(glob);
  // The Action's mode: merge reads every verify and bench folder and writes what the merge job uploads.
  const merge = steps('merge').find((s) => s.with?.mode === 'merge')!.with!;
  const parts = merge.parts.trim().split('\n');
  expect(parts).toContain(`${pattern.path}/${upload('verify').with!.name.replace('${{ matrix.shard }}', '*')}`);
  expect(parts).toContain(`${pattern.path}/${upload('bench').with!.name.replace('${{ matrix.runs-on }}', '*')}`);
  expect(merge['report-path']).toBe(upload('merge').with!.path.replace(/\/$/, ''));
});

test('every prune-gate command line uses flags the CLI has', () => {
  const program = buildProgram();
  const lines = Object.keys(wf.jobs).flatMap(runs).filter((r) => r.includes('dist/cli.js'));
  expect(lines.length).toBe(3);
  for (const line of lines) {
    const [, name, ...args] = line.slice(line.indexOf('dist/cli.js')).split(' ');
    const command = program.commands.find((c) => c.name() === name);
    expect(command).toBeDefined();
    const flags = new Set(command!.options.map((o) => o.long));
    for (const flag of args.filter((a) => a.startsWith('--'))) expect(flags).toContain(flag);
  }
});
