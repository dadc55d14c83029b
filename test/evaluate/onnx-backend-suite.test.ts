/**
 * ONNX's own backend test suite (Debian's libonnx-testdata: 1,072 models, each with
 * test_data_set_N folders of input_K.pb and expected output_K.pb). The 373 models of
 * pytorch-converted, pytorch-operator, simple and every 4th node test are read as prune-gate reads a
 * user's test_data_set folder: each set is one run whose inputs go to the model exactly as stored
 * (broadcast operands, a BatchNormalization's scale, scalars, sequences), and the fidelity task
 * compares the model's outputs with the expected ones.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDataset, refuseNonTensors } from '../../src/evaluate/data.js';
import { evaluateModel } from '../../src/evaluate/evaluate.js';
import { ModelSession, type HostTensor } from '../../src/evaluate/session.js';
import { decodeTensorFile } from '../../src/onnx/index.js';
import { toTypedArray } from '../../src/onnx/tensor-data.js';
import { InputError } from '../../src/util/errors.js';

const SUITE = '/usr/share/libonnx-testdata/data';

function selected(): string[] {
  if (!fs.existsSync(SUITE)) throw new Error(`${SUITE} is missing: install Debian's libonnx-testdata (apt-get install libonnx-testdata; .ci/run does)`);
  const models = (group: string) =>
    fs
      .readdirSync(path.join(SUITE, group))
      .sort()
      .map((d) => path.join(SUITE, group, d))
      .filter((d) => fs.existsSync(path.join(d, 'model.onnx')) && fs.readdirSync(d).some((f) => f.startsWith('test_data_set_')));
  return [...models('pytorch-converted'), ...models('pytorch-operator'), ...models('simple'), ...models('node').filter((_, i) => i % 4 === 0)];
}

/** ORT's own limits (an op or type it lacks). */
const runtimeRefusal = /ONNX Runtime (cannot load|failed to run)/;
/**
 * What prune-gate refuses on purpose, each with its clear message: inputs that are not numeric
 * tensors (sequences, optionals, strings: nothing a metric can compare), and NaN or infinite
 * values (in a test of Sqrt's or IsInf's edge cases they are the point; in a user's model a bug).
 */
const outOfScope = /is not a tensor \(a sequence|string tensors are not supported|holds NaN|is NaN|is -?Infinity/;

test('every set of 373 suite models is fed as it is stored, and compared with its expected outputs', async () => {
  const dirs = selected();
  expect(dirs.length).toBe(373);
  const refused: string[] = [];
  const deliberate: string[] = [];
  const runtime: string[] = [];
  let compared = 0;
  let agreeing = 0;
  for (const dir of dirs) {
    const name = path.relative(SUITE, dir);
    const model = path.join(dir, 'model.onnx');
    let session: ModelSession;
    try {
      session = await ModelSession.create(model);
    } catch (err) {
      runtime.push(`${name}: ${(err as Error).message}`);
      continue;
    }
    try {
      refuseNonTensors(session.inputs, session.outputs, name);
      const ds = loadDataset({ inputs: dir }).forModel(session.inputs, name);
      // Inputs as they are: the same dims and bytes as the .pb files hold.
      const setDirs = fs.readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort((a, b) => Number(a.split('_').pop()) - Number(b.split('_').pop()));
      let k = 0;
      for (const run of ds.runs(32)) {
        session.inputs.forEach((input, i) => {
          const file = path.join(dir, setDirs[k], `input_${i}.pb`);
          const stored = decodeTensorFile(fs.readFileSync(file), file);
          const fed = run.feeds[input.name] as HostTensor;
          expect([name, fed.dims]).toEqual([name, stored.dims]);
          expect([name, Buffer.from(new Uint8Array((fed.data as Uint8Array).buffer, (fed.data as Uint8Array).byteOffset, (fed.data as Uint8Array).byteLength)).equals(Buffer.from(bytesOf(toTypedArray(stored))))]).toEqual([name, true]);
        });
        k++;
      }
      expect([name, k]).toEqual([name, setDirs.length]);
      const { result } = await evaluateModel(model, ds, { task: 'fidelity' });
      compared++;
      if ((result.metrics['max-abs-error'] ?? Infinity) <= 1e-3) agreeing++;
    } catch (err) {
      if (err instanceof InputError && runtimeRefusal.test(err.message)) runtime.push(`${name}: ${err.message.split('\n')[0]}`);
      else if (err instanceof InputError && outOfScope.test(err.message)) deliberate.push(`${name}: ${err.message.split('\n')[0]}`);
      else refused.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      await session.release();
    }
  }
  console.log(
    `ONNX backend suite: ${compared} of ${dirs.length} compared with their expected outputs (${agreeing} within 1e-3); ${runtime.length} not run by ORT itself; ${deliberate.length} refused on purpose:\n  ${deliberate.join('\n  ')}`,
  );
  // Nothing else is refused: no set is cut into samples it does not have.
  expect(refused).toEqual([]);
  expect(deliberate.length).toBeLessThan(15);
  // Measured with ORT 1.30: 316 compared, 45 stopped by ORT itself (old opsets, training ops), 12 refused on purpose.
  expect(compared + runtime.length + deliberate.length).toBe(dirs.length);
  expect(compared).toBeGreaterThanOrEqual(300);
  expect(agreeing / compared).toBeGreaterThan(0.95);
}, 600_000);

function bytesOf(a: ArrayBufferView | string[]): Uint8Array {
  if (Array.isArray(a)) throw new Error('string tensors are not fed');
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
