/** Runs a committed example model over committed .npy eval data with ONNX Runtime. */
import * as path from 'node:path';
import { ModelSession } from '../../src/evaluate/session.js';
import { readNpy } from '../../scripts/train/npy.js';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export interface EvalResult {
  accuracy: number;
  count: number;
  logitsShape: number[];
}

/** `sampleShape` reshapes each row of eval_x (same bytes) to what the model takes. */
export async function evaluate(modelFile: string, xFile: string, yFile: string, sampleShape?: number[]): Promise<EvalResult> {
  const x = readNpy(xFile);
  const y = readNpy(yFile);
  if (x.dtype !== '<f4' || y.dtype !== '<i8') throw new Error('eval data must be float32 inputs and int64 labels');
  const count = x.shape[0];
  const shape = sampleShape ?? x.shape.slice(1);
  const width = shape.reduce((a, b) => a * b, 1);
  const session = await ModelSession.create(modelFile);
  let right = 0;
  let logitsShape: number[] = [];
  try {
    for (let start = 0; start < count; start += 250) {
      const n = Math.min(250, count - start);
      const out = await session.run({ input: { type: 'float32', dims: [n, ...shape], data: x.data.slice(start * width, (start + n) * width) } });
      const logits = out.logits.data as Float32Array;
      logitsShape = out.logits.dims;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
        if (BigInt(best) === y.data[start + i]) right++;
      }
    }
  } finally {
    await session.release();
  }
  return { accuracy: right / count, count, logitsShape };
}
