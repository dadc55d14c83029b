/**
 * Real models and real data for evaluation tests: a nearest-centroid MNIST classifier built in
 * code (one Gemm: scores = x.c - |c|^2/2 for each digit's mean image) and real MNIST digits.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { DataType, GraphBuilder, encodeModel, float32Tensor, type Dim } from '../../src/onnx/index.js';
import { encodeNpy, type NpyArray } from '../../src/evaluate/npy.js';
import type { ElementType } from '../../src/evaluate/session.js';

type Digit = { get(i: number): number[] };
// mnist ships no type declarations; require keeps this file free of an ambient module shim.
const digits = createRequire(import.meta.url)('mnist') as Digit[];

/** `perDigit` samples of each digit from index `start`, interleaved 0..9,0..9,... */
export function mnistSamples(start: number, perDigit: number): { x: Float32Array; y: number[] } {
  const n = perDigit * 10;
  const x = new Float32Array(n * 784);
  const y: number[] = [];
  for (let i = 0; i < perDigit; i++) {
    for (let d = 0; d < 10; d++) {
      x.set(digits[d].get(start + i), y.length * 784);
      y.push(d);
    }
  }
  return { x, y };
}

let centroidCache: Float32Array | undefined;
function centroids(): Float32Array {
  if (centroidCache) return centroidCache;
  const { x, y } = mnistSamples(0, 100);
  const c = new Float32Array(10 * 784);
  y.forEach((d, i) => {
    for (let k = 0; k < 784; k++) c[d * 784 + k] += x[i * 784 + k] / 100;
  });
  centroidCache = c;
  return c;
}

/** The classifier's ONNX bytes. `batch` fixes the batch dim; `scale` multiplies the weights (a different but related model). */
export function centroidModel(options: { batch?: Dim; scale?: number; extraWork?: number; inputType?: DataType; nanOutput?: boolean } = {}): Uint8Array {
  const c = centroids();
  const scale = options.scale ?? 1;
  const w = Float32Array.from(c, (v) => v * scale);
  const bias = Array.from({ length: 10 }, (_, d) => {
    let s = 0;
    for (let k = 0; k < 784; k++) s += c[d * 784 + k] ** 2;
    return (-s / 2) * scale;
  });
  const b = new GraphBuilder('centroid');
  let x = b.input('x', options.inputType ?? DataType.FLOAT, [options.batch ?? 'N', 784]);
  if (options.inputType !== undefined && options.inputType !== DataType.FLOAT) x = b.op('Cast', [x], { to: DataType.FLOAT });
  let scores = b.op('Gemm', [x, b.constant(float32Tensor('w', [10, 784], w)), b.constant(float32Tensor('b', [10], bias))], { transB: 1 });
  if (options.nanOutput) scores = b.op('Log', [b.op('Neg', [b.op('Abs', [scores])])]);
  b.op('Identity', [scores], {}, { outputs: ['logits'] });
  b.output('logits', DataType.FLOAT, [options.batch ?? 'N', 10]);
  return encodeModel(b.model({ opset: 17 }));
}

export function tmpDir(prefix = 'pg-eval-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeNpy(file: string, type: ElementType, shape: number[], data: NpyArray): string {
  fs.writeFileSync(file, encodeNpy(type, shape, data));
  return file;
}
