/**
 * The stage-kind table: every recipe stage prune-gate can run, one entry each. Config validation
 * (cross-field checks, defaults filled once), the loop (schedule, whether a step can change
 * latency, fallback) and `optimize` all read it here. Adding a stage kind is an entry here and its
 * pass.
 */
import type { Model } from '../onnx/index.js';
import { pruneLowRank, pruneNM, pruneStructured, pruneUnstructured } from '../passes/prune/index.js';
import { quantizeFp16, quantizeInt8Dynamic, quantizeInt4WeightOnly, quantizeInt8Static, quantizeWithFallback } from '../passes/quantize/index.js';
import { slowerQuantizedRegions } from '../passes/quantize/latency-check.js';
import type { PassContext, PassResult, Skipped } from '../passes/types.js';
import type { PruneKind, PruneParams, QuantizeKind, QuantizeParams, RecipeStage } from './types.js';
import { channelBlock } from './machine.js';

/** One step of a stage: where the stage's schedule is and what the step may use. */
export interface StepInput {
  /** The stage's cumulative target after this step (scheduled kinds). */
  goal: number;
  /** The cumulative target the stage had reached before this step. */
  reached: number;
  /** Each node's share of the model's FLOPs: structured pruning aims at the layers that cost most. */
  nodeCostShare?: Record<string, number>;
  /** Structured pruning: each group's units when the stage began (the first step's `unitsBefore`). */
  stageUnits?: Record<string, number>;
  /** Structured pruning: cumulative ratios of layers a sensitivity scan held back. */
  layerRatios?: Record<string, number>;
}

/** How a quantization stage's automatic fallback judges a candidate (absent: no fallback). */
export interface FallbackHooks {
  /** Drift (points, positive = worse) of a candidate against the reference. */
  drift(model: Model): Promise<number>;
  budget: number;
}

export interface StageOutcome extends PassResult {
  /** Nodes a quantization fallback put back in float, and why. */
  excluded?: Skipped[];
  /** Structured pruning: units of each prunable group before the cut, by group id. */
  unitsBefore?: Record<string, number>;
}

interface KindEntry<P> {
  family: 'prune' | 'quantize';
  /** Cut in cumulative steps of `step` up to `target`, each step validated and rolled back alone. */
  scheduled: boolean;
  /** Whether the stage can change latency on ORT's CPU provider (else it saves size only). */
  changesLatency: boolean;
  /** Parameter values filled in when the config leaves them out. */
  defaults: Partial<P>;
  /** Problems with the raw YAML params beyond the schema (keys as written, kebab-case). */
  check?(raw: Record<string, unknown>): string[];
  /**
   * Why the pass reads calibration batches with these params (e.g. "importance 'activation'"), or
   * undefined when it needs no data at all: `optimize` asks for data.calibration only then.
   */
  needsCalibration(p: P): string | undefined;
  describe(p: P): string;
  run(model: Model, p: P, step: StepInput, ctx: PassContext, fallback?: FallbackHooks): Promise<StageOutcome>;
}

const listed = (reasons: (string | undefined)[]) => reasons.filter(Boolean).join(', ') || undefined;
const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
const scheduledText = (p: PruneParams) => `${p.kind} pruning to ${pct(p.target ?? 0)}${p.step ? ` in steps of ${pct(p.step)}` : ''}`;

/** The fraction to remove from the current model so that `to` of the stage's starting model is removed in total when `from` already was. */
export function incrementalTarget(from: number, to: number): number {
  return round6(1 - (1 - to) / (1 - from));
}

