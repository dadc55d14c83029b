/**
 * What every command that measures needs first: the validated config, the model (IR and path),
 * the evaluation set checked against the model's inputs, and calibration batches for the passes.
 */
import { setWebThreads } from '../evaluate/targets.js';
import { loadConfig, pointerToken, printable, type Config } from '../config/index.js';
import { batchSymbol, inferBatchAxis } from '../evaluate/batch-axes.js';
import { loadDataset, refuseNonTensors, type Dataset } from '../evaluate/data.js';
import { feedsAsRun, type EvaluateOptions } from '../evaluate/evaluate.js';
import { ModelSession, type Feeds, type IoInfo } from '../evaluate/session.js';
import { canonicalMetric, fidelityDefaults, metricDef, type OutputParams } from '../metrics/index.js';
import { InputError } from '../util/errors.js';
import { loadModel, type Model } from '../onnx/index.js';
import { splitIndices } from '../evaluate/split.js';

export interface Prepared {
  config: Config;
  model: Model;
  modelInputs: IoInfo[];
  modelOutputs: IoInfo[];
  /** The evaluation data the gate judges from and `baseline` freezes (data.test, else data.eval). */
  evalSet: Dataset;
  /** What the optimization loop chooses its steps on (a split of data.eval, or data.search). */
  searchSet: Dataset;
  /** What the gate judges: the test split of evalSet. */
  testSet: Dataset;
  /** Sample indices of testSet in evalSet (all of them with data.test), and how the data was split. */
  split: DataSplit;
  /** How every evaluation of this config runs (task, batch size, outputs, layout). */
  evaluate: EvaluateOptions;
  /** Calibration batches for the passes (the calibration set, else the first 256 evaluation samples). */
  calibration: Feeds[];
  notes: string[];
}

export interface DataSplit {
  how: 'split' | 'explicit' | 'none';
  /** Share of data.eval searched, when split. */
  fraction?: number;
  searchSamples: number;
  testSamples: number;
  /** Indices of the test samples in the evaluation data, ascending. */
  testIndices: number[];
  note?: string;
}

/** Samples taken from the evaluation set when no calibration set is configured. */
const FALLBACK_CALIBRATION_SAMPLES = 256;
/** Calibration batch size: small batches keep activation capture memory bounded. */
const CALIBRATION_BATCH = 32;

/** The config (with `--model` in place of its `model:`) and the model's IR, before any data is read. */
export function loadConfigAndModel(configPath: string, modelOverride?: string): { config: Config; model: Model } {
  const config = loadConfig(configPath, { model: modelOverride });
  return { config, model: loadModel(config.model) };
}

/** `calibration: false` skips the calibration batches (commands that only evaluate). */
export async function prepare(configPath: string, overrides: { model?: string; calibration?: false } = {}): Promise<Prepared> {
  const { config, model } = loadConfigAndModel(configPath, overrides.model);
  // bench.threads for every target: the WebAssembly runtime takes it once, before its first session.
  if (config.targets.includes('wasm')) setWebThreads(config.bench.threads);
  const { inputs: modelInputs, outputs: modelOutputs } = await modelIo(config.model);

  if (!config.data.eval) {
    throw new InputError(`${config.file}: /data/eval is missing (or data.search and data.test): the gate needs data to measure accuracy (data.eval.inputs, and data.eval.labels unless task is fidelity)`, `${config.file}#/data/eval`, 'config');
  }
  refuseNonTensors(modelInputs, modelOutputs, config.model);
  if (config.task === 'fidelity') resolveFidelityMetrics(config, modelInputs, modelOutputs);
  checkGatedRule(config);
  const evalSet = loadSet(config, 'eval', modelInputs);
  if (config.task !== 'fidelity' && !evalSet.labels) {
    throw new InputError(`${config.file}: /data/eval/labels: task '${config.task}' needs labels and ${describe(config.data.eval.inputs)} holds none; add data.eval.labels or use task: fidelity`, `${config.file}#/data/eval/labels`, 'config');
  }
  const notes: string[] = [...evalSet.notes];
  const evaluate: EvaluateOptions = { task: config.task, batchSize: config.data.batchSize, outputs: outputParams(config), layout: layoutOf(config) };
  const { split, searchSet, testSet } = searchAndTest(config, modelInputs, evalSet);
  if (split.note) notes.push(split.note);
  const prepared = { config, model, modelInputs, modelOutputs, evalSet, searchSet, testSet, split, evaluate, notes };
  if (overrides.calibration === false) return { ...prepared, calibration: [] };
  // Never undefined here: the search set is the fallback.
  const calibration = (await calibrationBatches(config, modelInputs, { searchSet, split }, notes)) ?? [];
  return { ...prepared, calibration };
}

