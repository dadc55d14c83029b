/**
 * Aggregates of per-sample columns over a multiset of sample indices: what a metric's `over`
 * is built from. Plain loops over number arrays (they run 2,000 times per bootstrap).
 */
import type { PerSampleResults } from './types.js';

export function mean(column: number[], idx: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += column[idx[i]];
  return s / idx.length;
}

/** Mean of a 0/1 column in points: (100 x hits) / samples, the rounding accuracy has always had. */
export function meanPoints(column: number[], idx: ArrayLike<number>): number {
  return (100 * sum(column, idx)) / idx.length;
}

/** Share of the indexed samples whose value passes `test`, in points. */
export function percentWhere(column: number[], idx: ArrayLike<number>, test: (v: number) => boolean): number {
  let hits = 0;
  for (let i = 0; i < idx.length; i++) if (test(column[idx[i]])) hits++;
  return (100 * hits) / idx.length;
}

export function sum(column: number[], idx: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += column[idx[i]];
  return s;
}

export function max(column: number[], idx: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < idx.length; i++) if (column[idx[i]] > m) m = column[idx[i]];
  return m;
}

/** Number of class ids (max label or prediction + 1), computed once per record. */
const classCountCache = new WeakMap<PerSampleResults, number>();
function classCount(ps: PerSampleResults): number {
  let k = classCountCache.get(ps);
  if (k === undefined) {
    k = 0;
    for (const y of ps.labels) if (y + 1 > k) k = y + 1;
    for (const p of ps.predicted) if (p + 1 > k) k = p + 1;
    classCountCache.set(ps, k);
  }
  return k;
}

/**
 * Per-class true positives, predicted counts and support over the indexed samples, in arrays
 * indexed by class id (class ids are small non-negative integers; a Map here was 10x slower).
 */
export function classCounts(ps: PerSampleResults, idx: ArrayLike<number>): { tp: number[]; pred: number[]; support: number[] } {
  const k = classCount(ps);
  const tp: number[] = new Array<number>(k).fill(0);
  const pred: number[] = new Array<number>(k).fill(0);
  const support: number[] = new Array<number>(k).fill(0);
  const labels = ps.labels;
  const predicted = ps.predicted;
  for (let i = 0; i < idx.length; i++) {
    const y = labels[idx[i]];
    const p = predicted[idx[i]];
    support[y]++;
    pred[p]++;
    if (y === p) tp[y]++;
  }
  return { tp, pred, support };
}