export const PRUNE_KINDS: Record<PruneKind, KindEntry<PruneParams>> = {
  structured: {
    family: 'prune',
    scheduled: true,
    changesLatency: true,
    // The runner's kernel block is a default like the others: filled once, recorded, replayed.
    defaults: { importance: 'activation', repair: 'least-squares', scope: 'per-layer', sensitivity: true, channelBlock: channelBlock() },
    needsCalibration: (p) => listed([p.importance === 'activation' || p.importance === 'reconstruction' ? `importance '${p.importance}'` : undefined, p.repair !== 'none' ? `repair '${p.repair}'` : undefined]),
    describe: scheduledText,
    run: (model, p, step, ctx) =>
      pruneStructured(
        model,
        {
          target: incrementalTarget(step.reached, step.goal),
          importance: p.importance!,
          repair: p.repair!,
          multiple: p.multiple,
          channelBlock: p.channelBlock,
          scope: p.scope,
          layers: p.layers,
          exclude: p.exclude,
          nodeCostShare: step.nodeCostShare,
          layerRatios: step.layerRatios,
          stage: step.stageUnits ? { cumulativeTarget: step.goal, startUnits: step.stageUnits } : undefined,
        },
        ctx,
      ),
  },
  unstructured: {
    family: 'prune',
    scheduled: true,
    changesLatency: false,
    defaults: { scope: 'per-layer' },
    // Magnitude only: the weights decide.
    needsCalibration: () => undefined,
    describe: scheduledText,
    // Zeros keep shapes: the step sets the cumulative sparsity, whatever the steps before left.
    run: (model, p, step, ctx) => pruneUnstructured(model, { target: step.goal, scope: p.scope, layers: p.layers, exclude: p.exclude }, ctx),
  },
  'n:m': {
    family: 'prune',
    scheduled: false,
    changesLatency: false,
    defaults: { n: 2, m: 4 },
    check: (raw) => {
      const n = (raw.n as number | undefined) ?? 2;
      const m = (raw.m as number | undefined) ?? 4;
      return n >= m ? [`/n must be < m (got n=${n}, m=${m})`] : [];
    },
    needsCalibration: (p) => (p.importance === 'activation' ? "importance 'activation'" : undefined),
    describe: (p) => `${p.n}:${p.m} sparsity`,
    run: (model, p, _step, ctx) => pruneNM(model, { n: p.n!, m: p.m!, importance: p.importance === 'activation' ? 'wanda' : 'magnitude', layers: p.layers, exclude: p.exclude }, ctx),
  },
  'low-rank': {
    family: 'prune',
    scheduled: false,
    changesLatency: true,
    defaults: { energy: 0.95 },
    needsCalibration: (p) => (p.importance === 'activation' ? "importance 'activation'" : undefined),
    describe: (p) => `low-rank (energy ${p.energy})`,
    run: (model, p, _step, ctx) => pruneLowRank(model, { energy: p.energy, activationAware: p.importance === 'activation', layers: p.layers, exclude: p.exclude }, ctx),
  },
};

export const QUANTIZE_KINDS: Record<QuantizeKind, KindEntry<QuantizeParams>> = {
  'int8-static': {
    family: 'quantize',
    scheduled: false,
    changesLatency: true,
    defaults: { calibration: 'percentile', fallback: 'auto', activationType: 'auto' },
    needsCalibration: () => 'activation ranges',
    describe: () => 'int8-static quantization',
    run: (model, q, _step, ctx, fallback) =>
      withFallback(model, q, ctx, fallback, (m, nodesToExclude) =>
        quantizeInt8Static(m, { calibration: q.calibration!, percentile: q.percentile, activationType: q.activationType, perChannel: q.perChannel, nodesToExclude, opTypesToQuantize: q.opTypesToQuantize }, ctx),
      ),
  },
  'int8-dynamic': {
    family: 'quantize',
    scheduled: false,
    changesLatency: true,
    defaults: { fallback: 'auto' },
    // Ranges are computed at run time; `run`'s fallback measures on the evaluation set, which `run` always has.
    needsCalibration: () => undefined,
    describe: () => 'int8-dynamic quantization',
    run: (model, q, _step, ctx, fallback) => withFallback(model, q, ctx, fallback, (m, nodesToExclude) => quantizeInt8Dynamic(m, { nodesToExclude, opTypesToQuantize: q.opTypesToQuantize }, ctx)),
  },
  'int4-weight-only': {
    family: 'quantize',
    scheduled: false,
    changesLatency: true,
    defaults: { fallback: 'auto', blockSize: 32, symmetric: true, accuracyLevel: 4 },
    needsCalibration: (q) => (q.calibration ? `calibration '${q.calibration}'` : undefined),
    describe: () => 'int4-weight-only quantization',
    run: (model, q, _step, ctx, fallback) =>
      withFallback(model, q, ctx, fallback, (m, nodesToExclude) =>
        quantizeInt4WeightOnly(m, { blockSize: q.blockSize!, symmetric: q.symmetric!, accuracyLevel: q.accuracyLevel!, method: q.calibration ? 'calibrated' : 'rtn', nodesToExclude }, ctx),
      ),
  },
  fp16: {
    family: 'quantize',
    scheduled: false,
    // ORT folds the Casts back to float32 at load: size only.
    changesLatency: false,
    defaults: {},
    needsCalibration: () => undefined,
    describe: () => 'fp16 quantization',
    run: (model, q, _step, ctx) => quantizeFp16(model, { nodesToExclude: q.nodesToExclude ?? [] }, ctx),
  },
};

