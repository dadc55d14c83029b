/**
 * The runtime targets beyond native (config `targets:`): before the search, the PR model must load
 * on each (a missing operator fails in a second, not after the loop); after it, the PR model and
 * the candidate run there over the test split and their outputs are scored against the native
 * run's with the fidelity metrics of the registry, each under its default limit.
 */
import { evaluateModel } from '../evaluate/evaluate.js';
import { OutputStore } from '../evaluate/output-store.js';
import { ModelSession } from '../evaluate/session.js';
import { TARGETS, type TargetName } from '../evaluate/targets.js';
import { decideVerdict, type GateDecision } from '../gate/verdict.js';
import { fidelityDefaults, metricDef } from '../metrics/index.js';
import { batchSymbol, inferBatchAxis } from '../evaluate/batch-axes.js';
import type { EvalResult } from '../evaluate/types.js';
import type { TargetOutputs } from '../report/types.js';
import type { Prepared } from './prepare.js';

/** The targets other than native, in the config's order. */
export function extraTargets(targets: TargetName[]): TargetName[] {
  return targets.filter((t) => t !== 'native');
}

/** Loads `model` on every listed target; an operator one of them lacks is an InputError naming it, its node and the target. */
export async function checkLoads(model: string, targets: TargetName[]): Promise<void> {
  for (const target of extraTargets(targets)) await (await ModelSession.create(model, { target, label: model })).release();
}

export interface TargetCheck {
  record: TargetOutputs;
  decision: GateDecision;
}

/** `model` on `target` against the same model natively, over the test split. */
export async function compareOutputs(p: Prepared, model: { file: string; role: TargetOutputs['model'] }, target: TargetName): Promise<TargetCheck> {
  const options = { ...p.evaluate, task: 'fidelity' as const, label: model.file };
  const native = new OutputStore(`${model.file} (native)`);
  try {
    const self = await evaluateModel(model.file, p.testSet, { ...options, reference: 'self', keep: native });
    const there = await evaluateModel(model.file, p.testSet, { ...options, reference: native, session: { target } });
    const decision = outputsDecision(self.result, there.result, runtimeMetrics(p), p.config.gate.accuracyDrop, p.config.seed);
    const ort = await TARGETS[target].load();
    return { record: { target, runtime: `${TARGETS[target].runtime} ${TARGETS[target].version(ort)}`, model: model.role, verdict: decision.verdict, metrics: decision.metrics }, decision };
  } finally {
    native.release();
  }
}

/** Outputs on a target against the native run's: each fidelity metric under the registry's default limit (agreement within gate.accuracy-drop, SQNR above its floor). */
export function outputsDecision(native: EvalResult, onTarget: EvalResult, names: string[], accuracyDrop: number, seed: number): GateDecision {
  const metrics = names.filter((m) => onTarget.metrics[m] !== undefined);
  const rules = Object.fromEntries(
    metrics.flatMap((m) => {
      const rule = metricDef(m)?.defaultRule(accuracyDrop);
      return rule ? [[m, rule]] : [];
    }),
  );
  return decideVerdict({ metrics, rules: { accuracyDrop, use: 'point', metrics: rules }, original: native, candidate: onTarget, latency: [], seed });
}

/**
 * The first output's fidelity defaults for its shape (prepare.ts chooses the same for task
 * fidelity), plus SQNR and the largest difference: a runtime change shows as rounding, so the
 * closeness of the numbers says more than the decisions alone.
 */
function runtimeMetrics(p: Prepared): string[] {
  const first = p.modelOutputs[0];
  const axis = inferBatchAxis(first, batchSymbol(p.modelInputs));
  return [...new Set([...fidelityDefaults(first.shape.filter((_, k) => k !== axis)), 'sqnr', 'max-abs-error'])];
}
