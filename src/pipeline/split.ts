/**
 * What the search and test splits (prepare.ts) mean for the measurements: each split's fidelity
 * reference, the frozen baseline restricted to the test samples, and how the report states it.
 */
import { OutputStore } from '../evaluate/output-store.js';
import type { EvaluateOptions } from '../evaluate/evaluate.js';
import { subsetResult } from '../evaluate/subset.js';
import type { Baseline } from '../gate/baseline.js';
import type { SplitRecord } from '../report/types.js';
import type { DataSplit, Prepared } from './prepare.js';
import type { ReferenceSource } from './reference.js';

/** How the original and the candidates are evaluated on one split. */
export interface SplitEvaluation {
  /** Options for the original model (fidelity: it fills its own reference store). */
  original: EvaluateOptions;
  /** Options for every candidate (fidelity: compared with the reference outputs of these samples). */
  candidates: EvaluateOptions;
}

/**
 * How models are evaluated on one part of the data, and the stores to release afterwards (added
 * to `releases`). Labelled data and expected outputs need nothing; a frozen baseline's outputs
 * are picked sample by sample; otherwise the original's outputs are kept while it is evaluated on
 * these samples. `indices`: the samples in the evaluation data (absent: explicit search data, no
 * frozen outputs cover it).
 */
export function evaluationOn(p: Prepared, source: ReferenceSource | undefined, indices: number[] | undefined, releases: OutputStore[]): SplitEvaluation {
  if (!source || source.kind === 'expected') return { original: p.evaluate, candidates: p.evaluate };
  if (!releases.includes(source.store)) releases.push(source.store);
  if (source.kind === 'frozen' && indices) {
    const store = indices.length === p.evalSet.count ? source.store : source.store.pick(indices);
    if (store !== source.store) releases.push(store);
    return { original: { ...p.evaluate, reference: store }, candidates: { ...p.evaluate, reference: store } };
  }
  const store = new OutputStore(p.config.model);
  releases.push(store);
  return { original: { ...p.evaluate, reference: 'self', keep: store }, candidates: { ...p.evaluate, reference: store } };
}

/** `evaluationOn` the search or the test split. */
export function splitEvaluation(p: Prepared, source: ReferenceSource | undefined, part: 'search' | 'test', releases: OutputStore[]): SplitEvaluation {
  const { split } = p;
  const indices = part === 'test' || split.how === 'none' ? split.testIndices : split.how === 'split' ? complement(split.testIndices, p.evalSet.count) : undefined;
  return evaluationOn(p, source, indices, releases);
}

/** The frozen baseline over these samples of the evaluation data (its per-sample results pick them; its metrics are recomputed). */
export function baselineOn(baseline: Baseline, indices: number[], evalCount: number): Baseline {
  if (baseline.samples !== evalCount || indices.length === baseline.samples) return baseline;
  const { samples, metrics, perSample, perClass } = subsetResult({ task: baseline.task, samples: baseline.samples, metrics: baseline.metrics, perSample: baseline.perSample }, indices);
  return { ...baseline, samples, metrics, perSample, ...(perClass && { perClass }) };
}

export function splitRecord(split: DataSplit): SplitRecord {
  return { how: split.how, ...(split.fraction !== undefined && { fraction: split.fraction }), searchSamples: split.searchSamples, testSamples: split.testSamples };
}

/** One sentence for the report: which samples chose the steps and which judged them. */
export function splitNote(split: DataSplit): string[] {
  if (split.how === 'split') return [`Steps were chosen on ${split.searchSamples} search samples (${Math.round(split.fraction! * 100)} % of data.eval, seeded, stratified by label where there are labels); the gate judged the other ${split.testSamples}.`];
  if (split.how === 'explicit') return [`Steps were chosen on data.search (${split.searchSamples} samples); the gate judged data.test (${split.testSamples} samples).`];
  return [];
}

/** Indices in [0, count) not in `sorted` (ascending). */
export function complement(sorted: number[], count: number): number[] {
  const taken = new Uint8Array(count);
  for (const i of sorted) taken[i] = 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (!taken[i]) out.push(i);
  return out;
}
