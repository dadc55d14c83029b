/**
 * The few dense kernels repair needs on row-major Float64 matrices, written so that every output
 * element is summed in exactly the order a plain triple loop sums it (same bits, run to run and
 * against the straightforward loops they replaced), only with less loop and memory traffic:
 *  - products skip zero left-hand elements and unroll over 8 of the remaining terms at a time
 *    (`c = c + a0 b0 + a1 b1 + ...` evaluates left to right, so the order is unchanged);
 *  - Gram matrices run four independent dot products side by side;
 *  - the Cholesky solve is ml-matrix's algorithm with the loops over right-hand sides innermost.
 */

/** C = A B, A [n, k], B [k, m]. Each C[i, j] adds A[i, p] B[p, j] for p ascending, skipping A[i, p] = 0. */
export function matmul(a: Float64Array, n: number, k: number, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(n * m);
  const nz = new Int32Array(k);
  for (let i = 0; i < n; i++) addRowTimes(a, i * k, k, b, m, c, i * m, nz);
  return c;
}

/** C = A^T B, A [n, k], B [n, m]: result [k, m]. Each C[p, j] adds A[i, p] B[i, j] for i ascending, skipping A[i, p] = 0. */
export function matmulTN(a: Float64Array, n: number, k: number, b: Float64Array, m: number): Float64Array {
  const at = new Float64Array(k * n);
  for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) at[p * n + i] = a[i * k + p];
  const c = new Float64Array(k * m);
  const nz = new Int32Array(n);
  for (let p = 0; p < k; p++) addRowTimes(at, p * n, n, b, m, c, p * m, nz);
  return c;
}

/**
 * c[cOff + j] += sum over p ascending with a[aOff + p] != 0 of a[aOff + p] * b[p * m + j], for j < m.
 * `nz` is scratch of at least k entries.
 */
export function addRowTimes(a: Float64Array, aOff: number, k: number, b: Float64Array, m: number, c: Float64Array, cOff: number, nz: Int32Array): void {
  let cnt = 0;
  for (let p = 0; p < k; p++) if (a[aOff + p] !== 0) nz[cnt++] = p;
  let q = 0;
  for (; q + 8 <= cnt; q += 8) {
    const p0 = nz[q];
    const p1 = nz[q + 1];
    const p2 = nz[q + 2];
    const p3 = nz[q + 3];
    const p4 = nz[q + 4];
    const p5 = nz[q + 5];
    const p6 = nz[q + 6];
    const p7 = nz[q + 7];
    const a0 = a[aOff + p0];
    const a1 = a[aOff + p1];
    const a2 = a[aOff + p2];
    const a3 = a[aOff + p3];
    const a4 = a[aOff + p4];
    const a5 = a[aOff + p5];
    const a6 = a[aOff + p6];
    const a7 = a[aOff + p7];
    const b0 = p0 * m;
    const b1 = p1 * m;
    const b2 = p2 * m;
    const b3 = p3 * m;
    const b4 = p4 * m;
    const b5 = p5 * m;
    const b6 = p6 * m;
    const b7 = p7 * m;
    for (let j = 0; j < m; j++) {
      c[cOff + j] = c[cOff + j] + a0 * b[b0 + j] + a1 * b[b1 + j] + a2 * b[b2 + j] + a3 * b[b3 + j] + a4 * b[b4 + j] + a5 * b[b5 + j] + a6 * b[b6 + j] + a7 * b[b7 + j];
    }
  }
  for (; q < cnt; q++) {
    const p = nz[q];
    const ap = a[aOff + p];
    const bp = p * m;
    for (let j = 0; j < m; j++) c[cOff + j] += ap * b[bp + j];
  }
}

