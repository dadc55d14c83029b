import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderComment, renderJobSummary, renderMarkdown, MAX_COMMENT_CHARS } from '../../src/report/markdown.js';
import { escapeText } from '../../src/report/escape.js';
import { reportProblems } from '../../src/report/validate.js';
import { COMMENT_MARKER, parseMarkers } from '../../src/report/markers.js';
import type { Report } from '../../src/report/types.js';
import { baseBranchReport, configErrorReport, failReport, frozenBaselineReport, modelErrorReport, passReport, targetsReport, warnReport } from './fixtures.js';

const goldenDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const update = process.env.UPDATE_GOLDEN === '1';
const meta = { headSha: '0123456789abcdef0123456789abcdef01234567', runId: 987654321, runAttempt: 2 };

const cases: [string, () => Report, Report['verdict']][] = [
  ['pass', passReport, 'pass'],
  ['fail', failReport, 'fail'],
  ['warn', warnReport, 'warn'],
  ['frozen-baseline', frozenBaselineReport, 'pass'],
  ['base-branch', baseBranchReport, 'fail'],
  ['targets', targetsReport, 'fail'],
  ['error-config', configErrorReport, 'error'],
  ['error-model', modelErrorReport, 'error'],
];

describe.each(cases)('%s report', (name, build, verdict) => {
  const report = build();

  test('has the expected verdict and matches the schema', () => {
    expect(report.verdict).toBe(verdict);
    expect(reportProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
  });

  test('renders as the golden comment', () => {
    const md = renderComment(report, meta);
    const file = path.join(goldenDir, `${name}.md`);
    if (update) fs.writeFileSync(file, md);
    // A missing golden file is a failure, never written silently: UPDATE_GOLDEN=1 writes it on purpose.
    if (!fs.existsSync(file)) throw new Error(`${file} is missing; run the test with UPDATE_GOLDEN=1 to write it, then read it before committing`);
    expect(md).toBe(fs.readFileSync(file, 'utf8'));
  });

  test('starts with the markers and the verdict line; the job summary has the same content without markers', () => {
    const md = renderComment(report, meta);
    const lines = md.split('\n');
    expect(lines[0]).toBe(COMMENT_MARKER);
    expect(parseMarkers(md)).toEqual(meta);
    expect(lines[3]).toMatch(/^### (✅|❌|⚠️|🛑) prune-gate: /);
    const summary = renderJobSummary(report);
    expect(summary).not.toContain(COMMENT_MARKER);
    expect(md.endsWith(summary)).toBe(true);
  });
});

test('user-controlled names cannot inject HTML, break tables or mention anyone', () => {
  const md = renderMarkdown(passReport());
  expect(md).not.toContain('<script>');
  expect(md).toContain('fc&#124;1&lt;script&gt;alert(1)&lt;/script&gt;');
  expect(md).not.toContain('@octo-org');
  expect(md).toContain('&#64;octo-org/team');
  expect(md).not.toMatch(/\*\*bold\*\*/);
  // Every table row keeps its column count.
  for (const block of md.split('\n\n')) {
    const rows = block.split('\n').filter((l) => l.startsWith('| '));
    if (rows.length === 0) continue;
    const cols = (l: string) => l.split(' | ').length;
    for (const r of rows) expect(cols(r)).toBe(cols(rows[0]));
  }
});

test('escapeText flattens newlines and caps length', () => {
  expect(escapeText('a\nb|c')).toBe('a b&#124;c');
  expect(escapeText('x'.repeat(50), 10)).toBe('x'.repeat(9) + '…');
});

test('the pass report reads in ten seconds: verdict, metric table, latency, size before any details', () => {
  const md = renderMarkdown(passReport());
  const firstDetails = md.indexOf('<details>');
  for (const s of ['prune-gate: pass', '| **accuracy** (drop ≤ 2 pts) |', '**Latency**', '| File size |', '| gzip size |', '| Peak memory (RSS) |']) {
    expect(md.indexOf(s)).toBeGreaterThanOrEqual(0);
    expect(md.indexOf(s)).toBeLessThan(firstDetails);
  }
});

test('steps produce two xychart-beta charts with one value per step and the limit line', () => {
  const md = renderMarkdown(passReport());
  const charts = [...md.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(charts).toHaveLength(2);
  for (const c of charts) {
    const lines = c.trim().split('\n').map((l) => l.trim());
    expect(lines[0]).toBe('xychart-beta');
    expect(lines[1]).toMatch(/^title "[^"]+"$/);
    expect(lines[2]).toBe('x-axis "step" ["0", "1", "2", "3"]');
    expect(lines[3]).toMatch(/^y-axis "[^"]+" -?[\d.]+ --> [\d.]+$/);
    for (const series of lines.slice(4)) expect(series).toMatch(/^(bar|line) \[-?[\d.]+(, -?[\d.]+){3}\]$/);
  }
  expect(charts[0]).toContain('bar [0, 0.2, 1.3, 0.4]');
  expect(charts[0]).toContain('line [2, 2, 2, 2]');
  expect(charts[1]).toContain('bar [1, 0.88, 0.9, 0.58]');
});

test('a huge report stays under GitHub\'s comment size limit', () => {
  const r = passReport();
  r.fallbackNodes = Array.from({ length: 5000 }, (_, i) => ({ what: `node_${i}_${'x'.repeat(200)}`, reason: 'r'.repeat(300) }));
  const md = renderComment(r, meta);
  expect(md.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
  expect(md).toContain('more in report.json');
  expect(md).toContain('prune-gate: pass');
});

test('a P99 over fewer than 100 runs per model is marked noisy; with enough runs it shows its interval only', () => {
  const report = passReport();
  report.latency[0].runs = 40;
  report.latency[1].runs = 400;
  const rows = renderMarkdown(report)
    .split('\n')
    .filter((l) => /^\| (1|32) \| .* → /.test(l));
  expect(rows[0]).toContain('1.50 → 0.690 (0.46×, 0.42–0.50; noisy: 40 runs)');
  expect(rows[1]).toContain('1.50 → 0.780 (0.52×, 0.49–0.55) |');
});

test('the headline gives the size ratio; the context line the PR, head commit, time, run and artifact; the reproduce block the commands', () => {
  const md = renderMarkdown(baseBranchReport());
  expect(md.split('\n')[0]).toBe('### ❌ prune-gate: fail · model 0.30× the size');
  expect(md).toContain('<sub>PR #7 at `0123456789ab` · measured 2026-12-02 12:00 UTC · [workflow run](https://github.com/acme/models/actions/runs/987654321/attempts/2), artifact `prune-gate-report`</sub>');
  expect(md).toContain('> **This PR changes the model.**');
  expect(md).toContain('npx prune-gate@0.1.0 optimize --config prune-gate.yml --replay prune-gate-report/report.json --out model.optimized.onnx');
  // A PR that kept its model: no callout.
  expect(renderMarkdown(passReport())).not.toContain('[!NOTE]');
});

test('one sign convention: every drift in the comment is positive when the candidate is worse, stated once in the legend', () => {
  const md = renderMarkdown(passReport());
  // The candidate lost 0.70 points: the metric table, the verdict and the step table all say +/positive.
  expect(md).toContain('| 98.20 | 97.50 | +0.70 (0.47 to 0.98) |');
  expect(md).toContain('**Accuracy dropped 0.70 points (95 % CI 0.47 to 0.98)');
  expect(md).not.toContain('Δ');
  expect(md).not.toContain('-0.70');
  expect(md.match(/positive = worse, for every metric/g)).toHaveLength(1);
});

test('one name per reference: the tables, notes and sentences never say "original" or "baseline" for the PR model', () => {
  for (const report of [passReport(), frozenBaselineReport(), baseBranchReport()]) {
    report.timings['evaluate-original'] = 0.4;
    const md = renderMarkdown(report);
    expect(md).not.toMatch(/\boriginal\b/i);
    // "baseline" only ever as "frozen baseline" (the `mode: baseline` and command words aside).
    expect(md.replace(/frozen baseline|mode: baseline|prune-gate baseline|refreeze the baseline/gi, '')).not.toMatch(/\bbaseline\b/i);
  }
});

test("the step table's P95 is labelled the loop's probe, and the shipped candidate's P95 beside it is the headline's", () => {
  const md = renderMarkdown(passReport());
  expect(md).toContain('| Drift vs PR model | P95 ÷ previous step (loop probe) |');
  // The latency table's final benchmark numbers, repeated above the step table.
  expect(md).toContain("The shipped candidate's P95 is the final interleaved benchmark's, as in the latency table: 0.46× at batch 1, 0.52× at batch 32 (candidate ÷ PR model).");
  expect(md).toContain('1.20 → 0.624 (0.52×, 0.49–0.55)');
  expect(md).toContain('on the 1700 search samples (the table above: the 4000 test samples)');
});
