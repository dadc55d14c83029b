/** The PR comment's trend line: computed from a history store by src/history, rendered by src/report, golden-tested. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendEntry, emptyStore, entryFromReport, trendFor, type HistoryStore } from '../../src/history/index.js';
import { renderComment, renderMarkdown } from '../../src/report/markdown.js';
import { passReport } from './fixtures.js';

const golden = path.join(import.meta.dirname, 'golden', 'trend.md');
const meta = { headSha: '0123456789abcdef0123456789abcdef01234567', runId: 987654321, runAttempt: 2 };

/** Six commits on main; the fourth did not measure batch 32. */
function mainHistory(): HistoryStore {
  let store = emptyStore();
  for (let i = 0; i < 6; i++) {
    const r = passReport();
    r.metrics[0].candidate = 95 + i / 4;
    r.latency = r.latency.map((l) => ({ ...l, candidate: { ...l.candidate, p95: l.candidate.p95 * (1 + i / 10) } })).filter((l) => i !== 3 || l.batchSize !== 32);
    const added = appendEntry(store, entryFromReport(r, { commit: String(i).repeat(40), time: `2026-11-0${i + 1}T00:00:00Z`, branch: 'main' }));
    if (added.appended) store = added.store;
  }
  return store;
}

test('the trend takes the last five entries, oldest first, with a gap where a batch size was not measured', () => {
  const trend = trendFor(passReport(), mainHistory())!;
  expect(trend.branch).toBe('main');
  expect(trend.values).toEqual([95.25, 95.5, 95.75, 96, 96.25]);
  expect(trend.p95.map((p) => p.batchSize)).toEqual([1, 32]);
  expect(trend.p95[1].values[2]).toBeNull();
  expect(trend.p95[0].values.every((v) => typeof v === 'number')).toBe(true);
  expect(trendFor(passReport(), emptyStore())).toBeUndefined();
});

test('renders as the golden comment: one trend line between the latency and the size tables', () => {
  const md = renderComment(passReport(), meta, { trend: trendFor(passReport(), mainHistory()) });
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(golden, md);
  if (!fs.existsSync(golden)) throw new Error(`${golden} is missing; run the test with UPDATE_GOLDEN=1 to write it, then read it before committing`);
  expect(md).toBe(fs.readFileSync(golden, 'utf8'));
  const lines = md.split('\n').filter((l) => l.startsWith('**Trend on'));
  expect(lines).toHaveLength(1);
  expect(md.indexOf('**Latency**')).toBeLessThan(md.indexOf(lines[0]));
  expect(md.indexOf(lines[0])).toBeLessThan(md.indexOf('| File size |'));
  // Without a trend the comment is the one without history.
  expect(renderMarkdown(passReport(), { trend: undefined })).toBe(renderMarkdown(passReport()));
});
