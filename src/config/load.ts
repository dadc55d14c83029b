/**
 * prune-gate.yml -> typed Config. Parsing, schema validation, cross-field checks, defaults and
 * path resolution; every problem is an InputError naming the file and the key's JSON pointer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { metricsOfTask, TASKS } from '../metrics/index.js';
import { stageProblems, withDefaults } from '../stages/kinds.js';
import { InputError } from '../util/errors.js';
import { DEFAULT_SEARCH_FRACTION } from '../evaluate/split.js';
import type { TargetName } from '../evaluate/targets.js';
import { validateConfigObject } from './schema.js';
import type { BenchConfig, Config, DataSource, GateConfig, MetricRule, OutputConfig, PruneParams, QuantizeParams, RecipeStage, Task } from './types.js';

type Raw = Record<string, unknown>;

export const CONFIG_DEFAULTS = {
  seed: 0,
  batchSize: 32,
  bench: { batchSizes: [1], timeBudgetMs: 10_000, threads: 1, minRuns: 30, precision: 0.02, warmup: 10 } satisfies BenchConfig,
  gate: { accuracyDrop: 2, use: 'point' as const, relative: false },
  targets: ['native'] as readonly TargetName[],
};

/**
 * Reads, validates and resolves a config file. `overrides.model` (the CLI's `--model`, relative to
 * the working folder) stands in for the config's `model:`, which may then be absent.
 */
