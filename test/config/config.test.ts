import { channelBlock } from '../../src/stages/machine.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, EXIT_INPUT_ERROR } from '../../src/util/errors.js';
import { configFromObject, loadConfig, parseDuration } from '../../src/config/index.js';
import { reportError } from '../../src/cli/command-runner.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const exampleText = fs.readFileSync(path.join(here, '../fixtures/data/prune-gate.example.yml'), 'utf8');

/** A folder holding the example config and the (fake) files it references. */
function exampleDir(text = exampleText): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-config-'));
  fs.mkdirSync(path.join(dir, 'data'));
  for (const f of ['model.onnx', 'data/eval_x.npy', 'data/eval_y.npy', 'data/calib_x.npy']) fs.writeFileSync(path.join(dir, f), 'x');
  const file = path.join(dir, 'prune-gate.yml');
  fs.writeFileSync(file, text);
  return { dir, file };
}

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    const origWrite = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(reportError(err)).toBe(EXIT_INPUT_ERROR);
    } finally {
      process.stderr.write = origWrite;
    }
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

test('the example config from shared/ loads with every key as written', () => {
  const { dir, file } = exampleDir();
  const c = loadConfig(file);
  expect(c.model).toBe(path.join(dir, 'model.onnx'));
  expect(c.baseline).toBe(path.join(dir, 'baseline.json'));
  expect(c.task).toBe('classification');
  expect(c.data.eval).toEqual({ inputs: { input: path.join(dir, 'data/eval_x.npy') }, labels: path.join(dir, 'data/eval_y.npy') });
  expect(c.data.calibration).toEqual({ inputs: { input: path.join(dir, 'data/calib_x.npy') }, labels: undefined });
  expect(c.data.batchSize).toBe(64);
  expect(c.metrics).toEqual(['accuracy', 'f1']);
  expect(c.bench).toMatchObject({ batchSizes: [1, 32], timeBudgetMs: 30_000, threads: 1 });
  // As written, with each kind's defaults filled in (stages/kinds.ts).
  expect(c.recipe).toEqual([
    { stage: 'prune', prune: { kind: 'structured', target: 0.3, step: 0.1, importance: 'activation', repair: 'least-squares', scope: 'per-layer', sensitivity: true, channelBlock: channelBlock() } },
    { stage: 'prune', prune: { kind: 'unstructured', target: 0.3, scope: 'per-layer' } },
    { stage: 'quantize', quantize: { kind: 'int8-static', calibration: 'percentile', fallback: 'auto', activationType: 'auto' } },
  ]);
  expect(c.gate).toEqual({ accuracyDrop: 2, use: 'point', p95Ratio: 0.7, relative: false, metrics: {} });
  expect(c.seed).toBe(0);
  // Not in the example: the loop searches on 30 % of data.eval, the gate judges the rest.
  expect(c.data).toMatchObject({ searchFraction: 0.3, search: undefined, test: undefined });
});

test('data.search and data.test replace the split: the test data is what the gate judges', () => {
  const { dir } = exampleDir();
  const source = { inputs: { input: 'data/eval_x.npy' }, labels: 'data/eval_y.npy' };
  const c = configFromObject({ model: 'model.onnx', data: { search: { inputs: { input: 'data/calib_x.npy' }, labels: 'data/eval_y.npy' }, test: source, 'search-fraction': 0.5 } }, dir);
  expect(c.data.search).toEqual({ inputs: { input: path.join(dir, 'data/calib_x.npy') }, labels: path.join(dir, 'data/eval_y.npy') });
  expect(c.data.eval).toEqual(c.data.test);
  expect(c.data.searchFraction).toBe(0.5);
});

test('absent recipe means default (undefined); [] means no change', () => {
  const base = { model: 'model.onnx' };
  const { dir } = exampleDir();
  expect(configFromObject(base, dir).recipe).toBeUndefined();
  expect(configFromObject({ ...base, recipe: [] }, dir).recipe).toEqual([]);
});

