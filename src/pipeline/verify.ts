/**
 * `prune-gate verify --shard i/n`: the committed model and a candidate on shard i of the test
 * split, written per sample (verify.json) with the fingerprint `merge` checks. Shards are
 * contiguous runs of the test split's units, so joined in order they are the whole split and the
 * paired statistics of the merge are those of an unsharded run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateModel } from '../evaluate/evaluate.js';
import type { OutputStore } from '../evaluate/output-store.js';
import type { EvalResult } from '../evaluate/types.js';
import { shardRange } from '../evaluate/split.js';
import { readBaseline, sha256File } from '../gate/baseline.js';
import { InputError } from '../util/errors.js';
import { partFingerprint } from './fingerprint.js';
import { readPart, writePart, type SearchRecord, type VerifyPart } from './parts.js';
import { prepare } from './prepare.js';
import { fidelityReference } from './reference.js';
import { gatedMeaning } from './run.js';
import { baselineOn, evaluationOn, splitRecord } from './split.js';

export interface VerifyOptions {
  configPath: string;
  candidate: string;
  /** e.g. "2/4". */
  shard: string;
  outDir: string;
  log?: (message: string) => void;
}

/** "i/n" with 1 <= i <= n. */
export function parseShard(text: string): { index: number; of: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const of = m ? Number(m[2]) : NaN;
  if (!m || !(index >= 1 && index <= of)) throw new InputError(`--shard ${text}: must be i/n with 1 <= i <= n (e.g. 2/4)`, '--shard');
  return { index, of };
}

export async function runVerify(options: VerifyOptions): Promise<{ file: string; part: VerifyPart }> {
  const log = options.log ?? (() => {});
  const shard = parseShard(options.shard);
  if (!fs.existsSync(options.candidate) || !fs.statSync(options.candidate).isFile()) throw new InputError(`--candidate ${options.candidate}: no such file; pass the model.onnx \`prune-gate search\` wrote`, options.candidate);
  const p = await prepare(options.configPath, { calibration: false });
  const { config } = p;
  const baseline = config.baseline ? readBaseline(config.baseline) : undefined;
  const releases: OutputStore[] = [];
  try {
    const source = config.task === 'fidelity' ? await fidelityReference(p, baseline && { data: baseline, file: config.baseline! }) : undefined;
    // Shard i of the test split, in whole units (test_data_set folders stay whole) and whole batches
    // (the batches an unsharded evaluation runs, so the outputs are the same bits).
    const block = p.testSet.sets ? 1 : (p.testSet.fixedBatch ?? config.data.batchSize);
    const [first, last] = shardRange(p.testSet.units, shard.index, shard.of, block);
    const units = Array.from({ length: last - first }, (_, k) => first + k);
    const { dataset, samples } = p.testSet.pick(units);
    const start = samples.length ? samples[0] : p.testSet.unitStarts()[first] ?? p.testSet.count;
    const indices = samples.map((s) => p.split.testIndices[s]);
    const evaluation = evaluationOn(p, source, indices, releases);
    log(`shard ${shard.index}/${shard.of}: samples ${start}..${start + samples.length} of ${p.testSet.count} test samples`);
    const evaluate = async (model: string, o: typeof evaluation.original) => (samples.length ? evaluateModel(model, dataset, { ...o, label: model }) : { result: emptyResult(config.task), notes: [] });
    const original = await evaluate(config.model, evaluation.original);
    const candidate = await evaluate(options.candidate, evaluation.candidates);
    const search = searchBeside(options.candidate);
    const part: VerifyPart = {
      schemaVersion: 1,
      kind: 'verify',
      fingerprint: partFingerprint(config, options.candidate),
      shard,
      configPath: config.file,
      testSamples: p.testSet.count,
      samples: { start, end: start + samples.length },
      split: splitRecord(p.split),
      gate: { metrics: config.metrics, rules: config.gate, seed: config.seed, objective: config.objective, gatedMeaning: gatedMeaning(config.metrics[0]) },
      models: { original: config.model, candidate: path.resolve(options.candidate) },
      ...(baseline && { prModelChanged: baseline.modelSha256 !== sha256File(config.model), baseline: baselineOn(baseline, indices, p.evalSet.count) }),
      original: original.result,
      candidate: candidate.result,
      ...(search && search.fingerprint.candidate === sha256File(options.candidate) && { search }),
      notes: [...new Set([...p.notes, ...original.notes, ...candidate.notes, ...(source ? [source.note] : [])])],
    };
    const file = writePart(options.outDir, part);
    log(`wrote ${file}`);
    return { file, part };
  } finally {
    for (const store of releases) store.release();
  }
}

/** A shard with no samples (more shards than batches). */
function emptyResult(task: EvalResult['task']): EvalResult {
  return { task, samples: 0, metrics: {}, perSample: {} };
}

/** search.json beside the candidate (the folder `prune-gate search` wrote), if any. */
function searchBeside(candidate: string): SearchRecord | undefined {
  const file = path.join(path.dirname(candidate), 'search.json');
  return fs.existsSync(file) ? readPart(file, ['search']) : undefined;
}
