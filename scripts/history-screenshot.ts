/**
 * The screenshot in docs/history.md: eight made-up commits on main built from the bundled example's
 * real report (test/fixtures/history/mnist-report.json) with the numbers moved as successive commits
 * would move them, rendered by `prune-gate history render` and photographed in Debian's Chromium.
 *   npx tsx scripts/history-screenshot.ts [docs/history-page.png]
 * then, to keep the committed file small: pngquant --force --quality 70-90 --output docs/history-page.png docs/history-page.png
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendEntry, emptyStore, entryFromReport, renderHistoryPage } from '../src/history/index.js';
import { readReport } from '../src/report/validate.js';
import { launchChromium } from '../test/helpers/browser.js';

const out = process.argv[2] ?? 'docs/history-page.png';
const accuracy = [97.5, 97.7, 97.6, 97.9, 98.0, 98.3, 98.1, 98.2];
const reference = [98.5, 98.5, 98.5, 98.5, 98.5, 98.8, 98.8, 98.8];
const speed = [1, 0.97, 1.02, 0.95, 0.93, 0.9, 0.82, 0.8];
const kib = [134, 134, 131, 131, 128, 128, 112, 110];

let store = emptyStore();
for (let i = 0; i < accuracy.length; i++) {
  const r = readReport('test/fixtures/history/mnist-report.json');
  r.metrics[0].reference = reference[i];
  r.metrics[0].candidate = accuracy[i];
  r.metrics[0].drift = reference[i] - accuracy[i];
  for (const l of r.latency) {
    l.candidate.p95 *= speed[i];
    l.ratios.p95.value = l.candidate.p95 / l.original.p95;
  }
  r.resources!.candidate.fileBytes = kib[i] * 1024;
  const commit = (0x1f3a5c7 + i * 0x2b4d1).toString(16).padEnd(40, String(i));
  const added = appendEntry(store, entryFromReport(r, { commit, time: new Date(Date.UTC(2026, 10, 2 + i * 3, 14)).toISOString(), branch: 'main' }));
  if (added.appended) store = added.store;
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-history-shot-'));
renderHistoryPage(store, dir);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
await page.goto('file://' + path.join(dir, 'index.html'));
// Hover the last commit of the accuracy chart, so the picture shows the legend a reader gets.
const over = (await page.locator('#chart-metric-accuracy .u-over').boundingBox())!;
await page.mouse.move(over.x + over.width * 0.93, over.y + over.height / 2);
await page.screenshot({ path: out, fullPage: true });
await browser.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(`wrote ${out}`);
