/**
 * The gate's accuracy rule on the test split overrules the search's choice. The loop keeps steps
 * by their drift on the search split; on a small split the steps it keeps are the ones that looked
 * best there, and their drift on held-out samples can be larger (MobileNetV2 on 300 search digits:
 * kept at 0-0.7 points there, 3.9 on the 700 test digits). When the shipped candidate fails the
 * accuracy rule on the test split, the candidates of fewer kept steps are rebuilt from the
 * decisions (no measurement) and judged in turn (walkBackOrder), down to the original model. The
 * caller walks back only when the original passes the rule: otherwise the failure is the PR
 * model's (against a frozen baseline), and fewer steps would not cure it.
 *
 * The test split then chose among the candidates it judged, so the drift shown for the one that
 * passes is slightly optimistic; the note says how many were judged, and that a larger search
 * split is the cure.
 */
import type { EvalResult } from '../evaluate/types.js';
import type { StepDecision } from '../loop/types.js';
import type { Model } from '../onnx/index.js';
import { describeStage, isScheduled } from '../stages/kinds.js';
import type { SearchOutcome, SearchSetup } from './search.js';
import type { Shipped } from './ship.js';

export interface WalkBackInput {
  /** The kept decisions that build the candidate that failed. */
  decisions: StepDecision[];
  /** Its evaluation on the test split. */
  failed: EvalResult;
  /** The candidate these decisions build (none: the original). */
  build(decisions: StepDecision[]): Promise<Model>;
  /** A model on the test split. */
  evaluate(model: Model): Promise<EvalResult>;
  /** The gate's accuracy rule on a test-split result: whether it passes and the gated drift. */
  judge(result: EvalResult): { pass: boolean; drift: number };
  log?(message: string): void;
}

export interface WalkedBack {
  /** The decisions of the candidate that passed; none: the original ships. */
  decisions: StepDecision[];
  model: Model;
  result: EvalResult;
  notes: string[];
}

export interface HoldInput {
  /** The search's outcome: its shipped candidate, and how to build and ship others. */
  search: Pick<SearchOutcome, 'shipped' | 'build' | 'ship'>;
  /** The PR model on the test split. */
  original: EvalResult;
  evaluate: WalkBackInput['evaluate'];
  judge: WalkBackInput['judge'];
  timed: SearchSetup['timed'];
  log(message: string): void;
}

export interface Held {
  shipped: Shipped;
  /** The shipped candidate on the test split, when this measured it (none: the PR model ships). */
  candidateOnTest?: EvalResult;
  /** The search kept steps, but none held on the test split: the PR model ships for accuracy, not for speed. */
  noStepHeld: boolean;
  notes: string[];
}

/**
 * The search's candidate on the test split, walked back when it fails the accuracy rule there and
 * the PR model passes it (a failure the PR model shares, against a frozen baseline, is not the
 * optimizer's, and fewer steps would not cure it). The walked-back candidate is checked for speed
 * again, as the search's was.
 */
export async function holdOnTest(input: HoldInput): Promise<Held> {
  const { search, timed } = input;
  const first = search.shipped;
  if (!first.decisions.length) return { shipped: first, noStepHeld: false, notes: [] };
  const onTest = await timed('evaluate', () => input.evaluate(first.model));
  if (input.judge(onTest).pass || !input.judge(input.original).pass) return { shipped: first, candidateOnTest: onTest, noStepHeld: false, notes: [] };
  const walked = await timed('walk-back', () => walkBackOnTest({ decisions: first.decisions, failed: onTest, build: search.build, evaluate: input.evaluate, judge: input.judge, log: input.log }));
  input.log(walked.notes.join(' '));
  const shipped = await search.ship(walked.model, walked.decisions);
  return {
    shipped,
    // The never-slower check may have gone back further: then the final evaluation measures what ships.
    candidateOnTest: shipped.decisions.length === walked.decisions.length ? walked.result : undefined,
    noStepHeld: walked.decisions.length === 0,
    notes: [...first.notes, ...walked.notes],
  };
}

