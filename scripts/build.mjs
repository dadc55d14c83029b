// Bundles the two entry points (the Action and the CLI) into dist/.
// onnxruntime-node stays external: it is a native addon and ships beside dist/ (see docs/releasing.md).
// onnxruntime-web too: it finds its .wasm files beside its own module, and is loaded (a dynamic
// import) only when a config lists the wasm target.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { thirdPartyNotices } from './licenses.mjs';

const shared = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['onnxruntime-node', 'onnxruntime-web'],
  legalComments: 'none',
  // ESM output still meets CommonJS dependencies that call require(); give them one.
  banner: { js: "import { createRequire as __pgCreateRequire } from 'node:module'; const require = __pgCreateRequire(import.meta.url);" },
  logLevel: 'warning',
};

// Start clean: chunk names carry a content hash, so an old chunk would linger beside the new one.
rmSync('dist', { recursive: true, force: true });
const result = await build({ ...shared, metafile: true, entryPoints: { index: 'src/index.ts', cli: 'src/cli.ts' }, outdir: 'dist', splitting: true, chunkNames: 'chunks/[name]-[hash]' });
// The history page's static files (src/history/assets.ts finds them here): a release has no node_modules.
mkdirSync('dist/history-page');
for (const f of ['index.html', 'history-page.js', 'history-page.css']) copyFileSync(`src/history/page/${f}`, `dist/history-page/${f}`);
for (const f of ['uPlot.iife.min.js', 'uPlot.min.css']) copyFileSync(`node_modules/uplot/dist/${f}`, `dist/history-page/${f}`);
// legalComments are dropped from the bundle; the licences are collected here instead.
writeFileSync('dist/THIRD_PARTY_NOTICES.md', thirdPartyNotices(result.metafile, ['node_modules/onnxruntime-node', 'node_modules/onnxruntime-web', 'node_modules/onnxruntime-common', 'node_modules/uplot']));
