/**
 * A throwaway user project in a temp folder: the MLP fixture (trained on real MNIST digits, see
 * test/fixtures/models/mnist-mlp.README.md), a slice of the MNIST example's evaluation and
 * calibration digits flattened to [N, 784], and a prune-gate.yml written from the given parts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { encodeNpy, readNpy } from '../../src/evaluate/npy.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const EXAMPLE_DATA = path.join(ROOT, 'examples/mnist/data');

export interface Project {
  dir: string;
  config: string;
  model: string;
  cleanup(): void;
}

export function makeProject(config: Record<string, unknown>, options: { evalCount?: number; calibCount?: number } = {}): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-e2e-'));
  fs.mkdirSync(path.join(dir, 'data'));
  const model = path.join(dir, 'model.onnx');
  fs.copyFileSync(path.join(ROOT, 'test/fixtures/models/mnist-mlp.onnx'), model);
  writeSlice('eval_x.npy', options.evalCount ?? 300, dir);
  writeSlice('calib_x.npy', options.calibCount ?? 64, dir);
  const labels = readNpy(path.join(EXAMPLE_DATA, 'eval_y.npy'));
  const n = options.evalCount ?? 300;
  fs.writeFileSync(path.join(dir, 'data/eval_y.npy'), encodeNpy('int64', [n], (labels.data as BigInt64Array).slice(0, n)));
  const full = {
    model: 'model.onnx',
    task: 'classification',
    data: { eval: { inputs: { input: 'data/eval_x.npy' }, labels: 'data/eval_y.npy' }, calibration: { inputs: { input: 'data/calib_x.npy' } }, 'batch-size': 64 },
    metrics: ['accuracy', 'f1'],
    bench: { 'batch-sizes': [1, 16], 'time-budget': '400ms', threads: 1 },
    ...config,
  };
  const file = path.join(dir, 'prune-gate.yml');
  fs.writeFileSync(file, stringify(full));
  return { dir, config: file, model, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The first `count` digits of an example .npy, as [count, 784] for the MLP. */
function writeSlice(name: string, count: number, dir: string): void {
  const src = readNpy(path.join(EXAMPLE_DATA, name));
  const data = (src.data as Float32Array).slice(0, count * 784);
  fs.writeFileSync(path.join(dir, 'data', name), encodeNpy('float32', [count, 784], data));
}
