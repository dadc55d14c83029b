/**
 * The optimization loop: measure -> cut -> repair -> validate, one scheduled step at a time, then
 * the next stage. Every step is recorded, kept or not, and every kept step as a decision that
 * rebuilds the model without measuring (loop/replay.ts).
 *
 * A step is kept when two things hold:
 * - its drift is confidently inside the budget: the upper end of its paired 95 % interval, not just
 *   the point estimate (keep: 'point' relaxes this). A step that drifts too far is rolled back and
 *   retried smaller;
 * - for a step that can change latency, it is faster than the model before it, as measured on this
 *   machine: the two interleaved, with the same statistics as the final comparison, and the 95 %
 *   interval of the P95 ratio below 1 at some batch size and above 1 at none (NetAdapt's rule:
 *   empirical latency, not FLOPs). A pruning step that is not confirmed faster is passed over for
 *   the next, larger one; a quantization step is rolled back. With `objective: size` latency is
 *   shown, not required.
 * Timing decides, so the decisions are recorded: replaying them gives the same bytes.
 */
import { changesLatency, describeStage, isScheduled, runStep, type StageOutcome, stageGoals } from '../stages/kinds.js';
import type { PruneParams, RecipeStage } from '../stages/types.js';
import type { Interval } from '../evaluate/types.js';
import { encodeModel, type Model } from '../onnx/index.js';
import type { PassContext, PassSummary, Skipped } from '../passes/types.js';
import type { StepDecision, StepLatency, StepRow } from './types.js';
import { planSensitivity, stepLayerRatios, type SensitivityPlan } from './sensitivity-plan.js';
import type { KeepRule } from '../gate/resolution.js';

export interface Judgement {
  /** The gated metric of the candidate. */
  metric: number;
  /** Reference metric - candidate metric in the metric's unit (positive = worse). */
  drift: number;
  interval?: Interval;
}

/** How the loop measures candidates; the pipeline builds it from the evaluation engine. */
export interface CandidateJudge {
  judge(model: Model): Promise<Judgement>;
  /** `candidate` against `current`, interleaved: P95 ratio per batch size; absent: latency is not measured. */
  compare?(current: Model, candidate: Model): Promise<StepLatency[]>;
}

/** What the optimization is for: a faster model (latency, default) or a smaller file (size). */
export type Objective = 'latency' | 'size';

export interface LoopOptions {
  recipe: RecipeStage[];
  /** Drift allowed, in the gated metric's unit. */
  budget: number;
  /** Which end of the drift decides: the interval's upper bound (default) or the point estimate. */
  keep?: KeepRule;
  objective?: Objective;
  ctx: PassContext;
  judge: CandidateJudge;
  /** Stop starting new steps after this many milliseconds. */
  wallTimeMs?: number;
  /** Each node's share of the model's FLOPs (the static profile), passed to structured pruning. */
  nodeCostShare?: Record<string, number>;
  /** How many times a failed step is halved and retried before the stage ends. */
  maxRetries?: number;
}


export interface LoopResult {
  model: Model;
  steps: StepRow[];
  /** The kept steps, in order: what replay applies to rebuild `model`. */
  decisions: StepDecision[];
  /** Summaries of the kept steps' passes, in order. */
  passes: PassSummary[];
  fallbackNodes: Skipped[];
  notes: string[];
  /** The reference judgement of the unmodified model. */
  start: Judgement;
  final: Judgement;
}

/** Steps smaller than this are not worth a retry. */
const MIN_STEP = 0.025;

/** Confirmed faster: the interval below 1 at some batch size, above 1 at none. */
function confirmedFaster(latency: StepLatency[]): boolean {
  return latency.some((l) => l.interval.high < 1) && !latency.some((l) => l.interval.low > 1);
}

