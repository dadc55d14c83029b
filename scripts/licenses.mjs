// Third-party notices for what we ship: every npm package esbuild bundled into dist/ (from the
// build's metafile) plus the ONNX Runtime packages that ship beside it. Deterministic output.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package folder of a bundled input path such as node_modules/@octokit/core/dist-src/index.js. */
function packageDir(input) {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const scoped = parts[at + 1].startsWith('@');
  return parts.slice(0, at + (scoped ? 3 : 2)).join('/');
}

function licenseText(dir) {
  const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  return file ? fs.readFileSync(path.join(dir, file), 'utf8').trim() : undefined;
}

const ORT_NOTE = `The npm package ships no licence file; its package.json declares MIT.
MIT License, Copyright (c) Microsoft Corporation.
The native library (libonnxruntime) also contains third-party components listed in ONNX Runtime's
ThirdPartyNotices.txt for the same version: https://github.com/microsoft/onnxruntime/blob/v1.30.0/ThirdPartyNotices.txt`;

/** @param {import('esbuild').Metafile} metafile @param {string[]} shippedBeside package folders copied next to dist/ */
export function thirdPartyNotices(metafile, shippedBeside) {
  const dirs = new Set(shippedBeside);
  for (const input of Object.keys(metafile.inputs)) {
    const dir = packageDir(input);
    if (dir) dirs.add(dir);
  }
  const sections = [...dirs].sort().map((dir) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const text = licenseText(dir) ?? (pkg.name.startsWith('onnxruntime') ? ORT_NOTE : `No licence file in the package; package.json declares ${pkg.license ?? 'nothing'}.`);
    return `## ${pkg.name}@${pkg.version} (${pkg.license ?? 'unknown'})\n\n${text}\n`;
  });
  return `# Third-party notices\n\nprune-gate's dist/ bundles, and its release ships, the following packages.\n\n${sections.join('\n')}`;
}
