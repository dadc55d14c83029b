import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../src/util/errors.js';
import { encodeModel, loadModel } from '../../src/onnx/index.js';
import { ifOuterScope, loopModel } from './families.js';
import { MODELS, tempDir } from './helpers.js';
import { mutants } from './mutate.js';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Loads every mutant from a file; each must load or throw an InputError naming the file. */
function check(source: Uint8Array, count: number, seed: number): { loaded: number; rejected: number } {
  let loaded = 0;
  let rejected = 0;
  const file = path.join(dir, `mutant-${seed}.onnx`);
  for (const m of mutants(source, count, seed)) {
    fs.writeFileSync(file, m.bytes);
    try {
      loadModel(file);
      loaded++;
    } catch (err) {
      if (!(err instanceof InputError)) throw new Error(`${m.label}: ${(err as Error).name} instead of InputError: ${(err as Error).message}`);
      expect(err.message).toContain(file);
      rejected++;
    }
  }
  return { loaded, rejected };
}

test('300 mutants of a real model (openwakeword): each loads or is an InputError', () => {
  const r = check(fs.readFileSync(MODELS.wakeword), 300, 1);
  expect(r.loaded + r.rejected).toBe(300);
  // Truncations and junk must be caught, not all accepted.
  expect(r.rejected).toBeGreaterThan(100);
});

test('200 mutants of models with nested graphs (If, Loop): each loads or is an InputError', () => {
  const a = check(encodeModel(ifOuterScope()), 100, 2);
  const b = check(encodeModel(loopModel()), 100, 3);
  expect(a.rejected + b.rejected).toBeGreaterThan(50);
});

test('an empty file, a directory and a text file are InputErrors', () => {
  const empty = path.join(dir, 'empty.onnx');
  fs.writeFileSync(empty, '');
  expect(() => loadModel(empty)).toThrow(/empty\.onnx: not a valid ONNX model/);
  expect(() => loadModel(dir)).toThrow(/not a file/);
  const text = path.join(dir, 'readme.onnx');
  fs.writeFileSync(text, '# hello\nthis is markdown\n');
  expect(() => loadModel(text)).toThrow(InputError);
});
