/**
 * The history end to end: three pushes to main run the Action in `mode: history` against the
 * local GitHub server (the first creates the orphan branch, the second meets a racing writer and
 * retries), then `prune-gate history render` writes the page and Chromium loads it from disk.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { runActionWith, type RunPipeline } from '../../src/action/run.js';
import { main } from '../../src/cli/program.js';
import { appendEntry, entryFromReport, parseStore, serializeStore } from '../../src/history/index.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { readReport, writeReportFiles } from '../../src/report/validate.js';
import type { Report } from '../../src/report/types.js';
import { applyEnv, buildActionEnv, type ActionEnv, type ActionEnvOptions } from '../helpers/action-env.js';
import { launchChromium, pngStats } from '../helpers/browser.js';
import { FakeGitHub } from '../helpers/fake-github-server.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/history/mnist-report.json');
const [OWNER, NAME] = ['acme', 'models'];
const BRANCH = 'prune-gate-history';
const FILE = 'perf/history.json';
const commits = ['a1', 'b2', 'c3'].map((c) => c.repeat(20));
const RACER = 'ee'.repeat(20);

let gh: FakeGitHub;
const envs: ActionEnv[] = [];
let restore: (() => void) | undefined;
const realWrite = process.stdout.write.bind(process.stdout);
let stdout: string[] = [];

beforeAll(async () => {
  gh = new FakeGitHub();
  await gh.start();
});

afterAll(async () => {
  for (const e of envs) e.cleanup();
  await gh.stop();
});

beforeEach(() => {
  stdout = [];
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
});

afterEach(() => {
  process.stdout.write = realWrite;
  restore?.();
  restore = undefined;
  process.exitCode = undefined;
});

/** The real report of the bundled example, moved a little per commit, as successive runs would measure. */
function reportOfCommit(i: number): Report {
  const r = readReport(FIXTURE);
  r.metrics[0].candidate = 97.5 + 0.2 * i;
  r.metrics[0].drift = r.metrics[0].reference - r.metrics[0].candidate;
  for (const l of r.latency) l.candidate.p95 *= 1 - 0.1 * i;
  r.resources!.candidate.fileBytes -= 4096 * i;
  return r;
}

/** The edge we may fake: a pipeline that writes a fixed report to disk, as the real one does. */
const pipelineWriting =
  (report: Report): RunPipeline =>
  async ({ outDir }) => ({ report, ...writeReportFiles(outDir, report, renderMarkdown(report)), exitCode: 0 });

function runPush(options: ActionEnvOptions, report: Report) {
  const e = buildActionEnv({ apiUrl: gh.baseUrl, ...options, runId: 7000 + envs.length, inputs: { token: 'bot-token', mode: 'history', 'history-branch': BRANCH, 'history-path': FILE, ...options.inputs } });
  envs.push(e);
  e.env['INPUT_REPORT-PATH'] = path.join(e.dir, 'report');
  e.env.RUNNER_ENVIRONMENT = 'github-hosted';
  e.env.RUNNER_OS = 'Linux';
  restore?.();
  restore = applyEnv(e.env);
  return runActionWith({ runPipeline: pipelineWriting(report), client: { retryBaseMs: 1, spaceWrites: false } });
}

/** What the page exposes, and the little of the DOM the test reads (the test's TypeScript has no DOM library). */
interface PageHistory {
  entries: number;
  charts: { id: string; uplot: { data: (number | null)[][]; series: { label: string }[]; valToPos(v: number, scale: string): number } }[];
}
declare const window: { pruneGateHistory?: PageHistory };
declare const document: { querySelectorAll(s: string): { length: number }; querySelector(s: string): { textContent: string | null } | null };

const stored = () => gh.contents.readFile(OWNER, NAME, BRANCH, FILE);

