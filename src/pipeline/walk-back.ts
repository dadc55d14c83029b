/**
 * The gate's accuracy rule on the test split overrules the search's choice. The loop keeps steps
 * by their drift on the search split; on a small split the steps it keeps are the ones that looked
 * best there, and their drift on held-out samples can be larger (MobileNetV2 on 300 search digits:
 * kept at 0-0.7 points there, 3.9 on the 700 test digits). When the shipped candidate fails the
 * accuracy rule on the test split, the candidates of fewer kept steps are rebuilt from the
 * decisions (no measurement) and judged in turn, longest first, down to the original model. The
 * caller walks back only when the original passes the rule: otherwise the failure is the PR
 * model's (against a frozen baseline), and fewer steps would not cure it.
 *
 * The test split then chose among the candidates it judged, so the drift shown for the one that
 * passes is slightly optimistic; the note says how many were judged, and that a larger search
 * split is the cure.
 */
import type { EvalResult } from '../evaluate/types.js';
import type { Model } from '../onnx/index.js';

export interface WalkBackInput {
  /** How many kept steps build the candidate that failed. */
  steps: number;
  /** Its evaluation on the test split. */
  failed: EvalResult;
  /** The candidate after the first `count` kept steps (0: the original). */
  rebuild(count: number): Promise<Model>;
  /** A model on the test split. */
  evaluate(model: Model): Promise<EvalResult>;
  /** The gate's accuracy rule on a test-split result: whether it passes and the gated drift. */
  judge(result: EvalResult): { pass: boolean; drift: number };
  log?(message: string): void;
}

export interface WalkedBack {
  /** Kept steps of the candidate that passed, or 0: the original passes (or nothing does). */
  steps: number;
  model: Model;
  result: EvalResult;
  notes: string[];
}

export async function walkBackOnTest(input: WalkBackInput): Promise<WalkedBack> {
  const first = input.judge(input.failed);
  const failed =
    `⚠️ The search's candidate (${plural(input.steps, 'kept step')}) drifted ${fmt(first.drift)} pt on the test split, beyond the accuracy rule, although its steps held on the search split.`;
  const cure = "A larger search split (data.search-fraction, or data.search) makes the search's choices hold.";
  for (let count = input.steps - 1; count >= 0; count--) {
    const model = await input.rebuild(count);
    const result = await input.evaluate(model);
    const { pass, drift } = input.judge(result);
    input.log?.(`test split: the candidate after ${plural(count, 'kept step')} drifts ${fmt(drift)} pt: ${pass ? 'passes' : 'fails'} the accuracy rule`);
    if (!pass && count > 0) continue;
    const judged = input.steps - count + 1;
    const walked =
      count > 0
        ? `Walked back to the candidate after ${plural(count, 'kept step')} (drift ${fmt(drift)} pt on the test split); the test split judged ${judged} candidates to choose it, so that drift is slightly optimistic.`
        : `Walked back: no candidate with kept steps passed (${judged - 1} judged), so the PR model ships unchanged.`;
    return { steps: count, model, result, notes: [`${failed} ${walked} ${cure}`] };
  }
  // steps = 0: nothing to walk back to (the caller only calls with kept steps).
  return { steps: 0, model: await input.rebuild(0), result: input.failed, notes: [] };
}

const fmt = (x: number) => (Math.round(x * 100) / 100).toString();
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
