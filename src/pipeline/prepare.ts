/**
 * What every command that measures needs first: the validated config, the model (IR and path),
 * the evaluation set checked against the model's inputs, and calibration batches for the passes.
 */
import { loadConfig, type Config } from '../config/index.js';
import { loadDataset, type Dataset } from '../evaluate/data.js';
import { ModelSession, type Feeds, type IoInfo } from '../evaluate/session.js';
import { InputError } from '../errors.js';
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
    throw new InputError(`${config.file}: data.eval is required: the gate needs data to measure accuracy (inputs, and labels unless task is fidelity)`, `${config.file}#/data/eval`);
  }
  const evalSet = loadDataset(config.data.eval).forModel(modelInputs, config.model);
  if (config.task !== 'fidelity' && !evalSet.labels) {
    throw new InputError(`${config.file}: task '${config.task}' needs labels (data.eval.labels); without labels use task: fidelity`, `${config.file}#/data/eval/labels`);
  }
  const notes: string[] = [...evalSet.notes];
  let calibSet: Dataset;
  if (config.data.calibration) {
    calibSet = loadDataset(config.data.calibration).forModel(modelInputs, config.model);
  } else {
    calibSet = evalSet.slice(0, Math.min(evalSet.count, FALLBACK_CALIBRATION_SAMPLES));
    notes.push('No calibration set configured: calibration used the first evaluation samples, so the evaluation is not independent of it.');
  }
  const calibration = [...calibSet.batches(Math.min(CALIBRATION_BATCH, config.data.batchSize))];
  return { config, model, modelInputs, evalSet, calibration, notes };
}
