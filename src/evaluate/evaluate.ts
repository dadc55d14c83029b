/**
 * Runs a model over a data set and computes the task's metrics. The outputs can be kept and
 * passed back as `reference` so label-free (fidelity) evaluation runs the original model only once.
 */
import { InputError } from '../util/errors.js';
import { float16ToFloat32 } from '../onnx/tensor-data.js';
import { classBreakdown, scoreOutput, TASKS, type MetricValues, type PerSampleResults, type ScoreInput, type Task } from '../metrics/index.js';
import { Dataset, sampleSize } from './data.js';
import { ModelSession, type Feeds, type HostTensor, type SessionOptions } from './session.js';
import type { EvalResult } from './types.js';

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

function score(outputs: ModelOutputs, ds: Dataset, options: EvaluateOptions, label: string): Pick<EvalResult, 'metrics' | 'perClass' | 'confusion' | 'perSample'> {
  const task = TASKS[options.task];
  if (task.needs === 'reference') {
    const reference = options.reference ?? expectedAsReference(ds);
    if (!reference) throw new InputError(`${label}: task 'fidelity' needs the original model's outputs as the reference (or data with expected outputs)`, label);
    return compareToReference(outputs, reference);
  }
  const outName = options.outputName ?? outputs.names[0];
  if (!outputs.data[outName]) throw new InputError(`${label}: no output named '${outName}' (outputs: ${outputs.names.join(', ')})`, label);
  if (!ds.labels) throw new InputError(`task '${options.task}' needs labels (data.eval.labels, 'labels' in the .npz or "label" in the .jsonl); without labels use 'task: fidelity'`);
  const s: ScoreInput = { n: outputs.count, values: outputs.data[outName], per: outputs.perSample[outName], labels: ds.labels.values };
  task.check(s, { model: label, output: outName, labelsSource: ds.labels.source, labelsIntegral: ds.labels.integral });
  const scored = scoreOutput(options.task, s);
  if (options.task !== 'classification') return scored;
  return { ...scored, ...classBreakdown(scored.perSample.labels, scored.perSample.predicted, s.per) };
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
 * metrics and per-sample columns are reported under their plain names, every output's metrics also
 * as `<metric>:<output>` when the model has several.
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
    const scored = scoreOutput('fidelity', { n: candidate.count, values: candidate.data[name], per: candidate.perSample[name], reference: reference.data[refName] });
    for (const [k, v] of Object.entries(scored.metrics)) {
      if (i === 0) metrics[k] = v;
      if (candidate.names.length > 1) metrics[`${k}:${name}`] = v;
    }
    if (i === 0) perSample = scored.perSample;
  });
  return { metrics, perSample };
}

export interface PairedComparison {
  reference: EvalResult;
  candidate: EvalResult;
  referenceOutputs: ModelOutputs;
  notes: string[];
}

/**
 * Evaluates a reference model (the original) then a candidate on the same data. In fidelity mode
 * the candidate is compared to the reference's outputs (run once).
 */
export async function evaluatePair(reference: string | Uint8Array, candidate: string | Uint8Array, dataset: Dataset, options: EvaluateOptions & { referenceOutputs?: ModelOutputs; referenceResult?: EvalResult }): Promise<PairedComparison> {
  let ref = options.referenceResult;
  let refOut = options.referenceOutputs;
  let notes: string[] = [];
  if (!ref || !refOut) {
    const refLabel = typeof reference === 'string' ? reference : 'reference';
    if (options.task === 'fidelity') {
      // The reference is its own reference: run it once and keep its outputs for the candidate.
      const run = await runModel(reference, dataset, { ...options, label: refLabel });
      refOut = run.outputs;
      ref = { task: 'fidelity', samples: refOut.count, ...compareToReference(refOut, refOut) };
      notes = run.notes;
    } else {
      const r = await evaluateModel(reference, dataset, { ...options, label: refLabel, keepOutputs: true });
      refOut = r.outputs as ModelOutputs;
      ref = r.result;
      notes = r.notes;
    }
  }
  const cand = await evaluateModel(candidate, dataset, { ...options, label: typeof candidate === 'string' ? candidate : 'candidate', reference: options.task === 'fidelity' ? refOut : options.reference });
  return { reference: ref, candidate: cand.result, referenceOutputs: refOut, notes: [...notes, ...cand.notes] };
}
