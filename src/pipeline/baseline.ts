/**
 * `prune-gate baseline`: freeze the committed model's measurements (metrics, per-sample results,
 * latency, memory, machine) into baseline.json, so later runs gate against a fixed reference.
 */
import * as path from 'node:path';
import { evaluateModel } from '../evaluate/evaluate.js';
import { benchLatency, feedsFor } from '../evaluate/latency.js';
import { machineInfo } from '../evaluate/machine.js';
import { measureMemory } from '../evaluate/memory.js';
import { OutputStore } from '../evaluate/output-store.js';
import type { EvalResult } from '../evaluate/types.js';
import * as fs from 'node:fs';
import { baselineFromRun, readBaseline, sha256File, stableHash, writeBaseline, type Baseline, type ReferenceOutputsRecord } from '../gate/baseline.js';
import { loadConfig } from '../config/index.js';
import { storeReferenceOutputs } from './reference.js';
import type { Config } from '../config/index.js';
import { TOOL_VERSION } from '../util/version.js';
import { prepare } from './prepare.js';

export async function freezeBaseline(options: { configPath: string; outFile?: string; log?: (m: string) => void }): Promise<{ baseline: Baseline; file: string }> {
  const log = options.log ?? (() => {});
  const p = await prepare(options.configPath);
  const { config } = p;
  const file = options.outFile ?? config.baseline ?? 'baseline.json';
  log(`evaluating ${config.model} on ${p.evalSet.count} samples`);
  // Label-free: the model is its own reference (or the data's expected outputs are), and its
  // outputs are frozen beside the baseline for later runs to compare with.
  const keep = config.task === 'fidelity' && !p.evalSet.hasExpectedOutputs ? new OutputStore(config.model) : undefined;
  let result: EvalResult;
  let referenceOutputs: ReferenceOutputsRecord | undefined;
  try {
    result = (await evaluateModel(config.model, p.evalSet, { ...p.evaluate, label: config.model, ...(keep && { reference: 'self', keep }) })).result;
    if (keep) referenceOutputs = storeReferenceOutputs(keep, file);
  } finally {
    keep?.release();
  }
  log(`benchmarking (batch sizes ${config.bench.batchSizes.join(', ')})`);
  const bench = await benchLatency({
    models: [{ model: config.model, label: 'baseline' }],
    batchSizes: config.bench.batchSizes,
    timeBudgetMs: config.bench.timeBudgetMs,
    minRuns: config.bench.minRuns,
    warmup: config.bench.warmup,
    threads: config.bench.threads,
    inputs: p.evalSet,
    seed: config.seed,
  });
  const memory = await measureMemory(config.model, { feeds: feedsFor(p.modelInputs, config.model, Math.max(...config.bench.batchSizes), { inputs: p.evalSet }) });
  const baseline = baselineFromRun({
    created: new Date().toISOString(),
    toolVersion: TOOL_VERSION,
    modelSha256: sha256File(config.model),
    configHash: measurementConfigHash(config),
    eval: result,
    latency: bench.batches.map((b) => b.stats[0]),
    memory: { peakRssBytes: memory.peakRssBytes, fileBytes: memory.fileBytes, gzipBytes: memory.gzipBytes, weightBytesByType: memory.weightBytesByType },
    machine: machineInfo({ intraOpThreads: bench.intraOpThreads, interOpThreads: bench.interOpThreads }),
    referenceOutputs,
  });
  writeBaseline(file, baseline);
  return { baseline, file };
}

export interface BaselineStatus {
  /** The baseline file the config names (absolute), or baseline.json in the working directory when it names none. */
  file: string;
  /** Whether the config names it (`baseline:`); if not, the config needs the line to use it. */
  named: boolean;
  /** True when the committed baseline was frozen from this model with these measurement settings. */
  current: boolean;
  /** Why it is (not) current, in one sentence fragment. */
  why: string;
}

/**
 * Whether the committed baseline still describes the committed model: frozen from a model with the
 * same sha256, with the same measurement settings (configHash). Not current: the model or the
 * evaluation changed on purpose, and the baseline should be frozen again.
 */
export function baselineStatus(configPath: string): BaselineStatus {
  const config = loadConfig(configPath);
  const named = config.baseline !== undefined;
  const file = config.baseline ?? path.resolve('baseline.json');
  if (!fs.existsSync(file)) return { file, named, current: false, why: named ? `${path.basename(file)} is not committed yet` : 'the config names no baseline yet' };
  let committed: Baseline;
  try {
    committed = readBaseline(file);
  } catch (err) {
    return { file, named, current: false, why: `the committed ${path.basename(file)} cannot be used (${(err as Error).message.split('\n')[0]})` };
  }
  const model = sha256File(config.model);
  if (committed.modelSha256 !== model) return { file, named, current: false, why: `the model changed: ${path.basename(file)} was frozen from sha256 ${committed.modelSha256.slice(0, 12)}, the committed model is ${model.slice(0, 12)}` };
  const hash = measurementConfigHash(config);
  if (committed.configHash !== hash) return { file, named, current: false, why: `the measurement settings changed (task, metrics, evaluation data or batch size: config hash ${committed.configHash} -> ${hash})` };
  return { file, named, current: true, why: `${path.basename(file)} was frozen from this model (sha256 ${model.slice(0, 12)}) with these settings` };
}

/**
 * Hash of the config parts that change the frozen numbers: task, metrics, data files (relative to
 * the config, so the same project hashes the same on every machine) and batch size.
 */
export function measurementConfigHash(config: Config): string {
  const rel = (p: string) => path.relative(config.baseDir, p);
  const source = config.data.eval && { inputs: typeof config.data.eval.inputs === 'string' ? rel(config.data.eval.inputs) : Object.fromEntries(Object.entries(config.data.eval.inputs).map(([k, v]) => [k, rel(v)])), labels: config.data.eval.labels && rel(config.data.eval.labels) };
  return stableHash({ task: config.task, metrics: config.metrics, eval: source, batchSize: config.data.batchSize }).slice(0, 16);
}
