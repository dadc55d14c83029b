/** Entries from a real report, the store file's rules, and the `history add` command. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/program.js';
import { appendEntry, emptyStore, entryFromReport, historyProblems, parseStore, serializeStore } from '../../src/history/index.js';
import { readReport } from '../../src/report/validate.js';
import { InputError } from '../../src/util/errors.js';
import { configErrorReport, targetsReport } from '../report/fixtures.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/history/mnist-report.json');
const sha = (c: string) => c.repeat(40);
let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-history-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('an entry carries what a trend needs from the real report of the bundled example', () => {
  const report = readReport(FIXTURE);
  const e = entryFromReport(report, { commit: sha('a'), time: '2026-11-01T00:00:00Z', branch: 'main', runner: { environment: 'self-hosted' } });
  expect(historyProblems({ schemaVersion: 1, entries: [e] })).toEqual([]);
  expect(e).toMatchObject({ commit: sha('a'), verdict: report.verdict, gatedMetric: 'accuracy', reference: report.reference, runner: { environment: 'self-hosted' } });
  expect(e.models.candidateSha256).toBe(report.models.candidateSha256);
  const acc = e.metrics.find((m) => m.metric === 'accuracy')!;
  const row = report.metrics.find((m) => m.metric === 'accuracy')!;
  expect(acc.candidate).toBeCloseTo(row.candidate, 5);
  expect(acc.interval!.low).toBeCloseTo(row.interval!.low, 5);
  expect(e.p95).toEqual(report.latency.map((l) => expect.objectContaining({ batchSize: l.batchSize, original: Number(l.original.p95.toPrecision(6)), candidate: Number(l.candidate.p95.toPrecision(6)) })));
  expect(e.size).toEqual({ original: { fileBytes: report.resources!.original.fileBytes, gzipBytes: report.resources!.original.gzipBytes }, candidate: { fileBytes: report.resources!.candidate.fileBytes, gzipBytes: report.resources!.candidate.gzipBytes } });
  expect(e.recipe.map((s) => s.kind)).toEqual(report.decisions!.map((d) => (d.stage.stage === 'prune' ? d.stage.prune.kind : d.stage.quantize.kind)));
  expect(e.machine).toEqual({ cpuModel: report.machine!.cpuModel, cores: report.machine!.cores, platform: report.machine!.platform, fingerprint: report.machine!.fingerprint });
  // Small enough that the capped store stays under the contents API's 1 MB.
  expect(JSON.stringify(e).length * 500).toBeLessThan(1_000_000);
});

test('no entry from an error report or without a full commit SHA', () => {
  expect(() => entryFromReport(configErrorReport(), { commit: sha('a') })).toThrow(/error report/);
  expect(() => entryFromReport(readReport(FIXTURE), { commit: 'abc123' })).toThrow(InputError);
});

test("with targets [native, wasm] the entry keeps the first target's latency, never the two pooled by batch size", () => {
  const report = targetsReport();
  expect(report.latency.map((l) => l.target)).toEqual(['native', 'wasm']);
  expect(entryFromReport(report, { commit: sha('b') }).p95).toEqual([expect.objectContaining({ batchSize: 32, ratio: 0.62 })]);
});

test('appending keeps earlier entries, one line each; the cap drops the oldest; the same commit is not added twice', () => {
  const entry = (c: string) => entryFromReport(readReport(FIXTURE), { commit: sha(c), time: '2026-11-01T00:00:00Z' });
  let store = emptyStore();
  for (const c of ['1', '2', '3']) {
    const r = appendEntry(store, entry(c), 2);
    expect(r.appended).toBe(true);
    store = r.store;
  }
  expect(store.entries.map((e) => e.commit[0])).toEqual(['2', '3']);
  expect(appendEntry(store, entry('3'))).toMatchObject({ appended: false });
  const text = serializeStore(store);
  expect(text.split('\n')).toHaveLength(5);
  expect(parseStore(text, 'x.json')).toEqual(store);
  expect(() => appendEntry(store, entry('4'), 0)).toThrow(/cap must be/);
});

test('a store that is not ours is refused with the path of each problem', () => {
  expect(() => parseStore('{"schemaVersion":1,"entries":[{"commit":"x"}]}', 'h.json')).toThrow(/h\.json does not match schemas\/history\.schema\.json:\n {2}\/entries\/0: missing required key/);
  expect(() => parseStore('{', 'h.json')).toThrow(/h\.json is not valid JSON/);
  expect(() => parseStore('{"schemaVersion":1,"entries":[],"extra":1}', 'h.json')).toThrow(/\/extra: unknown key/);
});

describe('prune-gate history add', () => {
  let stderr: string[];
  let stdout: string[];
  const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  beforeEach(() => {
    stdout = [];
    stderr = [];
    process.stdout.write = ((c: string) => (stdout.push(String(c)), true)) as typeof process.stdout.write;
    process.stderr.write = ((c: string) => (stderr.push(String(c)), true)) as typeof process.stderr.write;
  });
  afterEach(() => {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    process.exitCode = undefined;
  });

  test('creates the store, hashes the original model, appends, and refuses the same commit again', async () => {
    const store = path.join(dir, 'history.json');
    const args = (c: string) => ['history', 'add', FIXTURE, '--store', store, '--commit', sha(c), '--time', '2026-11-02T10:00:00Z', '--branch', 'main'];
    expect(await main(args('a'))).toBe(0);
    expect(await main(args('b'))).toBe(0);
    const first = fs.readFileSync(store, 'utf8');
    expect(await main(args('b'))).toBe(0);
    expect(fs.readFileSync(store, 'utf8')).toBe(first);
    expect(stdout.join('')).toContain('not appended: commit bbbbbbbbbbbb is already recorded');
    const entries = parseStore(first, store).entries;
    expect(entries.map((e) => e.commit[0])).toEqual(['a', 'b']);
    // The fixture names examples/mnist/model.onnx relative to the repository root, where jest runs.
    const crypto = await import('node:crypto');
    expect(entries[0].models.originalSha256).toBe(crypto.createHash('sha256').update(fs.readFileSync('examples/mnist/model.onnx')).digest('hex'));
  });

  test('bad input exits 2 with one line naming the file', async () => {
    const store = path.join(dir, 'history.json');
    fs.writeFileSync(store, '{"schemaVersion":2,"entries":[]}');
    expect(await main(['history', 'add', FIXTURE, '--store', store, '--commit', sha('a')])).toBe(2);
    expect(stderr.join('')).toContain(`prune-gate: error: ${store} does not match schemas/history.schema.json:\n  /schemaVersion must be 1 (got 2)`);
    expect(await main(['history', 'render', '--store', path.join(dir, 'missing.json'), '--out', dir])).toBe(2);
    expect(stderr.join('')).toContain('missing.json does not exist');
    expect(await main(['history', 'add', FIXTURE, '--store', store, '--cap', '0'])).toBe(2);
    const fresh = path.join(dir, 'fresh.json');
    expect(await main(['history', 'add', FIXTURE, '--store', fresh, '--commit', sha('a'), '--time', 'yesterday'])).toBe(2);
    expect(stderr.join('')).toContain('the new history entry is not valid (schemas/history.schema.json):\n  /time must match pattern');
    expect(fs.existsSync(fresh)).toBe(false);
  });
});
