/**
 * `prune-gate run` end to end, as a user runs it: a child process on real files, real ONNX
 * Runtime sessions, real passes. Exit codes, outputs on disk, rollback and determinism.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readReport } from '../../src/report/validate.js';
import { makeProject, type Project } from './project.js';
import { encodeNpy, readNpy } from '../../src/evaluate/npy.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const projects: Project[] = [];
afterAll(() => projects.forEach((p) => p.cleanup()));

function project(config: Record<string, unknown>, options: { evalCount?: number } = {}): Project {
  const p = makeProject(config, options);
  projects.push(p);
  return p;
}

/** Runs the CLI from source (tsx), so the tests follow src/ without a build. */
function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const gentle = [
  { prune: { kind: 'structured', target: 0.2, step: 0.1, importance: 'activation', repair: 'least-squares' } },
  { quantize: { kind: 'int8-dynamic', fallback: 'auto' } },
];

test('a passing run writes the model and a schema-valid report; its recorded decisions rebuild the same bytes', () => {
  // objective size: which steps are kept then depends on accuracy alone, not on this machine's timing.
  // 600 digits: the loop searches on 180, the gate judges the other 420 (300 left 210, whose interval reaches past 2 points: a warning).
  const p = project({ recipe: gentle, gate: { 'accuracy-drop': 2 }, objective: 'size' }, { evalCount: 600 });
  const out1 = path.join(p.dir, 'out1');
  const out2 = path.join(p.dir, 'out2');
  const first = cli(['run', '--config', p.config, '--out', out1]);
  expect(first.stderr).not.toMatch(/internal error/);
  expect(first.status).toBe(0);
  const report = readReport(out1);
  expect(report.verdict).toBe('pass');
  expect(report.steps[0]).toMatchObject({ action: 'structured 10 %', kept: true });
  expect(report.steps.at(-1)).toMatchObject({ action: 'int8-dynamic quantization', kept: true });
  // A step is kept only when the whole drift interval is inside the budget.
  for (const s of report.steps) expect(s.kept).toBe(Math.max(s.drift, s.driftInterval!.high) <= 2);
  expect(report.metrics[0]).toMatchObject({ metric: 'accuracy', gated: true });
  // Search and judge on different samples: 30 % searched (stratified by digit), the rest judged.
  expect(report.split).toEqual({ how: 'split', fraction: 0.3, searchSamples: 180, testSamples: 420 });
  expect(report.latency.map((l) => l.batchSize)).toEqual([1, 16]);
  expect(fs.readFileSync(path.join(out1, 'report.md'), 'utf8')).toMatch(/^### ✅ prune-gate: pass/m);
  // The user's model is untouched; the candidate is smaller.
  expect(fs.statSync(path.join(out1, 'model.onnx')).size).toBeLessThan(fs.statSync(p.model).size / 2);

  // Measured decisions: the report records them, and replaying them rebuilds the model byte for byte.
  const replayed = path.join(out2, 'replayed.onnx');
  fs.mkdirSync(out2, { recursive: true });
  const replay = cli(['optimize', '--config', p.config, '--replay', path.join(out1, 'report.json'), '--out', replayed]);
  expect(replay.status).toBe(0);
  expect(replay.stdout).toMatch(/sha256 matches the report's candidate/);
  expect(fs.readFileSync(replayed).equals(fs.readFileSync(path.join(out1, 'model.onnx')))).toBe(true);
});

test('data.search and data.test: the loop chooses on one set, the gate judges the other and the baseline freezes it', () => {
  // 200 other digits to search on (examples/mnist/data from 300 on), the project's 300 to judge.
  const p = project({
    recipe: gentle,
    objective: 'size',
    data: { search: { inputs: { input: 'data/search_x.npy' }, labels: 'data/search_y.npy' }, test: { inputs: { input: 'data/eval_x.npy' }, labels: 'data/eval_y.npy' }, calibration: { inputs: { input: 'data/calib_x.npy' } }, 'batch-size': 64 },
  });
  const x = readNpy(path.join(ROOT, 'examples/mnist/data/eval_x.npy'));
  const y = readNpy(path.join(ROOT, 'examples/mnist/data/eval_y.npy'));
  fs.writeFileSync(path.join(p.dir, 'data/search_x.npy'), encodeNpy('float32', [200, 784], (x.data as Float32Array).slice(300 * 784, 500 * 784)));
  fs.writeFileSync(path.join(p.dir, 'data/search_y.npy'), encodeNpy('int64', [200], (y.data as BigInt64Array).slice(300, 500)));
  const frozen = cli(['baseline', '--config', p.config, '--out', path.join(p.dir, 'baseline.json'), '--quiet']);
  expect(frozen.status).toBe(0);
  expect(frozen.stdout).toMatch(/300 samples/);
  const out = path.join(p.dir, 'out');
  const r = cli(['run', '--config', p.config, '--out', out]);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.status).toBe(0);
  const report = readReport(out);
  expect(report.split).toEqual({ how: 'explicit', searchSamples: 200, testSamples: 300 });
  expect(report.notes).toContain('Steps were chosen on data.search (200 samples); the gate judged data.test (300 samples).');
});

test('a search that held on its own samples but fails on the test split is walked back to a candidate that passes', () => {
  // Searched on one digit class only (easy to keep right while the network loses what it needs for
  // the other nine), judged on all ten: the search keeps cuts that the test split rejects.
  const p = project({
    recipe: [{ prune: { kind: 'structured', target: 0.9, step: 0.3, importance: 'l1', repair: 'none', sensitivity: false } }],
    objective: 'size',
    budget: { keep: 'point' },
    data: { search: { inputs: { input: 'data/search_x.npy' }, labels: 'data/search_y.npy' }, test: { inputs: { input: 'data/eval_x.npy' }, labels: 'data/eval_y.npy' }, calibration: { inputs: { input: 'data/calib_x.npy' } }, 'batch-size': 64 },
  });
  const x = readNpy(path.join(ROOT, 'examples/mnist/data/eval_x.npy'));
  const y = readNpy(path.join(ROOT, 'examples/mnist/data/eval_y.npy'));
  const ones = [...(y.data as BigInt64Array)].flatMap((label, i) => (i >= 300 && label === 1n ? [i] : []));
  const onesX = new Float32Array(ones.length * 784);
  ones.forEach((i, k) => onesX.set((x.data as Float32Array).subarray(i * 784, (i + 1) * 784), k * 784));
  fs.writeFileSync(path.join(p.dir, 'data/search_x.npy'), encodeNpy('float32', [ones.length, 784], onesX));
  fs.writeFileSync(path.join(p.dir, 'data/search_y.npy'), encodeNpy('int64', [ones.length], new BigInt64Array(ones.length).fill(1n)));
  const out = path.join(p.dir, 'out');
  const r = cli(['run', '--config', p.config, '--out', out]);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.status).toBe(0);
  const report = readReport(out);
  const kept = report.steps.filter((s) => s.kept).length;
  const walkedBack = report.notes.find((n) => n.includes('Walked back'));
  expect(walkedBack).toMatch(/^⚠️ The search's candidate \(structured pruning to [0-9.]+ %\) drifted [0-9.]+ pt on the test split/);
  // Fewer steps ship, and the gate's drift on the test split is inside its limit.
  expect(report.decisions!.length).toBeLessThan(kept);
  expect(report.metrics[0]).toMatchObject({ metric: 'accuracy', gated: true, status: 'pass' });
  expect(report.metrics[0].drift).toBeLessThanOrEqual(2);
  // The shipped decisions rebuild the shipped model byte for byte.
  const replayed = path.join(p.dir, 'replayed.onnx');
  expect(cli(['optimize', '--config', p.config, '--replay', path.join(out, 'report.json'), '--out', replayed]).status).toBe(0);
  expect(fs.readFileSync(replayed).equals(fs.readFileSync(path.join(out, 'model.onnx')))).toBe(true);
});

test('a recipe far too aggressive is rolled back step by step and still ends with a verdict', () => {
  // keep: confident, as written: on this small search split `auto` would judge steps on their point estimate.
  const p = project({ recipe: [{ prune: { kind: 'structured', target: 0.95, importance: 'l1', repair: 'none' } }], gate: { 'accuracy-drop': 1 }, budget: { keep: 'confident' } });
  const out = path.join(p.dir, 'out');
  const r = cli(['run', '--config', p.config, '--out', out]);
  expect([0, 1]).toContain(r.status);
  const report = readReport(out);
  const [first, ...retries] = report.steps;
  expect(first).toMatchObject({ action: 'structured 95 %', kept: false });
  expect(first.reason).toMatch(/exceeds the budget of 1; retrying a smaller step/);
  expect(retries.length).toBeGreaterThanOrEqual(1);
  // Every kept step is inside the budget; the verdict agrees with the exit code.
  for (const s of report.steps.filter((x) => x.kept)) expect(s.driftInterval!.high).toBeLessThanOrEqual(1);
  expect(r.status).toBe(report.verdict === 'fail' ? 1 : 0);
});

test('bad input exits 2 with the exact path of the problem and an error report', () => {
  const p = project({ recipe: [{ prune: { kind: 'structured', target: -0.2 } }] });
  const out = path.join(p.dir, 'out');
  const r = cli(['run', '--config', p.config, '--out', out]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/prune-gate\.yml: \/recipe\/0\/prune\/target/);
  expect(readReport(out)).toMatchObject({ verdict: 'error', error: { kind: 'config' } });

  const unknown = project({ bench: { 'batch-size': [1] } });
  const u = cli(['run', '--config', unknown.config, '--out', path.join(unknown.dir, 'out')]);
  expect(u.status).toBe(2);
  expect(u.stderr).toMatch(/\/bench.*batch-size/);

  const missing = project({ data: { eval: { inputs: { input: 'data/nope.npy' }, labels: 'data/eval_y.npy' } } });
  const m = cli(['run', '--config', missing.config, '--out', path.join(missing.dir, 'out')]);
  expect(m.status).toBe(2);
  expect(m.stderr).toMatch(/\/data\/eval\/inputs\/input.*nope\.npy/);

  // --out pointing at the model's own folder never overwrites it.
  const own = project({ recipe: [] });
  const before = fs.readFileSync(own.model);
  const o = cli(['run', '--config', own.config, '--out', own.dir]);
  expect(o.status).toBe(2);
  expect(o.stderr).toMatch(/would overwrite the model/);
  expect(fs.readFileSync(own.model).equals(before)).toBe(true);
});

test('--base-model: the base branch is measured in the same run and named in the report; a missing file exits 2 before any work', () => {
  const p = project({ recipe: [], objective: 'size', gate: { 'accuracy-drop': 2 }, bench: { 'batch-sizes': [1], 'time-budget': '200ms', threads: 1 } });
  const out = path.join(p.dir, 'out-base');
  const half = 'test/fixtures/models/mnist-mlp-half.onnx';
  const r = cli(['run', '--config', p.config, '--out', out, '--base-model', half, '--base-commit', 'ABCDEF1']);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.status).toBe(0);
  expect(r.stderr).toContain('benchmarking the PR model vs the candidate and the base branch');
  const report = readReport(out);
  // Paths relative to the working directory (the repository), not absolute.
  expect(report.baseBranch).toEqual({ model: half, commit: 'abcdef1', changed: true });
  expect(report.latency[0].base).toEqual({ p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number) });
  // No gate.p95-regression: shown, not judged.
  expect(report.latency[0].vsBase).toMatchObject({ status: 'info' });
  expect(r.stdout).toContain('| Batch | Base branch | PR model | Candidate | PR model ÷ base branch | Candidate ÷ PR model |');

  const missing = cli(['run', '--config', p.config, '--out', path.join(p.dir, 'out-missing'), '--base-model', 'nowhere/base.onnx']);
  expect(missing.status).toBe(2);
  expect(missing.stderr).toContain("--base-model nowhere/base.onnx: no such file; give the base branch's model");
});
