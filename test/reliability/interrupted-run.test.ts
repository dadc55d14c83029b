/**
 * `prune-gate run` killed with SIGKILL (a cancelled CI job, an OOM kill) at several moments: early,
 * while it optimizes, while it benchmarks, and right as it writes model.onnx or report.json (found
 * by watching the output folder, into an empty folder and over the outputs of an earlier run).
 * Whatever the moment: the user's model, config and data are byte-identical, and every file under a
 * final name (model.onnx, report.json, report.md) is complete: the model loads and runs in ONNX
 * Runtime, the report validates against its schema, report.md is the rendering of a report.
 * Leftover `.<name>.tmp-*` files are allowed (atomic writes leave them, never a half-written
 * target) and are listed, as are the temp folders and processes the killed run left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelSession } from '../../src/evaluate/session.js';
import { loadModel } from '../../src/onnx/index.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { readReport } from '../../src/report/validate.js';
import { makeProject, type Project } from '../e2e/project.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FINAL = ['model.onnx', 'report.json', 'report.md'];
/** What writeFileAtomic leaves when killed between open and rename. */
const TEMP = /^\.(model\.onnx|report\.json|report\.md)\.tmp-\d+-[0-9a-z]+$/;

let project: Project;
afterAll(() => project?.cleanup());

interface Run {
  child: ChildProcess;
  started: number;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** `prune-gate run` in its own process group (so what it spawns can be found), temp files in `tmp`. */
function startRun(out: string, tmp: string): Run {
  fs.mkdirSync(tmp, { recursive: true });
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'run', '--config', project.config, '--out', out, '--quiet'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', TMPDIR: tmp },
    stdio: 'ignore',
    detached: true,
  });
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) => child.on('exit', (status, signal) => resolve({ status, signal, ms: Date.now() - started })));
  return { child, started, done };
}

