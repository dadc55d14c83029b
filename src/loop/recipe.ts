/**
 * Recipes: the ordered stages of an optimization, and the default one chosen from the model's
 * profile when the user gives none. Structured pruning first (the only kind that makes ORT on CPU
 * faster), fine-grained sparsity next (size only), quantization last.
 */
import { withDefaults } from '../stages/kinds.js';
import type { PruneParams, QuantizeParams, RecipeStage } from '../stages/types.js';

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
 * The default recipe, from measured behaviour on ORT CPU (README, "The method"), with each kind's
 * defaults filled in as a configured recipe's are:
 * - conv-heavy: channel pruning with least-squares repair, then static int8 QDQ (fused to
 *   QLinearConv, ~1.5x; dynamic ConvInteger is ~5x slower and is never chosen);
 * - matmul-heavy: neuron/head pruning, then dynamic int8 (DynamicQuantizeMatMul, ~2x), or
 *   int4 weight-only (MatMulNBits, accuracy_level 4) for models whose weights dwarf the cache;
 * - mixed: pruning, then static int8.
 */
export function defaultRecipe(traits: ModelTraits): RecipeStage[] {
  const kind = classifyModel(traits);
  // Up to half the channels in 10 % steps: the loop stops (and rolls back) where the budget ends.
  const prune: PruneParams = { kind: 'structured', target: 0.5, step: 0.1 };
  const quantize: QuantizeParams =
    kind !== 'matmul-heavy' ? { kind: 'int8-static' } : traits.params >= LARGE_MODEL_PARAMS ? { kind: 'int4-weight-only' } : { kind: 'int8-dynamic' };
  const stages: RecipeStage[] = [
    // Matmul-heavy models prune in eighths: attention heads come in fours and eights, and a step
    // of an eighth is the smallest that removes whole heads of a 4- or 8-head layer (one every
    // other step of 4 heads) without rounding them all to nothing.
    { stage: 'prune', prune: kind === 'matmul-heavy' ? { ...prune, step: 0.125 } : prune },
    { stage: 'quantize', quantize },
  ];
  return stages.map(withDefaults);
}
