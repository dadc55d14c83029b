/** Hand-built evaluation records for gate and report tests. */
import type { EvalResult, LatencyComparison, LatencyStats } from '../../src/evaluate/types.js';

/** A classification result whose top-1 predictions are `labels` except at the `wrong` indices (predicted (label+1) % classes). */
export function classification(labels: number[], wrong: Iterable<number>, classes = 10): EvalResult {
  const bad = new Set(wrong);
  const predicted = labels.map((y, i) => (bad.has(i) ? (y + 1) % classes : y));
  const correct: number[] = labels.map((_, i) => (bad.has(i) ? 0 : 1));
  const accuracy = (100 * correct.reduce((a, b) => a + b, 0)) / labels.length;
  return { task: 'classification', samples: labels.length, metrics: { accuracy }, perSample: { correct, predicted, labels } };
}

export function labelsOf(n: number, classes = 10): number[] {
  return Array.from({ length: n }, (_, i) => i % classes);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

export function stats(batchSize: number, p50: number, p95: number, p99: number): LatencyStats {
  return { batchSize, p50, p95, p99, mean: p50, throughput: (1000 * batchSize) / p50, runs: 200 };
}

export function latency(batchSize: number, p95Ratio: number, low: number, high: number): LatencyComparison {
  const base = stats(batchSize, 1, 1.2, 1.5);
  const cand = stats(batchSize, p95Ratio, 1.2 * p95Ratio, 1.5 * p95Ratio);
  const iv = (v: number) => ({ value: v, interval: { low: v - (p95Ratio - low), high: v + (high - p95Ratio), level: 0.95 } });
  return { batchSize, reference: base, candidate: cand, ratios: { p50: iv(p95Ratio), p95: { value: p95Ratio, interval: { low, high, level: 0.95 } }, p99: iv(p95Ratio) } };
}