/** Processes still in the run's process group, as "pid command". */
function groupMembers(pgid: number): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(`${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 80)}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** SIGKILLs the run; waits (up to 3 s) for what it spawned to go, then kills that too and says what it was. */
async function kill(run: Run): Promise<{ at: number; orphans: string[] }> {
  const at = Date.now() - run.started;
  const pgid = run.child.pid as number;
  run.child.kill('SIGKILL');
  await run.done;
  let left = groupMembers(pgid);
  for (let k = 0; k < 30 && left.length; k++) {
    await new Promise((r) => setTimeout(r, 100));
    left = groupMembers(pgid);
  }
  if (left.length) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return { at, orphans: left };
}

interface Inspection {
  entries: string[];
  temps: string[];
  problems: string[];
  /** report.md is complete but renders a different report.json than the one beside it (a kill between the two renames). */
  stalePair: boolean;
}

/** Every file under a final name is complete; anything else is an atomic-write temp file. */
async function inspect(out: string, previous?: { model: Buffer; json: string; md: string }): Promise<Inspection> {
  const r: Inspection = { entries: [], temps: [], problems: [], stalePair: false };
  if (!fs.existsSync(out)) return r;
  r.entries = fs.readdirSync(out).sort();
  for (const name of r.entries) {
    if (!FINAL.includes(name)) {
      if (TEMP.test(name)) r.temps.push(name);
      else r.problems.push(`unexpected file ${name}`);
    }
  }
  const file = (n: string) => path.join(out, n);
  if (r.entries.includes('model.onnx')) {
    try {
      const model = loadModel(file('model.onnx'));
      const session = await ModelSession.create(file('model.onnx'));
      const outputs = await session.run({ input: { type: 'float32', dims: [2, 784], data: new Float32Array(2 * 784).fill(0.5) } });
      await session.release();
      const logits = Object.values(outputs)[0];
      if (!logits || logits.dims.join() !== '2,10') r.problems.push(`model.onnx runs but gives ${logits?.dims}`);
      if (!model.graph.nodes.length) r.problems.push('model.onnx has no nodes');
    } catch (err) {
      r.problems.push(`model.onnx is not a complete model: ${(err as Error).message.slice(0, 200)}`);
    }
  }
  let report: ReturnType<typeof readReport> | undefined;
  if (r.entries.includes('report.json')) {
    try {
      report = readReport(file('report.json'));
    } catch (err) {
      r.problems.push(`report.json is not a complete report: ${(err as Error).message.slice(0, 200)}`);
    }
  }
  if (r.entries.includes('report.md')) {
    const md = fs.readFileSync(file('report.md'), 'utf8');
    const rendered = report ? renderMarkdown(report) : undefined;
    if (md === rendered) {
      // The pair is consistent.
    } else if (previous && md === previous.md) {
      r.stalePair = true;
    } else {
      r.problems.push(`report.md (${md.length} bytes) is neither the rendering of report.json nor the earlier report.md`);
    }
  } else if (report && !previous) {
    // report.json is renamed before report.md is written: a kill between the two leaves only the JSON. Fine.
  }
  return r;
}

interface Scenario {
  name: string;
  /** Kill after this many ms... */
  afterMs?: number;
  /** ...or as soon as a file whose name matches appears in the output folder (plus delayMs). */
  onFile?: RegExp;
  delayMs?: number;
  /** Start from a copy of a finished run's outputs (the new run overwrites them). */
  overwrite?: boolean;
}

test('SIGKILL at any moment: the user files are untouched and no output is ever half-written', async () => {
  project = makeProject({
    recipe: [
      { prune: { kind: 'structured', target: 0.2, step: 0.1, importance: 'activation', repair: 'least-squares' } },
      { quantize: { kind: 'int8-dynamic', fallback: 'auto' } },
    ],
    gate: { 'accuracy-drop': 2 },
  });
  const userFiles = ['model.onnx', 'prune-gate.yml', 'data/eval_x.npy', 'data/eval_y.npy', 'data/calib_x.npy'];
  const before = new Map(userFiles.map((f) => [f, fs.readFileSync(path.join(project.dir, f))]));
  const unchanged = () => userFiles.filter((f) => !fs.readFileSync(path.join(project.dir, f)).equals(before.get(f) as Buffer));

  // A run to completion: the timeline the kills aim at, the outputs the overwrite scenarios start from.
  const refOut = path.join(project.dir, 'out-ref');
  fs.mkdirSync(refOut);
  // One TMPDIR for every run (tsx keeps its compile cache there); what a run leaves is what appears during it.
  const tmp = path.join(project.dir, 'tmp');
  const ours = () => (fs.existsSync(tmp) ? fs.readdirSync(tmp).filter((n) => n.startsWith('pg-')) : []);
  const ref = startRun(refOut, tmp);
  let modelAt = 0;
  const watcher = fs.watch(refOut, (_e, name) => {
    if (name === 'model.onnx' && !modelAt) modelAt = Date.now() - ref.started;
  });
  const refDone = await ref.done;
  watcher.close();
  expect([0, 1]).toContain(refDone.status);
  const refInspect = await inspect(refOut);
  expect(refInspect.problems).toEqual([]);
  expect(refInspect.entries).toEqual(FINAL.slice().sort());
  expect(modelAt).toBeGreaterThan(0);
  const previous = { model: fs.readFileSync(path.join(refOut, 'model.onnx')), json: fs.readFileSync(path.join(refOut, 'report.json'), 'utf8'), md: fs.readFileSync(path.join(refOut, 'report.md'), 'utf8') };
  const refTemps = ours();

  const scenarios: Scenario[] = [
    { name: 'after 0.5 s (loading)', afterMs: 500 },
    { name: 'after 1.5 s (evaluating the original)', afterMs: 1500 },
    { name: 'after 3 s (optimizing)', afterMs: 3000 },
    // Timed from model.onnx's appearance: the first run is slower (cold caches), so absolute times drift.
    { name: 'half-way through the benchmark', onFile: /^model\.onnx$/, delayMs: Math.round((refDone.ms - modelAt) / 2) },
    // The first sign of a write: the temp file, or the target itself should a write ever stop being atomic.
    { name: 'as model.onnx is written', onFile: /^(\.model\.onnx\.tmp-.+|model\.onnx)$/ },
    { name: 'as report.json is written', onFile: /^(\.report\.json\.tmp-.+|report\.json)$/ },
    { name: 'between report.json and report.md', onFile: /^report\.json$/ },
    { name: 'as model.onnx is written over an earlier one', onFile: /^(\.model\.onnx\.tmp-.+|model\.onnx)$/, overwrite: true },
    { name: 'as report.json is written over an earlier one', onFile: /^(\.report\.json\.tmp-.+|report\.json)$/, overwrite: true },
  ];

  const problems: string[] = [];
  let missed = 0;
  const log: string[] = [`reference run: ${refDone.ms} ms, model.onnx at ${modelAt} ms; temp folders left by a finished run: ${refTemps.join(', ') || 'none'}`];
  for (const [k, s] of scenarios.entries()) {
    const out = path.join(project.dir, `out-${k}`);
    const tempsBefore = new Set(ours());
    fs.mkdirSync(out);
    if (s.overwrite) for (const f of FINAL) fs.copyFileSync(path.join(refOut, f), path.join(out, f));
    const run = startRun(out, tmp);
    let killed: Promise<{ at: number; orphans: string[] }> | undefined;
    let seen = '';
    let w: fs.FSWatcher | undefined;
    if (s.onFile) {
      const pattern = s.onFile;
      w = fs.watch(out, (_e, name) => {
        if (!killed && !seen && name && pattern.test(name)) {
          seen = name;
          if (s.delayMs) {
            const timer = setTimeout(() => (killed = kill(run)), s.delayMs);
            void run.done.then(() => clearTimeout(timer));
          } else killed = kill(run);
        }
      });
    } else {
      const timer = setTimeout(() => (killed = kill(run)), s.afterMs);
      void run.done.then(() => clearTimeout(timer));
    }
    const exit = await run.done;
    w?.close();
    // A delayed kill may still be pending when a run ends on its own; give the timer's callback a turn.
    await new Promise((r) => setImmediate(r));
    const k_ = killed ? await killed : undefined;
    const r = await inspect(out, s.overwrite ? previous : undefined);
    const where = `${s.name}`;
    // A kill aimed at the last writes can arrive after the run has finished: a race, not a fault. Timed kills cannot miss.
    const late = !k_ || exit.signal !== 'SIGKILL';
    if (late && (!s.onFile || !seen)) problems.push(`${where}: the run ended (exit ${exit.status}, signal ${exit.signal}) before the kill${s.onFile ? ` (no ${s.onFile} seen)` : ''}`);
    if (late) missed++;
    for (const p of r.problems) problems.push(`${where}: ${p}`);
    const changed = unchanged();
    if (changed.length) problems.push(`${where}: user files changed: ${changed.join(', ')}`);
    if (s.overwrite && r.entries.includes('model.onnx')) {
      const now = fs.readFileSync(path.join(out, 'model.onnx'));
      // Same inputs, same seed: the new model is byte-identical to the earlier one (determinism), so either way it is whole.
      if (!now.equals(previous.model)) problems.push(`${where}: model.onnx differs from the earlier run's (not deterministic, or not whole)`);
    }
    const tmpLeft = ours().filter((n) => !tempsBefore.has(n));
    log.push(
      `${where}: ${late ? 'NOT killed (the run had finished), ' : ''}killed at ${k_?.at ?? '-'} ms${seen ? ` (${seen} seen${s.delayMs ? ` ${s.delayMs} ms before` : ''})` : ''}; out: ${r.entries.join(', ') || '(nothing)'}${r.temps.length ? ` [leftover temp: ${r.temps.join(', ')}]` : ''}${r.stalePair ? ' [report.md from the earlier run beside the new report.json]' : ''}; TMPDIR left: ${tmpLeft.join(', ') || 'nothing'}${k_?.orphans.length ? `; orphans: ${k_.orphans.join(' | ')}` : ''}`,
    );
  }
  console.log(`interrupted-run (${scenarios.length - missed} of ${scenarios.length} kills landed):\n  ${log.join('\n  ')}`);
  expect(problems).toEqual([]);
}, 300_000);
