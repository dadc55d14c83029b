/**
 * Search and judge on different data: a deterministic split of the evaluation set into the samples
 * the optimization loop chooses its steps on (search) and the samples the gate judges (test).
 * Choosing steps on the samples that are then judged makes the verdict optimistic (selection on
 * the test set). Units are samples, or whole test_data_set folders (kept whole).
 */
import { uniform } from './rng.js';

/** Share of the evaluation samples searched by default (docs/scale-out.md: what it costs). */
export const DEFAULT_SEARCH_FRACTION = 0.3;

export interface SplitIndices {
  /** Unit indices of the search split, ascending. */
  search: number[];
  /** Unit indices of the test split, ascending. */
  test: number[];
}

/**
 * Splits `units` into round(fraction * units) search units and the rest, both ascending. With
 * `labels` (one per unit), stratified: units are ordered by label, randomly (seeded) within a
 * label, and every 1/fraction-th of that order is searched, so each class (or each stretch of
 * regression targets) is split in the same proportion, within one unit. Without labels, a seeded
 * random choice. `multiple`: whole blocks of that many units, the first ones searched.
 */
export function splitIndices(units: number, fraction: number, options: { seed: number; labels?: ArrayLike<number>; multiple?: number }): SplitIndices {
  const step = options.multiple ?? 1;
  const blocks = Math.floor(units / step);
  const want = Math.min(blocks - 1, Math.max(1, Math.round(fraction * blocks)));
  if (fraction <= 0 || blocks < 2 || want < 1) return { search: [], test: range(0, units) };
  if (step > 1) {
    // Whole blocks of `multiple` units (a model with a fixed batch size), searched from the start.
    return { search: range(0, want * step), test: range(want * step, units) };
  }
  const next = uniform(options.seed ^ 0x5eed);
  const keys = Array.from({ length: units }, () => next());
  const order = range(0, units).sort((a, b) => {
    const byLabel = options.labels ? options.labels[a] - options.labels[b] : 0;
    return byLabel !== 0 ? byLabel : keys[a] - keys[b];
  });
  const searched = new Uint8Array(units);
  // Systematic choice along the order: position p is searched when it crosses a multiple of 1/f.
  order.forEach((unit, p) => {
    if (Math.floor(((p + 1) * want) / units) > Math.floor((p * want) / units)) searched[unit] = 1;
  });
  const search: number[] = [];
  const test: number[] = [];
  for (let u = 0; u < units; u++) (searched[u] ? search : test).push(u);
  return { search, test };
}

/**
 * The `i`-th of `n` shards (1-based) of `count` items: contiguous, in whole blocks of `block` items
 * (the evaluation's batch size, so every shard runs exactly the batches an unsharded evaluation
 * runs, and its outputs are the same bits), numbers of blocks differing by at most one.
 */
export function shardRange(count: number, index: number, of: number, block = 1): [number, number] {
  const blocks = Math.ceil(count / block);
  const start = Math.floor(((index - 1) * blocks) / of) * block;
  const end = Math.floor((index * blocks) / of) * block;
  return [Math.min(start, count), Math.min(end, count)];
}

function range(start: number, end: number): number[] {
  return Array.from({ length: Math.max(0, end - start) }, (_, k) => start + k);
}