/** A A^T for A [n, k]: [n, n]. Each entry sums over p ascending (zeros included). */
export function gramRows(a: Float64Array, n: number, k: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ai = i * k;
    let j = 0;
    // Four rows j at once: independent sums, each in its own p-ascending order.
    for (; j + 4 <= i + 1; j += 4) {
      const a0 = j * k;
      const a1 = a0 + k;
      const a2 = a1 + k;
      const a3 = a2 + k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let p = 0; p < k; p++) {
        const x = a[ai + p];
        s0 += x * a[a0 + p];
        s1 += x * a[a1 + p];
        s2 += x * a[a2 + p];
        s3 += x * a[a3 + p];
      }
      g[i * n + j] = s0;
      g[j * n + i] = s0;
      g[i * n + j + 1] = s1;
      g[(j + 1) * n + i] = s1;
      g[i * n + j + 2] = s2;
      g[(j + 2) * n + i] = s2;
      g[i * n + j + 3] = s3;
      g[(j + 3) * n + i] = s3;
    }
    for (; j <= i; j++) {
      let s = 0;
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

/**
 * Solves (G + lambda I) X = B for symmetric positive semi-definite G [d, d], B [d, m], by
 * Cholesky (ml-matrix's CholeskyDecomposition, operation for operation). Rounding can leave the
 * ridge-regularised matrix numerically indefinite; then the diagonal is bumped and it is solved again.
 */
export function solveSpd(g: Float64Array, d: number, b: Float64Array, m: number, lambda: number): Float64Array {
  const a = Float64Array.from(g);
  for (let i = 0; i < d; i++) a[i * d + i] += lambda;
  // ml-matrix refuses a matrix that is not exactly symmetric (NaN entries included).
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) if (!(a[i * d + j] === a[j * d + i])) throw new Error('Matrix is not symmetric');
  let f = cholesky(a, d);
  if (!f.positiveDefinite) {
    for (let i = 0; i < d; i++) a[i * d + i] = a[i * d + i] * (1 + 1e-6) + 1e-9;
    f = cholesky(a, d);
    if (!f.positiveDefinite) throw new Error('Matrix is not positive definite');
  }
  return choleskySolve(f.l, d, b, m);
}

/** Lower-triangular L with A = L L^T (A symmetric [d, d]); positiveDefinite false when a pivot is <= 0. */
function cholesky(a: Float64Array, d: number): { l: Float64Array; positiveDefinite: boolean } {
  const l = new Float64Array(d * d);
  let positiveDefinite = true;
  for (let j = 0; j < d; j++) {
    const lj = j * d;
    let dd = 0;
    for (let k = 0; k < j; k++) {
      const lk = k * d;
      let s = 0;
      for (let i = 0; i < k; i++) s += l[lk + i] * l[lj + i];
      s = (a[lj + k] - s) / l[lk + k];
      l[lj + k] = s;
      dd = dd + s * s;
    }
    dd = a[lj + j] - dd;
    positiveDefinite &&= dd > 0;
    l[lj + j] = Math.sqrt(Math.max(dd, 0));
  }
  return { l, positiveDefinite };
}

/** X with L L^T X = B: forward then back substitution, each element updated in ml-matrix's order. */
function choleskySolve(l: Float64Array, d: number, b: Float64Array, m: number): Float64Array {
  const x = Float64Array.from(b);
  for (let k = 0; k < d; k++) {
    const xk = k * m;
    for (let i = 0; i < k; i++) {
      const lki = l[k * d + i];
      const xi = i * m;
      for (let j = 0; j < m; j++) x[xk + j] = x[xk + j] - x[xi + j] * lki;
    }
    const lkk = l[k * d + k];
    for (let j = 0; j < m; j++) x[xk + j] = x[xk + j] / lkk;
  }
  for (let k = d - 1; k >= 0; k--) {
    const xk = k * m;
    for (let i = k + 1; i < d; i++) {
      const lik = l[i * d + k];
      const xi = i * m;
      for (let j = 0; j < m; j++) x[xk + j] = x[xk + j] - x[xi + j] * lik;
    }
    const lkk = l[k * d + k];
    for (let j = 0; j < m; j++) x[xk + j] = x[xk + j] / lkk;
  }
  return x;
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
