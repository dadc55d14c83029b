/**
 * The few dense kernels repair and factorization need on row-major Float64 matrices. Products are
 * plain loops ordered for sequential access (ml-matrix's element accessors are far slower for
 * 3072-wide Gram matrices); factorizations and solves are ml-matrix's.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/** C = A B, A [n, k], B [k, m]. */
export function matmul(a: Float64Array, n: number, k: number, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const ci = i * m;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      const bp = p * m;
      for (let j = 0; j < m; j++) c[ci + j] += aip * b[bp + j];
    }
  }
  return c;
}

/** C = A^T B, A [n, k], B [n, m]: result [k, m]. */
export function matmulTN(a: Float64Array, n: number, k: number, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(k * m);
  for (let i = 0; i < n; i++) {
    const bi = i * m;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      const cp = p * m;
      for (let j = 0; j < m; j++) c[cp + j] += aip * b[bi + j];
    }
  }
  return c;
}

/** A A^T for A [n, k]: [n, n]. */
export function gramRows(a: Float64Array, n: number, k: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      const ai = i * k;
      const aj = j * k;
      for (let p = 0; p < k; p++) s += a[ai + p] * a[aj + p];
      g[i * n + j] = s;
      g[j * n + i] = s;
    }
  }
  return g;
}

/** A^T A for A [n, k]: [k, k], accumulated row by row (rank-1 updates of the upper triangle). */
export function gramCols(a: Float64Array, n: number, k: number): Float64Array {
  const g = new Float64Array(k * k);
  for (let r = 0; r < n; r++) {
    const ar = r * k;
    for (let i = 0; i < k; i++) {
      const x = a[ar + i];
      if (x === 0) continue;
      const gi = i * k;
      for (let j = i; j < k; j++) g[gi + j] += x * a[ar + j];
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) g[i * k + j] = g[j * k + i];
  return g;
}

/** Solves (G + lambda I) X = B for symmetric positive semi-definite G [d, d], B [d, m]. */
export function solveSpd(g: Float64Array, d: number, b: Float64Array, m: number, lambda: number): Float64Array {
  const rows: number[][] = [];
  for (let i = 0; i < d; i++) {
    const row = Array.from(g.subarray(i * d, (i + 1) * d));
    row[i] += lambda;
    rows.push(row);
  }
  const rhs: number[][] = [];
  for (let i = 0; i < d; i++) rhs.push(Array.from(b.subarray(i * m, (i + 1) * m)));
  const chol = new CholeskyDecomposition(new Matrix(rows));
  const x = chol.isPositiveDefinite() ? chol.solve(new Matrix(rhs)) : solveFallback(rows, rhs);
  const out = new Float64Array(d * m);
  for (let i = 0; i < d; i++) for (let j = 0; j < m; j++) out[i * m + j] = x.get(i, j);
  return out;
}

function solveFallback(rows: number[][], rhs: number[][]): Matrix {
  // Rounding can leave a ridge-regularised Gram matrix numerically indefinite; bump the diagonal.
  const bumped = rows.map((r, i) => r.map((v, j) => (i === j ? v * (1 + 1e-6) + 1e-9 : v)));
  return new CholeskyDecomposition(new Matrix(bumped)).solve(new Matrix(rhs));
}

export function frobenius(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

export function trace(g: Float64Array, d: number): number {
  let t = 0;
  for (let i = 0; i < d; i++) t += g[i * d + i];
  return t;
}
