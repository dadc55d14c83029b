/**
 * The folders of src/ show the pipeline, and each imports only folders below it: no folder imports
 * a folder that imports it back, directly or through others. Read from the sources' import lines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** The top folder of a file under src/ ('' for the entry points at its root). */
const folderOf = (file: string) => {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length > 1 ? parts[0] : '';
};

function folderEdges(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
      const target = path.resolve(path.dirname(file), m[1]);
      if (!target.startsWith(SRC + path.sep)) continue;
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from === to) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  return edges;
}

test('no folder of src/ reaches itself through its imports', () => {
  const edges = folderEdges();
  const cycles: string[] = [];
  for (const start of edges.keys()) {
    const stack = [...edges.get(start)!].map((next) => [start, next]);
    const seen = new Set<string>();
    while (stack.length) {
      const trail = stack.pop()!;
      const last = trail[trail.length - 1];
      if (last === start) {
        cycles.push(trail.map((f) => f || '(root)').join(' -> '));
        break;
      }
      if (seen.has(last)) continue;
      seen.add(last);
      for (const next of edges.get(last) ?? []) stack.push([...trail, next]);
    }
  }
  expect(cycles).toEqual([]);
});

test('the layers keep their borders: onnx knows nothing of passes or GitHub, passes nothing of reporting, only entry points import cli/action', () => {
  const edges = folderEdges();
  const importsOf = (folder: string) => [...(edges.get(folder) ?? [])].sort();
  expect(importsOf('onnx')).toEqual(['util']);
  expect(importsOf('metrics')).toEqual(['util']);
  for (const f of ['passes', 'stages', 'evaluate']) expect(importsOf(f)).not.toEqual(expect.arrayContaining(['report']));
  for (const [from, to] of edges) if (to.has('cli') || to.has('action')) expect(from).toBe('');
  // history sits after report and before github/pipeline: it reads reports, GitHub writes its store.
  expect(importsOf('history')).not.toEqual(expect.arrayContaining(['github']));
  expect(importsOf('history')).not.toEqual(expect.arrayContaining(['pipeline']));
  expect(importsOf('report')).not.toContain('history');
  // The runtime border: only the target registry (evaluate/targets.ts) names an ONNX Runtime package,
  // and onnxruntime-web only in a dynamic import (loaded when a config lists wasm, never at start-up).
  const ortImporters = sourceFiles(SRC).filter((f) => /(from\s+|import\()['"]onnxruntime-(node|web|common)['"]/.test(fs.readFileSync(f, 'utf8')));
  expect(ortImporters.map((f) => path.relative(SRC, f))).toEqual(['evaluate/targets.ts']);
  const targets = fs.readFileSync(path.join(SRC, 'evaluate/targets.ts'), 'utf8');
  expect(targets).toMatch(/await import\('onnxruntime-web'\)/);
  expect(targets).not.toMatch(/^import [^;]*from 'onnxruntime-web'/m);
});
