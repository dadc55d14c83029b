import { decodeNpy, encodeNpy } from '../../scripts/train/npy.js';

const headerOf = (bytes: Uint8Array) => Buffer.from(bytes.subarray(10, 10 + (bytes[8] | (bytes[9] << 8)))).toString('latin1');

test('float32 arrays round-trip with a NumPy v1.0 header padded to 64 bytes', () => {
  const data = Float32Array.from({ length: 24 }, (_, i) => i / 7 - 1);
  const bytes = encodeNpy({ dtype: '<f4', shape: [2, 3, 4], data });
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const header = headerOf(bytes);
  expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3, 4\), \} *\n$/);
  expect((10 + header.length) % 64).toBe(0);
  expect(bytes.length).toBe(10 + header.length + 24 * 4);
  const back = decodeNpy(bytes);
  expect(back.dtype).toBe('<f4');
  expect(back.shape).toEqual([2, 3, 4]);
  expect(Array.from(back.data as Float32Array)).toEqual(Array.from(data));
});

test('decoding reads a Buffer that is a view into a larger pool', () => {
  const bytes = encodeNpy({ dtype: '<f4', shape: [3], data: Float32Array.from([1.5, -2, 3]) });
  const pool = Buffer.alloc(bytes.length + 100, 7);
  pool.set(bytes, 37);
  expect(Array.from(decodeNpy(pool.subarray(37, 37 + bytes.length)).data as Float32Array)).toEqual([1.5, -2, 3]);
});

test('int64 vectors use the one-element tuple form and round-trip', () => {
  const data = BigInt64Array.from([0n, 9n, -3n, 2n ** 40n]);
  const bytes = encodeNpy({ dtype: '<i8', shape: [4], data });
  expect(headerOf(bytes)).toContain("'shape': (4,), }");
  const back = decodeNpy(bytes);
  expect(back.dtype).toBe('<i8');
  expect(Array.from(back.data as BigInt64Array)).toEqual(Array.from(data));
});

test('a shape that does not match the data, a foreign file or dtype are errors', () => {
  expect(() => encodeNpy({ dtype: '<f4', shape: [3], data: new Float32Array(2) })).toThrow(/holds 3 elements/);
  expect(() => decodeNpy(Buffer.from('not numpy at all'), 'x.npy')).toThrow(/x.npy: not a .npy file/);
  const f8 = encodeNpy({ dtype: '<f4', shape: [1], data: new Float32Array(1) });
  const patched = Buffer.from(f8.slice());
  patched.write("'<f8'", patched.indexOf("'<f4'"), 'latin1');
  expect(() => decodeNpy(patched, 'y.npy')).toThrow(/dtype <f8 is not supported/);
});
