import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildProgram } from '../../src/cli/program.js';
import { registerEvalCommand } from '../../src/cli/eval.js';
import { registerBenchCommand } from '../../src/cli/bench.js';
import { centroidModel, mnistSamples, tmpDir, writeNpy } from './helpers.js';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = buildProgram();
  // program.ts may already wire these commands; register them only when it does not.
  const has = (name: string) => program.commands.some((c) => c.name() === name);
  if (!has('eval')) registerEvalCommand(program);
  if (!has('bench')) registerBenchCommand(program);
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((s: string) => ((stdout += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch {
    process.exitCode ??= 2;
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  process.exitCode = undefined;
  return { code, stdout, stderr };
}

function project(task: 'classification' | 'fidelity' = 'classification', extra = ''): { dir: string; config: string } {
  const dir = tmpDir('pg-cli-');
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'model.onnx'), centroidModel());
  fs.writeFileSync(path.join(dir, 'half.onnx'), centroidModel({ scale: 0.5 }));
  const { x, y } = mnistSamples(100, 10);
  writeNpy(path.join(dir, 'data/x.npy'), 'float32', [100, 784], x);
  writeNpy(path.join(dir, 'data/y.npy'), 'int64', [100], BigInt64Array.from(y.map(BigInt)));
  const labels = task === 'classification' ? '    labels: data/y.npy\n' : '';
  const config = path.join(dir, 'prune-gate.yml');
  fs.writeFileSync(config, `model: model.onnx\ntask: ${task}\ndata:\n  eval:\n    inputs: { x: data/x.npy }\n${labels}  batch-size: 16\nmetrics: ${task === 'classification' ? '[accuracy, f1]' : '[agreement, sqnr]'}\nbench:\n  batch-sizes: [1]\n  time-budget: 100ms\n  min-runs: 10\n${extra}`);
  return { dir, config };
}

test('eval prints a table and JSON with the gated metric first', async () => {
  const { config } = project();
  const table = await run(['eval', '--config', config]);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/task: classification, 100 samples/);
  expect(table.stdout).toMatch(/accuracy\s+[\d.]+\s+\(gated\)/);
  const json = await run(['eval', '--config', config, '--json']);
  const parsed = JSON.parse(json.stdout) as { metrics: Record<string, number>; samples: number };
  expect(parsed.samples).toBe(100);
  expect(parsed.metrics.accuracy).toBeGreaterThan(50);
  expect(table.stdout).toMatch(new RegExp(`f1\\s+${parsed.metrics.f1.toFixed(2)}\\n`));
});

test('eval in label-free mode compares --model with the config model', async () => {
  const { dir, config } = project('fidelity');
  const r = await run(['eval', '--config', config, '--model', path.join(dir, 'half.onnx'), '--json']);
  expect(r.code).toBe(0);
  const parsed = JSON.parse(r.stdout) as { metrics: Record<string, number>; reference: string };
  expect(parsed.metrics.agreement).toBe(100);
  expect(parsed.metrics.sqnr).toBeCloseTo(10 * Math.log10(4), 3);
  expect(parsed.reference).toBe(path.join(dir, 'model.onnx'));
});

test('bench compares two models and prints intervals and the machine', async () => {
  const { dir, config } = project();
  const r = await run(['bench', '--model', path.join(dir, 'model.onnx'), '--vs', path.join(dir, 'half.onnx'), '--config', config, '--time-budget', '0.1', '--precision', '0']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^machine: .* cores/m);
  expect(r.stdout).toMatch(/B\/A\s+P50 [\d.]+ \[[\d.]+, [\d.]+\]\s+P95/);
  const json = await run(['bench', '--model', path.join(dir, 'model.onnx'), '--batch-sizes', '2,4', '--time-budget', '50ms', '--min-runs', '5', '--json']);
  const parsed = JSON.parse(json.stdout) as { batches: Array<{ batchSize: number; stats: Array<{ runs: number }> }>; machine: { fingerprint: string } };
  expect(parsed.batches.map((b) => b.batchSize)).toEqual([2, 4]);
  expect(parsed.batches[0].stats[0].runs).toBeGreaterThanOrEqual(5);
  expect(parsed.machine.fingerprint).toMatch(/^[0-9a-f]{16}$/);
});

test("bench --vs-target wasm: one model against itself on WebAssembly, its WASM/native ratio; an unknown target exits 2", async () => {
  const { dir } = project();
  const model = path.join(dir, 'model.onnx');
  const r = await run(['bench', '--model', model, '--vs', model, '--vs-target', 'wasm', '--batch-sizes', '4', '--time-budget', '50ms', '--min-runs', '4', '--json']);
  expect(r.code).toBe(0);
  const parsed = JSON.parse(r.stdout) as { labels: string[]; batches: Array<{ comparison: { ratios: { p95: { value: number } } } }> };
  expect(parsed.labels).toEqual([`${model} (native)`, `${model} (wasm)`]);
  expect(parsed.batches[0].comparison.ratios.p95.value).toBeGreaterThan(0);
  const bad = await run(['bench', '--model', model, '--target', 'webgpu']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--target webgpu: not a runtime target; use native or wasm/);
});

test('bad arguments exit 2 with one clear line', async () => {
  const { dir, config } = project();
  const bad = await run(['bench', '--model', path.join(dir, 'model.onnx'), '--batch-sizes', '1,x']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--batch-sizes must be a positive integer \(got 'x'\)/);
  const missing = await run(['bench', '--model', path.join(dir, 'nope.onnx')]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/--model .*nope\.onnx: no such file/);
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('batch-size: 16', 'batch-size: 0'));
  const badConfig = await run(['eval', '--config', config]);
  expect(badConfig.code).toBe(2);
  expect(badConfig.stderr).toMatch(/\/data\/batch-size must be >= 1 \(got 0\)/);
});
