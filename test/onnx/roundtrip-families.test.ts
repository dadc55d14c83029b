import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeModel, encodeModel, loadModel, saveModel, type Model } from '../../src/onnx/index.js';
import { randomFeeds } from '../../src/evaluate/shapes.js';
import type { Feeds } from '../../src/evaluate/session.js';
import { contribModel, convNet, functionModel, ifOuterScope, ir3Model, loopModel, scanModel, sparseModel } from './families.js';
import { outputBytes, runModel, tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const bool = (v: boolean) => ({ type: 'bool' as const, dims: [], data: Uint8Array.from([v ? 1 : 0]) });

const FAMILIES: Array<[string, () => Model, (f: Feeds) => void]> = [
  ['conv net', convNet, () => undefined],
  ['If with outer-scope reads (then)', ifOuterScope, (f) => void (f.cond = bool(true))],
  ['If with outer-scope reads (else)', ifOuterScope, (f) => void (f.cond = bool(false))],
  ['Loop', loopModel, () => undefined],
  ['Scan', scanModel, () => undefined],
  ['function call', functionModel, () => undefined],
  ['sparse initializer', sparseModel, () => undefined],
  ['com.microsoft FusedMatMul + Gelu', contribModel, () => undefined],
  ['IR 3 + opset 7', ir3Model, () => undefined],
];

describe.each(FAMILIES)('%s', (name, build, fix) => {
  test('bytes -> IR -> bytes is a fixed point and runs bit-identically, inline and external', async () => {
    const original = encodeModel(build());
    const model = decodeModel(original);
    const feeds = randomFeeds(model, { seed: 3, dimValues: { N: 2 } });
    fix(feeds);
    const expected = outputBytes(await runModel(original, feeds));
    expect(Buffer.from(encodeModel(model)).equals(Buffer.from(original))).toBe(true);
    const base = path.join(dir, name.replace(/\W+/g, '_'));
    saveModel(model, `${base}.onnx`);
    saveModel(model, `${base}-ext.onnx`, { externalThreshold: 0 });
    for (const file of [`${base}.onnx`, `${base}-ext.onnx`]) {
      const got = outputBytes(await runModel(file, feeds));
      for (const k of Object.keys(expected)) expect(got[k].equals(expected[k])).toBe(true);
      const reloaded = outputBytes(await runModel(encodeModel(loadModel(file)), feeds));
      for (const k of Object.keys(expected)) expect(reloaded[k].equals(expected[k])).toBe(true);
    }
  });
});
