/** The gate's accuracy rule on the test split overrules the search: candidates of fewer kept steps, judged in walkBackOrder, down to the original. */
import type { EvalResult } from '../../src/evaluate/types.js';
import type { StepDecision } from '../../src/loop/types.js';
import { createModel, emptyGraph, type Model } from '../../src/onnx/index.js';
import { describeDecisions, walkBackOnTest, walkBackOrder } from '../../src/pipeline/walk-back.js';

const prune = (goal: number, reached: number, stageIndex = 0): StepDecision => ({ stageIndex, stage: { stage: 'prune', prune: { kind: 'structured', target: 0.5, step: 0.1 } }, goal, reached });
const int8: StepDecision = { stageIndex: 1, stage: { stage: 'quantize', quantize: { kind: 'int8-static' } }, goal: 1, reached: 0 };
/** MobileNetV2's kept decisions in the zoo: structured 10, 20, 40, 50 %, then static int8. */
const kept = [prune(0.1, 0), prune(0.2, 0.1), prune(0.4, 0.2), prune(0.5, 0.4), int8];
const name = (ds: StepDecision[]) => ds.map((d) => (d.stage.stage === 'prune' ? d.goal * 100 : 'int8')).join('+') || 'original';

test('the last pruning stage gives up steps from its end while quantization after it stays (each level also without it), the original last', () => {
  expect(walkBackOrder(kept).map(name)).toEqual(['10+20+40+50', '10+20+40+int8', '10+20+40', '10+20+int8', '10+20', '10+int8', '10', 'int8', 'original']);
  // Pruning alone: plain prefixes. Quantization alone: the original.
  expect(walkBackOrder(kept.slice(0, 3)).map(name)).toEqual(['10+20', '10', 'original']);
  expect(walkBackOrder([int8]).map(name)).toEqual(['original']);
  expect(describeDecisions(kept)).toBe('structured pruning to 50 %, then int8-static quantization');
  expect(describeDecisions([])).toBe('the PR model');
});

/** Drift on the test split per candidate (by name), on an original of 95 %; the rule passes at 2 points or less. */
function setup(drift: Record<string, number>) {
  const built: string[] = [];
  const result = (accuracy: number): EvalResult => ({ task: 'classification', samples: 100, metrics: { accuracy }, perSample: {} });
  return {
    built,
    input: {
      decisions: kept,
      failed: result(95 - drift[name(kept)]),
      build: async (ds: StepDecision[]) => (built.push(name(ds)), createModel(emptyGraph(name(ds)), [{ domain: '', version: 17 }]) as Model),
      evaluate: async (m: Model) => result(95 - (drift[m.graph.name] ?? 0)),
      judge: (r: EvalResult) => ({ pass: 95 - r.metrics.accuracy! <= 2, drift: 95 - r.metrics.accuracy! }),
    },
  };
}

test('the first candidate inside the rule ships, and the note says the test split chose it', async () => {
  const { input, built } = setup({ '10+20+40+50+int8': 2.14, '10+20+40+50': 2.14, '10+20+40+int8': 0.43 });
  const w = await walkBackOnTest(input);
  expect(built).toEqual(['10+20+40+50', '10+20+40+int8']);
  expect(name(w.decisions)).toBe('10+20+40+int8');
  expect(w.model.graph.name).toBe('10+20+40+int8');
  expect(w.result.metrics.accuracy).toBeCloseTo(94.57);
  expect(w.notes).toEqual([
    "⚠️ The search's candidate (structured pruning to 50 %, then int8-static quantization) drifted 2.14 pt on the test split, beyond the accuracy rule, although its steps held on the search split. " +
      'Walked back to structured pruning to 40 %, then int8-static quantization (drift 0.43 pt on the test split); the test split judged 3 candidates to choose it, so that drift is slightly optimistic. ' +
      "A larger search split (data.search-fraction, or data.search) makes the search's choices hold.",
  ]);
});

test('when no candidate with kept steps passes, the PR model ships', async () => {
  const drifts = Object.fromEntries(walkBackOrder(kept).map((ds) => [name(ds), ds.length ? 3 : 0]));
  const { input, built } = setup({ ...drifts, '10+20+40+50+int8': 3.9 });
  const w = await walkBackOnTest(input);
  expect(built).toHaveLength(9);
  expect(w.decisions).toEqual([]);
  expect(w.notes[0]).toContain('Walked back: no candidate with kept steps passed (9 judged), so the PR model ships unchanged.');
});
