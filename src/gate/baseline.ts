/**
 * The frozen baseline (baseline.json): what the committed model scored, per sample, when someone
 * ran `prune-gate baseline`. Later runs gate against it, so a PR that changes the model cannot
 * quietly move the reference. Versioned and schema-checked on the way in and out.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { InputError } from '../util/errors.js';
import type { EvalResult, LatencyStats, MachineInfo, MemoryStats } from '../evaluate/types.js';
import type { MetricValues, PerSampleResults } from '../metrics/index.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { machineFingerprint } from '../evaluate/machine.js';
import baselineSchema from '../../schemas/baseline.schema.json' with { type: 'json' };
import { compileSchema, schemaProblems } from '../util/json-schema.js';

export const BASELINE_SCHEMA_VERSION = 1;

export interface Baseline {
  schemaVersion: typeof BASELINE_SCHEMA_VERSION;
  /** ISO 8601 time of the run that froze it. */
  created: string;
  toolVersion: string;
  /** sha256 (hex) of the model file the numbers belong to. */
  modelSha256: string;
  /** Hash of the config parts that change the numbers (data, metrics, task). */
  configHash: string;
  task: EvalResult['task'];
  samples: number;
  metrics: MetricValues;
  perClass?: Record<string, number>;
  perSample: PerSampleResults;
  latency: LatencyStats[];
  memory?: MemoryStats;
  machine: { fingerprint: string; info: MachineInfo };
  /** Fidelity: the frozen model's outputs, the reference later runs are compared with. */
  referenceOutputs?: ReferenceOutputsRecord;
}

/**
 * Where a fidelity baseline keeps its reference outputs: a .npz beside baseline.json (float32,
 * deflated) with its sha256, or, when they were too big to store, why not (later runs recompute
 * them from the frozen model).
 */
export interface ReferenceOutputsRecord {
  stored: boolean;
  /** The .npz, relative to baseline.json. */
  file?: string;
  sha256?: string;
  /** Bytes of the outputs as float32. */
  bytes: number;
  samples: number;
  /** Each output: its name, its entry in the .npz and its per-sample shape. */
  outputs: Array<{ name: string; entry: string; shape: number[] }>;
  reason?: string;
}

let validator: ReturnType<typeof compileSchema> | undefined;
function validate(data: unknown): string[] {
  validator ??= compileSchema(baselineSchema);
  return schemaProblems(validator, data, { max: 10 });
}

/** Reads and checks a baseline file; any problem is an InputError naming the file and the JSON path. */
export function readBaseline(file: string): Baseline {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read baseline ${file}: ${(err as Error).message}. Create it with \`prune-gate baseline\` or remove \`baseline:\` from the config.`, file, 'baseline');
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`baseline ${file} is not valid JSON (${(err as Error).message}). Regenerate it with \`prune-gate baseline\`.`, file, 'baseline');
  }
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > BASELINE_SCHEMA_VERSION) {
    throw new InputError(`baseline ${file} has schemaVersion ${version}, newer than this prune-gate understands (${BASELINE_SCHEMA_VERSION}). Upgrade prune-gate.`, file, 'baseline');
  }
  const problems = [...validate(data), ...consistencyProblems(data as Baseline)];
  if (problems.length > 0) {
    throw new InputError(`baseline ${file} is invalid:\n  ${problems.join('\n  ')}\nRegenerate it with \`prune-gate baseline\`.`, `${file}#${problems[0].split(/[ :]/)[0]}`, 'baseline');
  }
  return data as Baseline;
}

/** Validates, then writes atomically with a stable key order so the same baseline gives the same bytes. */
export function writeBaseline(file: string, baseline: Baseline): void {
  const problems = [...validate(baseline), ...consistencyProblems(baseline)];
  if (problems.length > 0) throw new Error(`refusing to write an invalid baseline to ${file}:\n  ${problems.join('\n  ')}`);
  writeFileAtomic(file, JSON.stringify(baseline, null, 2) + '\n');
}

/** Per-sample arrays must cover every sample, or paired statistics would pair the wrong samples. */
function consistencyProblems(b: Baseline): string[] {
  if (!b || typeof b !== 'object' || !b.perSample || typeof b.samples !== 'number') return [];
  const out: string[] = [];
  for (const [key, arr] of Object.entries(b.perSample)) {
    if (Array.isArray(arr) && arr.length !== b.samples) out.push(`/perSample/${key} has ${arr.length} entries but /samples is ${b.samples}`);
  }
  return out;
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export interface BaselineRun {
  /** ISO time; passed in (not read from the clock here) so the same inputs give the same bytes. */
  created: string;
  toolVersion: string;
  modelSha256: string;
  configHash: string;
  eval: EvalResult;
  latency: LatencyStats[];
  memory?: MemoryStats;
  machine: MachineInfo;
  referenceOutputs?: ReferenceOutputsRecord;
}

/** The baseline record of one measured run of the committed model (keys in the order they are written). */
export function baselineFromRun(run: BaselineRun): Baseline {
  return {
    schemaVersion: BASELINE_SCHEMA_VERSION,
    created: run.created,
    toolVersion: run.toolVersion,
    modelSha256: run.modelSha256,
    configHash: run.configHash,
    task: run.eval.task,
    samples: run.eval.samples,
    metrics: { ...run.eval.metrics },
    ...(run.eval.perClass && { perClass: { ...run.eval.perClass } }),
    perSample: { ...run.eval.perSample },
    latency: run.latency.map((l) => ({ ...l })),
    ...(run.memory && { memory: run.memory }),
    machine: { fingerprint: machineFingerprint(run.machine), info: { ...run.machine } },
    ...(run.referenceOutputs && { referenceOutputs: run.referenceOutputs }),
  };
}

/**
 * sha256 of a JSON value with object keys sorted, for `configHash`: pass the config parts that
 * change the numbers (task, data, metrics, bench), not the recipe or gate thresholds.
 */
export function stableHash(value: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : v;
  return crypto.createHash('sha256').update(JSON.stringify(canon(value))).digest('hex');
}
