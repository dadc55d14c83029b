import * as fs from 'node:fs';
import * as path from 'node:path';
import { CALIB_COUNT, EVAL_COUNT, patchify, readDigits, splitDigits, toBatch } from '../../scripts/train/mnist-data.js';
import { readNpy } from '../../scripts/train/npy.js';
import { ROOT } from './example-eval.js';

const digits = readDigits();

test('the mnist package gives 10,000 digits of 784 pixels in [0,1], every class present', () => {
  expect(digits.length).toBe(10000);
  const perClass = new Array(10).fill(0);
  for (const d of digits) {
    perClass[d.label]++;
    expect(d.pixels.length).toBe(784);
  }
  expect(perClass.every((c) => c > 800)).toBe(true);
  const all = digits.slice(0, 50).flatMap((d) => Array.from(d.pixels));
  expect(Math.min(...all)).toBe(0);
  expect(Math.max(...all)).toBeLessThanOrEqual(1);
});

test('the split is seeded, disjoint and covers every digit once', () => {
  const a = splitDigits(digits);
  const b = splitDigits(digits);
  const key = (s: { label: number; index: number }) => `${s.label}:${s.index}`;
  expect(a.eval.map(key)).toEqual(b.eval.map(key));
  expect(a.eval.length).toBe(EVAL_COUNT);
  expect(a.calib.length).toBe(CALIB_COUNT);
  const seen = new Set([...a.eval, ...a.calib, ...a.train].map(key));
  expect(seen.size).toBe(10000);
  expect(splitDigits(digits, 7).eval.map(key)).not.toEqual(a.eval.map(key));
});

test('patchify lays 7x7 patches out row-major, patch after patch', () => {
  const img = Float32Array.from({ length: 784 }, (_, i) => i);
  const tokens = patchify(img, 1);
  // token 5 is patch row 1, col 1: its first pixel is image (7, 7), its last (13, 13)
  expect(tokens[5 * 49]).toBe(7 * 28 + 7);
  expect(tokens[5 * 49 + 48]).toBe(13 * 28 + 13);
  expect(tokens[15 * 49 + 8]).toBe((21 + 1) * 28 + 21 + 1);
  expect(new Set(tokens).size).toBe(784);
});

test('the committed example data is exactly what the script derives', () => {
  const split = splitDigits(digits);
  const ev = toBatch(split.eval);
  const cal = toBatch(split.calib);
  const bytes = (a: Float32Array | BigInt64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const same = (file: string, expected: Float32Array, shape: number[]) => {
    const a = readNpy(path.join(ROOT, 'examples', file));
    expect(a.shape).toEqual(shape);
    expect(bytes(a.data).equals(bytes(expected))).toBe(true);
  };
  same('mnist/data/eval_x.npy', ev.x, [1000, 1, 28, 28]);
  same('mnist/data/calib_x.npy', cal.x, [256, 1, 28, 28]);
  same('transformer/data/eval_x.npy', patchify(ev.x, ev.count), [1000, 16, 49]);
  same('transformer/data/calib_x.npy', patchify(cal.x, cal.count), [256, 16, 49]);
  for (const dir of ['mnist', 'transformer']) {
    const y = readNpy(path.join(ROOT, 'examples', dir, 'data/eval_y.npy'));
    expect(Array.from(y.data as BigInt64Array, Number)).toEqual(Array.from(ev.y));
  }
  const provenance = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples/mnist/data/split.json'), 'utf8'));
  expect(provenance.eval).toEqual(split.eval.map((s) => [s.label, s.index]));
});
