/**
 * `prune-gate optimize` reads only the data its recipe uses: no data for `recipe: []` or
 * magnitude pruning, data.calibration alone for activation importance or static int8, and a
 * missing set is named with the stage that needs it. `--model` stands in for the config's model.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { optimizeOnly } from '../../src/pipeline/optimize.js';
import { encodeNpy, readNpy } from '../../src/evaluate/npy.js';
import { loadModel } from '../../src/onnx/index.js';
import { InputError } from '../../src/util/errors.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-optimize-data-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const model = path.join(dir, 'mlp.onnx');
fs.copyFileSync(path.join(ROOT, 'test/fixtures/models/mnist-mlp.onnx'), model);
// 32 real calibration digits flattened for the MLP.
const calib = readNpy(path.join(ROOT, 'examples/mnist/data/calib_x.npy'));
fs.writeFileSync(path.join(dir, 'calib_x.npy'), encodeNpy('float32', [32, 784], (calib.data as Float32Array).slice(0, 32 * 784)));

let n = 0;
function config(body: Record<string, unknown>): string {
  const file = path.join(dir, `c${++n}.yml`);
  fs.writeFileSync(file, stringify(body));
  return file;
}
const out = () => path.join(dir, `out${++n}.onnx`);
const structured = (importance: string, repair: string) => [{ prune: { kind: 'structured', target: 0.25, importance, repair } }];

test("recipe [] needs no data, and --model stands in for the config's model (which need not exist)", async () => {
  const r = await optimizeOnly({ configPath: config({ model: 'not-there.onnx', recipe: [] }), model, out: out() });
  expect(r.recipe).toEqual([]);
  expect(loadModel(r.out).graph.nodes.map((x) => x.opType)).toEqual(loadModel(model).graph.nodes.map((x) => x.opType));
});

test('a config without model: works with --model; a missing --model file is named', async () => {
  const file = config({ recipe: [] });
  await expect(optimizeOnly({ configPath: file, model, out: out() })).resolves.toBeDefined();
  await expect(optimizeOnly({ configPath: file, model: path.join(dir, 'nope.onnx'), out: out() })).rejects.toThrow(/--model .*nope\.onnx: no such file/);
});

test('magnitude pruning (unstructured, or structured l1 without repair) runs without any data', async () => {
  const unstructured = await optimizeOnly({ configPath: config({ model: 'mlp.onnx', recipe: [{ prune: { kind: 'unstructured', target: 0.3 } }] }), out: out() });
  expect(unstructured.summaries[0].changed.length).toBeGreaterThan(0);
  const l1 = await optimizeOnly({ configPath: config({ model: 'mlp.onnx', recipe: structured('l1', 'none') }), out: out() });
  expect(l1.summaries[0].paramsAfter).toBeLessThan(l1.summaries[0].paramsBefore);
});

test('activation importance and static int8 need data.calibration only, not data.eval', async () => {
  const recipe = [...structured('activation', 'least-squares'), { quantize: { kind: 'int8-static' } }];
  const r = await optimizeOnly({ configPath: config({ model: 'mlp.onnx', data: { calibration: { inputs: { input: 'calib_x.npy' } } }, recipe }), out: out() });
  expect(r.summaries.map((s) => s.changed.length > 0)).toEqual([true, true]);
  expect(loadModel(r.out).graph.nodes.some((x) => x.opType === 'QuantizeLinear')).toBe(true);
});

test('a stage that needs data and finds none is named with what it needs', async () => {
  const run = (body: Record<string, unknown>) => optimizeOnly({ configPath: config(body), out: out() });
  await expect(run({ model: 'mlp.onnx', recipe: [{ prune: { kind: 'unstructured', target: 0.2 } }, { quantize: { kind: 'int8-static' } }] })).rejects.toThrow(
    /\/data\/calibration is missing: \/recipe\/1 \(int8-static quantization\) needs calibration data for its activation ranges; add data\.calibration\.inputs/,
  );
  await expect(run({ model: 'mlp.onnx', recipe: structured('activation', 'none') })).rejects.toThrow(/\/recipe\/0 \(structured pruning to 25 %\) needs calibration data for its importance 'activation'/);
  await expect(run({ model: 'mlp.onnx', recipe: structured('l1', 'least-squares') })).rejects.toThrow(/needs calibration data for its repair 'least-squares'/);
  const noRecipe = run({ model: 'mlp.onnx' });
  await expect(noRecipe).rejects.toThrow(InputError);
  await expect(noRecipe).rejects.toThrow(/stage 1 of the default recipe \(the config has no 'recipe:'\) \(structured pruning .*\) needs calibration data.*or write a recipe whose stages need no data/);
});

test('the CLI exits 2 with that message, and 0 on a recipe that needs nothing', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'optimize', ...args], { cwd: ROOT, encoding: 'utf8' });
  const missing = cli(['--model', model, '--config', config({ model: 'mlp.onnx', recipe: [{ quantize: { kind: 'int8-static' } }] }), '--out', out()]);
  expect(missing.status).toBe(2);
  expect(missing.stderr).toMatch(/\/recipe\/0 \(int8-static quantization\) needs calibration data/);
  expect(missing.stderr).not.toMatch(/data\.eval|data\/eval/);
  const fine = cli(['--model', model, '--config', config({ model: 'mlp.onnx', recipe: [] }), '--out', out()]);
  expect(fine.stderr).toBe('');
  expect(fine.status).toBe(0);
});