/** The search set (data.search, or the search split of data.eval) and the test set the gate judges. */
function searchAndTest(config: Config, modelInputs: IoInfo[], evalSet: Dataset): { split: DataSplit; searchSet: Dataset; testSet: Dataset } {
  if (config.data.search) {
    const searchSet = loadSet(config, 'search', modelInputs);
    if (config.task !== 'fidelity' && !searchSet.labels) {
      throw new InputError(`${config.file}: /data/search/labels: task '${config.task}' needs labels and ${describe(config.data.search.inputs)} holds none; add data.search.labels`, `${config.file}#/data/search/labels`, 'config');
    }
    const { split, test } = splitData(evalSet, config.data.searchFraction, config.seed, true);
    return { split: { ...split, searchSamples: searchSet.count }, searchSet, testSet: test };
  }
  const { split, search, test } = splitData(evalSet, config.data.searchFraction, config.seed, false);
  return { split, searchSet: search, testSet: test };
}

/**
 * Calibration batches for the passes: data.calibration, else the first samples of the search set
 * (with a note: the test split stays independent of everything the candidate was built from);
 * undefined when the config has neither. Without `from`, the search set is read and split from the
 * config as `prepare` does, so `optimize --replay` calibrates on what `run` calibrated on.
 */
export async function calibrationBatches(config: Config, modelInputs: IoInfo[], from: { searchSet: Dataset; split: DataSplit } | undefined, notes: string[]): Promise<Feeds[] | undefined> {
  let calibSet: Dataset;
  if (config.data.calibration) {
    calibSet = loadSet(config, 'calibration', modelInputs);
  } else {
    const source = from ?? (config.data.eval ? searchAndTest(config, modelInputs, loadSet(config, 'eval', modelInputs)) : undefined);
    if (!source) return undefined;
    const { searchSet, split } = source;
    calibSet = searchSet.slice(0, Math.min(searchSet.count, FALLBACK_CALIBRATION_SAMPLES));
    notes.push(`No calibration set configured: calibration used the first ${split.how === 'none' ? 'evaluation' : 'search'} samples${split.how === 'none' ? ', so the evaluation is not independent of it' : ''}.`);
  }
  const calibrationBatch = Math.min(CALIBRATION_BATCH, config.data.batchSize);
  // A recurrent model's state inputs are calibrated on the states the model itself carries.
  return calibSet.carry
    ? await feedsAsRun(config.model, calibSet, { batchSize: calibrationBatch, limit: FALLBACK_CALIBRATION_SAMPLES, label: config.model })
    : [...calibSet.batches(calibrationBatch)];
}

/** The model's inputs and outputs as ONNX Runtime reports them. */
export async function modelIo(file: string): Promise<{ inputs: IoInfo[]; outputs: IoInfo[] }> {
  const session = await ModelSession.create(file);
  const io = { inputs: session.inputs, outputs: session.outputs };
  await session.release();
  return io;
}

function layoutOf(config: Config) {
  return { batchAxes: config.data.batchAxes, carry: config.data.carry };
}

/** data.eval, data.search or data.calibration, its input names checked against the model's and laid out for it. */
function loadSet(config: Config, key: 'eval' | 'calibration' | 'search', modelInputs: IoInfo[]): Dataset {
  checkInputNames(config, key, modelInputs);
  const constants = Object.entries(config.data.batchAxes).filter(([, a]) => a === 'none').map(([name]) => name);
  return loadDataset(config.data[key]!, { constants }).forModel(modelInputs, config.model, layoutOf(config));
}

/**
 * The search and test splits of the evaluation data (evaluate/split.ts): seeded, stratified by
 * label, whole test_data_set folders, whole fixed batches; carried state is not split. `explicit`:
 * the evaluation data is data.test, all of it judged.
 */
function splitData(evalSet: Dataset, fraction: number, seed: number, explicit: boolean): { split: DataSplit; search: Dataset; test: Dataset } {
  const all = Array.from({ length: evalSet.count }, (_, s) => s);
  if (explicit) return { split: { how: 'explicit', searchSamples: 0, testSamples: evalSet.count, testIndices: all }, search: evalSet, test: evalSet };
  if (evalSet.carry) {
    // A carried state runs through the recording in order: half a recording starts from another state than the whole.
    const note = 'Carried state (data.carry): the recording is one sequence and is not split, so the loop searched on the samples the gate judged (an optimistic verdict); set data.search and data.test to separate recordings.';
    return { split: { how: 'none', searchSamples: evalSet.count, testSamples: evalSet.count, testIndices: all, note }, search: evalSet, test: evalSet };
  }
  const starts = evalSet.unitStarts();
  const oneLabelPerUnit = evalSet.labels && (!evalSet.sets || evalSet.sets.every((s) => s.n === 1));
  const units = splitIndices(evalSet.units, fraction, {
    seed,
    labels: oneLabelPerUnit ? starts.map((s) => evalSet.labels!.values[s]) : undefined,
    multiple: evalSet.fixedBatch && evalSet.fixedBatch > 1 ? evalSet.fixedBatch : undefined,
  });
  if (!units.search.length) {
    const note =
      fraction > 0
        ? `The evaluation set (${evalSet.count} samples) is too small to split: the loop searched on the samples the gate judged, so the verdict is optimistic.`
        : 'data.search-fraction is 0: the loop searched on the samples the gate judged, so the verdict is optimistic.';
    return { split: { how: 'none', searchSamples: evalSet.count, testSamples: evalSet.count, testIndices: all, note }, search: evalSet, test: evalSet };
  }
  const search = evalSet.pick(units.search);
  const test = evalSet.pick(units.test);
  const split: DataSplit = { how: 'split', fraction, searchSamples: search.samples.length, testSamples: test.samples.length, testIndices: test.samples };
  return { split, search: search.dataset, test: test.dataset };
}

