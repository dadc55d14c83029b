/**
 * The tasks: what each needs (labels or a reference), which metrics it reports when the config
 * names none, and the checks that turn a mismatched model or data set into a clear message.
 */
import { InputError } from '../util/errors.js';
import type { MetricName } from './registry.js';
import type { ScoreInput, Task } from './types.js';

export interface TaskDef {
  /** What the data must carry besides inputs. */
  needs: 'labels' | 'reference';
  defaultMetrics: MetricName[];
  /**
   * Throws an InputError when this output cannot be scored for the task. `where` names the model
   * and output, `labelsSource` the labels file.
   */
  check(s: ScoreInput, where: { model: string; output: string; labelsSource?: string; labelsIntegral?: boolean }): void;
}

export const TASKS: Record<Task, TaskDef> = {
  classification: {
    needs: 'labels',
    defaultMetrics: ['accuracy'],
    check(s, w) {
      if (!w.labelsIntegral) throw new InputError(`${w.labelsSource}: classification labels must be whole class ids; for continuous targets use 'task: regression'`, w.labelsSource);
      if (s.per < 2) throw new InputError(`${w.model}: output '${w.output}' has ${s.per} value per sample; classification needs one score per class (for a single score use 'task: regression')`, w.model);
      const maxLabel = s.labels!.reduce((a, b) => Math.max(a, b), 0);
      if (maxLabel >= s.per) throw new InputError(`${w.labelsSource}: label ${maxLabel} but the model scores only ${s.per} classes`, w.labelsSource);
    },
  },
  regression: {
    needs: 'labels',
    defaultMetrics: ['mae', 'rmse'],
    check(s, w) {
      if (s.per !== 1) throw new InputError(`${w.model}: output '${w.output}' has ${s.per} values per sample; regression compares one prediction per sample with one target`, w.model);
    },
  },
  fidelity: {
    needs: 'reference',
    defaultMetrics: ['agreement', 'cosine'],
    check() {},
  },
};

/**
 * The fidelity metrics that mean something for an output of this per-sample shape (the model's
 * output shape without its batch axis; named dimensions are free):
 * - a single value (a speech probability): agreement of the decision at the threshold, and the
 *   largest difference;
 * - a vector of scores or an embedding: agreement of the top class, cosine;
 * - a sequence [T, C] (a recognizer's per-timestep characters): agreement per timestep, exact match
 *   of the whole sequence, cosine;
 * - a map [1, H, W] (a detector's probability map): mask IoU at the threshold, cosine; a map of
 *   classes [C, H, W]: agreement per position, cosine.
 */
export function fidelityDefaults(shape: ReadonlyArray<number | string>): MetricName[] {
  const fixedOne = (d: number | string) => d === 1;
  if (shape.every(fixedOne)) return ['agreement', 'max-abs-error'];
  if (shape.length <= 1) return ['agreement', 'cosine'];
  if (shape.length === 2) return ['agreement', 'exact-match', 'cosine'];
  return shape[0] === 1 ? ['mask-iou', 'cosine'] : ['agreement', 'cosine'];
}
