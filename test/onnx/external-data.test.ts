import * as fs from 'node:fs';
import * as path from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, StringStringEntryProtoSchema, TensorProto_DataLocation } from 'onnx-buf';
import { InputError } from '../../src/util/errors.js';
import { DataType, encodeModel, loadModel, saveModel, serializeModel, createModel, emptyGraph, type Model } from '../../src/onnx/index.js';
import { randomFeeds } from '../../src/evaluate/shapes.js';
import { convNet } from './families.js';
import { outputBytes, runModel, tempDir } from './helpers.js';

const root = tempDir();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/**
 * Writes `model` with its initializers moved to external files: `place(i)` gives each tensor's
 * file location (as written in the model), and `junk` bytes precede every tensor so offsets matter.
 */
function writeExternal(dir: string, model: Model, place: (i: number) => string, edit?: (entries: Record<string, string>, i: number) => void): string {
  fs.mkdirSync(dir, { recursive: true });
  const proto = fromBinary(ModelProtoSchema, encodeModel(model));
  const files = new Map<string, Buffer[]>();
  const sizes = new Map<string, number>();
  proto.graph?.initializer.forEach((t, i) => {
    const location = place(i);
    const junk = Buffer.alloc(13 + i, 0xab);
    const parts = files.get(location) ?? [];
    const offset = (sizes.get(location) ?? 0) + junk.length;
    parts.push(junk, Buffer.from(t.rawData));
    files.set(location, parts);
    sizes.set(location, offset + t.rawData.byteLength);
    const entries: Record<string, string> = { location, offset: String(offset), length: String(t.rawData.byteLength) };
    edit?.(entries, i);
    t.externalData = Object.entries(entries).map(([key, value]) => create(StringStringEntryProtoSchema, { key, value }));
    t.dataLocation = TensorProto_DataLocation.EXTERNAL;
    t.rawData = new Uint8Array(0);
  });
  for (const [location, parts] of files) {
    const target = path.join(dir, location);
    if (!fs.existsSync(path.dirname(target))) fs.mkdirSync(path.dirname(target), { recursive: true });
    if (!path.isAbsolute(location) && !location.startsWith('..')) fs.writeFileSync(target, Buffer.concat(parts));
  }
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, toBinary(ModelProtoSchema, proto));
  return file;
}

describe('reading external data', () => {
  test('tensors spread over several files, at offsets, in a subfolder, load and run as in ORT', async () => {
    const model = convNet();
    const file = writeExternal(path.join(root, 'multi'), model, (i) => (i % 3 === 0 ? 'a.bin' : i % 3 === 1 ? 'weights/b.bin' : 'c.bin'));
    const loaded = loadModel(file);
    expect(new Set(loaded.graph.initializers.map((t) => t.external?.location))).toEqual(new Set(['a.bin', 'weights/b.bin', 'c.bin']));
    loaded.graph.initializers.forEach((t, i) => expect(Buffer.from(t.raw).equals(Buffer.from(model.graph.initializers[i].raw))).toBe(true));
    const feeds = randomFeeds(model, { seed: 5, dimValues: { N: 2 } });
    const expected = outputBytes(await runModel(file, feeds));
    expect(outputBytes(await runModel(encodeModel(loaded), feeds)).y.equals(expected.y)).toBe(true);
    // Written back into one side file, it still runs the same.
    const out = path.join(root, 'multi-out', 'm.onnx');
    expect(saveModel(loaded, out, { externalThreshold: 64 })).toEqual([path.join(root, 'multi-out', 'm.onnx.data'), out]);
    expect(outputBytes(await runModel(out, feeds)).y.equals(expected.y)).toBe(true);
  });

  test('the threshold decides which tensors go external; external offsets are 64-byte aligned', () => {
    const model = convNet();
    const out = serializeModel(model, { externalThreshold: 100 }, 'x.onnx');
    const big = model.graph.initializers.filter((t) => t.raw.byteLength >= 100);
    expect(big.length).toBeGreaterThan(0);
    expect(out.external?.location).toBe('x.onnx.data');
    const proto = fromBinary(ModelProtoSchema, out.bytes);
    const ext = proto.graph?.initializer.filter((t) => t.dataLocation === TensorProto_DataLocation.EXTERNAL) ?? [];
    expect(ext.map((t) => t.name)).toEqual(big.map((t) => t.name));
    for (const t of ext) expect(Number(t.externalData.find((e) => e.key === 'offset')?.value) % 64).toBe(0);
    expect(serializeModel(model, {}, 'x.onnx').external).toBeUndefined();
  });

  test('a model whose tensors would pass 2 GiB always goes external', () => {
    // Zero-filled typed arrays are not touched, so this costs address space, not memory.
    const g = emptyGraph('huge');
    const big = (name: string) => ({ name, dataType: DataType.FLOAT, dims: [2 ** 28 + 2 ** 26], raw: new Uint8Array(4 * (2 ** 28 + 2 ** 26)) });
    g.initializers.push(big('a'), big('b'), { name: 'small', dataType: DataType.FLOAT, dims: [2], raw: new Uint8Array(8) });
    const out = serializeModel(createModel(g, [{ domain: '', version: 17 }]), {}, 'huge.onnx');
    expect(out.external?.size).toBeGreaterThan(2 ** 31);
    expect(out.bytes.byteLength).toBeLessThan(4096);
    expect(() => encodeModel(createModel(g, [{ domain: '', version: 17 }]))).toThrow(/too large for one buffer/);
  });
});