export async function optimize(model: Model, options: LoopOptions): Promise<LoopResult> {
  const started = Date.now();
  const { judge, budget, ctx } = options;
  const keepRule = options.keep ?? 'confident';
  const objective = options.objective ?? 'latency';
  const driftText = (j: Judgement) => (keepRule === 'confident' && j.interval ? `${fmt(j.drift)} (95 % CI up to ${fmt(j.interval.high)})` : fmt(j.drift));
  const log = ctx.log ?? (() => {});
  const steps: StepRow[] = [];
  const decisions: StepDecision[] = [];
  const passes: PassSummary[] = [];
  const fallbackNodes: Skipped[] = [];
  const notes: string[] = [];

  let current = model;
  const start = await judge.judge(model);
  let currentJudgement = start;
  const outOfTime = () => options.wallTimeMs !== undefined && Date.now() - started > options.wallTimeMs;

  const record = (row: Omit<StepRow, 'index'>) => {
    steps.push({ index: steps.length + 1, ...row });
    log(`step ${steps.length}: ${row.action}: ${row.kept ? 'kept' : 'not kept'} (${row.reason})`);
  };

  for (const [stageIndex, stage] of options.recipe.entries()) {
    const label = describeStage(stage);
    const shrinks = isScheduled(stage);
    let pending = stageGoals(stage);
    let reached = 0;
    // The largest cut found accurate but not faster: a retry after a rollback must cut more than it.
    let slowUpTo = 0;
    let retries = options.maxRetries ?? 2;
    let stageUnits: Record<string, number> | undefined;
    const plan = stage.stage === 'prune' && stage.prune.kind === 'structured' ? await scanSensitivity(stage.prune) : undefined;

    while (pending.length) {
      if (outOfTime()) {
        notes.push(`The wall-time budget ran out before "${label}" finished; later steps were not tried.`);
        return finish();
      }
      const goal = pending[0];
      const action = shrinks && stage.stage === 'prune' ? `${stage.prune.kind} ${pct(goal)}` : label;
      const params = stageParams(stage, shrinks ? goal : undefined);
      const layerRatios = stepLayerRatios(plan, goal);

      let outcome: StageOutcome;
      try {
        outcome = await runStep(current, stage, { goal, reached, nodeCostShare: options.nodeCostShare, stageUnits, layerRatios }, ctx, {
          budget,
          drift: async (m) => (await judge.judge(m)).drift,
        });
      } catch (err) {
        // A pass that cannot handle this model is a finding, not a crash: record it and move on.
        record({ stage: stage.stage, action, params, metric: currentJudgement.metric, drift: currentJudgement.drift, kept: false, reason: `pass failed: ${(err as Error).message}` });
        if ((err as Error).name === 'InputError') throw err;
        break;
      }

      // Every step of the stage so far ran on the stage's starting model until one was kept.
      stageUnits ??= outcome.unitsBefore;
      const judgement = await judge.judge(outcome.model);
      const sizeBytes = encodeModel(outcome.model).byteLength;
      const decisive = keepRule === 'confident' && judgement.interval ? Math.max(judgement.drift, judgement.interval.high) : judgement.drift;
      const tooMuchDrift = decisive > budget;
      // Latency is measured only for steps that pass on accuracy: the expensive check comes second.
      const latency = !tooMuchDrift && judge.compare && changesLatency(stage) ? await judge.compare(current, outcome.model) : undefined;
      const base = { stage: stage.stage, action, params, metric: judgement.metric, drift: judgement.drift, driftInterval: judgement.interval, latency, sizeBytes };
      const faster = !latency || objective === 'size' || confirmedFaster(latency);

      if (!tooMuchDrift && faster) {
        const speed = latency ? `; P95 ${latencyText(latency)}` : '';
        record({ ...base, kept: true, reason: `drift ${driftText(judgement)} within the budget of ${fmt(budget)}${speed}` });
        decisions.push({ stageIndex, stage, goal, reached, ...(layerRatios && { layerRatios }), ...(outcome.excluded?.length && { excluded: outcome.excluded.map((e) => e.what) }) });
        current = outcome.model;
        currentJudgement = judgement;
        passes.push(outcome.summary);
        if (outcome.excluded?.length) fallbackNodes.push(...outcome.excluded);
        reached = goal;
        pending = pending.slice(1);
        continue;
      }

      if (!tooMuchDrift) {
        // Accurate enough but not faster: a pruning stage tries its next, larger cut from the same model.
        const next = shrinks ? pending[1] : undefined;
        record({ ...base, kept: false, reason: `P95 ${latencyText(latency!)}: not confirmed faster than before this step${next !== undefined ? `; trying ${pct(next)}` : ''}` });
        if (next === undefined) break;
        slowUpTo = goal;
        pending = pending.slice(1);
        continue;
      }

      const reason = `drift ${driftText(judgement)} exceeds the budget of ${fmt(budget)}`;
      const from = Math.max(reached, slowUpTo);
      const smaller = shrinks ? round6(from + (goal - from) / 2) : undefined;
      const canRetry = smaller !== undefined && retries > 0 && goal - from >= 2 * MIN_STEP;
      record({ ...base, kept: false, reason: canRetry ? `${reason}; retrying a smaller step to ${pct(smaller as number)}` : reason });
      if (!canRetry) break;
      retries--;
      pending = [smaller as number];
    }
  }
  return finish();

  /** The per-layer plan of a structured stage (per-layer scope, unless `sensitivity: false`). */
  async function scanSensitivity(prune: PruneParams): Promise<SensitivityPlan | undefined> {
    if ((prune.scope ?? 'per-layer') !== 'per-layer' || prune.sensitivity === false || outOfTime()) return undefined;
    const from = currentJudgement.drift;
    try {
      const plan = await planSensitivity(current, prune, budget - from, async (m) => (await judge.judge(m)).drift - from, ctx);
      log(`sensitivity scan: ${Object.keys(plan.solo).length} layers, ${Object.keys(plan.scale).length} held back`);
      notes.push(...plan.notes);
      return plan;
    } catch (err) {
      if ((err as Error).name === 'InputError') throw err;
      notes.push(`The sensitivity scan failed (${(err as Error).message}); all layers follow the schedule.`);
      return undefined;
    }
  }

  function finish(): LoopResult {
    if (steps.every((s) => !s.kept) && steps.length) notes.push('No optimization step stayed within the accuracy budget and made the model faster: the candidate is the PR model, unchanged.');
    return { model: current, steps, decisions, passes, fallbackNodes, notes, start, final: currentJudgement };
  }
}

function stageParams(stage: RecipeStage, goal?: number): Record<string, string | number | boolean> {
  const source = stage.stage === 'prune' ? stage.prune : stage.quantize;
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(source)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.join(',');
  }
  if (goal !== undefined) out.target = goal;
  return out;
}

/** "0.82× (95 % CI 0.79–0.85) at batch 32, 0.97× (0.93–1.01) at batch 1". */
export function latencyText(latency: StepLatency[]): string {
  return latency.map((l, i) => `${l.ratio.toFixed(2)}× (${i === 0 ? '95 % CI ' : ''}${l.interval.low.toFixed(2)}–${l.interval.high.toFixed(2)}) at batch ${l.batchSize}${l.target ? ` on ${l.target}` : ''}`).join(', ');
}

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
const fmt = (x: number) => (Math.round(x * 100) / 100).toString();
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
