/**
 * Streaming per-tensor statistics for calibration: exact min/max plus a fixed-size histogram over
 * [-R, R] whose range doubles (merging bin pairs) whenever a batch exceeds it. Memory stays at one
 * histogram per tensor however large the calibration set is, and the result does not depend on how
 * the set is split into batches beyond the (bounded) re-binning granularity.
 */

/** Bins per side of zero: 2048 is what TensorRT's and ORT's entropy calibrators use. */
export const HALF_BINS = 2048;

export class StreamingHistogram {
  min = Infinity;
  max = -Infinity;
  count = 0;
  /** Half-width of the histogram range; 0 until the first non-zero value arrives. */
  range = 0;
  readonly bins = new Float64Array(2 * HALF_BINS);
  /** Values seen before the range was known (all exactly zero). */
  private zeros = 0;

  constructor(readonly withHistogram: boolean) {}

  add(data: ArrayLike<number>): void {
    let lo = this.min;
    let hi = this.max;
    let finite = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!(v - v === 0)) continue; // NaN and +-Infinity say nothing about a usable range.
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      finite++;
    }
    this.min = lo;
    this.max = hi;
    this.count += finite;
    if (!this.withHistogram || finite === 0) return;
    const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
    if (maxAbs === 0) {
      this.zeros += finite;
      return;
    }
    if (this.range === 0) {
      this.range = maxAbs;
      this.bins[HALF_BINS] += this.zeros;
      this.zeros = 0;
    }
    while (maxAbs > this.range) this.double();
    const width = this.range / HALF_BINS;
    const last = 2 * HALF_BINS - 1;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!(v - v === 0)) continue;
      let b = Math.floor((v + this.range) / width);
      if (b > last) b = last;
      else if (b < 0) b = 0;
      this.bins[b]++;
    }
  }

  private double(): void {
    // Old bin i starts at -R + i*w = -2R + (H + i)*w, so in the doubled histogram it lands in (H + i) >> 1.
    const old = Float64Array.from(this.bins);
    this.bins.fill(0);
    for (let i = 0; i < old.length; i++) this.bins[(HALF_BINS + i) >> 1] += old[i];
    this.range *= 2;
  }

  /** Counts of |x| in HALF_BINS bins over [0, range]. */
  absolute(): Float64Array {
    const out = new Float64Array(HALF_BINS);
    for (let i = 0; i < HALF_BINS; i++) out[i] = this.bins[HALF_BINS + i] + this.bins[HALF_BINS - 1 - i];
    out[0] += this.zeros;
    return out;
  }
}

/** [lower, upper] holding `percentile` % of the mass at each end (e.g. 99.999 drops 0.001 % per side). */
export function percentileRange(h: StreamingHistogram, percentile: number): [number, number] {
  if (h.range === 0 || h.count === 0) return [Math.min(0, h.min), Math.max(0, h.max)];
  const tail = ((100 - percentile) / 100) * h.count;
  const width = h.range / HALF_BINS;
  let acc = 0;
  let lower = h.min;
  for (let i = 0; i < h.bins.length; i++) {
    acc += h.bins[i];
    if (acc > tail) {
      lower = -h.range + i * width;
      break;
    }
  }
  acc = 0;
  let upper = h.max;
  for (let i = h.bins.length - 1; i >= 0; i--) {
    acc += h.bins[i];
    if (acc > tail) {
      upper = -h.range + (i + 1) * width;
      break;
    }
  }
  return [Math.max(h.min, lower), Math.min(h.max, upper)];
}

/**
 * The clipping threshold minimizing KL(P || Q) between the |x| distribution clipped at the
 * threshold (outliers folded into the last bin) and its `levels`-level quantization, the
 * TensorRT entropy calibrator's procedure. Returns [-T, T] intersected with [min, max].
 */
export function entropyRange(h: StreamingHistogram, levels = 128): [number, number] {
  if (h.range === 0 || h.count === 0) return [Math.min(0, h.min), Math.max(0, h.max)];
  const abs = absoluteTrimmed(h);
  const width = h.range / HALF_BINS;
  let bestKl = Infinity;
  let bestEnd = abs.length;
  const total = abs.reduce((a, b) => a + b, 0);
  // Step 16 bins: the KL curve is smooth at that scale and it keeps calibration of big models quick.
  for (let end = levels; end <= abs.length; end += 16) {
    const kl = klForThreshold(abs, end, levels, total);
    if (kl < bestKl) {
      bestKl = kl;
      bestEnd = end;
    }
  }
  const t = bestEnd * width;
  return [Math.max(h.min, -t), Math.min(h.max, t)];
}

function absoluteTrimmed(h: StreamingHistogram): Float64Array {
  const abs = h.absolute();
  let last = abs.length;
  while (last > 1 && abs[last - 1] === 0) last--;
  return abs.subarray(0, Math.max(last, 1));
}

function klForThreshold(abs: Float64Array, end: number, levels: number, total: number): number {
  const p = Float64Array.from(abs.subarray(0, end));
  let outliers = 0;
  for (let i = end; i < abs.length; i++) outliers += abs[i];
  p[end - 1] += outliers;
  const q = new Float64Array(end);
  const perLevel = end / levels;
  for (let l = 0; l < levels; l++) {
    const start = Math.floor(l * perLevel);
    const stop = l === levels - 1 ? end : Math.floor((l + 1) * perLevel);
    let sum = 0;
    let nonZero = 0;
    for (let i = start; i < stop; i++) {
      sum += abs[i];
      if (abs[i] > 0) nonZero++;
    }
    if (nonZero === 0) continue;
    const share = sum / nonZero;
    for (let i = start; i < stop; i++) if (abs[i] > 0) q[i] = share;
  }
  let qTotal = 0;
  for (let i = 0; i < end; i++) qTotal += q[i];
  let kl = 0;
  for (let i = 0; i < end; i++) {
    if (p[i] === 0) continue;
    const pi = p[i] / total;
    // The clipped-away mass has no quantized counterpart: a small floor keeps KL finite but large.
    const qi = q[i] > 0 ? q[i] / qTotal : 1e-12;
    kl += pi * Math.log(pi / qi);
  }
  return kl;
}