describe('bad external data is an InputError naming the file and the problem', () => {
  const model = () => convNet();
  const expectInputError = (fn: () => unknown, message: RegExp) => {
    let caught: unknown;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).toContain('model.onnx');
  };

  test('absolute location', () => {
    const file = writeExternal(path.join(root, 'abs'), model(), () => path.join(root, 'abs', 'w.bin'));
    expectInputError(() => loadModel(file), /is absolute/);
  });

  test("location escaping the folder with '..'", () => {
    fs.mkdirSync(path.join(root, 'esc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'outside.bin'), Buffer.alloc(100000));
    const file = writeExternal(path.join(root, 'esc', 'inner'), model(), () => '../../outside.bin');
    expectInputError(() => loadModel(file), /leaves the model's folder/);
  });

  test('symlink pointing outside the folder', () => {
    const dir = path.join(root, 'link');
    const file = writeExternal(dir, model(), () => 'w.bin');
    fs.renameSync(path.join(dir, 'w.bin'), path.join(root, 'secret.bin'));
    fs.symlinkSync(path.join(root, 'secret.bin'), path.join(dir, 'w.bin'));
    expectInputError(() => loadModel(file), /link pointing outside/);
  });

  test('a symlink that stays inside the folder is fine', () => {
    const dir = path.join(root, 'link-in');
    const file = writeExternal(dir, model(), () => 'w.bin');
    fs.mkdirSync(path.join(dir, 'real'));
    fs.renameSync(path.join(dir, 'w.bin'), path.join(dir, 'real', 'w.bin'));
    fs.symlinkSync(path.join(dir, 'real', 'w.bin'), path.join(dir, 'w.bin'));
    expect(loadModel(file).graph.initializers.length).toBe(model().graph.initializers.length);
  });

  test('missing side file', () => {
    const dir = path.join(root, 'missing');
    const file = writeExternal(dir, model(), () => 'w.bin');
    fs.rmSync(path.join(dir, 'w.bin'));
    expectInputError(() => loadModel(file), /external data file 'w\.bin' is missing/);
  });

  test('short side file', () => {
    const dir = path.join(root, 'short');
    const file = writeExternal(dir, model(), () => 'w.bin');
    fs.truncateSync(path.join(dir, 'w.bin'), 200);
    expectInputError(() => loadModel(file), /holds 200 bytes, too short/);
  });

  test('length that does not match the shape', () => {
    const file = writeExternal(path.join(root, 'len'), model(), () => 'w.bin', (e, i) => void (i === 0 && (e.length = '4')));
    expectInputError(() => loadModel(file), /external data length 4 does not match/);
  });

  test('non-numeric offset', () => {
    const file = writeExternal(path.join(root, 'off'), model(), () => 'w.bin', (e) => void (e.offset = '-1'));
    expectInputError(() => loadModel(file), /offset '-1' is not a byte count/);
  });
});
