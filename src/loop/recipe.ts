/**
 * Recipes: the ordered stages of an optimization, and the default one chosen from the model's
 * profile when the user gives none. Structured pruning first (the only kind that makes ORT on CPU
 * faster), fine-grained sparsity next (size only), quantization last.
 */
import type { PruneParams, QuantizeParams, RecipeStage } from '../config/index.js';

/** What the default recipe needs to know about a model. */
export interface ModelTraits {
  params: number;
  /** Fraction of FLOPs (or, without shapes, of parameters) in Conv/ConvTranspose. */
  convShare: number;
  /** Fraction in MatMul/Gemm. */
  matmulShare: number;
  /** Whether the model has the attention pattern the head pruner understands. */
  hasAttention?: boolean;
}

export type ModelKind = 'conv-heavy' | 'matmul-heavy' | 'mixed';

export function classifyModel(traits: ModelTraits): ModelKind {
  if (traits.convShare >= 0.6) return 'conv-heavy';
  if (traits.matmulShare >= 0.6) return 'matmul-heavy';
  return 'mixed';
}

/** Models with more parameters than this get int4 weight-only MatMuls by default. */
const LARGE_MODEL_PARAMS = 100e6;

/**
 * The default recipe, from measured behaviour on ORT CPU (see docs/method.md):
 * - conv-heavy: channel pruning with least-squares repair, then static int8 QDQ (fused to
 *   QLinearConv, ~1.5x; dynamic ConvInteger is ~5x slower and is never chosen);
 * - matmul-heavy: neuron/head pruning, then dynamic int8 (DynamicQuantizeMatMul, ~2x), or
 *   int4 weight-only (MatMulNBits, accuracy_level 4) for models whose weights dwarf the cache;
 * - mixed: pruning, then static int8.
 */
export function defaultRecipe(traits: ModelTraits): RecipeStage[] {
  const kind = classifyModel(traits);
  // Up to half the channels in 10 % steps: the loop stops (and rolls back) where the budget ends.
  const prune: PruneParams = { kind: 'structured', target: 0.5, step: 0.1, importance: 'activation', repair: 'least-squares' };
  if (kind === 'matmul-heavy') {
    const quantize: QuantizeParams =
      traits.params >= LARGE_MODEL_PARAMS
        ? { kind: 'int4-weight-only', blockSize: 32, symmetric: true, accuracyLevel: 4 }
        : { kind: 'int8-dynamic', fallback: 'auto' };
    return [
      { stage: 'prune', prune: { ...prune, target: 0.25, step: 0.125 } },
      { stage: 'quantize', quantize },
    ];
  }
  return [
    { stage: 'prune', prune },
    { stage: 'quantize', quantize: { kind: 'int8-static', calibration: 'percentile', fallback: 'auto' } },
  ];
}

/**
 * Cumulative targets of a scheduled stage: `step` apart up to `target` (the last one exactly
 * `target`). No step means one cut to the target.
 */
export function scheduleTargets(target: number, step?: number): number[] {
  if (!step || step >= target) return [target];
  const out: number[] = [];
  for (let k = 1; k * step < target - 1e-9; k++) out.push(round6(k * step));
  out.push(target);
  return out;
}

/**
 * The fraction to remove from the current model so that, relative to the stage's starting model,
 * `to` is removed in total when `from` already was.
 */
export function incrementalTarget(from: number, to: number): number {
  return round6(1 - (1 - to) / (1 - from));
}

export function describeStage(stage: RecipeStage): string {
  if (stage.stage === 'prune') {
    const p = stage.prune;
    if (p.kind === 'n:m') return `${p.n ?? 2}:${p.m ?? 4} sparsity`;
    if (p.kind === 'low-rank') return `low-rank (energy ${p.energy ?? 0.95})`;
    return `${p.kind} pruning to ${pct(p.target ?? 0)}${p.step ? ` in steps of ${pct(p.step)}` : ''}`;
  }
  return `${stage.quantize.kind} quantization`;
}

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