/**
 * Quantizes `model`, and with `fallback: auto` and the loop's hooks, leaves in float the nodes
 * that cost accuracy or run slower quantized (the latency check profiles on the first calibration
 * batch: the data the pass already has).
 */
async function withFallback(model: Model, q: QuantizeParams, ctx: PassContext, hooks: FallbackHooks | undefined, quantize: (m: Model, nodesToExclude: string[]) => Promise<PassResult>): Promise<StageOutcome> {
  const userExcluded = q.nodesToExclude ?? [];
  const run = (m: Model, exclude: string[]) => quantize(m, [...userExcluded, ...exclude]);
  if (q.fallback !== 'auto' || !hooks) return run(model, []);
  const feeds = ctx.calibration?.[0];
  // ORT's per-node profiler is native-only: on a WebAssembly-only config its verdicts would undo
  // exactly the int8 regions that pay there (the torch CNN's conv2 + classifier: slower natively).
  const nativeLatency = ctx.nativeLatency !== false;
  const latencyCheck = feeds && nativeLatency ? (float: Model, quant: PassResult) => slowerQuantizedRegions(float, quant.model, quant.summary.changed.map((c) => c.name), feeds) : undefined;
  const outcome = await quantizeWithFallback(model, run, (m) => hooks.drift(m), hooks.budget, ctx, { latencyCheck });
  if (!nativeLatency) outcome.summary.notes.push("fallback: no per-node latency check (it profiles natively, and the config's targets leave native out): the step is measured whole on the listed targets");
  return outcome;
}

/** The table entry of a stage. */
function kindOf(stage: RecipeStage): KindEntry<PruneParams> | KindEntry<QuantizeParams> {
  return stage.stage === 'prune' ? PRUNE_KINDS[stage.prune.kind] : QUANTIZE_KINDS[stage.quantize.kind];
}

function paramsOf(stage: RecipeStage): PruneParams | QuantizeParams {
  return stage.stage === 'prune' ? stage.prune : stage.quantize;
}

