import { OutputStore } from '../../src/evaluate/output-store.js';

test('outputs past the memory limit spill to disk and read back the same, across run boundaries; release removes the files', () => {
  const store = new OutputStore('model.onnx', 64);
  const block = (start: number, n: number) => ({ values: Float32Array.from({ length: n * 4 }, (_, i) => start * 4 + i), n, shape: [2, 2] });
  store.append('y', block(0, 2));
  expect(store.spilled).toBe(false);
  store.append('y', block(2, 3));
  store.append('z', { values: Float32Array.of(7, 8, 9, 10, 11), n: 5, shape: [] });
  // 32 + 48 bytes of y is over the 64-byte limit: everything is on disk now.
  expect(store.spilled).toBe(true);
  expect(store.count('y')).toBe(5);
  expect(store.shapeOf('y')).toEqual([2, 2]);
  expect(Array.from(store.read('y', 1, 3).values)).toEqual(Array.from({ length: 12 }, (_, i) => 4 + i));
  expect(Array.from(store.readAll('z').values)).toEqual([7, 8, 9, 10, 11]);
  expect(() => store.read('y', 4, 2)).toThrow(/holds 5 samples, not \[4, 6\)/);
  store.release();
  expect(store.names).toEqual([]);
});

test('an output whose shape changes between runs has no one shape, and a range across the change is refused', () => {
  const store = new OutputStore('sets');
  store.append('y', { values: new Float32Array(3), n: 1, shape: [3] });
  store.append('y', { values: new Float32Array(5), n: 1, shape: [5] });
  expect(store.shapeOf('y')).toBeUndefined();
  expect(store.read('y', 1, 1).shape).toEqual([5]);
  expect(() => store.read('y', 0, 2)).toThrow(/changes shape within samples \[0, 2\)/);
});