export function loadConfig(file: string, overrides: { model?: string } = {}): Config {
  const label = file;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${label}: no such config file`, label);
    if (code === 'EISDIR') throw new InputError(`${label}: is a folder; pass the config file (e.g. prune-gate.yml)`, label);
    throw new InputError(`${label}: cannot read (${(err as Error).message})`, label);
  }
  // logLevel 'error': yaml's warnings (e.g. a list used as a key) would go to process.emitWarning, i.e. stderr noise; the schema reports such keys.
  const doc = parseDocument(text, { prettyErrors: true, logLevel: 'error' });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const where = e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : 'YAML';
    // prettyErrors appends " at line L, column C:" to the first line; we already say where.
    const what = e.message
      .split('\n')[0]
      .replace(/ at line \d+, column \d+:?$/, '')
      .replace(/^Maximum call stack size exceeded$/, 'nested too deeply');
    throw new InputError(`${label}: YAML syntax error at ${where}: ${what}`, label);
  }
  let obj: unknown;
  try {
    obj = doc.toJS();
  } catch (err) {
    // Aliases are resolved here: an unresolved one, or an alias bomb (yaml's maxAliasCount), throws a ReferenceError.
    throw new InputError(`${label}: YAML error: ${(err as Error).message.split('\n')[0]}`, label);
  }
  if (overrides.model !== undefined) {
    const model = path.resolve(overrides.model);
    if (!fs.existsSync(model) || !fs.statSync(model).isFile()) throw new InputError(`--model ${overrides.model}: no such file (looked for ${model})`, overrides.model, 'model');
    obj ??= {};
    if (typeof obj === 'object' && !Array.isArray(obj)) obj = { ...obj, model };
  }
  if (obj === null || obj === undefined) throw new InputError(`${label}: the config file is empty; it needs at least 'model: <file>.onnx'`, label);
  return configFromObject(obj, path.dirname(path.resolve(file)), label);
}

/** Validates a parsed config object; relative paths resolve against `baseDir`; `label` prefixes messages. */
export function configFromObject(obj: unknown, baseDir: string, label = '<config>'): Config {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new InputError(`${label}: the config must be a map of keys (model:, data:, ...), got ${Array.isArray(obj) ? 'a list' : typeof obj}`, label);
  }
  const problems = validateConfigObject(obj);
  const raw = obj as Raw;
  if (!problems.length) problems.push(...crossFieldProblems(raw));
  if (problems.length) throw new InputError(`${label}: ${printable(problems.join('; '))}`, label);

  const resolve = (p: string) => path.resolve(baseDir, p);
  /** `kind: 'file'`: a regular file; `'path'`: a file or a folder (a test_data_set). Never a device or FIFO, which could block a read forever. */
  const mustExist = (pointer: string, p: string, what: string, kind: 'file' | 'path' = 'file'): string => {
    const abs = resolve(p);
    const fail = (why: string) => new InputError(`${label}: ${printable(`${pointer}: ${what} '${p}' ${why}`)}`, `${label}#${pointer}`, 'config');
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch {
      throw fail(`does not exist (looked for ${abs})`);
    }
    if (stat.isDirectory() && kind === 'file') throw fail(`is a folder, not a file (${abs})`);
    if (!stat.isFile() && !stat.isDirectory()) throw fail(`is not a regular file (${abs})`);
    return abs;
  };

  const data = (raw.data ?? {}) as Raw;
  const source = (key: 'eval' | 'calibration' | 'search' | 'test'): DataSource | undefined => {
    const s = data[key] as Raw | undefined;
    if (!s) return undefined;
    const inputs =
      typeof s.inputs === 'string'
        ? mustExist(`/data/${key}/inputs`, s.inputs, 'data file', 'path')
        : Object.fromEntries(Object.entries(s.inputs as Record<string, string>).map(([k, v]) => [k, mustExist(`/data/${key}/inputs/${pointerToken(k)}`, v, 'data file')]));
    const labels = typeof s.labels === 'string' ? mustExist(`/data/${key}/labels`, s.labels, 'labels file') : undefined;
    return { inputs, labels };
  };

  const search = source('search');
  const test = source('test');
  if (test && data.eval) throw new InputError(`${label}: /data/eval: give either data.eval (split into search and test by data.search-fraction) or data.search and data.test, not both`, `${label}#/data/eval`, 'config');
  // The gate judges (and the baseline freezes) the test data; data.eval is split into search and test.
  const evalSource = test ?? source('eval');
  const calibration = source('calibration');
  const hasLabels = Boolean(evalSource?.labels) || (typeof evalSource?.inputs === 'string' && !evalSource.inputs.endsWith('.npy'));
  const task = (raw.task as Task | undefined) ?? (evalSource?.labels ? 'classification' : 'fidelity');
  if (task !== 'fidelity' && evalSource && !hasLabels) {
    throw new InputError(`${label}: /data/eval/labels: task '${task}' needs labels; add data.eval.labels or set 'task: fidelity' to compare against the baseline model`, label);
  }

  const metrics = (raw.metrics as string[] | undefined) ?? [...TASKS[task].defaultMetrics];
  const ofTask = metricsOfTask(task).map((m) => m.name);
  metrics.forEach((m, i) => {
    const [base, output] = m.split(/:(.*)/s);
    if (!ofTask.includes(base)) throw new InputError(`${label}: /metrics/${i}: '${m}' is not a ${task} metric; with task '${task}' use ${ofTask.join(', ')}`, label);
    if (output !== undefined && task !== 'fidelity') throw new InputError(`${label}: /metrics/${i}: '${m}' names an output; per-output metrics are for task 'fidelity' (task is '${task}')`, label);
  });
  const outputs = Object.fromEntries(Object.entries((raw.outputs ?? {}) as Record<string, Raw>).map(([k, v]) => [k, camelKeys(v) as OutputConfig]));
  if (Object.keys(outputs).length && task !== 'fidelity') throw new InputError(`${label}: /outputs applies to task 'fidelity' (task is '${task}')`, label);
  for (const [name, o] of Object.entries(outputs)) {
    (o.metrics ?? []).forEach((m, i) => {
      if (!ofTask.includes(m)) throw new InputError(`${label}: /outputs/${pointerToken(name)}/metrics/${i}: '${m}' is not a fidelity metric; use ${ofTask.join(', ')}`, label);
    });
  }
  const bench = (raw.bench ?? {}) as Raw;
  const gate = (raw.gate ?? {}) as Raw;
  const budget = (raw.budget ?? {}) as Raw;

  return {
    file: label,
    baseDir,
    model: mustExist('/model', raw.model as string, 'model'),
    baseline: typeof raw.baseline === 'string' ? resolve(raw.baseline) : undefined,
    task,
    seed: (raw.seed as number | undefined) ?? CONFIG_DEFAULTS.seed,
    data: {
      eval: evalSource,
      calibration,
      search,
      test,
      searchFraction: (data['search-fraction'] as number | undefined) ?? DEFAULT_SEARCH_FRACTION,
      batchSize: (data['batch-size'] as number | undefined) ?? CONFIG_DEFAULTS.batchSize,
      noiseSigma: data['noise-sigma'] as number | undefined,
      batchAxes: (data['batch-axis'] ?? {}) as Record<string, number | 'none'>,
      carry: (data.carry ?? {}) as Record<string, string>,
    },
    metrics,
    metricsFromShapes: raw.metrics === undefined && task === 'fidelity',
    outputs,
    referenceModel: typeof raw['reference-model'] === 'string' ? mustExist('/reference-model', raw['reference-model'], 'reference model') : undefined,
    bench: {
      batchSizes: (bench['batch-sizes'] as number[] | undefined) ?? CONFIG_DEFAULTS.bench.batchSizes,
      timeBudgetMs: bench['time-budget'] !== undefined ? parseDuration(bench['time-budget'] as string | number, `${label}: /bench/time-budget`) : CONFIG_DEFAULTS.bench.timeBudgetMs,
      threads: (bench.threads as number | undefined) ?? CONFIG_DEFAULTS.bench.threads,
      minRuns: (bench['min-runs'] as number | undefined) ?? CONFIG_DEFAULTS.bench.minRuns,
      precision: (bench.precision as number | undefined) ?? CONFIG_DEFAULTS.bench.precision,
      warmup: (bench.warmup as number | undefined) ?? CONFIG_DEFAULTS.bench.warmup,
    },
    recipe: Array.isArray(raw.recipe) ? (raw.recipe as Raw[]).map(toStage) : undefined,
    gate: toGate(gate),
    objective: (raw.objective as 'latency' | 'size' | undefined) ?? 'latency',
    budget: {
      wallTimeMs: budget['wall-time'] !== undefined ? parseDuration(budget['wall-time'] as string | number, `${label}: /budget/wall-time`) : undefined,
      keep: (budget.keep as 'confident' | 'point' | 'auto' | undefined) ?? 'auto',
    },
    // The schema's enum is the registry's names (test/config checks they agree).
    targets: (raw.targets as TargetName[] | undefined) ?? [...CONFIG_DEFAULTS.targets],
  };
}

