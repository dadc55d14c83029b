/**
 * `targets: [native, wasm]` end to end on the bundled example: the loop measures each step on both
 * runtimes, the report has one latency section per target and the candidate's WebAssembly outputs
 * against its native ones, under the fidelity limits.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { readReport } from '../../src/report/validate.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-targets-'));
  fs.cpSync(path.join(ROOT, 'examples/mnist'), dir, { recursive: true });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the example with targets [native, wasm]: both latency sections, both gated, the WebAssembly outputs within the fidelity limits', () => {
  const config = parse(fs.readFileSync(path.join(dir, 'prune-gate.yml'), 'utf8'));
  // Short: one quantization step, one batch size; objective size so the verdict does not hang on this machine's timing.
  config.bench = { 'batch-sizes': [8], 'time-budget': '150ms', 'min-runs': 8, warmup: 2, threads: 1 };
  config.recipe = [{ quantize: { kind: 'int8-static', fallback: 'auto' } }];
  config.objective = 'size';
  delete config.gate['p95-ratio'];
  config.targets = ['native', 'wasm'];
  fs.writeFileSync(path.join(dir, 'prune-gate.yml'), stringify(config));

  const out = path.join(dir, 'out');
  const r = cli(['run', '--config', path.join(dir, 'prune-gate.yml'), '--out', out]);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.status).toBe(0);
  const report = readReport(out);
  expect(report.verdict).toBe('pass');
  expect(report.latency.map((l) => [l.target, l.batchSize])).toEqual([
    ['native', 8],
    ['wasm', 8],
  ]);
  // The loop's step was measured on both targets.
  expect(report.steps[0].latency?.map((l) => l.target)).toEqual(['native', 'wasm']);
  expect(report.targets?.map((t) => [t.target, t.model, t.verdict])).toEqual([
    ['wasm', 'original', 'pass'],
    ['wasm', 'candidate', 'pass'],
  ]);
  for (const t of report.targets!) {
    expect(t.runtime).toBe('onnxruntime-web 1.30.0');
    const agreement = t.metrics.find((m) => m.metric === 'agreement')!;
    expect(agreement).toMatchObject({ gated: true, status: 'pass' });
    expect(agreement.candidate).toBeGreaterThanOrEqual(98);
    expect(t.metrics.find((m) => m.metric === 'sqnr')).toMatchObject({ status: 'pass' });
  }
  const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
  expect(md).toMatch(/^\*\*Latency on native\*\*/m);
  expect(md).toMatch(/^\*\*Latency on wasm\*\*/m);
  expect(md).toMatch(/^\| wasm \(onnxruntime-web 1\.30\.0\) \| candidate \| \*\*agreement\*\* \(drop ≤ 2 pts\) [\d.]+ ✅/m);
});
