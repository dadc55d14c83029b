/**
 * The loop's judge, built from the evaluation engine: the gated metric of a candidate on the
 * evaluation set, its drift against the reference (the original model) with a paired bootstrap
 * interval, and the step's latency against the model before it, measured interleaved.
 */
import type { Dataset } from '../evaluate/data.js';
import { evaluateModel, type EvaluateOptions } from '../evaluate/evaluate.js';
import { benchLatency } from '../evaluate/latency.js';
import { namesTargets, TARGETS, type TargetName } from '../evaluate/targets.js';
import type { EvalResult } from '../evaluate/types.js';
import { metricDifference } from '../gate/paired-stats.js';
import { higherIsBetter, metricValue } from '../metrics/index.js';
import type { CandidateJudge, Judgement } from '../loop/optimize-loop.js';
import type { StepLatency } from '../loop/types.js';
import { encodeModel, type Model } from '../onnx/index.js';

export interface JudgeSetup {
  dataset: Dataset;
  /** The gated metric (the config's first metric). */
  metric: string;
  /** How candidates are evaluated (fidelity: with the reference outputs in `reference`). */
  evaluate: EvaluateOptions;
  reference: EvalResult;
  seed: number;
  /**
   * Step-against-current latency, interleaved at these batch sizes with the final comparison's
   * statistics (fresh-session rounds as bootstrap clusters) in a shorter budget; absent: latency is
   * not measured in the loop.
   */
  latency?: { batchSizes: number[]; timeBudgetMs: number; threads: number; feeds: Dataset; precision: number; seed: number; /** Measured on each (a step must be faster on one and slower on none); default [native]. */ targets?: TargetName[] };
}

export function buildJudge(setup: JudgeSetup): CandidateJudge {
  const refValue = valueOf(setup.reference, setup.metric);
  const sign = higherIsBetter(setup.metric) ? 1 : -1;
  const judge = async (model: Model): Promise<Judgement> => {
    const { result } = await evaluateModel(encodeModel(model), setup.dataset, { ...setup.evaluate, label: 'candidate' });
    const metric = valueOf(result, setup.metric);
    const drift = sign * (refValue - metric);
    return { metric, drift, interval: driftInterval(setup.metric, sign, setup.reference, result, setup.seed) };
  };
  const latency = setup.latency;
  if (!latency) return { judge };
  return {
    judge,
    compare: async (current: Model, candidate: Model): Promise<StepLatency[]> => {
      const targets = latency.targets ?? ['native'];
      const rows: StepLatency[] = [];
      for (const target of targets) {
        const result = await benchLatency({
          models: [
            { label: 'before the step', model: encodeModel(current) },
            { label: 'after the step', model: encodeModel(candidate) },
          ],
          batchSizes: latency.batchSizes,
          timeBudgetMs: latency.timeBudgetMs * TARGETS[target].probeBudgetScale,
          threads: latency.threads,
          target,
          minRuns: 20,
          precision: latency.precision,
          inputs: latency.feeds,
          seed: latency.seed,
        });
        const tag = namesTargets(targets) ? { target } : {};
        for (const b of result.batches) rows.push({ ...tag, batchSize: b.batchSize, ratio: b.comparison!.ratios.p95.value, interval: b.comparison!.ratios.p95.interval });
      }
      return rows;
    },
  };
}

function valueOf(result: EvalResult, metric: string): number {
  const v = metricValue(result.metrics, metric);
  if (v === undefined) throw new Error(`metric '${metric}' is not computed for task '${result.task}'`);
  return v;
}

/** Paired bootstrap interval of the drift (reference - candidate for higher-is-better metrics). */
function driftInterval(metric: string, sign: number, reference: EvalResult, candidate: EvalResult, seed: number): Judgement['interval'] {
  if (reference.samples !== candidate.samples) return undefined;
  const diff = metricDifference(metric, reference.perSample, candidate.perSample, reference.samples, { seed });
  if (!diff || sign > 0) return diff;
  return { low: -diff.high, high: -diff.low, level: diff.level };
}
