/**
 * The repair kernels and the magnitude select are rewritten for speed; they must give the same
 * bits as the plain loops (and ml-matrix's Cholesky) they replaced, zeros, ties and all.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { gramRows, matmul, matmulTN, solveSpd } from '../../../src/passes/prune/linalg.js';
import { kthSmallestMagnitude, zeroSmallest } from '../../../src/passes/prune/select.js';
import { mulberry32 } from '../../helpers/seeded-random.js';

const bits = (a: Float64Array | Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Values in [-1, 1) with about `zeros` of them exactly 0 (ReLU outputs are half zeros). */
function data(n: number, seed: number, zeros = 0.5): Float64Array {
  const rand = mulberry32(seed);
  return Float64Array.from({ length: n }, () => (rand() < zeros ? 0 : rand() * 2 - 1));
}

function naiveMatmul(a: Float64Array, n: number, k: number, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      if (x === 0) continue;
      for (let j = 0; j < m; j++) c[i * m + j] += x * b[p * m + j];
    }
  return c;
}

function naiveMatmulTN(a: Float64Array, n: number, k: number, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(k * m);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      if (x === 0) continue;
      for (let j = 0; j < m; j++) c[p * m + j] += x * b[i * m + j];
    }
  return c;
}

function naiveGramRows(a: Float64Array, n: number, k: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * a[j * k + p];
      g[i * n + j] = s;
      g[j * n + i] = s;
    }
  return g;
}

/** The solve as it was: ml-matrix's Cholesky, the diagonal bumped when it is not positive definite. */
function mlMatrixSolve(g: Float64Array, d: number, b: Float64Array, m: number, lambda: number): Float64Array {
  const rows = Array.from({ length: d }, (_, i) => {
    const row = Array.from(g.subarray(i * d, (i + 1) * d));
    row[i] += lambda;
    return row;
  });
  const rhs = Array.from({ length: d }, (_, i) => Array.from(b.subarray(i * m, (i + 1) * m)));
  const chol = new CholeskyDecomposition(new Matrix(rows));
  const x = chol.isPositiveDefinite()
    ? chol.solve(new Matrix(rhs))
    : new CholeskyDecomposition(new Matrix(rows.map((r, i) => r.map((v, j) => (i === j ? v * (1 + 1e-6) + 1e-9 : v))))).solve(new Matrix(rhs));
  return Float64Array.from(x.to1DArray());
}

describe('linalg kernels give the plain loops bits', () => {
  // Sizes not multiples of the unrolling (8 terms, 4 rows) exercise every remainder path.
  test.each([
    [1, 1, 1],
    [5, 13, 7],
    [37, 61, 29],
    [64, 203, 96],
  ])('matmul, matmulTN, gramRows at n=%i k=%i m=%i', (n, k, m) => {
    const a = data(n * k, n + k);
    const b = data(k * m, m, 0.1);
    const b2 = data(n * m, m + 1, 0.1);
    expect(bits(matmul(a, n, k, b, m))).toEqual(bits(naiveMatmul(a, n, k, b, m)));
    expect(bits(matmulTN(a, n, k, b2, m))).toEqual(bits(naiveMatmulTN(a, n, k, b2, m)));
    expect(bits(gramRows(a, n, k))).toEqual(bits(naiveGramRows(a, n, k)));
  });

  test('solveSpd matches ml-matrix, on a well-posed system and on one that needs the bumped diagonal', () => {
    const n = 40;
    const a = data(n * 70, 3, 0.3);
    const g = naiveGramRows(a, n, 70);
    const b = data(n * 9, 4, 0);
    expect(bits(solveSpd(g, n, b, 9, 1e-3))).toEqual(bits(mlMatrixSolve(g, n, b, 9, 1e-3)));
    // Rank 1 with no ridge: a zero pivot, so the fallback path runs.
    const v = data(6, 5, 0);
    const r1 = new Float64Array(36);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) r1[i * 6 + j] = v[i] * v[j];
    const rhs = data(12, 6, 0);
    expect(bits(solveSpd(r1, 6, rhs, 2, 0))).toEqual(bits(mlMatrixSolve(r1, 6, rhs, 2, 0)));
  });
});

describe('zeroSmallest', () => {
  /** The select as it was: threshold from kthSmallestMagnitude, then one pass (ties: earliest first). */
  function reference(arrays: Float32Array[], k: number): number[] {
    const t = kthSmallestMagnitude(arrays, k);
    const counts = arrays.map(() => 0);
    if (!t) return counts;
    let ties = k - t.below;
    arrays.forEach((a, j) => {
      const v = new Uint32Array(a.buffer, a.byteOffset, a.length);
      for (let i = 0; i < v.length; i++) {
        const b = v[i] & 0x7fffffff;
        if (b < t.bits || (b === t.bits && ties-- > 0)) {
          a[i] = 0;
          counts[j]++;
        }
      }
    });
    return counts;
  }

  test.each([0, 1, 7, 500, 2999, 3000])('same zeros and counts as the three-pass select, k=%i over three arrays with ties and -0', (k) => {
    const rand = mulberry32(k + 1);
    // Coarse values give many exact ties; -0 and 0 sort first.
    const make = (n: number) => Float32Array.from({ length: n }, () => (rand() < 0.05 ? -0 : Math.round((rand() * 2 - 1) * 50) / 50));
    const arrays = [make(1000), make(1500), make(500)];
    const copy = arrays.map((a) => Float32Array.from(a));
    expect(zeroSmallest(arrays, k)).toEqual(reference(copy, k));
    arrays.forEach((a, j) => expect(bits(a)).toEqual(bits(copy[j])));
  });
});
