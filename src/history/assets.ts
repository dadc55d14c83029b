/**
 * The files of the history page besides its data: the page (src/history/page/) and uPlot's
 * browser build. From the sources they are read in place (uPlot from node_modules); the bundle in
 * dist/ carries copies in dist/history-page/ (scripts/build.mjs), since a release has no node_modules.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface PageAsset {
  /** File name in the rendered folder. */
  name: string;
  /** Where to copy it from. */
  source: string;
}

/** Page files, in src/history/page/ and in dist/history-page/. */
export const PAGE_FILES = ['index.html', 'history-page.js', 'history-page.css'];
/** uPlot's files the page loads, by name in the rendered folder and module path in node_modules. */
export const UPLOT_FILES: Record<string, string> = { 'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js', 'uPlot.min.css': 'uplot/dist/uPlot.min.css' };

export function pageAssets(): PageAsset[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/history/page when run from the sources; dist/history-page beside dist/ or dist/chunks/.
  const dirs = [path.join(here, 'page'), path.join(here, 'history-page'), path.join(here, '..', 'history-page')];
  const find = (name: string) => dirs.map((d) => path.join(d, name)).find((f) => fs.existsSync(f));
  const require = createRequire(import.meta.url);
  const resolveModule = (spec: string) => {
    try {
      return require.resolve(spec);
    } catch {
      return undefined;
    }
  };
  const assets: PageAsset[] = [];
  for (const name of PAGE_FILES) assets.push({ name, source: need(find(name), name) });
  for (const [name, spec] of Object.entries(UPLOT_FILES)) assets.push({ name, source: need(find(name) ?? resolveModule(spec), name) });
  return assets;
}

function need(file: string | undefined, name: string): string {
  if (!file) throw new Error(`internal: the history page's ${name} is missing from this installation (expected in dist/history-page/ or src/history/page/); rebuild with npm run build.`);
  return file;
}
