/** Seeded random data for tests: same seed, same numbers, on every machine. */
import { uniform } from '../../src/evaluate/rng.js';

/** mulberry32, the product's seeded generator. */
export const mulberry32 = uniform;

/** `n` uniform floats in [lo, hi). */
export function uniformArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

/** Integers in [0, n). */
export function randomInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}
