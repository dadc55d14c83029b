/**
 * 300 seeded mutations of a real project's prune-gate.yml and of its .npy data (see
 * config-mutants.ts and data-mutants.ts). Each goes through what `prune-gate run` does before it
 * optimizes (loadConfig, the model, the data checked against the model's inputs, the calibration
 * batches, the baseline), in this process. It must be accepted, or refused with an InputError
 * whose message names the file (and, for a config problem, the JSON pointer): never another
 * exception, never a hang. A sample of the refused ones then runs through the real CLI in a child:
 * exit 2, one clear line on stderr, no stack trace, a schema-valid report.json with verdict "error".
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { InputError } from '../../src/util/errors.js';
import { readNpy } from '../../src/evaluate/npy.js';
import { readBaseline } from '../../src/gate/baseline.js';
import { prepare } from '../../src/pipeline/prepare.js';
import { readReport } from '../../src/report/validate.js';
import { makeProject, type Project } from '../e2e/project.js';
import { configMutants, type Expectation } from './config-mutants.js';
import { dataMutants, type DataMutant } from './data-mutants.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** PG_FUZZ_SEED and PG_FUZZ_SCALE explore further (other seeds, more cases); the defaults are what CI runs. */
const SEED = Number(process.env.PG_FUZZ_SEED ?? 0);
const SCALE = Number(process.env.PG_FUZZ_SCALE ?? 1);
const CONFIG_CASES = 180 * SCALE;
const DATA_CASES = 120 * SCALE;
const CLI_CASES = 10;
/** A case slower than this is a hang (the slowest legitimate one takes well under a second). */
const CASE_TIMEOUT_MS = 10_000;
const N = 64;
const M = 32;

const EXTRA = {
  seed: 3,
  bench: { 'batch-sizes': [1, 16], 'time-budget': '400ms', threads: 1, 'min-runs': 10, precision: 0.05, warmup: 2 },
  recipe: [
    { prune: { kind: 'structured', target: 0.2, step: 0.1, importance: 'activation', repair: 'least-squares', multiple: 1 } },
    { quantize: { kind: 'int8-dynamic', fallback: 'auto', 'per-channel': false } },
  ],
  gate: { 'accuracy-drop': 2, use: 'point', relative: false, metrics: { accuracy: { 'max-drop': 2 } } },
  budget: { 'wall-time': '5m', keep: 'confident' },
};

let project: Project;
let outsideDir: string;
afterAll(() => {
  project?.cleanup();
  if (outsideDir) fs.rmSync(outsideDir, { recursive: true, force: true });
});

interface Case {
  index: number;
  kind: 'config' | 'data';
  label: string;
  config: string;
  expect: Expectation & { configPointer?: string; maxMessage?: number };
  /** Data cases: the mutated file or folder (absolute). */
  file?: string;
}

type Attempt = { outcome: 'pass'; empty?: string } | { outcome: 'error'; err: unknown } | { outcome: 'timeout' };

/** What `prune-gate run` does before optimizing (src/pipeline/run.ts): prepare, then read the baseline. */
async function attempt(config: string): Promise<Attempt> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Attempt>((resolve) => {
    timer = setTimeout(() => resolve({ outcome: 'timeout' }), CASE_TIMEOUT_MS);
  });
  const work = (async (): Promise<Attempt> => {
    try {
      const p = await prepare(config);
      if (p.config.baseline) readBaseline(p.config.baseline);
      const empty = p.evalSet.count < 1 || p.calibration.length < 1 ? `${p.evalSet.count} evaluation samples, ${p.calibration.length} calibration batches` : undefined;
      return { outcome: 'pass', empty };
    } catch (err) {
      return { outcome: 'error', err };
    }
  })();
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The message names this JSON pointer as a token (not as the prefix of a longer one). */
function namesPointer(message: string, pointer: string): boolean {
  return new RegExp(`(?:^|[\\s;(])${escapeRe(pointer)}(?=$|[\\s:;,)'])`).test(message);
}

/** The leading "<path>: " of a message is a file or folder that exists (the reader's own file). */
function leadingPathExists(message: string): boolean {
  let head = message.split(': ')[0];
  for (let k = 0; k < 3 && head; k++) {
    if (head.startsWith('/') && fs.existsSync(head)) return true;
    head = head.replace(/:[^:]*$/, '');
  }
  return false;
}

