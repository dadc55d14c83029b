/**
 * Never ship a slower model. The loop's candidate is measured against the original as the gate
 * measures it (interleaved, every configured batch size, the config's budget, on every runtime
 * target); it ships when the 95 % interval of its P95 ratio is below 1 at every batch size on
 * every target. Otherwise the candidate of the
 * previous kept step is rebuilt from the decisions (no measurement) and measured in turn, and after
 * a few tries the original model ships unchanged, with the reason. With `objective: size`, the
 * loop's candidate ships whatever its speed, and the verdict states any slowdown.
 */
import type { BenchResult } from '../evaluate/latency.js';
import { namesTargets } from '../evaluate/targets.js';
import type { LatencyComparison } from '../evaluate/types.js';
import type { Objective } from '../loop/optimize-loop.js';
import type { StepDecision } from '../loop/types.js';
import type { Model } from '../onnx/index.js';

export interface ShipInput {
  original: Model;
  candidate: Model;
  decisions: StepDecision[];
  objective: Objective;
  /** The candidate after the first `count` decisions. */
  rebuild(count: number): Promise<Model>;
  /** Original against `model`, with the final comparison's statistics: one result per runtime target. */
  measure(model: Model): Promise<BenchResult[]>;
  log?(message: string): void;
}

export interface Shipped {
  model: Model;
  /** The decisions that build `model` (the loop's, a prefix of them, or those a walk-back kept). */
  decisions: StepDecision[];
  /** One per runtime target, in the config's order. */
  benches: BenchResult[];
  /** True when the model is the original, unchanged. */
  unchanged: boolean;
  notes: string[];
}

/** Earlier candidates tried before shipping the original. */
const MAX_FALLBACKS = 1;

export async function shipFaster(input: ShipInput): Promise<Shipped> {
  const notes: string[] = [];
  let count = input.decisions.length;
  let model = input.candidate;
  for (let tries = 0; count > 0; tries++) {
    const benches = await input.measure(model);
    // Faster on every target: a candidate slower on one is not shipped.
    const named = namesTargets(benches.map((b) => b.target));
    const slow = benches.flatMap((bench) => notFaster(comparisons(bench)).map((c) => ({ c, target: named ? bench.target : undefined })));
    if (input.objective === 'size' || slow.length === 0) return { model, decisions: input.decisions.slice(0, count), benches, unchanged: false, notes };
    notes.push(`The candidate after ${count} kept step${count > 1 ? 's' : ''} was not confirmed faster than the PR model (P95 ${slow.map((s) => ratioText(s.c, s.target)).join(', ')}), so it was not shipped.`);
    input.log?.(notes[notes.length - 1]);
    count = tries < MAX_FALLBACKS ? count - 1 : 0;
    if (count > 0) model = await input.rebuild(count);
  }
  const benches = await input.measure(input.original);
  if (input.decisions.length) notes.push('No candidate was confirmed faster than the PR model on this machine: the PR model ships unchanged.');
  return { model: input.original, decisions: [], benches, unchanged: true, notes };
}

export function comparisons(bench: BenchResult): LatencyComparison[] {
  return bench.batches.map((b) => b.comparison).filter((c): c is LatencyComparison => c !== undefined);
}

/** Batch sizes where the P95 ratio's interval is not wholly below 1. */
function notFaster(latency: LatencyComparison[]): LatencyComparison[] {
  return latency.filter((c) => !(c.ratios.p95.interval.high < 1));
}

function ratioText(c: LatencyComparison, target?: string): string {
  const r = c.ratios.p95;
  return `${r.value.toFixed(2)}× (95 % CI ${r.interval.low.toFixed(2)}–${r.interval.high.toFixed(2)}) at batch ${c.batchSize}${target ? ` on ${target}` : ''}`;
}
