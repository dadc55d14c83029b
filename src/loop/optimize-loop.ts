/**
 * The optimization loop: measure -> cut -> repair -> validate, one scheduled step at a time,
 * rolling back any step that drifts past the budget and retrying it smaller, then moving on to
 * the next stage. Every step is recorded, kept or not.
 *
 * A step is kept when its drift is confidently inside the budget: the upper end of its paired 95 %
 * interval, not just the point estimate (keep: 'point' relaxes this). A step that is probably
 * fine but could be 2.7 points off on other data is not one a user wants shipped.
 *
 * Decisions depend on accuracy, which is deterministic (single-threaded ORT, fixed data, seeded
 * passes); latency only vetoes a step that is clearly slower (beyond a 10 % dead zone), so timing
 * noise does not change which steps are kept.
 */
import { changesLatency, describeStage, isScheduled, runStep, stageGoals, type StageOutcome } from '../stages/kinds.js';
import type { PruneParams, RecipeStage } from '../stages/types.js';
import type { Interval } from '../evaluate/types.js';
import { encodeModel, type Model } from '../onnx/index.js';
import type { PassContext, PassSummary, Skipped } from '../passes/types.js';
import type { StepRow } from './types.js';
import { planSensitivity, stepLayerRatios, type SensitivityPlan } from './sensitivity-plan.js';

export interface Judgement {
  /** The gated metric of the candidate. */
  metric: number;
  /** Reference metric - candidate metric in points (positive = worse), for higher-is-better metrics. */
  drift: number;
  interval?: Interval;
}

/** How the loop measures candidates; the pipeline builds it from the evaluation engine. */
export interface CandidateJudge {
  judge(model: Model): Promise<Judgement>;
  /** Quick P95 (ms) at the loop's batch size; absent: latency is not measured during the loop. */
  p95?(model: Model): Promise<number>;
}

export interface LoopOptions {
  recipe: RecipeStage[];
  /** Drift allowed, in points. */
  budget: number;
  /** Which end of the drift decides: the interval's upper bound (default) or the point estimate. */
  keep?: KeepRule;
  ctx: PassContext;
  judge: CandidateJudge;
  /** Stop starting new steps after this many milliseconds. */
  wallTimeMs?: number;
  /** Each node's share of the model's FLOPs (the static profile), passed to structured pruning. */
  nodeCostShare?: Record<string, number>;
  /** How many times a failed step is halved and retried before the stage ends. */
  maxRetries?: number;
}

export type KeepRule = 'confident' | 'point';

export interface LoopResult {
  model: Model;
  steps: StepRow[];
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
/** A step whose P95 exceeds the previous one by more than this factor is rolled back. */
const SLOWER_VETO = 1.1;

export async function optimize(model: Model, options: LoopOptions): Promise<LoopResult> {
  const started = Date.now();
  const { judge, budget, ctx } = options;
  const keepRule = options.keep ?? 'confident';
  const driftText = (j: Judgement) => (keepRule === 'confident' && j.interval ? `${fmt(j.drift)} pt (95 % CI up to ${fmt(j.interval.high)})` : `${fmt(j.drift)} pt`);
  const log = ctx.log ?? (() => {});
  const steps: StepRow[] = [];
  const passes: PassSummary[] = [];
  const fallbackNodes: Skipped[] = [];
  const notes: string[] = [];

  let current = model;
  const start = await judge.judge(model);
  let currentJudgement = start;
  let currentP95 = judge.p95 ? await judge.p95(model) : undefined;
  const outOfTime = () => options.wallTimeMs !== undefined && Date.now() - started > options.wallTimeMs;

  const record = (row: Omit<StepRow, 'index'>) => {
    steps.push({ index: steps.length + 1, ...row });
    log(`step ${steps.length}: ${row.action}: ${row.kept ? 'kept' : 'rolled back'} (${row.reason})`);
  };

  for (const stage of options.recipe) {
    const label = describeStage(stage);
    const shrinks = isScheduled(stage);
    let pending = stageGoals(stage);
    let reached = 0;
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

      let outcome: StageOutcome;
      try {
        outcome = await runStep(current, stage, { goal, reached, nodeCostShare: options.nodeCostShare, stageUnits, layerRatios: stepLayerRatios(plan, goal) }, ctx, {
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
      const p95 = judge.p95 && changesLatency(stage) ? await judge.p95(outcome.model) : undefined;
      const base = { stage: stage.stage, action, params, metric: judgement.metric, drift: judgement.drift, driftInterval: judgement.interval, p95Ms: p95, sizeBytes };

      const decisive = keepRule === 'confident' && judgement.interval ? Math.max(judgement.drift, judgement.interval.high) : judgement.drift;
      const tooMuchDrift = decisive > budget;
      const slower = p95 !== undefined && currentP95 !== undefined && stage.stage === 'quantize' && p95 > currentP95 * SLOWER_VETO;
      if (!tooMuchDrift && !slower) {
        record({ ...base, kept: true, reason: `drift ${driftText(judgement)} within the ${fmt(budget)} pt budget` });
        current = outcome.model;
        currentJudgement = judgement;
        if (p95 !== undefined) currentP95 = p95;
        passes.push(outcome.summary);
        if (outcome.excluded?.length) fallbackNodes.push(...outcome.excluded);
        reached = goal;
        pending = pending.slice(1);
        continue;
      }

      const reason = tooMuchDrift
        ? `drift ${driftText(judgement)} exceeds the ${fmt(budget)} pt budget`
        : `P95 ${fmt(p95 as number)} ms is slower than ${fmt(currentP95 as number)} ms before this step`;
      const smaller = shrinks ? round6(reached + (goal - reached) / 2) : undefined;
      const canRetry = smaller !== undefined && retries > 0 && goal - reached >= 2 * MIN_STEP && tooMuchDrift;
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
    if (steps.every((s) => !s.kept) && steps.length) notes.push('No optimization step stayed within the accuracy budget: the candidate is the original model.');
    return { model: current, steps, passes, fallbackNodes, notes, start, final: currentJudgement };
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

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
const fmt = (x: number) => (Math.round(x * 100) / 100).toString();
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