/** Why an outcome breaks the contract (empty: it keeps it). */
function judge(c: Case, a: Attempt, ms: number): string[] {
  if (a.outcome === 'timeout') return [`no answer after ${CASE_TIMEOUT_MS} ms (a hang)`];
  const problems: string[] = [];
  if (ms > CASE_TIMEOUT_MS) problems.push(`took ${ms} ms`);
  if (a.outcome === 'pass') {
    if (c.expect.mustFail) problems.push('accepted, but it must be refused');
    // Nothing downstream can measure on no data: it must have been refused.
    if (a.empty) problems.push(`accepted an empty data set (${a.empty})`);
    return problems;
  }
  const err = a.err;
  if (!(err instanceof InputError)) {
    const e = err as Error;
    return [...problems, `threw ${e?.name ?? typeof err} (not an InputError): ${String(e?.message ?? err).slice(0, 300)} ${e?.stack?.split('\n')[1]?.trim() ?? ''}`];
  }
  const msg = err.message;
  if (c.expect.mustPass) problems.push(`refused, but it must be accepted: ${msg.slice(0, 300)}`);
  const aboutConfig = msg.startsWith(`${c.config}: `);
  const isBaseline = err.subject === 'baseline';
  // Names the file.
  if (c.kind === 'data') {
    const viaConfig = c.expect.configPointer !== undefined && aboutConfig && namesPointer(msg, c.expect.configPointer);
    if (!msg.includes(c.file as string) && !viaConfig) problems.push(`does not name the data file ${path.basename(c.file as string)}${c.expect.configPointer ? ` nor ${c.expect.configPointer}` : ''}`);
  } else if (!aboutConfig && !leadingPathExists(msg) && !(isBaseline && /\/\S/.test(msg))) {
    problems.push('names neither the config nor the file it read');
  }
  // A config problem says where: a JSON pointer, or a line for YAML syntax.
  if (aboutConfig) {
    const rest = msg.slice(c.config.length + 2);
    const located = /(?:^|[\s;])\/\S*/.test(rest) || /line \d+, column \d+/.test(rest) || /^YAML error: /.test(rest) || /config file is empty|config must be a map/.test(rest);
    if (!located) problems.push('a config problem without a JSON pointer or a line');
    if (c.expect.pointers && !c.expect.pointers.some((p) => namesPointer(msg, p))) problems.push(`names none of ${c.expect.pointers.join(', ')}`);
    if (c.expect.mentions && !msg.includes(`'${c.expect.mentions}'`)) problems.push(`does not mention '${c.expect.mentions}'`);
  } else if (c.kind === 'config' && c.expect.pointers) {
    problems.push(`the config is at fault (${c.expect.pointers[0]}) but the message is not about it`);
  }
  // One clear line.
  if (!isBaseline && /[\r\n]/.test(msg)) problems.push('spans several lines');
  if (msg.length > (c.expect.maxMessage ?? 2000)) problems.push(`is ${msg.length} characters long`);
  for (const junk of ['a object', 'a array', '[object Object]', 'undefined', '[N, ]', 'Maximum call stack']) {
    if (msg.includes(junk)) problems.push(`contains '${junk}'`);
  }
  if (/line \d+, column \d+.*line \d+, column \d+/.test(msg)) problems.push('says the YAML location twice');
  return problems.map((p) => `${p} -- ${msg.slice(0, 240)}`);
}

function cli(args: string[], timeoutMs = 60_000): Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

