import * as fs from 'node:fs';
import * as path from 'node:path';
import { allGraphs, loadModel, saveModel, serializeModel } from '../../src/onnx/index.js';
import { randomFeeds } from '../../src/evaluate/shapes.js';
import type { Feeds } from '../../src/evaluate/session.js';
import { MODELS, outputBytes, runModel, tempDir } from './helpers.js';

// Real models, concrete sizes for their symbolic dims, seeded inputs. Load + save with no change
// must give a model ORT runs with bit-identical outputs.
const CASES: Array<{ name: string; file: string; dims: Record<string, number>; fix?: (f: Feeds) => void }> = [
  { name: 'OCR det', file: MODELS.ocrDet, dims: { 'p2o.DynamicDimension.1': 64, 'p2o.DynamicDimension.2': 96 } },
  { name: 'OCR rec', file: MODELS.ocrRec, dims: { 'p2o.DynamicDimension.1': 160 } },
  { name: 'OCR cls', file: MODELS.ocrCls, dims: { 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192 } },
  { name: 'silero VAD 16 kHz', file: MODELS.sileroVad, dims: { batch: 2, sequence: 512 }, fix: (f) => void (f.sr = { type: 'int64', dims: [], data: BigInt64Array.from([16000n]) }) },
  { name: 'silero VAD 8 kHz', file: MODELS.sileroVad, dims: { batch: 1, sequence: 256 }, fix: (f) => void (f.sr = { type: 'int64', dims: [], data: BigInt64Array.from([8000n]) }) },
  { name: 'openwakeword', file: MODELS.wakeword, dims: {} },
  { name: 'openwakeword (old)', file: MODELS.wakewordOld, dims: {} },
];

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test.each(CASES)('$name: load + save runs bit-identically in ORT', async ({ name, file, dims, fix }) => {
  const model = loadModel(file);
  const feeds = randomFeeds(model, { seed: 7, dimValues: dims });
  fix?.(feeds);
  const out = path.join(dir, `${name.replace(/\W+/g, '_')}.onnx`);
  saveModel(model, out);
  const before = outputBytes(await runModel(file, feeds));
  const after = outputBytes(await runModel(out, feeds));
  expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
  for (const k of Object.keys(before)) expect(after[k].equals(before[k])).toBe(true);
  // Export is deterministic and a second round trip is a fixed point.
  expect(Buffer.from(serializeModel(loadModel(out), {}, out).bytes).equals(fs.readFileSync(out))).toBe(true);
});

test('silero VAD really has nested graphs (If bodies) and they survive the round trip', () => {
  const model = loadModel(MODELS.sileroVad);
  const graphs = allGraphs(model);
  expect(graphs.length).toBeGreaterThan(1);
  const out = path.join(dir, 'silero-nested.onnx');
  saveModel(model, out);
  const again = allGraphs(loadModel(out));
  expect(again.map((g) => g.nodes.length)).toEqual(graphs.map((g) => g.nodes.length));
  expect(again.map((g) => g.initializers.length)).toEqual(graphs.map((g) => g.initializers.length));
});