/** User text inside a message on one line: control characters (a newline in a key or a path) as \\uXXXX escapes. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A key as one JSON pointer token (RFC 6901): ONNX input names may hold '/' (TensorFlow exports). */
export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Longest accepted duration: 30 days. Far beyond any CI job, and well inside what the benchmark's nanosecond BigInt arithmetic can take. */
const MAX_DURATION_MS = 30 * 24 * 3_600_000;

/** `30s`, `2m`, `500ms`, `1h`, or a number of seconds -> milliseconds (positive, at most 30 days). */
export function parseDuration(value: string | number, where = 'duration'): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value * 1000;
  } else {
    const m = /^([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)$/.exec(value.trim());
    if (!m) throw new InputError(`${where} must be a duration like 30s, 2m or 500ms (got '${value}')`);
    const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    ms = Number(m[1]) * scale;
  }
  // `0s` passes the schema's string pattern although the number 0 does not; NaN and Infinity come from YAML's .nan and .inf.
  if (!(ms > 0)) throw new InputError(`${where} must be positive (got ${typeof value === 'string' ? `'${value}'` : value})`);
  if (!(ms <= MAX_DURATION_MS)) throw new InputError(`${where} must be at most 30 days (got ${typeof value === 'string' ? `'${value}'` : value})`);
  return ms;
}

function crossFieldProblems(raw: Raw): string[] {
  const recipe = Array.isArray(raw.recipe) ? (raw.recipe as Raw[]) : [];
  return recipe.flatMap((stage, i) => stageProblems(stage, `/recipe/${i}`));
}

const camel = (k: string) => k.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());

/** A recipe stage from YAML, with its kind's defaults filled in (the only place they are). */
function toStage(stage: Raw): RecipeStage {
  if (stage.prune) {
    return withDefaults({ stage: 'prune', prune: camelKeys(stage.prune as Raw) as unknown as PruneParams });
  }
  const q = stage.quantize as Raw;
  const params = camelKeys(q) as unknown as QuantizeParams;
  // Both spellings are accepted (the ORT quantizer's snake_case and our kebab-case); merge them.
  const merge = (a: unknown, b: unknown) => (a || b ? [...new Set([...((a as string[]) ?? []), ...((b as string[]) ?? [])])] : undefined);
  params.nodesToExclude = merge(q.nodes_to_exclude, q['nodes-to-exclude']);
  params.opTypesToQuantize = merge(q.op_types_to_quantize, q['op-types-to-quantize']);
  return withDefaults({ stage: 'quantize', quantize: params });
}

function camelKeys(obj: Raw): Raw {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [camel(k), v]));
}

function toGate(gate: Raw): GateConfig {
  const rules = (gate.metrics ?? {}) as Record<string, Raw>;
  return {
    accuracyDrop: (gate['accuracy-drop'] as number | undefined) ?? CONFIG_DEFAULTS.gate.accuracyDrop,
    use: (gate.use as 'point' | 'interval' | undefined) ?? CONFIG_DEFAULTS.gate.use,
    p95Ratio: gate['p95-ratio'] as number | undefined,
    p95Regression: gate['p95-regression'] as number | undefined,
    relative: (gate.relative as boolean | undefined) ?? CONFIG_DEFAULTS.gate.relative,
    metrics: Object.fromEntries(Object.entries(rules).map(([k, v]) => [k, camelKeys(v) as MetricRule])),
  };
}
