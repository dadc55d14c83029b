/**
 * Runs a model over a data set, run by run, and scores it as it goes: per-sample columns of the
 * task's metrics are computed on each run's outputs and appended, so no output is held whole. For
 * the label-free (fidelity) task every output is compared with a reference: the original model's
 * outputs kept in an OutputStore (memory, or disk when large), a frozen baseline's stored outputs,
 * or the expected outputs that came with the data (test_data_set output_K.pb).
 */
import { InputError } from '../util/errors.js';
import { float16ToFloat32 } from '../onnx/tensor-data.js';
import { applicableMetrics, classBreakdown, metricValues, scoreColumns, TASKS, type MetricDef, type MetricValues, type OutputParams, type PerSampleResults, type ScoreInput, type Task } from '../metrics/index.js';
import { batchSymbol, inferBatchAxis, moveAxisToFront } from './batch-axes.js';
import type { Dataset, LayoutOptions } from './data.js';
import type { RawArray } from './data-readers.js';
import { OutputStore, type SampleBlock } from './output-store.js';
import { ModelSession, type Feeds, type HostTensor, type SessionOptions } from './session.js';
import type { EvalResult } from './types.js';

export interface EvaluateOptions {
  task: Task;
  batchSize?: number;
  label?: string;
  session?: SessionOptions;
  /**
   * Fidelity: the outputs the model is compared with; 'self' scores the model against its own
   * outputs (the reference's own row). Absent: the expected outputs that came with the data.
   */
  reference?: OutputStore | 'self';
  /** Keeps this model's outputs here, sample by sample (the reference for later candidates). */
  keep?: OutputStore;
  /** Robustness: the same metrics under seeded Gaussian input noise. */
  noise?: { sigma: number; seed: number };
  /** Output holding class scores or the prediction (default: the first). */
  outputName?: string;
  /** Fidelity: how each output is read (class axis, threshold), by output name. */
  outputs?: Record<string, OutputParams>;
  /** Batch axes and carried state (data.batch-axis, data.carry). */
  layout?: LayoutOptions;
}

export async function evaluateModel(model: string | Uint8Array, dataset: Dataset, options: EvaluateOptions): Promise<{ result: EvalResult; notes: string[] }> {
  const label = options.label ?? (typeof model === 'string' ? model : '<in-memory model>');
  const session = await ModelSession.create(model, { ...options.session, label });
  try {
    const ds = dataset.forModel(session.inputs, label, options.layout);
    const scored = await scoreRuns(session, ds, options, label);
    const result: EvalResult = { task: options.task, samples: ds.count, ...scored };
    if (options.noise && options.noise.sigma > 0) {
      const noisy = await scoreRuns(session, ds, { ...options, keep: undefined }, label, options.noise);
      result.robustness = { sigma: options.noise.sigma, seed: options.noise.seed, metrics: noisy.metrics };
    }
    return { result, notes: ds.notes };
  } finally {
    await session.release();
  }
}

/** Runs the model over the data and keeps every output (no metrics). */
export async function runModel(model: string | Uint8Array, dataset: Dataset, options: Pick<EvaluateOptions, 'batchSize' | 'label' | 'session' | 'layout'> = {}): Promise<{ outputs: OutputStore; notes: string[] }> {
  const label = options.label ?? (typeof model === 'string' ? model : '<in-memory model>');
  const outputs = new OutputStore(label);
  const { notes } = await evaluateModel(model, dataset, { ...options, task: 'fidelity', reference: 'self', keep: outputs });
  return { outputs, notes };
}

/**
 * The feeds of the first `limit` runs as the model sees them: for a recurrent model, each state
 * input holds the previous run's output (what calibration must see, where zeros would not do).
 */
export async function feedsAsRun(model: string | Uint8Array, dataset: Dataset, options: { batchSize: number; limit: number; label?: string; layout?: LayoutOptions }): Promise<Feeds[]> {
  const label = options.label ?? (typeof model === 'string' ? model : '<in-memory model>');
  const session = await ModelSession.create(model, { label });
  try {
    const ds = dataset.forModel(session.inputs, label, options.layout);
    const out: Feeds[] = [];
    let carried: Record<string, HostTensor> | undefined;
    for (const run of ds.runs(options.batchSize)) {
      if (out.length >= options.limit) break;
      const feeds: Feeds = { ...run.feeds };
      if (ds.carry && carried) for (const [input, output] of Object.entries(ds.carry)) feeds[input] = carried[output];
      out.push(feeds);
      if (ds.carry) carried = await session.run(feeds);
    }
    return out;
  } finally {
    await session.release();
  }
}

