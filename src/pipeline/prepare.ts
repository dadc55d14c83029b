/**
 * What every command that measures needs first: the validated config, the model (IR and path),
 * the evaluation set checked against the model's inputs, and calibration batches for the passes.
 */
import { loadConfig, pointerToken, printable, type Config } from '../config/index.js';
import { loadDataset, type Dataset } from '../evaluate/data.js';
import { ModelSession, type Feeds, type IoInfo } from '../evaluate/session.js';
import { InputError } from '../util/errors.js';
import { loadModel, type Model } from '../onnx/index.js';

export interface Prepared {
  config: Config;
  model: Model;
  modelInputs: IoInfo[];
  evalSet: Dataset;
  /** Calibration batches for the passes (the calibration set, else the first 256 evaluation samples). */
  calibration: Feeds[];
  notes: string[];
}

/** Samples taken from the evaluation set when no calibration set is configured. */
const FALLBACK_CALIBRATION_SAMPLES = 256;
/** Calibration batch size: small batches keep activation capture memory bounded. */
const CALIBRATION_BATCH = 32;

export async function prepare(configPath: string, overrides: { model?: string } = {}): Promise<Prepared> {
  const config = loadConfig(configPath);
  if (overrides.model) config.model = overrides.model;
  const model = loadModel(config.model);
  const session = await ModelSession.create(config.model);
  const modelInputs = session.inputs;
  await session.release();

  if (!config.data.eval) {
    throw new InputError(`${config.file}: /data/eval is missing: the gate needs data to measure accuracy (data.eval.inputs, and data.eval.labels unless task is fidelity)`, `${config.file}#/data/eval`, 'config');
  }
  checkInputNames(config, 'eval', modelInputs);
  const evalSet = loadDataset(config.data.eval).forModel(modelInputs, config.model);
  if (config.task !== 'fidelity' && !evalSet.labels) {
    throw new InputError(`${config.file}: /data/eval/labels: task '${config.task}' needs labels and ${describe(config.data.eval.inputs)} holds none; add data.eval.labels or use task: fidelity`, `${config.file}#/data/eval/labels`, 'config');
  }
  const notes: string[] = [...evalSet.notes];
  let calibSet: Dataset;
  if (config.data.calibration) {
    checkInputNames(config, 'calibration', modelInputs);
    calibSet = loadDataset(config.data.calibration).forModel(modelInputs, config.model);
  } else {
    calibSet = evalSet.slice(0, Math.min(evalSet.count, FALLBACK_CALIBRATION_SAMPLES));
    notes.push('No calibration set configured: calibration used the first evaluation samples, so the evaluation is not independent of it.');
  }
  const calibration = [...calibSet.batches(Math.min(CALIBRATION_BATCH, config.data.batchSize))];
  return { config, model, modelInputs, evalSet, calibration, notes };
}

function describe(inputs: string | Record<string, string>): string {
  return typeof inputs === 'string' ? inputs : 'the data';
}

/**
 * The keys of a `data.<key>.inputs` map are model input names: a misspelt one is a config problem,
 * so say which key and where, before any data is read.
 */
function checkInputNames(config: Config, key: 'eval' | 'calibration', modelInputs: IoInfo[]): void {
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
  const missing = wanted.filter((n) => !names.includes(n));
  if (missing.length) {
    throw new InputError(`${config.file}: /data/${key}/inputs: no data for the model input${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')}; ${config.model} has ${list}`, `${config.file}#/data/${key}/inputs`, 'config');
  }
}
