/**
 * Checks an exported ONNX model against the tfjs model it came from: same eval inputs through
 * ONNX Runtime (our ModelSession), logits compared element by element. A layout mistake in the
 * conversion (kernel order, flatten order) shows up here as a large difference, not as a quiet
 * accuracy loss.
 */
import { encodeModel, type Model } from '../../src/onnx/index.js';
import { ModelSession } from '../../src/evaluate/session.js';
import { accuracy, argmax } from './tf-train.js';

export interface OrtCheck {
  accuracy: number;
  maxAbsDiff: number;
  /** Samples where ORT and tfjs pick different classes. */
  disagreements: number;
}

export async function checkWithOrt(model: Model, x: Float32Array, y: Int32Array, sampleShape: number[], tfLogits: Float32Array): Promise<OrtCheck> {
  const session = await ModelSession.create(encodeModel(model), { label: model.graph.name });
  const width = sampleShape.reduce((a, b) => a * b, 1);
  const count = y.length;
  const logits = new Float32Array(count * 10);
  for (let start = 0; start < count; start += 100) {
    const n = Math.min(100, count - start);
    const out = await session.run({ input: { type: 'float32', dims: [n, ...sampleShape], data: x.slice(start * width, (start + n) * width) } });
    logits.set(out.logits.data as Float32Array, start * 10);
  }
  await session.release();
  let maxAbsDiff = 0;
  for (let i = 0; i < logits.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(logits[i] - tfLogits[i]));
  let disagreements = 0;
  for (let i = 0; i < count; i++) if (argmax(logits, i) !== argmax(tfLogits, i)) disagreements++;
  return { accuracy: accuracy(logits, y), maxAbsDiff, disagreements };
}

export function assertAgreement(check: OrtCheck, tolerance = 1e-3): void {
  if (check.maxAbsDiff >= tolerance || check.disagreements > 0) {
    throw new Error(`ONNX export disagrees with tfjs: max |logit diff| ${check.maxAbsDiff}, ${check.disagreements} different predictions`);
  }
}
