/**
 * Runs a model over a data set and computes the task's metrics. The outputs can be kept and
 * passed back as `reference` so label-free (fidelity) evaluation runs the baseline only once.
 */
import { InputError } from '../util/errors.js';
import { float16ToFloat32 } from '../onnx/tensor-data.js';
import type { MetricName, Task } from '../config/types.js';
import { Dataset, sampleSize } from './data.js';
import { classificationMetrics, fidelityMetrics, regressionMetrics } from './metrics.js';
import { bootstrapMeanDifference, mcnemar, type Difference, type McNemarResult } from './stats.js';
import { ModelSession, type Feeds, type HostTensor, type SessionOptions } from './session.js';
import type { EvalResult, MetricValues, PerSampleResults } from './types.js';

/** All outputs of one model on one data set, as float32, first axis = samples. */
export interface ModelOutputs {
  label: string;
  count: number;
  names: string[];
  /** Values per sample, by output name. */
  perSample: Record<string, number>;
  data: Record<string, Float32Array>;
}

export interface EvaluateOptions {
  task: Task;
  /** Which metrics to report first; every metric of the task is computed. top3/top5/top10 pick k. */
  metrics?: MetricName[];
  batchSize?: number;
  label?: string;
  session?: SessionOptions;
  /** The reference model's outputs (fidelity): from an earlier `evaluateModel(..., { keepOutputs: true })`. */
  reference?: ModelOutputs;
  keepOutputs?: boolean;
  /** Robustness: the same metrics under seeded Gaussian input noise. */
  noise?: { sigma: number; seed: number };
  /** Output holding class scores or the prediction (default: the first). */
  outputName?: string;
}

/** SQNR of identical outputs is infinite; reports store this ceiling instead (JSON has no Infinity). */
export const SQNR_CEILING_DB = 200;

export async function evaluateModel(model: string | Uint8Array, dataset: Dataset, options: EvaluateOptions): Promise<{ result: EvalResult; outputs?: ModelOutputs; notes: string[] }> {
  const label = options.label ?? (typeof model === 'string' ? model : '<in-memory model>');
  const session = await ModelSession.create(model, { ...options.session, label });
  try {
    const ds = dataset.forModel(session.inputs, label);
    const outputs = await collectOutputs(session, ds, options.batchSize ?? 32, label);
    const scored = score(outputs, ds, options, label);
    const result: EvalResult = { task: options.task, samples: ds.count, ...scored };
    if (options.noise && options.noise.sigma > 0) {
      const noisy = await collectOutputs(session, ds, options.batchSize ?? 32, label, options.noise);
      result.robustness = { sigma: options.noise.sigma, seed: options.noise.seed, metrics: score(noisy, ds, options, label).metrics };
    }
    return { result, outputs: options.keepOutputs ? outputs : undefined, notes: ds.notes };
  } finally {
    await session.release();
  }
}

/** Runs the model over the data and returns every output (no metrics). */
export async function runModel(model: string | Uint8Array, dataset: Dataset, options: { batchSize?: number; label?: string; session?: SessionOptions; noise?: { sigma: number; seed: number } } = {}): Promise<{ outputs: ModelOutputs; notes: string[] }> {
  const label = options.label ?? (typeof model === 'string' ? model : '<in-memory model>');
  const session = await ModelSession.create(model, { ...options.session, label });
  try {
    const ds = dataset.forModel(session.inputs, label);
    return { outputs: await collectOutputs(session, ds, options.batchSize ?? 32, label, options.noise), notes: ds.notes };
  } finally {
    await session.release();
  }
}

async function collectOutputs(session: ModelSession, ds: Dataset, batchSize: number, label: string, noise?: { sigma: number; seed: number }): Promise<ModelOutputs> {
  const names = [...session.outputNames];
  const chunks: Record<string, Float32Array[]> = Object.fromEntries(names.map((n) => [n, []]));
  const perSample: Record<string, number> = {};
  let done = 0;
  for (const feeds of ds.batches(batchSize, { noise }) as Iterable<Feeds>) {
    const n = Object.values(feeds)[0].dims[0];
    const out = await session.run(feeds);
    for (const name of names) {
      const t = out[name];
      const values = toFloat32(t, `${label}: output '${name}'`);
      const per = t.dims.length && t.dims[0] === n ? sampleSize(t.dims.slice(1)) : values.length / n;
      if (!Number.isInteger(per)) throw new InputError(`${label}: output '${name}' has shape [${t.dims}], which does not split into ${n} samples`, label);
      if (perSample[name] !== undefined && perSample[name] !== per) throw new InputError(`${label}: output '${name}' changes size between batches (${perSample[name]} then ${per} per sample)`, label);
      perSample[name] = per;
      for (let k = 0; k < values.length; k++) {
        if (!Number.isFinite(values[k])) {
          throw new InputError(`${label}: output '${name}' is ${values[k]} for sample ${done + Math.floor(k / per)}${noise ? ` (with input noise sigma=${noise.sigma})` : ''}; the model produced a non-finite value`, label);
        }
      }
      chunks[name].push(values);
    }
    done += n;
  }
  const data: Record<string, Float32Array> = {};
  for (const name of names) {
    const total = chunks[name].reduce((s, c) => s + c.length, 0);
    const all = new Float32Array(total);
    let o = 0;
    for (const c of chunks[name]) {
      all.set(c, o);
      o += c.length;
    }
    data[name] = all;
  }
  return { label, count: done, names, perSample, data };
}

