/**
 * `prune-gate history render`: a static page in a folder. index.html loads the chart library,
 * its own script and the data as plain <script> files beside it, so it works opened from disk
 * (where a page cannot fetch JSON) and served by GitHub Pages alike.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { pageAssets } from './assets.js';
import type { HistoryStore } from './types.js';

export const DATA_FILE = 'history-data.js';

export function renderHistoryPage(store: HistoryStore, outDir: string): string[] {
  const written: string[] = [];
  for (const asset of pageAssets()) {
    const target = path.join(outDir, asset.name);
    writeFileAtomic(target, fs.readFileSync(asset.source));
    written.push(target);
  }
  const data = path.join(outDir, DATA_FILE);
  writeFileAtomic(data, dataScript(store));
  written.push(data);
  return written;
}

/** JSON is a JavaScript expression; U+2028/2029 are escaped for older engines all the same. */
export function dataScript(store: HistoryStore): string {
  const json = JSON.stringify(store).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `// Written by prune-gate history render: the history store the page draws.\nwindow.PRUNE_GATE_HISTORY = ${json};\n`;
}