/** How each output is read by the fidelity metrics, from `outputs.<name>`. */
function outputParams(config: Config): Record<string, OutputParams> {
  return Object.fromEntries(Object.entries(config.outputs).map(([name, o]) => [name, { threshold: o.threshold, classAxis: o.classAxis }]));
}

/**
 * The fidelity metrics, once the model's outputs are known: named outputs must exist; the first
 * output's metrics go by their plain names, the others' as `<metric>:<output>`; without `metrics:`,
 * each output gets the metrics its shape calls for (the first output's in full, the others' cosine).
 */
function resolveFidelityMetrics(config: Config, inputs: IoInfo[], outputs: IoInfo[]): void {
  const names = outputs.map((o) => o.name);
  const primary = names[0];
  const qualify = (metric: string, output: string) => (output === primary ? metric : `${metric}:${output}`);
  const unknown = (output: string, at: string) =>
    new InputError(`${config.file}: ${printable(`${at}: the model has no output '${output}'`)}; ${config.model} has ${names.map((n) => `'${n}'`).join(', ')}`, `${config.file}#${at}`, 'config');
  const listed = config.metrics.map((m, i) => {
    const k = m.indexOf(':');
    if (k < 0) return m;
    const output = m.slice(k + 1);
    if (!names.includes(output)) throw unknown(output, `/metrics/${i}`);
    return qualify(m.slice(0, k), output);
  });
  for (const name of Object.keys(config.outputs)) if (!names.includes(name)) throw unknown(name, `/outputs/${pointerToken(name)}`);
  const symbol = batchSymbol(inputs);
  const defaults = (o: IoInfo) => {
    const axis = inferBatchAxis(o, symbol);
    return fidelityDefaults(o.shape.filter((_, k) => k !== axis));
  };
  const chosen = config.metricsFromShapes ? outputs.flatMap((o, i) => (i === 0 ? defaults(o) : ['cosine']).map((m) => qualify(m, o.name))) : listed;
  const perOutput = Object.entries(config.outputs).flatMap(([name, o]) => (o.metrics ?? []).map((m) => qualify(m, name)));
  config.metrics = [...new Set([...chosen, ...perOutput])];
}

/** A gated metric whose limit only the user can know (a tolerance in output units) needs its rule. */
function checkGatedRule(config: Config): void {
  const gated = config.metrics[0];
  const def = metricDef(gated);
  const own = Object.keys(config.gate.metrics).some((k) => canonicalMetric(k) === canonicalMetric(gated));
  if (def && !own && def.defaultRule(config.gate.accuracyDrop) === undefined) {
    throw new InputError(`${config.file}: /metrics/0: '${gated}' is gated but has no default limit (its unit is the output's own); set gate.metrics.${gated}.max, the largest difference you accept`, `${config.file}#/metrics/0`, 'config');
  }
}

function describe(inputs: string | Record<string, string>): string {
  return typeof inputs === 'string' ? inputs : 'the data';
}

/**
 * The keys of a `data.<key>.inputs` map are model input names: a misspelt one is a config problem,
 * so say which key and where, before any data is read.
 */
function checkInputNames(config: Config, key: 'eval' | 'calibration' | 'search' | 'test', modelInputs: IoInfo[]): void {
  const inputs = config.data[key]?.inputs;
  if (!inputs || typeof inputs === 'string') return;
  const names = Object.keys(inputs);
  // Unnamed ('' or '#k') entries are matched by position in Dataset.forModel.
  if (names.some((n) => n === '' || n.startsWith('#'))) return;
  const wanted = modelInputs.map((m) => m.name);
  const list = wanted.map((n) => `'${n}'`).join(', ');
  for (const name of names) {
    if (!wanted.includes(name)) {
      const at = `/data/${key}/inputs/${pointerToken(name)}`;
      throw new InputError(`${config.file}: ${printable(`${at}: the model has no input '${name}'`)}; ${config.model} has ${list}`, `${config.file}#${at}`, 'config');
    }
  }
  // A carried state without data starts at zeros.
  const missing = wanted.filter((n) => !names.includes(n) && !(n in config.data.carry));
  if (missing.length) {
    throw new InputError(`${config.file}: /data/${key}/inputs: no data for the model input${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')}; ${config.model} has ${list}`, `${config.file}#/data/${key}/inputs`, 'config');
  }
}