/** Per-sample columns, by output for fidelity (plain names for the first output, `<column>:<output>` for every output of several). */
interface Accumulator {
  perSample: PerSampleResults;
  /** The metrics of each scored output, decided on its first run. */
  defs: Map<string, MetricDef[]>;
  /** The primary output's per-sample values (classification: classes per sample). */
  per?: number;
}

async function scoreRuns(session: ModelSession, ds: Dataset, options: EvaluateOptions, label: string, noise?: { sigma: number; seed: number }): Promise<Pick<EvalResult, 'metrics' | 'perClass' | 'confusion' | 'perSample'>> {
  const task = TASKS[options.task];
  const names = [...session.outputNames];
  const symbol = batchSymbol(session.inputs);
  const axes = new Map(session.outputs.map((o) => [o.name, inferBatchAxis(o, symbol)]));
  const acc: Accumulator = { perSample: {}, defs: new Map() };
  let reference = options.reference;
  if (task.needs === 'reference' && !reference && !ds.hasExpectedOutputs) {
    throw new InputError(`${label}: task 'fidelity' needs the original model's outputs as the reference (or data with expected outputs)`, label);
  }
  if (task.needs === 'labels' && !ds.labels) throw new InputError(`task '${options.task}' needs labels (data.eval.labels, 'labels' in the .npz or "label" in the .jsonl); without labels use 'task: fidelity'`);
  const primary = options.outputName ?? names[0];
  if (task.needs === 'labels' && !names.includes(primary)) throw new InputError(`${label}: no output named '${primary}' (outputs: ${names.join(', ')})`, label);

  let carried: Record<string, HostTensor> | undefined;
  for (const run of ds.runs(options.batchSize ?? 32, { noise })) {
    const feeds: Feeds = { ...run.feeds };
    if (ds.carry && carried) for (const [input, output] of Object.entries(ds.carry)) feeds[input] = carried[output];
    const out = await session.run(feeds);
    if (ds.carry) carried = out;
    const blocks = new Map<string, SampleBlock>();
    for (const name of names) {
      const block = samplesOf(out[name], axes.get(name) ?? null, run.n, `${label}: output '${name}'`);
      checkFinite(block, run.start, `${label}: output '${name}'`, noise);
      blocks.set(name, block);
      options.keep?.append(name, block);
    }
    if (task.needs === 'labels') {
      const block = blocks.get(primary)!;
      const s: ScoreInput = { n: run.n, values: block.values, per: perOf(block), shape: block.shape, labels: ds.labels!.values.subarray(run.start, run.start + run.n) };
      task.check(s, { model: label, output: primary, labelsSource: ds.labels!.source, labelsIntegral: ds.labels!.integral });
      accumulate(acc, options.task, '', s);
      acc.per = s.per;
      continue;
    }
    const refBlocks = referenceBlocks(reference, run, names, blocks, axes, label);
    names.forEach((name, i) => {
      const ref = refBlocks.get(name);
      if (!ref) return;
      const block = blocks.get(name)!;
      if (ref.shape.join() !== block.shape.join()) {
        throw new InputError(`${label}: output '${name}' has per-sample shape [${block.shape}] but the reference (${referenceLabel(reference)}) has [${ref.shape}]`, label);
      }
      const s: ScoreInput = { n: run.n, values: block.values, per: perOf(block), shape: block.shape, reference: ref.values, params: options.outputs?.[name] };
      if (i === 0) accumulate(acc, options.task, '', s);
      if (names.length > 1) accumulate(acc, options.task, `:${name}`, s);
    });
  }
  if (reference !== 'self' && reference !== undefined && reference.count(names[0]) !== ds.count && task.needs === 'reference') {
    throw new InputError(`${label} has outputs for ${ds.count} samples but the reference ${reference.label} for ${reference.count(names[0])}`, label);
  }
  reference = undefined;
  const metrics: MetricValues = {};
  for (const [suffix, defs] of acc.defs) {
    const view = suffixed(acc.perSample, suffix, defs);
    for (const [k, v] of Object.entries(metricValues(defs, view, ds.count))) metrics[k + suffix] = v;
  }
  if (options.task !== 'classification') return { metrics, perSample: acc.perSample };
  return { metrics, perSample: acc.perSample, ...classBreakdown(acc.perSample.labels, acc.perSample.predicted, acc.per ?? 0) };
}

/** Appends one run's columns of an output (the metrics that apply are decided on its first run). */
function accumulate(acc: Accumulator, task: Task, suffix: string, s: ScoreInput): void {
  let defs = acc.defs.get(suffix);
  if (!defs) {
    defs = applicableMetrics(task, s);
    acc.defs.set(suffix, defs);
  }
  for (const [key, values] of Object.entries(scoreColumns(defs, s))) {
    const column = (acc.perSample[key + suffix] ??= []);
    for (const v of values) column.push(v);
  }
}