test('targets: native by default; the example config\'s commented line works as written; an unknown target names its path', () => {
  const { dir } = exampleDir();
  const base = { model: 'model.onnx' };
  expect(configFromObject(base, dir).targets).toEqual(['native']);
  // /work/shared/prune-gate.example.yml: "# targets: [native, wasm]", uncommented.
  const file = path.join(dir, 'targets.yml');
  fs.writeFileSync(file, 'model: model.onnx\ntargets: [native, wasm]        # runtimes the candidate is validated and measured on\n');
  expect(loadConfig(file).targets).toEqual(['native', 'wasm']);
  expect(configFromObject({ ...base, targets: ['wasm'] }, dir).targets).toEqual(['wasm']);
  expect(() => configFromObject({ ...base, targets: ['webgpu'] }, dir)).toThrow(/\/targets\/0/);
  expect(() => configFromObject({ ...base, targets: [] }, dir)).toThrow(/\/targets/);
  expect(() => configFromObject({ ...base, targets: ['wasm', 'wasm'] }, dir)).toThrow(/\/targets/);
});

test('extra keys: seed, bench extras, noise, gate rules, budget, quantizer lists in both spellings', () => {
  const { dir } = exampleDir();
  const c = configFromObject(
    {
      model: 'model.onnx',
      seed: 7,
      data: { eval: { inputs: 'data/eval_x.npy' }, 'noise-sigma': 0.1 },
      bench: { 'time-budget': 2.5, 'min-runs': 50, precision: 0.01, warmup: 3 },
      gate: { relative: true, metrics: { f1: { 'max-drop': 1, use: 'interval' } } },
      budget: { 'wall-time': '2m' },
      recipe: [{ quantize: { kind: 'int8-static', nodes_to_exclude: ['a'], 'nodes-to-exclude': ['b', 'a'], 'op-types-to-quantize': ['MatMul'], 'per-channel': true } }],
    },
    dir,
  );
  expect(c.task).toBe('fidelity');
  expect(c.metrics).toEqual(['agreement', 'cosine']);
  expect(c.seed).toBe(7);
  expect(c.data.noiseSigma).toBe(0.1);
  expect(c.bench).toMatchObject({ timeBudgetMs: 2500, minRuns: 50, precision: 0.01, warmup: 3 });
  expect(c.gate.metrics).toEqual({ f1: { maxDrop: 1, use: 'interval' } });
  expect(c.budget.wallTimeMs).toBe(120_000);
  expect(c.recipe?.[0]).toEqual({
    stage: 'quantize',
    quantize: { kind: 'int8-static', nodesToExclude: ['a', 'b'], opTypesToQuantize: ['MatMul'], perChannel: true, calibration: 'percentile', fallback: 'auto', activationType: 'auto' },
  });
});

test('parseDuration', () => {
  expect(parseDuration('30s')).toBe(30_000);
  expect(parseDuration('2m')).toBe(120_000);
  expect(parseDuration('500ms')).toBe(500);
  expect(parseDuration(1.5)).toBe(1500);
  expect(() => parseDuration('soon')).toThrow(InputError);
});

