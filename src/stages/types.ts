/**
 * Recipe stages as the config gives them (YAML kebab-case keys in camelCase), after the stage
 * kind's defaults are filled in (kinds.ts).
 */

export type PruneKind = 'structured' | 'unstructured' | 'n:m' | 'low-rank';

export interface PruneParams {
  kind: PruneKind;
  /** Fraction removed, in [0, 1). Absent only for low-rank with `energy`. */
  target?: number;
  step?: number;
  importance?: 'l1' | 'l2' | 'activation' | 'reconstruction';
  repair?: 'none' | 'least-squares' | 'bias-correction';
  /** Round every layer's kept channel count to a multiple of this. */
  multiple?: number;
  /** Round kept counts of layers with 32 channels or more to this kernel block (default: the runner's, 16 on AVX-512, else 8). */
  channelBlock?: number;
  n?: number;
  m?: number;
  scope?: 'per-layer' | 'global';
  layers?: string[];
  exclude?: string[];
  /** Low-rank: fraction of spectral energy to keep. */
  energy?: number;
  /** Structured, per-layer: scan each layer alone first and hold back the sensitive ones (default true). */
  sensitivity?: boolean;
}

export type QuantizeKind = 'int8-static' | 'int8-dynamic' | 'int4-weight-only' | 'fp16';

export interface QuantizeParams {
  kind: QuantizeKind;
  calibration?: 'minmax' | 'percentile' | 'entropy';
  percentile?: number;
  fallback?: 'auto' | 'none';
  activationType?: 'uint8' | 'int8' | 'auto';
  perChannel?: boolean;
  blockSize?: 32 | 64 | 128;
  symmetric?: boolean;
  accuracyLevel?: 0 | 1 | 2 | 3 | 4;
  /** From `nodes_to_exclude` or `nodes-to-exclude` (both accepted, merged). */
  nodesToExclude?: string[];
  /** From `op_types_to_quantize` or `op-types-to-quantize`. */
  opTypesToQuantize?: string[];
}

export type RecipeStage = { stage: 'prune'; prune: PruneParams } | { stage: 'quantize'; quantize: QuantizeParams };

