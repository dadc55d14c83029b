/**
 * The reference of the label-free (fidelity) task, decided once per run:
 * - the expected outputs that came with the data (test_data_set output_K.pb), when there are any;
 * - else a frozen baseline's outputs: read from the .npz beside baseline.json, or recomputed from
 *   the frozen model when they were too big to store (the PR's model when it is unchanged, else
 *   `reference-model:`);
 * - else the original model's own outputs, kept while it is evaluated.
 * `prune-gate baseline` stores the outputs (storeReferenceOutputs) for later runs.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zipSync } from 'fflate';
import { runModel } from '../evaluate/evaluate.js';
import { encodeNpy } from '../evaluate/npy.js';
import { readNpz } from '../evaluate/data-readers.js';
import { OutputStore } from '../evaluate/output-store.js';
import { sha256File, type Baseline, type ReferenceOutputsRecord } from '../gate/baseline.js';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Prepared } from './prepare.js';

/** Outputs up to this many float32 bytes are stored beside baseline.json; bigger ones are recomputed. */
export const STORED_OUTPUTS_LIMIT_BYTES = 64 * 1024 * 1024;

export type ReferenceSource =
  /** The data's expected outputs: every model is scored against them. */
  | { kind: 'expected'; note: string }
  /** A frozen baseline's outputs. */
  | { kind: 'frozen'; store: OutputStore; note: string }
  /** The original model's outputs, kept in `store` while the original is evaluated against itself. */
  | { kind: 'original'; store: OutputStore; note: string };

export async function fidelityReference(p: Prepared, baseline?: { data: Baseline; file: string }): Promise<ReferenceSource> {
  const { config } = p;
  if (p.evalSet.hasExpectedOutputs) return { kind: 'expected', note: 'Fidelity reference: the expected outputs that came with the data (test_data_set output files).' };
  if (!baseline) return { kind: 'original', store: new OutputStore(config.model), note: `Fidelity reference: the PR model's outputs (${path.basename(config.model)}).` };
  const record = baseline.data.referenceOutputs;
  if (record?.stored) {
    return { kind: 'frozen', store: loadReferenceOutputs(record, baseline.file), note: `Fidelity reference: the frozen baseline's stored outputs (${record.file}).` };
  }
  // Not stored (too big, or a baseline frozen without them): recompute from the frozen model.
  const frozenModel = sha256File(config.model) === baseline.data.modelSha256 ? config.model : config.referenceModel;
  if (!frozenModel) {
    throw new InputError(
      `${baseline.file}: the frozen baseline's reference outputs are not stored beside it (${record?.reason ?? 'it was frozen without them'}) and the PR's model differs from the frozen one, so they cannot be recomputed from it; set 'reference-model:' to the frozen model file, or refreeze the baseline`,
      baseline.file,
      'baseline',
    );
  }
  if (frozenModel !== config.model && sha256File(frozenModel) !== baseline.data.modelSha256) {
    throw new InputError(`${frozenModel}: reference-model is not the model the baseline was frozen from (sha256 differs from ${baseline.file}'s modelSha256)`, frozenModel, 'config');
  }
  const { outputs } = await runModel(frozenModel, p.evalSet, { ...p.evaluate, label: frozenModel });
  return { kind: 'frozen', store: outputs, note: `Fidelity reference: the frozen model's outputs, recomputed from ${path.basename(frozenModel)} (${record?.reason ?? 'not stored with the baseline'}).` };
}

/**
 * Writes the outputs as a .npz beside `baselineFile` (float32 [samples, ...shape] per output,
 * deflated), or records why not: over STORED_OUTPUTS_LIMIT_BYTES, or shapes that change between
 * runs.
 */
export function storeReferenceOutputs(store: OutputStore, baselineFile: string): ReferenceOutputsRecord {
  const samples = store.count(store.names[0]);
  const outputs = store.names.map((name, k) => ({ name, entry: `output_${k}`, shape: store.shapeOf(name) }));
  const varying = outputs.find((o) => !o.shape);
  const bytes = outputs.reduce((a, o) => a + 4 * store.count(o.name) * (o.shape ?? []).reduce((x, y) => x * y, 1), 0);
  const notStored = (reason: string): ReferenceOutputsRecord => ({ stored: false, bytes, samples, outputs: [], reason });
  if (varying) return notStored(`output '${varying.name}' changes shape between runs`);
  if (bytes > STORED_OUTPUTS_LIMIT_BYTES) return notStored(`${(bytes / 1024 / 1024).toFixed(1)} MiB of outputs, over the ${STORED_OUTPUTS_LIMIT_BYTES / 1024 / 1024} MiB stored beside a baseline`);
  const blocks = outputs.map((o) => ({ ...o, block: store.readAll(o.name) }));
  const file = referenceFile(baselineFile);
  const zip = zipSync(Object.fromEntries(blocks.map((b) => [`${b.entry}.npy`, encodeNpy('float32', [b.block.n, ...b.block.shape], b.block.values)])), { level: 6 });
  writeFileAtomic(file, zip);
  return {
    stored: true,
    file: path.basename(file),
    sha256: crypto.createHash('sha256').update(zip).digest('hex'),
    bytes,
    samples,
    outputs: blocks.map((b) => ({ name: b.name, entry: b.entry, shape: b.block.shape })),
  };
}

/** The .npz that goes with a baseline file: `baseline.json` -> `baseline.outputs.npz`. */
function referenceFile(baselineFile: string): string {
  return path.join(path.dirname(baselineFile), `${path.basename(baselineFile, path.extname(baselineFile))}.outputs.npz`);
}

function loadReferenceOutputs(record: ReferenceOutputsRecord, baselineFile: string): OutputStore {
  const file = path.join(path.dirname(baselineFile), record.file!);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new InputError(`${file}: the frozen baseline's reference outputs are missing (${baselineFile} names it); commit it next to the baseline, or refreeze with \`prune-gate baseline\``, file, 'baseline');
  }
  if (crypto.createHash('sha256').update(bytes).digest('hex') !== record.sha256) {
    throw new InputError(`${file}: does not match the sha256 in ${baselineFile}; it was changed after the baseline was frozen: refreeze with \`prune-gate baseline\``, file, 'baseline');
  }
  const raw = readNpz(file);
  const store = new OutputStore(`the frozen baseline's outputs (${path.basename(file)})`);
  for (const o of record.outputs) {
    const a = raw.inputs[o.entry];
    if (!a) throw new InputError(`${file}: no entry ${o.entry}.npy for output '${o.name}'; refreeze the baseline`, file, 'baseline');
    store.append(o.name, { values: a.data as Float32Array, n: a.shape[0], shape: a.shape.slice(1) });
  }
  return store;
}