test('300 config and data mutants: accepted or an InputError naming the file and JSON pointer; a CLI sample exits 2 with one clear line', async () => {
  project = makeProject(EXTRA, { evalCount: N, calibCount: M });
  const dir = project.dir;
  const base = parse(fs.readFileSync(project.config, 'utf8')) as Record<string, unknown>;
  outsideDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-fuzz-outside-'));
  const outside = path.join(outsideDir, 'outside.npy');
  fs.copyFileSync(path.join(dir, 'data/eval_x.npy'), outside);

  const cases: Case[] = [];
  configMutants(base, dir, outside, CONFIG_CASES, 2024 + SEED).forEach((m, i) => {
    const config = path.join(dir, `c-${String(i).padStart(3, '0')}.yml`);
    fs.writeFileSync(config, m.text);
    cases.push({ index: cases.length, kind: 'config', label: m.label, config, expect: m.expect });
  });
  const data = {
    x: readNpy(path.join(dir, 'data/eval_x.npy')).data as Float32Array,
    y: readNpy(path.join(dir, 'data/eval_y.npy')).data as BigInt64Array,
    c: readNpy(path.join(dir, 'data/calib_x.npy')).data as Float32Array,
    n: N,
    m: M,
  };
  dataMutants(data, DATA_CASES, 7 + SEED).forEach((m: DataMutant, i) => {
    const rel = `data/m-${String(i).padStart(3, '0')}-${m.name}`;
    const file = path.join(dir, rel);
    m.write(file);
    const obj = structuredClone(base) as { data: { eval: Record<string, unknown>; calibration: { inputs: Record<string, string> } } };
    if (m.field === '/data/eval/inputs') obj.data.eval.inputs = rel;
    else if (m.field === '/data/eval/inputs/input') (obj.data.eval.inputs as Record<string, string>).input = rel;
    else if (m.field === '/data/eval/labels') obj.data.eval.labels = rel;
    else obj.data.calibration.inputs.input = rel;
    if (m.dropLabels) delete obj.data.eval.labels;
    const config = path.join(dir, `d-${String(i).padStart(3, '0')}.yml`);
    fs.writeFileSync(config, stringify(obj));
    cases.push({ index: cases.length, kind: 'data', label: m.label, config, expect: m.expect, file });
  });
  expect(cases.length).toBeGreaterThanOrEqual(300);

  const userFiles = ['model.onnx', 'prune-gate.yml', 'data/eval_x.npy', 'data/eval_y.npy', 'data/calib_x.npy'].map((f) => [f, fs.readFileSync(path.join(dir, f))] as const);
  const broken: string[] = [];
  const refused: Array<{ c: Case; message: string }> = [];
  let passed = 0;
  const started = Date.now();
  for (const c of cases) {
    const t0 = Date.now();
    const a = await attempt(c.config);
    const problems = judge(c, a, Date.now() - t0);
    for (const p of problems) broken.push(`${c.kind} #${c.index} [${c.label}]: ${p}`);
    if (a.outcome === 'pass') passed++;
    else if (a.outcome === 'error' && a.err instanceof InputError) refused.push({ c, message: a.err.message });
  }
  const inProcessMs = Date.now() - started;
  expect(broken).toEqual([]);
  // Both outcomes occur in both halves: the check is not vacuous.
  for (const kind of ['config', 'data'] as const) {
    expect(refused.filter((r) => r.c.kind === kind).length).toBeGreaterThan(50);
    expect(cases.filter((c) => c.kind === kind).length - refused.filter((r) => r.c.kind === kind).length).toBeGreaterThan(5);
  }
  // Nothing of this touched the user's files.
  for (const [f, bytes] of userFiles) expect(fs.readFileSync(path.join(dir, f)).equals(bytes)).toBe(true);

  // The CLI: the regressions whose symptom was on stderr, then refused cases spread over both halves.
  const forced = refused.filter((r) => ['a list as a key', 'alias bomb', 'x: 10-byte version-2 file'].includes(r.c.label));
  const rest = refused.filter((r) => !forced.includes(r));
  const step = rest.length / (CLI_CASES - forced.length);
  const sample = [...forced, ...Array.from({ length: CLI_CASES - forced.length }, (_, k) => rest[Math.floor(k * step + step / 2)])];
  const results = [];
  for (let k = 0; k < sample.length; k += 2) {
    results.push(
      ...(await Promise.all(
        sample.slice(k, k + 2).map(async ({ c, message }) => {
          const out = path.join(dir, `out-${c.index}`);
          return { c, message, out, r: await cli(['run', '--config', c.config, '--out', out]) };
        }),
      )),
    );
  }
  const cliProblems: string[] = [];
  for (const { c, message, out, r } of results) {
    const where = `${c.kind} #${c.index} [${c.label}]`;
    if (r.status !== 2) cliProblems.push(`${where}: exit ${r.status} (signal ${r.signal}), expected 2: ${r.stderr.slice(-400)}`);
    if (/internal error|^\s+at /m.test(r.stderr)) cliProblems.push(`${where}: a stack trace or internal error on stderr: ${r.stderr.slice(0, 400)}`);
    const lines = r.stderr.split('\n').filter((l) => l.trim());
    const errorLines = lines.filter((l) => l.startsWith('prune-gate: error: '));
    if (errorLines.length !== 1) cliProblems.push(`${where}: ${errorLines.length} error lines on stderr`);
    if (!r.stderr.includes(`prune-gate: error: ${message}\n`)) cliProblems.push(`${where}: stderr does not carry the in-process message: ${r.stderr.slice(0, 400)}`);
    if (lines.length > 3) cliProblems.push(`${where}: ${lines.length} lines on stderr: ${r.stderr.slice(0, 400)}`);
    try {
      const report = readReport(out);
      if (report.verdict !== 'error') cliProblems.push(`${where}: report verdict ${report.verdict}`);
      if (report.error?.message !== message) cliProblems.push(`${where}: report error message differs: ${report.error?.message}`);
      const kind = message.startsWith(`${c.config}: `) ? 'config' : message.startsWith(c.file ?? '\u0000') ? 'data' : undefined;
      if (kind && report.error?.kind !== kind) cliProblems.push(`${where}: report error kind ${report.error?.kind}, expected ${kind}`);
    } catch (err) {
      cliProblems.push(`${where}: no valid report.json: ${(err as Error).message}`);
    }
  }
  expect(cliProblems).toEqual([]);
  expect(results).toHaveLength(CLI_CASES);
  console.log(`config-data-fuzz: ${cases.length} cases (${CONFIG_CASES} config, ${DATA_CASES} data): ${passed} accepted, ${refused.length} refused with an InputError, in ${inProcessMs} ms; ${results.length} through the CLI`);
}, 240_000);