describe('mode: history on pushes to main, then the page in Chromium', () => {
  const snapshots: string[] = [];

  test('the first push creates the history branch as an orphan holding one entry', async () => {
    const outcome = await runPush({ push: { sha: commits[0], time: '2026-11-01T09:00:00+01:00' } }, reportOfCommit(0));
    expect(outcome).toMatchObject({ mode: 'history', verdict: 'pass', exitCode: 0, history: { recorded: true, entries: 1, attempts: 1 } });
    expect(outcome.comment).toMatchObject({ posted: false });
    const store = parseStore(stored()!, FILE);
    expect(store.entries).toHaveLength(1);
    const [entry] = store.entries;
    expect(entry).toMatchObject({ commit: commits[0], time: '2026-11-01T08:00:00.000Z', branch: 'main', run: { id: 7000, attempt: 1 }, gatedMetric: 'accuracy', runner: { environment: 'github-hosted', os: 'Linux' } });
    expect(entry.models.candidateSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.p95.map((p) => p.batchSize)).toEqual([1, 32]);
    // An orphan branch: only the store, one commit.
    expect([...gh.contents.branches.get(`${OWNER}/${NAME}@${BRANCH}`)!.files.keys()]).toEqual([FILE]);
    expect(gh.requests.filter((r) => r.path.endsWith('/git/refs')).map((r) => r.status)).toEqual([201]);
    snapshots.push(stored()!);
  });

  test('the second push meets a racing writer (409), reads again and appends after the racer', async () => {
    gh.contents.beforeNextPut = () => {
      // Another run landed between our read and our write: the file's sha moved on.
      const racer = appendEntry(parseStore(stored()!, FILE), entryFromReport(reportOfCommit(0), { commit: RACER, time: '2026-11-01T12:00:00Z', branch: 'main' }));
      if (!racer.appended) throw new Error('racer did not append');
      gh.contents.writeFile(OWNER, NAME, BRANCH, FILE, serializeStore(racer.store));
    };
    const outcome = await runPush({ push: { sha: commits[1], time: '2026-11-02T09:00:00Z' } }, reportOfCommit(1));
    expect(outcome.history).toMatchObject({ recorded: true, entries: 3, attempts: 2 });
    const puts = gh.requests.filter((r) => r.method === 'PUT').map((r) => r.status);
    expect(puts).toEqual([409, 200]);
    expect(stdout.join('')).toContain('changed while we wrote (HTTP 409)');
    const store = parseStore(stored()!, FILE);
    expect(store.entries.map((e) => e.commit)).toEqual([commits[0], RACER, commits[1]]);
    snapshots.push(stored()!);
  });

  test('the third push appends; earlier entries stay byte for byte; a PR or a re-run adds nothing', async () => {
    const outcome = await runPush({ push: { sha: commits[2], time: '2026-11-03T09:00:00Z' } }, reportOfCommit(2));
    expect(outcome.history).toMatchObject({ recorded: true, entries: 4, attempts: 1 });
    const text = stored()!;
    for (const before of snapshots) {
      const lines = before.split('\n').filter((l) => l.startsWith('{"commit"'));
      for (const line of lines) expect(text).toContain(line.replace(/,$/, ''));
    }
    expect(text.split('\n').filter((l) => l.startsWith('{"commit"'))).toHaveLength(4);

    const pr = await runPush({ pullRequest: { number: 5, headSha: 'f'.repeat(40) } }, reportOfCommit(2));
    expect(pr.history).toMatchObject({ recorded: false, skipped: 'not-default-branch' });
    const feature = await runPush({ push: { sha: 'd'.repeat(40), ref: 'refs/heads/feature' } }, reportOfCommit(2));
    expect(feature.history).toMatchObject({ recorded: false, skipped: 'not-default-branch' });
    const rerun = await runPush({ push: { sha: commits[0] } }, reportOfCommit(1));
    expect(rerun.history).toMatchObject({ recorded: false, skipped: 'already-recorded' });
    expect(stored()).toBe(text);
  });

  test('a store on the branch that does not match the schema fails the step with the path of the problem', async () => {
    const good = stored()!;
    gh.contents.writeFile(OWNER, NAME, BRANCH, FILE, good.replace(`"commit":"${RACER}"`, '"commit":"not-a-sha"'));
    const outcome = await runPush({ push: { sha: '9'.repeat(40) } }, reportOfCommit(2));
    expect(outcome).toMatchObject({ exitCode: 2 });
    expect(stdout.join('')).toMatch(/::error::prune-gate: .*perf\/history\.json does not match schemas\/history\.schema\.json:%0A {2}\/entries\/1\/commit must match pattern/);
    gh.contents.writeFile(OWNER, NAME, BRANCH, FILE, good);
  });

  test('a PR run given the history file posts the comment with the trend of main; a broken file costs only the trend', async () => {
    const file = path.join(os.tmpdir(), `pg-history-${process.pid}.json`);
    fs.writeFileSync(file, stored()!);
    try {
      const pr = { pullRequest: { number: 8, headSha: 'f'.repeat(40) }, inputs: { mode: 'run', history: file } };
      const outcome = await runPush(pr, reportOfCommit(2));
      expect(outcome).toMatchObject({ mode: 'run', comment: { posted: true } });
      const body = gh.list(OWNER, NAME, 8)[0].body;
      const values = parseStore(stored()!, FILE).entries.map((e) => e.metrics[0].candidate.toFixed(2));
      expect(body).toContain(`**Trend on \`main\`** (last 4 commits, oldest first): accuracy ${values.join(' → ')} (this run 97.90)`);
      fs.writeFileSync(file, '{"schemaVersion":1}');
      const again = await runPush({ ...pr, pullRequest: { number: 8, headSha: 'e'.repeat(40) } }, reportOfCommit(2));
      expect(again.comment).toMatchObject({ posted: true, action: 'updated' });
      expect(gh.list(OWNER, NAME, 8)[0].body).not.toContain('**Trend on');
      expect(stdout.join('')).toContain("::warning::No trend line: ");
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  describe('the rendered page', () => {
    let browser: Browser;
    let dir: string;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-history-page-'));
      fs.writeFileSync(path.join(dir, 'history.json'), stored()!);
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('renders from the command line, loads from disk, draws every entry, hovers, and is not blank', async () => {
      const pageDir = path.join(dir, 'page');
      expect(await main(['history', 'render', '--store', path.join(dir, 'history.json'), '--out', pageDir])).toBe(0);
      expect(fs.readdirSync(pageDir).sort()).toEqual(['history-data.js', 'history-page.css', 'history-page.js', 'index.html', 'uPlot.iife.min.js', 'uPlot.min.css']);
      const store = parseStore(stored()!, FILE);

      const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('requestfailed', (req) => errors.push(`${req.url()}: ${req.failure()?.errorText}`));
      await page.goto('file://' + path.join(pageDir, 'index.html'));
      await page.waitForFunction(() => window.pruneGateHistory !== undefined);
      const drawn = await page.evaluate(() => {
        const h = window.pruneGateHistory!;
        return {
          entries: h.entries,
          charts: h.charts.map((c) => ({ id: c.id, series: c.uplot.series.slice(1).map((s, i) => ({ label: s.label, values: c.uplot.data[i + 1] })) })),
          canvases: document.querySelectorAll('#charts canvas').length,
          rows: document.querySelectorAll('#entries tbody tr').length,
          firstRow: document.querySelector('#entries tbody tr')?.textContent,
        };
      });
      expect(errors).toEqual([]);
      expect(drawn.entries).toBe(4);
      expect(drawn.charts.map((c) => c.id)).toEqual(['metric-accuracy', 'p95-batch-1', 'p95-batch-32', 'size']);
      expect(drawn.canvases).toBe(4);
      for (const c of drawn.charts) {
        expect(c.series.map((s) => s.label)).toEqual(['original', 'optimized']);
        // Points per series equal the entries, none missing.
        for (const s of c.series) expect(s.values.filter((v) => typeof v === 'number')).toHaveLength(store.entries.length);
      }
      const accuracy = drawn.charts[0].series[1].values;
      expect(accuracy).toEqual(store.entries.map((e) => e.metrics.find((m) => m.metric === 'accuracy')!.candidate));
      const p95b32 = drawn.charts[2].series[1].values;
      expect(p95b32).toEqual(store.entries.map((e) => e.p95.find((p) => p.batchSize === 32)!.candidate));
      // The table lists the newest first.
      expect(drawn.rows).toBe(4);
      expect(drawn.firstRow).toContain(commits[2].slice(0, 7));

      // Hovering the last point of the accuracy chart shows its commit and values in the legend.
      const over = page.locator('#chart-metric-accuracy .u-over');
      const box = (await over.boundingBox())!;
      const x = await page.evaluate(() => window.pruneGateHistory!.charts[0].uplot.valToPos(3, 'x'));
      await page.mouse.move(box.x + x, box.y + box.height / 2);
      const legend = await page.locator('#chart-metric-accuracy .u-legend').innerText();
      expect(legend).toContain(commits[2].slice(0, 7));
      expect(legend).toContain(store.entries[3].metrics[0].candidate.toFixed(2));
      expect(legend).toContain(store.entries[3].metrics[0].reference.toFixed(2));

      const shot = await page.screenshot({ fullPage: true, path: path.join(dir, 'history-page.png') });
      const stats = pngStats(shot);
      expect(stats.width).toBe(1100);
      // Lines, axes, text and the table: many colours and a fair share of non-background pixels.
      expect(stats.colours).toBeGreaterThan(50);
      expect(stats.inkShare).toBeGreaterThan(0.03);
      await page.close();
    });

    test('an empty history renders a page that says so, without errors', async () => {
      const emptyStore = path.join(dir, 'empty.json');
      fs.writeFileSync(emptyStore, serializeStore({ schemaVersion: 1, entries: [] }));
      const pageDir = path.join(dir, 'empty');
      expect(await main(['history', 'render', '--store', emptyStore, '--out', pageDir])).toBe(0);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto('file://' + path.join(pageDir, 'index.html'));
      expect(await page.locator('#summary').innerText()).toContain('No entries yet');
      expect(await page.locator('#charts canvas').count()).toBe(0);
      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