function toFloat32(t: HostTensor, what: string): Float32Array {
  if (t.type === 'string') throw new InputError(`${what} is a string tensor; metrics need numbers`);
  if (t.data instanceof Float32Array) return t.data.slice();
  if (t.type === 'float16') return Float32Array.from(t.data as Uint16Array, float16ToFloat32);
  return Float32Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

function topKs(metrics?: MetricName[]): number[] {
  const ks = (metrics ?? []).map((m) => /^top(\d+)$/.exec(m)?.[1]).filter((k): k is string => k !== undefined).map(Number);
  return [...new Set([...ks.filter((k) => k > 1), 5])];
}

function score(outputs: ModelOutputs, ds: Dataset, options: EvaluateOptions, label: string): Pick<EvalResult, 'metrics' | 'perClass' | 'confusion' | 'perSample'> {
  const outName = options.outputName ?? outputs.names[0];
  if (!outputs.data[outName]) throw new InputError(`${label}: no output named '${outName}' (outputs: ${outputs.names.join(', ')})`, label);
  const values = outputs.data[outName];
  const per = outputs.perSample[outName];
  if (options.task === 'classification') {
    const labels = requireLabels(ds, options.task);
    if (!ds.labels?.integral) throw new InputError(`${ds.labels?.source}: classification labels must be whole class ids; for continuous targets use 'task: regression'`, ds.labels?.source);
    if (per < 2) throw new InputError(`${label}: output '${outName}' has ${per} value per sample; classification needs one score per class (for a single score use 'task: regression')`, label);
    const maxLabel = labels.reduce((a, b) => Math.max(a, b), 0);
    if (maxLabel >= per) throw new InputError(`${ds.labels?.source}: label ${maxLabel} but the model scores only ${per} classes`, ds.labels?.source);
    const m = classificationMetrics(values, per, labels, topKs(options.metrics));
    const metrics: MetricValues = { accuracy: m.accuracy, top1: m.accuracy, f1: m.f1, 'worst-class-accuracy': m.worstClassAccuracy };
    for (const [k, v] of Object.entries(m.topK)) if (Number(k) < per) metrics[`top${k}`] = v;
    return { metrics, perClass: m.perClass, confusion: m.confusion, perSample: { correct: m.correct, predicted: m.predicted, labels: [...labels] } };
  }
  if (options.task === 'regression') {
    const labels = requireLabels(ds, options.task);
    if (per !== 1) throw new InputError(`${label}: output '${outName}' has ${per} values per sample; regression compares one prediction per sample with one target`, label);
    const m = regressionMetrics(values, labels);
    return { metrics: { mae: m.mae, rmse: m.rmse }, perSample: { absError: m.absError, correct: m.absError, labels: [...labels] } };
  }
  const reference = options.reference ?? expectedAsReference(ds);
  if (!reference) throw new InputError(`${label}: task 'fidelity' needs the baseline model's outputs as the reference (or data with expected outputs)`, label);
  const cmp = compareToReference(outputs, reference);
  return { metrics: cmp.metrics, perSample: cmp.perSample };
}

function requireLabels(ds: Dataset, task: Task): number[] {
  if (!ds.labels) throw new InputError(`task '${task}' needs labels (data.eval.labels, 'labels' in the .npz or "label" in the .jsonl); without labels use 'task: fidelity'`);
  return [...ds.labels.values];
}

function expectedAsReference(ds: Dataset): ModelOutputs | undefined {
  if (!ds.expectedOutputs) return undefined;
  const data: Record<string, Float32Array> = {};
  const perSample: Record<string, number> = {};
  for (const o of ds.expectedOutputs) {
    data[o.name] = Float32Array.from(o.data as ArrayLike<number | bigint>, (v) => Number(v));
    perSample[o.name] = sampleSize(o.sampleShape);
  }
  return { label: 'expected outputs', count: ds.count, names: ds.expectedOutputs.map((o) => o.name), perSample, data };
}

/**
 * Fidelity of `candidate` against `reference` (same samples), per output. The first output's
 * metrics are reported as agreement/cosine/sqnr/max-abs-error, every output's also as `<metric>:<output>`.
 */
export function compareToReference(candidate: ModelOutputs, reference: ModelOutputs): { metrics: MetricValues; perSample: PerSampleResults } {
  if (candidate.count !== reference.count) throw new InputError(`${candidate.label} has outputs for ${candidate.count} samples but the reference ${reference.label} for ${reference.count}`);
  const metrics: MetricValues = {};
  let perSample: PerSampleResults = {};
  // Outputs are matched by name, or by position when the names differ (a re-exported model).
  const refNames = candidate.names.every((n) => reference.data[n]) ? candidate.names : reference.names;
  candidate.names.forEach((name, i) => {
    const refName = refNames[i];
    if (!refName || !reference.data[refName]) return;
    if (candidate.perSample[name] !== reference.perSample[refName]) {
      throw new InputError(`${candidate.label}: output '${name}' has ${candidate.perSample[name]} values per sample but the reference's '${refName}' has ${reference.perSample[refName]}`);
    }
    const f = fidelityMetrics(candidate.data[name], reference.data[refName], candidate.count);
    const values = { agreement: f.agreement, cosine: f.cosine, sqnr: Math.min(f.sqnr, SQNR_CEILING_DB), 'max-abs-error': f.maxAbsError };
    for (const [k, v] of Object.entries(values)) {
      if (i === 0) metrics[k] = v;
      if (candidate.names.length > 1) metrics[`${k}:${name}`] = v;
    }
    if (i === 0) {
      const per = candidate.perSample[name];
      perSample = { correct: f.agree, predicted: Array.from({ length: candidate.count }, (_, s) => argmaxAt(candidate.data[name], s * per, per)), cosine: f.cosinePerSample };
    }
  });
  return { metrics, perSample };
}

function argmaxAt(v: Float32Array, o: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (v[o + k] > v[o + best]) best = k;
  return best;
}

export interface PairedComparison {
  baseline: EvalResult;
  candidate: EvalResult;
  baselineOutputs: ModelOutputs;
  /** candidate - baseline of the per-sample `correct` means in points (accuracy/agreement), with a paired bootstrap CI. */
  difference?: Difference;
  mcnemar?: McNemarResult;
  notes: string[];
}

/**
 * Evaluates baseline then candidate on the same data. In fidelity mode the candidate is compared
 * to the baseline's outputs (run once).
 */
export async function evaluatePair(baseline: string | Uint8Array, candidate: string | Uint8Array, dataset: Dataset, options: EvaluateOptions & { seed?: number; baselineOutputs?: ModelOutputs; baselineResult?: EvalResult }): Promise<PairedComparison> {
  let base = options.baselineResult;
  let baseOut = options.baselineOutputs;
  let notes: string[] = [];
  if (!base || !baseOut) {
    const baseLabel = typeof baseline === 'string' ? baseline : 'baseline';
    if (options.task === 'fidelity') {
      // The baseline is its own reference: run it once and keep its outputs for the candidate.
      const run = await runModel(baseline, dataset, { ...options, label: baseLabel });
      baseOut = run.outputs;
      base = { task: 'fidelity', samples: baseOut.count, ...compareToReference(baseOut, baseOut) };
      notes = run.notes;
    } else {
      const b = await evaluateModel(baseline, dataset, { ...options, label: baseLabel, keepOutputs: true });
      baseOut = b.outputs as ModelOutputs;
      base = b.result;
      notes = b.notes;
    }
  }
  const cand = await evaluateModel(candidate, dataset, { ...options, label: typeof candidate === 'string' ? candidate : 'candidate', reference: options.task === 'fidelity' ? baseOut : options.reference });
  const seed = options.seed ?? 0;
  const a = base.perSample.correct;
  const b = cand.result.perSample.correct;
  const classLike = options.task !== 'regression';
  return {
    baseline: base,
    candidate: cand.result,
    baselineOutputs: baseOut,
    difference: a && b ? bootstrapMeanDifference(a.map((v) => (classLike ? 100 * v : v)), b.map((v) => (classLike ? 100 * v : v)), { seed }) : undefined,
    mcnemar: a && b && classLike ? mcnemar(a, b) : undefined,
    notes: [...notes, ...cand.notes],
  };
}
