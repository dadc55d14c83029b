/**
 * 1,200 seeded mutations of real and built models. Our importer must load each or throw an
 * InputError; every mutant it accepts is then opened by ORT in child processes (many files per
 * child) so that a native crash shows up as a dead child, attributed to the file it was on.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/util/errors.js';
import { encodeModel, loadModel } from '../../src/onnx/index.js';
import { convNet, ifOuterScope, loopModel } from '../onnx/families.js';
import { MODELS, tempDir } from '../onnx/helpers.js';
import { mutants } from '../onnx/mutate.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, '..', 'onnx', 'ort-session-child.ts');
const dir = tempDir('pg-fuzz-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  file: string;
  label: string;
  result: string;
}

/** Runs the child over `files`, restarting after a crash; returns one outcome per file. */
function openInOrt(files: string[]): string[] {
  const results: string[] = new Array(files.length).fill('');
  const list = path.join(dir, 'files.json');
  fs.writeFileSync(list, JSON.stringify(files));
  let next = 0;
  while (next < files.length) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, list, String(next)], { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
    let last = next - 1;
    for (const line of child.stdout.split('\n')) {
      const m = /^(\d+) (.*)$/.exec(line);
      if (!m) continue;
      results[Number(m[1])] = m[2];
      last = Number(m[1]);
    }
    if (child.status === 0 && last === files.length - 1) break;
    // The child died on the file after the last one it reported.
    const dead = last + 1;
    if (dead < files.length) results[dead] = `crash (status ${child.status}, signal ${child.signal}): ${child.stderr.slice(-300)}`;
    next = dead + 1;
  }
  return results;
}

test('1,200 mutants: importer gives a model or an InputError; ORT gives a session or an InputError, never a crash', () => {
  const sources: Array<[string, Uint8Array, number]> = [
    ['openwakeword', fs.readFileSync(MODELS.wakeword), 400],
    ['convnet', encodeModel(convNet()), 300],
    ['if', encodeModel(ifOuterScope()), 250],
    ['loop', encodeModel(loopModel()), 250],
  ];
  const accepted: Outcome[] = [];
  const wrongErrors: string[] = [];
  let total = 0;
  let rejected = 0;
  sources.forEach(([name, bytes, count], s) => {
    for (const [k, m] of mutants(bytes, count, 100 + s).entries()) {
      total++;
      const file = path.join(dir, `${name}-${k}.onnx`);
      fs.writeFileSync(file, m.bytes);
      const started = Date.now();
      try {
        loadModel(file);
        accepted.push({ file, label: `${name} ${m.label}`, result: '' });
      } catch (err) {
        if (err instanceof InputError) rejected++;
        else wrongErrors.push(`${name} ${m.label}: ${(err as Error).name}: ${(err as Error).message}`);
        fs.rmSync(file);
      }
      // A hang would show as a slow load long before jest's timeout.
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  });
  expect(total).toBeGreaterThanOrEqual(1000);
  expect(wrongErrors).toEqual([]);
  expect(rejected).toBeGreaterThan(200);
  expect(accepted.length).toBeGreaterThan(100);

  const results = openInOrt(accepted.map((a) => a.file));
  accepted.forEach((a, i) => (a.result = results[i]));
  const bad = accepted.filter((a) => a.result !== 'session' && a.result !== 'input-error');
  expect(bad.map((b) => `${b.label}: ${b.result}`)).toEqual([]);
  // Both outcomes occur: the check is not vacuous.
  expect(accepted.some((a) => a.result === 'session')).toBe(true);
});
