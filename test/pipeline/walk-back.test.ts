/** The gate's accuracy rule on the test split overrules the search: candidates of fewer kept steps, longest first, down to the original. */
import type { EvalResult } from '../../src/evaluate/types.js';
import { createModel, emptyGraph, type Model } from '../../src/onnx/index.js';
import { walkBackOnTest } from '../../src/pipeline/walk-back.js';

const model = (name: string): Model => createModel(emptyGraph(name), [{ domain: '', version: 17 }]);
/** A test-split result whose accuracy is `accuracy` (the judge below reads it). */
const result = (accuracy: number): EvalResult => ({ task: 'classification', samples: 100, metrics: { accuracy }, perSample: {} });

/** Drift per count of kept steps, on an original of 95 %; the rule passes at 2 points or less. */
function setup(driftAfter: number[]) {
  const rebuilt: number[] = [];
  return {
    rebuilt,
    input: {
      steps: driftAfter.length - 1,
      failed: result(95 - driftAfter[driftAfter.length - 1]),
      rebuild: async (count: number) => (rebuilt.push(count), model(`after ${count}`)),
      evaluate: async (m: Model) => result(95 - driftAfter[Number(m.graph.name.split(' ')[1])]),
      judge: (r: EvalResult) => ({ pass: 95 - r.metrics.accuracy! <= 2, drift: 95 - r.metrics.accuracy! }),
    },
  };
}

test('the longest candidate inside the rule ships, and the note says the test split chose it', async () => {
  const { input, rebuilt } = setup([0, 0.5, 1.5, 3, 3.9]);
  const w = await walkBackOnTest(input);
  expect(rebuilt).toEqual([3, 2]);
  expect(w.steps).toBe(2);
  expect(w.model.graph.name).toBe('after 2');
  expect(w.result.metrics.accuracy).toBe(93.5);
  expect(w.notes).toEqual([
    "⚠️ The search's candidate (4 kept steps) drifted 3.9 pt on the test split, beyond the accuracy rule, although its steps held on the search split. " +
      'Walked back to the candidate after 2 kept steps (drift 1.5 pt on the test split); the test split judged 3 candidates to choose it, so that drift is slightly optimistic. ' +
      "A larger search split (data.search-fraction, or data.search) makes the search's choices hold.",
  ]);
});

test('when no candidate with kept steps passes, the original ships', async () => {
  const { input, rebuilt } = setup([0, 2.5, 3]);
  const w = await walkBackOnTest(input);
  expect(rebuilt).toEqual([1, 0]);
  expect(w.steps).toBe(0);
  expect(w.notes[0]).toContain('Walked back: no candidate with kept steps passed (2 judged), so the PR model ships unchanged.');
});
