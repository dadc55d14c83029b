/**
 * Runtime targets on real sessions: the same model on onnxruntime-node and on onnxruntime-web's
 * WebAssembly backend, an operator the WebAssembly build lacks, and the registry as config sees it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataType, GraphBuilder, encodeModel } from '../../src/onnx/index.js';
import { ModelSession } from '../../src/evaluate/session.js';
import { missingOperator, TARGET_NAMES, TARGETS } from '../../src/evaluate/targets.js';
import { benchLatency } from '../../src/evaluate/latency.js';
import { checkLoads } from '../../src/pipeline/targets.js';
import { InputError } from '../../src/util/errors.js';
import { centroidModel, mnistSamples, tmpDir } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Reorders to ORT's NCHWc layout and back: kernels the native x86 build registers and the WebAssembly build does not. */
function nchwcModel(): Uint8Array {
  const b = new GraphBuilder('nchwc');
  const x = b.input('x', DataType.FLOAT, [1, 16, 4, 4]);
  const t = b.op('ReorderInput', [x], {}, { domain: 'com.microsoft.nchwc', name: 'to_blocked' });
  b.op('ReorderOutput', [t], { channels: 16 }, { domain: 'com.microsoft.nchwc', name: 'from_blocked', outputs: ['y'] });
  b.output('y', DataType.FLOAT, [1, 16, 4, 4]);
  return encodeModel(b.model({ opset: 17, extraOpsets: [{ domain: 'com.microsoft.nchwc', version: 1 }] }));
}

test('the example CNN gives the same outputs on wasm as natively (float rounding apart)', async () => {
  const model = path.join(ROOT, 'examples/mnist/model.onnx');
  const { x } = mnistSamples(0, 2);
  const feeds = { input: { type: 'float32' as const, dims: [20, 1, 28, 28], data: x } };
  const out: Float32Array[] = [];
  for (const target of TARGET_NAMES) {
    const s = await ModelSession.create(model, { target });
    try {
      expect(s.target).toBe(target);
      expect(s.inputs).toEqual([{ name: 'input', type: 'float32', shape: ['N', 1, 28, 28] }]);
      out.push((await s.run(feeds))[s.outputNames[0]].data as Float32Array);
    } finally {
      await s.release();
    }
  }
  expect(out[1]).toHaveLength(200);
  let maxAbs = 0;
  for (let i = 0; i < out[0].length; i++) maxAbs = Math.max(maxAbs, Math.abs(out[0][i] - out[1][i]));
  expect(maxAbs).toBeLessThan(1e-3);
  const wasm = await TARGETS.wasm.load();
  expect(TARGETS.wasm.version(wasm)).toBe('1.30.0');
});

test('an operator the WebAssembly build lacks is an InputError naming the operator, its node and the target', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'nchwc.onnx');
  fs.writeFileSync(file, nchwcModel());
  const err = await ModelSession.create(file, { target: 'wasm' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).message).toMatch(/the wasm target \(onnxruntime-web\) has no kernel for operator com\.microsoft\.nchwc:ReorderInput \(node 'to_blocked'\), so the model cannot run there\. Remove wasm from `targets:`/);
  expect((err as InputError).where).toBe('to_blocked');
  // What run does before the search: the same failure, in a second.
  await expect(checkLoads(file, ['native', 'wasm'])).rejects.toThrow(/operator com\.microsoft\.nchwc:ReorderInput \(node 'to_blocked'\)/);
  // In-memory bytes too (the loop's candidates): the node is found in the bytes.
  await expect(ModelSession.create(nchwcModel(), { target: 'wasm', label: 'candidate' })).rejects.toThrow(/^candidate: the wasm target .* \(node 'to_blocked'\)/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("ORT's three ways of saying an operator is missing are read; other load errors are not taken for one", () => {
  expect(missingOperator("Could not find an implementation for Rfft(1) node with name 'the_rfft'")).toEqual({ opType: 'Rfft', node: 'the_rfft' });
  expect(missingOperator('ERROR_MESSAGE: No Op registered for Mish with domain_version of 17')).toEqual({ opType: 'Mish' });
  expect(missingOperator('Fatal error: com.microsoft.nchwc:ReorderInput(-1) is not a registered function/op')).toEqual({ opType: 'ReorderInput', domain: 'com.microsoft.nchwc' });
  expect(missingOperator('[ShapeInferenceError] Input shape must have either [C] or [1,C] dimensions')).toBeUndefined();
});

test('latency on wasm: interleaved as natively, one thread, the result says its target', async () => {
  const model = centroidModel();
  const r = await benchLatency({ models: [model, centroidModel({ scale: 2 })], batchSizes: [4], timeBudgetMs: 20, minRuns: 4, warmup: 1, rounds: 2, threads: 2, target: 'wasm', dims: {} });
  expect(r.target).toBe('wasm');
  expect(r.intraOpThreads).toBe(1);
  expect(r.batches[0].stats.map((s) => s.runs)).toEqual([r.batches[0].samplesMs[0].length, r.batches[0].samplesMs[1].length]);
  expect(r.batches[0].comparison!.ratios.p95.value).toBeGreaterThan(0);
});

test('the config schema lists exactly the registry targets', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/config.schema.json'), 'utf8'));
  expect(schema.properties.targets.items.enum).toEqual([...TARGET_NAMES]);
  const report = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/report.schema.json'), 'utf8'));
  expect(report.definitions.target.enum).toEqual([...TARGET_NAMES]);
});

test('profiling is refused on a target without a profiler (a bug, not a user error)', async () => {
  await expect(ModelSession.create(centroidModel(), { target: 'wasm', profileFilePrefix: '/tmp/x' })).rejects.toThrow(/profiling is native-only/);
});

test('onnxruntime-web is imported only when a session on wasm is created', () => {
  // A module-resolution hook in a fresh process: what a run without wasm never loads.
  const child = (target: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--import', path.join(ROOT, 'test/helpers/log-resolutions.mjs'), path.join(import.meta.dirname, 'target-child.ts'), target, path.join(ROOT, 'examples/mnist/model.onnx')], { encoding: 'utf8' });
  const native = child('native');
  expect(native.stdout).toBe('loaded on native\n');
  expect(native.stderr).not.toMatch(/resolve onnxruntime-web/);
  const wasm = child('wasm');
  expect(wasm.stdout).toBe('loaded on wasm\n');
  expect(wasm.stderr).toMatch(/^resolve onnxruntime-web$/m);
});
