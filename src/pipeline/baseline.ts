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
import { baselineFromRun, sha256File, stableHash, writeBaseline, type Baseline, type ReferenceOutputsRecord } from '../gate/baseline.js';
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

/**
 * Hash of the config parts that change the frozen numbers: task, metrics, data files (relative to
 * the config, so the same project hashes the same on every machine) and batch size.
 */
export function measurementConfigHash(config: Config): string {
  const rel = (p: string) => path.relative(config.baseDir, p);
  const source = config.data.eval && { inputs: typeof config.data.eval.inputs === 'string' ? rel(config.data.eval.inputs) : Object.fromEntries(Object.entries(config.data.eval.inputs).map(([k, v]) => [k, rel(v)])), labels: config.data.eval.labels && rel(config.data.eval.labels) };
  return stableHash({ task: config.task, metrics: config.metrics, eval: source, batchSize: config.data.batchSize }).slice(0, 16);
}
