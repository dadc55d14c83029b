/**
 * The matrix as a workflow runs it: `search` once, `verify` in 4 shards and `bench` on 2 runner
 * kinds, each a separate process of the built CLI (dist/cli.js) writing its own artifact folder,
 * then `merge`. The merged per-sample results, metrics and verdict equal those of one unsharded
 * `verify --shard 1/1`; merge refuses a shard of another candidate and a missing shard.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readReport } from '../../src/report/validate.js';
import { readPart } from '../../src/pipeline/parts.js';
import { makeProject, type Project } from './project.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
let project: Project;

afterAll(() => project?.cleanup());

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[]): string {
  const r = cli(args);
  expect(r.stderr).not.toMatch(/internal error/);
  if (r.status !== 0) throw new Error(`prune-gate ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

test('search, 4 verify shards and 2 bench parts merge into the verdict and metrics of one unsharded verify', () => {
  expect(fs.existsSync(CLI)).toBe(true);
  // objective size: the verdict rests on accuracy alone, not on this machine's timing.
  project = makeProject({
    recipe: [{ prune: { kind: 'structured', target: 0.2, step: 0.1, importance: 'activation', repair: 'least-squares' } }, { quantize: { kind: 'int8-dynamic', fallback: 'auto' } }],
    objective: 'size',
    data: { eval: { inputs: { input: 'data/eval_x.npy' }, labels: 'data/eval_y.npy' }, calibration: { inputs: { input: 'data/calib_x.npy' } }, 'batch-size': 16 },
  }, { evalCount: 600 });
  const dir = (name: string) => path.join(project.dir, 'artifacts', name);
  const config = project.config;

  ok(['search', '--config', config, '--out', dir('search'), '--quiet']);
  const candidate = path.join(dir('search'), 'model.onnx');
  const search = readPart(dir('search'), ['search']);
  expect(search.split).toEqual({ how: 'split', fraction: 0.3, searchSamples: 180, testSamples: 420 });
  expect(search.decisions.length).toBeGreaterThan(0);

  for (let i = 1; i <= 4; i++) ok(['verify', '--config', config, '--candidate', candidate, '--shard', `${i}/4`, '--out', dir(`verify-${i}`), '--quiet']);
  ok(['verify', '--config', config, '--candidate', candidate, '--shard', '1/1', '--out', dir('verify-whole'), '--quiet']);
  for (const runner of ['linux-x64', 'linux-arm64']) ok(['bench', '--config', config, '--candidate', candidate, '--runner', runner, '--out', dir(`bench-${runner}`), '--quiet']);

  // Shards tile the 420 test samples in whole batches of 16 (27 batches: 6, 7, 7, 7).
  const shards = [1, 2, 3, 4].map((i) => readPart(dir(`verify-${i}`), ['verify']));
  expect(shards.map((s) => s.samples)).toEqual([{ start: 0, end: 96 }, { start: 96, end: 208 }, { start: 208, end: 320 }, { start: 320, end: 420 }]);
  const whole = readPart(dir('verify-whole'), ['verify']);
  // Per-sample results, joined in order, are the unsharded ones.
  for (const key of Object.keys(whole.candidate.perSample)) expect(shards.flatMap((s) => s.candidate.perSample[key])).toEqual(whole.candidate.perSample[key]);

  const benches = [dir('bench-linux-arm64'), dir('bench-linux-x64')];
  const merged = cli(['merge', dir('verify-3'), dir('verify-1'), dir('verify-4'), dir('verify-2'), ...benches, '--out', dir('merged')]);
  const single = cli(['merge', dir('verify-whole'), ...benches, '--out', dir('merged-whole')]);
  expect(merged.stderr).not.toMatch(/error/);
  expect(merged.status).toBe(0);
  const a = readReport(dir('merged'));
  const b = readReport(dir('merged-whole'));
  expect(single.status).toBe(merged.status);
  expect(a.verdict).toBe('pass');
  expect(a.verdict).toBe(b.verdict);
  expect(a.reason).toBe(b.reason);
  // The metrics rows, with their paired bootstrap intervals and McNemar counts, are identical.
  expect(a.metrics).toEqual(b.metrics);
  expect(a.metrics[0]).toMatchObject({ metric: 'accuracy', gated: true });
  expect(a.split).toEqual(search.split);
  // One latency section per runner kind, never pooled; the search's decisions travel with the shards.
  expect(a.latency.map((l) => [l.runner, l.batchSize])).toEqual([['linux-arm64', 1], ['linux-arm64', 16], ['linux-x64', 1], ['linux-x64', 16]]);
  expect(a.decisions).toEqual(search.decisions);
  expect(fs.readFileSync(path.join(dir('merged'), 'report.md'), 'utf8')).toMatch(/\| Runner \| Batch \|/);

  // The candidate the shards were verified with: replaying search.json rebuilds it byte for byte.
  const replay = cli(['optimize', '--config', config, '--replay', dir('search'), '--out', path.join(project.dir, 'replayed.onnx')]);
  expect(replay.status).toBe(0);
  expect(replay.stdout).toMatch(/sha256 matches the report's candidate/);
}, 600_000);

test('merge refuses a shard of another candidate and a missing shard, naming the part', () => {
  const dir = (name: string) => path.join(project.dir, 'artifacts', name);
  // Shard 2 verified against another candidate (the committed model itself).
  ok(['verify', '--config', project.config, '--candidate', project.model, '--shard', '2/4', '--out', dir('verify-2-other'), '--quiet']);
  const mixed = cli(['merge', dir('verify-1'), dir('verify-2-other'), dir('verify-3'), dir('verify-4'), '--out', dir('mixed')]);
  expect(mixed.status).toBe(2);
  expect(mixed.stderr).toContain(`${dir('verify-2-other')}: belongs to another candidate`);
  expect(fs.existsSync(path.join(dir('mixed'), 'report.json'))).toBe(false);

  const missing = cli(['merge', dir('verify-1'), dir('verify-2'), dir('verify-4'), '--out', dir('missing')]);
  expect(missing.status).toBe(2);
  expect(missing.stderr).toMatch(/shard 3\/4 is missing \(given: 1\/4, 2\/4, 4\/4\)/);

  // A bench part of another candidate is refused the same way.
  ok(['bench', '--config', project.config, '--candidate', project.model, '--runner', 'linux-x64', '--out', dir('bench-other'), '--quiet']);
  const bench = cli(['merge', dir('verify-1'), dir('verify-2'), dir('verify-3'), dir('verify-4'), dir('bench-other'), '--out', dir('mixed-bench')]);
  expect(bench.status).toBe(2);
  expect(bench.stderr).toContain(`${dir('bench-other')}: belongs to another candidate`);
}, 300_000);
