/**
 * WebAssembly threads: one unless set (bench.threads), fixed when the runtime loads. A process of
 * its own (this file), since the runtime loads once per process.
 */
import * as path from 'node:path';
import { ModelSession } from '../../src/evaluate/session.js';
import { setWebThreads, TARGETS } from '../../src/evaluate/targets.js';

const MODEL = path.resolve(import.meta.dirname, '../../examples/mnist/model.onnx');

test('two threads set before the first wasm session run the model as one thread does natively; the count is then fixed', async () => {
  setWebThreads(2);
  const ort = await TARGETS.wasm.load();
  expect((ort.env.wasm as { numThreads?: number }).numThreads).toBe(2);
  const input = new Float32Array(4 * 784).map((_, i) => (i % 97) / 97);
  const outputs: Float32Array[] = [];
  for (const target of ['native', 'wasm'] as const) {
    const session = await ModelSession.create(MODEL, { target });
    const out = await session.run({ input: { type: 'float32', data: input, dims: [4, 1, 28, 28] } });
    outputs.push(Float32Array.from(Object.values(out)[0].data as Float32Array));
    await session.release();
  }
  for (let i = 0; i < outputs[0].length; i++) expect(Math.abs(outputs[0][i] - outputs[1][i])).toBeLessThan(1e-4);
  expect(() => setWebThreads(1)).toThrow(/already runs 2 thread\(s\) in this process/);
  expect(() => setWebThreads(2)).not.toThrow();
});