const badCases: Array<[string, (t: string) => string, RegExp]> = [
  ['target >= 1', (t) => t.replace('target: 0.3, step', 'target: 1.5, step'), /prune-gate\.yml: \/recipe\/0\/prune\/target must be < 1 \(got 1\.5\)/],
  ['negative target', (t) => t.replace('kind: unstructured, target: 0.3', 'kind: unstructured, target: -0.1'), /\/recipe\/1\/prune\/target must be >= 0 \(got -0\.1\)/],
  ['unknown key with suggestion', (t) => t.replace('inputs: { input: data/eval_x.npy }', 'inptus: { input: data/eval_x.npy }'), /\/data\/eval\/inptus: unknown key; did you mean 'inputs'\?/],
  ['unknown top-level key', (t) => t + '\nbogus_key: 1\n', /\/bogus_key: unknown key/],
  ['wrong type', (t) => t.replace('threads: 1', 'threads: two'), /\/bench\/threads must be an integer \(got 'two'\)/],
  ['bad enum', (t) => t.replace('use: point', 'use: maybe'), /\/gate\/use must be one of point, interval \(got 'maybe'\)/],
  ['bad duration', (t) => t.replace('time-budget: 30s', 'time-budget: soon'), /\/bench\/time-budget must be a duration like 30s/],
  ['two ops in one stage', (t) => t.replace('- prune: { kind: unstructured, target: 0.3 }', '- prune: { kind: unstructured, target: 0.3 }\n    quantize: { kind: fp16 }'), /\/recipe\/1: each recipe stage has exactly one of 'prune:' or 'quantize:'/],
  ['missing data file', (t) => t.replace('data/calib_x.npy', 'data/missing.npy'), /prune-gate\.yml: \/data\/calibration\/inputs\/input: data file 'data\/missing\.npy' does not exist/],
  ['missing model', (t) => t.replace('model: model.onnx', 'model: nope.onnx'), /\/model: model 'nope\.onnx' does not exist/],
  ['YAML syntax error', (t) => t.replace('batch-size: 64', 'batch-size: [64'), /prune-gate\.yml: YAML syntax error at line \d+, column \d+/],
  ['empty file', () => '# nothing here\n', /prune-gate\.yml: the config file is empty/],
  ['n >= m', (t) => t.replace('kind: unstructured, target: 0.3', "kind: 'n:m', target: 0.5, n: 4, m: 4"), /\/recipe\/1\/prune\/n must be < m/],
  ['metric of another task', (t) => t.replace('metrics: [accuracy, f1]', 'metrics: [accuracy, mae]'), /\/metrics\/1: 'mae' is not a classification metric; with task 'classification' use accuracy/],
  ['classification without labels', (t) => t.replace('    labels: data/eval_y.npy', ''), /\/data\/eval\/labels: task 'classification' needs labels/],
  ['search without test', (t) => t.replace('  batch-size: 64', '  search: { inputs: { input: data/eval_x.npy }, labels: data/eval_y.npy }\n  batch-size: 64'), /\/data must have property test when property search is present/],
  ['eval and test', (t) => t.replace('  batch-size: 64', '  search: { inputs: { input: data/eval_x.npy }, labels: data/eval_y.npy }\n  test: { inputs: { input: data/eval_x.npy }, labels: data/eval_y.npy }\n  batch-size: 64'), /\/data\/eval: give either data.eval \(split into search and test by data.search-fraction\) or data.search and data.test, not both/],
  ['search-fraction 1', (t) => t.replace('  batch-size: 64', '  search-fraction: 1\n  batch-size: 64'), /\/data\/search-fraction must be < 1/],
];

test.each(badCases)('bad config: %s', (_name, edit, expected) => {
  const { file } = exampleDir(edit(exampleText));
  const err = inputError(() => loadConfig(file));
  expect(err.message).toMatch(expected);
  expect(err.message.startsWith(file)).toBe(true);
});

test('all problems are reported at once', () => {
  const { file } = exampleDir(exampleText.replace('threads: 1', 'threads: 0').replace('accuracy-drop: 2', 'accuracy-drop: -1'));
  const err = inputError(() => loadConfig(file));
  expect(err.message).toMatch(/\/bench\/threads must be >= 1 \(got 0\)/);
  expect(err.message).toMatch(/\/gate\/accuracy-drop must be >= 0 \(got -1\)/);
});

test('a missing config file is an InputError', () => {
  const err = inputError(() => loadConfig(path.join(os.tmpdir(), 'no-such-dir-pg', 'prune-gate.yml')));
  expect(err.message).toMatch(/no such config file/);
});