/** The columns of `suffix` under their plain names, for the registry's statistics. */
function suffixed(perSample: PerSampleResults, suffix: string, defs: MetricDef[]): PerSampleResults {
  const view: PerSampleResults = {};
  for (const def of defs) for (const key of Object.keys(def.perSample)) view[key] = perSample[key + suffix];
  return view;
}

/**
 * This run's reference per output: the model's own outputs ('self'), the stored reference's
 * samples, or the expected outputs of the run (test_data_set). Outputs are matched by name, or by
 * position when the names differ (a re-exported model).
 */
function referenceBlocks(reference: OutputStore | 'self' | undefined, run: { start: number; n: number; expected?: Record<string, RawArray> }, names: string[], blocks: Map<string, SampleBlock>, axes: Map<string, number | null>, label: string): Map<string, SampleBlock> {
  if (reference === 'self') return blocks;
  const out = new Map<string, SampleBlock>();
  if (reference) {
    const refNames = names.every((n) => reference.count(n) > 0) ? names : reference.names;
    names.forEach((name, i) => {
      const refName = refNames[i];
      if (refName && reference.count(refName) >= run.start + run.n) out.set(name, reference.read(refName, run.start, run.n));
    });
    return out;
  }
  const expected = run.expected ?? {};
  const expNames = Object.keys(expected);
  const refNames = names.every((n) => expected[n]) ? names : expNames;
  names.forEach((name, i) => {
    const e = expected[refNames[i]];
    if (!e) return;
    const t: HostTensor = { type: e.type, dims: e.shape, data: e.data as HostTensor['data'] };
    out.set(name, samplesOf(t, axes.get(name) ?? null, run.n, `${label}: expected output '${refNames[i]}' (${e.source})`));
  });
  return out;
}

function referenceLabel(reference: OutputStore | 'self' | undefined): string {
  return reference === undefined ? 'the expected outputs' : reference === 'self' ? 'itself' : reference.label;
}

/**
 * A run's output as `n` samples: split along its batch axis, or whole when the run holds one sample
 * and the output has no batch axis (a test_data_set's fixed shapes).
 */
function samplesOf(t: HostTensor, axis: number | null, n: number, what: string): SampleBlock {
  const values = toFloat32(t, what);
  const dims = t.dims.length ? t.dims : [];
  if (axis !== null && dims[axis] === n) return { values: moveAxisToFront(values, dims, axis), n, shape: dims.filter((_, k) => k !== axis) };
  if (n === 1) return { values, n, shape: [...dims] };
  throw new InputError(`${what} has shape [${dims}], which does not split into the run's ${n} samples along a batch axis; evaluate one sample per run (data.batch-size: 1)`, what);
}

function perOf(block: SampleBlock): number {
  return block.shape.reduce((a, b) => a * b, 1);
}

function checkFinite(block: SampleBlock, start: number, what: string, noise?: { sigma: number }): void {
  const per = perOf(block) || 1;
  for (let k = 0; k < block.values.length; k++) {
    if (!Number.isFinite(block.values[k])) {
      throw new InputError(`${what} is ${block.values[k]} for sample ${start + Math.floor(k / per)}${noise ? ` (with input noise sigma=${noise.sigma})` : ''}; the model produced a non-finite value`, what.split(':')[0]);
    }
  }
}

function toFloat32(t: HostTensor, what: string): Float32Array {
  if (t.type === 'string') throw new InputError(`${what} is a string tensor; metrics need numbers`);
  if (t.data instanceof Float32Array) return t.data;
  if (t.type === 'float16') return Float32Array.from(t.data as Uint16Array, float16ToFloat32);
  return Float32Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

export interface PairedComparison {
  reference: EvalResult;
  candidate: EvalResult;
  notes: string[];
}

/**
 * Evaluates a reference model (the original) then a candidate on the same data. In fidelity mode
 * the candidate is compared to the reference's outputs (run once), or both to the data's expected
 * outputs when it has them.
 */
export async function evaluatePair(reference: string | Uint8Array, candidate: string | Uint8Array, dataset: Dataset, options: EvaluateOptions): Promise<PairedComparison> {
  const refLabel = typeof reference === 'string' ? reference : 'reference';
  const fidelity = options.task === 'fidelity' && !dataset.hasExpectedOutputs;
  const store = fidelity ? new OutputStore(refLabel) : undefined;
  try {
    const ref = await evaluateModel(reference, dataset, { ...options, label: refLabel, ...(store && { reference: 'self', keep: store }) });
    const cand = await evaluateModel(candidate, dataset, { ...options, label: typeof candidate === 'string' ? candidate : 'candidate', ...(store && { reference: store }) });
    return { reference: ref.result, candidate: cand.result, notes: [...ref.notes, ...cand.notes] };
  } finally {
    store?.release();
  }
}
