/**
 * Exact k-th smallest magnitude over one or many float arrays in linear time, without copying:
 * for non-negative floats the IEEE bit pattern orders like the value, so a two-level radix select
 * on |x|'s bits (high 16, then low 16) finds the threshold in two histogram passes.
 */

const absBits = (view: Uint32Array, i: number) => view[i] & 0x7fffffff;

export interface Threshold {
  /** |x| bit pattern of the k-th smallest magnitude (k >= 1). */
  bits: number;
  /** Elements strictly below it; the first k - below elements equal to it (in order) are also pruned. */
  below: number;
}

export function kthSmallestMagnitude(arrays: Float32Array[], k: number): Threshold | undefined {
  if (k <= 0) return undefined;
  const views = arrays.map((a) => new Uint32Array(a.buffer, a.byteOffset, a.length));
  const high = new Float64Array(1 << 16);
  for (const v of views) for (let i = 0; i < v.length; i++) high[absBits(v, i) >>> 16]++;
  let acc = 0;
  let hb = 0;
  for (; hb < high.length; hb++) {
    if (acc + high[hb] >= k) break;
    acc += high[hb];
  }
  const low = new Float64Array(1 << 16);
  for (const v of views) {
    for (let i = 0; i < v.length; i++) {
      const b = absBits(v, i);
      if (b >>> 16 === hb) low[b & 0xffff]++;
    }
  }
  let lb = 0;
  for (; lb < low.length; lb++) {
    if (acc + low[lb] >= k) break;
    acc += low[lb];
  }
  return { bits: ((hb << 16) | lb) >>> 0, below: acc };
}

/** Largest candidate list zeroSmallest keeps (indices in the threshold's high bucket); beyond it, a third pass. */
const MAX_CANDIDATES = 1 << 22;

/**
 * Zeroes the `k` smallest magnitudes across the arrays (in place): everything below the threshold
 * and, for ties at it, the earliest by (array, index). Returns how many were zeroed per array.
 *
 * Two passes over the data: a histogram of the high 16 bits; then one pass that zeroes everything
 * in lower buckets and lists the indices in the threshold's bucket, whose low 16 bits are then
 * resolved from the list alone (the same threshold and ties as kthSmallestMagnitude).
 */
export function zeroSmallest(arrays: Float32Array[], k: number): number[] {
  const counts = arrays.map(() => 0);
  if (k <= 0) return counts;
  const views = arrays.map((a) => new Uint32Array(a.buffer, a.byteOffset, a.length));
  const high = new Float64Array(1 << 16);
  for (const v of views) for (let i = 0; i < v.length; i++) high[(v[i] & 0x7fffffff) >>> 16]++;
  let below = 0;
  let hb = 0;
  for (; hb < high.length; hb++) {
    if (below + high[hb] >= k) break;
    below += high[hb];
  }
  if (hb >= high.length || high[hb] > MAX_CANDIDATES) return zeroSmallestThreePass(arrays, k);
  const candidates = new Uint32Array(high[hb]);
  const ends = new Array<number>(views.length);
  let n = 0;
  views.forEach((v, j) => {
    const a = arrays[j];
    let c = 0;
    for (let i = 0; i < v.length; i++) {
      const h = (v[i] & 0x7fffffff) >>> 16;
      if (h < hb) {
        a[i] = 0;
        c++;
      } else if (h === hb) candidates[n++] = i;
    }
    counts[j] = c;
    ends[j] = n;
  });
  const low = new Float64Array(1 << 16);
  let q = 0;
  for (let j = 0; j < views.length; j++) for (const v = views[j]; q < ends[j]; q++) low[v[candidates[q]] & 0xffff]++;
  let lb = 0;
  for (; lb < low.length; lb++) {
    if (below + low[lb] >= k) break;
    below += low[lb];
  }
  const bits = ((hb << 16) | lb) >>> 0;
  let ties = k - below;
  q = 0;
  for (let j = 0; j < views.length; j++) {
    const v = views[j];
    const a = arrays[j];
    let c = 0;
    for (; q < ends[j]; q++) {
      const i = candidates[q];
      const b = v[i] & 0x7fffffff;
      if (b < bits) {
        a[i] = 0;
        c++;
      } else if (b === bits && ties > 0) {
        a[i] = 0;
        ties--;
        c++;
      }
    }
    counts[j] += c;
  }
  return counts;
}

/** zeroSmallest by kthSmallestMagnitude and one more pass: for a threshold bucket too large to list. */
function zeroSmallestThreePass(arrays: Float32Array[], k: number): number[] {
  const t = kthSmallestMagnitude(arrays, k);
  const counts = arrays.map(() => 0);
  if (!t) return counts;
  let ties = k - t.below;
  arrays.forEach((a, j) => {
    const v = new Uint32Array(a.buffer, a.byteOffset, a.length);
    let c = 0;
    for (let i = 0; i < v.length; i++) {
      const b = v[i] & 0x7fffffff;
      if (b < t.bits) {
        a[i] = 0;
        c++;
      } else if (b === t.bits && ties > 0) {
        a[i] = 0;
        ties--;
        c++;
      }
    }
    counts[j] = c;
  });
  return counts;
}