/** The stage with its kind's defaults filled in where the config left a key out. */
export function withDefaults(stage: RecipeStage): RecipeStage {
  if (stage.stage === 'prune') return { stage: 'prune', prune: { ...PRUNE_KINDS[stage.prune.kind].defaults, ...definedOnly(stage.prune) } as PruneParams };
  return { stage: 'quantize', quantize: { ...QUANTIZE_KINDS[stage.quantize.kind].defaults, ...definedOnly(stage.quantize) } as QuantizeParams };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Why the stage's pass reads calibration data, or undefined when it needs none (magnitude pruning, int8-dynamic, fp16). */
export function calibrationNeed(configured: RecipeStage): string | undefined {
  const stage = withDefaults(configured);
  return stage.stage === 'prune' ? PRUNE_KINDS[stage.prune.kind].needsCalibration(stage.prune) : QUANTIZE_KINDS[stage.quantize.kind].needsCalibration(stage.quantize);
}

export function describeStage(stage: RecipeStage): string {
  const p = paramsOf(stage);
  return stage.stage === 'prune' ? PRUNE_KINDS[stage.prune.kind].describe(p as PruneParams) : QUANTIZE_KINDS[stage.quantize.kind].describe(p as QuantizeParams);
}

/** Whether the stage is cut in validated cumulative steps (structured and unstructured pruning). */
export function isScheduled(stage: RecipeStage): boolean {
  return kindOf(stage).scheduled;
}

export function changesLatency(stage: RecipeStage): boolean {
  return kindOf(stage).changesLatency;
}

/**
 * The cumulative goals of a stage's steps: `step` apart up to `target` for scheduled kinds (the
 * last exactly `target`; no step, one cut), one step otherwise.
 */
export function stageGoals(stage: RecipeStage): number[] {
  if (stage.stage !== 'prune' || !isScheduled(stage)) return [1];
  const { target = 0, step } = stage.prune;
  if (!step || step >= target) return [target];
  const out: number[] = [];
  for (let k = 1; k * step < target - 1e-9; k++) out.push(round6(k * step));
  out.push(target);
  return out;
}

/** Runs one step of a stage on `model` through its kind's pass (defaults filled, for stages built in code). */
export function runStep(model: Model, configured: RecipeStage, step: StepInput, ctx: PassContext, fallback?: FallbackHooks): Promise<StageOutcome> {
  const stage = withDefaults(configured);
  if (stage.stage === 'prune') return PRUNE_KINDS[stage.prune.kind].run(model, stage.prune, step, ctx, fallback);
  return QUANTIZE_KINDS[stage.quantize.kind].run(model, stage.quantize, step, ctx, fallback);
}

/** Cross-field problems of one raw recipe stage (as written in YAML), with their JSON pointers. */
export function stageProblems(raw: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  const p = raw.prune as Record<string, unknown> | undefined;
  if (p) {
    const here = `${at}/prune`;
    const entry = PRUNE_KINDS[p.kind as PruneKind];
    if (p.target === undefined && !(p.kind === 'low-rank' && p.energy !== undefined)) problems.push(`${here}: missing required key 'target'`);
    if (p.kind !== 'n:m' && (p.n !== undefined || p.m !== undefined)) problems.push(`${here}: 'n' and 'm' apply only to kind 'n:m' (kind is '${String(p.kind)}')`);
    if (p.energy !== undefined && p.kind !== 'low-rank') problems.push(`${here}: 'energy' applies only to kind 'low-rank'`);
    if (typeof p.step === 'number' && typeof p.target === 'number' && p.step > p.target && p.target > 0) problems.push(`${here}/step must be <= target (got step=${p.step}, target=${p.target})`);
    problems.push(...(entry?.check?.(p) ?? []).map((m) => `${here}${m}`));
  }
  const q = raw.quantize as Record<string, unknown> | undefined;
  if (q) {
    const here = `${at}/quantize`;
    if (q.percentile !== undefined && q.calibration !== 'percentile') problems.push(`${here}: 'percentile' needs 'calibration: percentile'`);
    if ((q['block-size'] !== undefined || q['accuracy-level'] !== undefined) && q.kind !== 'int4-weight-only') problems.push(`${here}: 'block-size' and 'accuracy-level' apply only to kind 'int4-weight-only'`);
    if (q.calibration !== undefined && q.kind !== 'int8-static') problems.push(`${here}: 'calibration' applies only to kind 'int8-static'`);
    problems.push(...(QUANTIZE_KINDS[q.kind as QuantizeKind]?.check?.(q) ?? []).map((m) => `${here}${m}`));
  }
  return problems;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