export async function walkBackOnTest(input: WalkBackInput): Promise<WalkedBack> {
  const first = input.judge(input.failed);
  const failed = `⚠️ The search's candidate (${describeDecisions(input.decisions)}) drifted ${fmt(first.drift)} pt on the test split, beyond the accuracy rule, although its steps held on the search split.`;
  const cure = "A larger search split (data.search-fraction, or data.search) makes the search's choices hold.";
  const order = walkBackOrder(input.decisions);
  for (const [k, decisions] of order.entries()) {
    const model = await input.build(decisions);
    const result = await input.evaluate(model);
    const { pass, drift } = input.judge(result);
    input.log?.(`test split: ${describeDecisions(decisions)} drifts ${fmt(drift)} pt: ${pass ? 'passes' : 'fails'} the accuracy rule`);
    if (!pass && decisions.length > 0) continue;
    const judged = k + 2;
    const walked =
      decisions.length > 0
        ? `Walked back to ${describeDecisions(decisions)} (drift ${fmt(drift)} pt on the test split); the test split judged ${judged} candidates to choose it, so that drift is slightly optimistic.`
        : `Walked back: no candidate with kept steps passed (${judged - 1} judged), so the PR model ships unchanged.`;
    return { decisions, model, result, notes: [`${failed} ${walked} ${cure}`] };
  }
  // No decisions: nothing to walk back to (the caller only calls with kept steps).
  return { decisions: [], model: await input.build([]), result: input.failed, notes: [] };
}

/**
 * The candidates judged after `decisions` failed, most optimized first, ending with the original
 * (no decisions). Pruning is the accuracy knob and quantization after it is what pays at large
 * batch sizes (MobileNetV2: the last pruning step cost 2 points on the test split, the int8 step
 * after it nothing, and 0.65x of the time at batch 32): so the last pruning stage gives up its
 * steps from the end while the stages after it stay, each level also tried without them.
 */
export function walkBackOrder(decisions: StepDecision[]): StepDecision[][] {
  const last = decisions.findLastIndex((d) => isScheduled(d.stage));
  const prefixes = (ds: StepDecision[]) => Array.from({ length: ds.length }, (_, k) => ds.slice(0, ds.length - 1 - k));
  if (last < 0) return prefixes(decisions);
  const stage = decisions[last].stageIndex;
  const from = decisions.findIndex((d) => d.stageIndex === stage);
  const before = decisions.slice(0, from);
  const steps = decisions.slice(from, last + 1);
  const after = decisions.slice(last + 1);
  const order: StepDecision[][] = [];
  for (let keep = steps.length; keep >= 0; keep--) {
    const cut = [...before, ...steps.slice(0, keep)];
    if (keep < steps.length && after.length) order.push([...cut, ...after]);
    if (keep < steps.length || after.length) order.push(cut);
  }
  // Past the stage: the earlier stages give up their steps from the end.
  for (const rest of prefixes(before)) if (rest.length < before.length) order.push(rest);
  return order.filter((ds, i) => i === order.findIndex((o) => o.length === ds.length && o.every((d, j) => d === ds[j])));
}

/** "structured pruning to 40 %, then int8-static quantization". */
export function describeDecisions(decisions: StepDecision[]): string {
  if (!decisions.length) return 'the PR model';
  const stages: string[] = [];
  for (const [i, d] of decisions.entries()) {
    if (decisions[i + 1]?.stageIndex === d.stageIndex) continue;
    stages.push(d.stage.stage === 'prune' && isScheduled(d.stage) ? `${d.stage.prune.kind} pruning to ${Math.round(d.goal * 1000) / 10} %` : describeStage(d.stage));
  }
  return stages.join(', then ');
}

const fmt = (x: number) => (Math.round(x * 100) / 100).toString();
