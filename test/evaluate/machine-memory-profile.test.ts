import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataType, GraphBuilder, encodeModel, float32Tensor, saveModel } from '../../src/onnx/index.js';
import { cpuFlags, isaFromFlags, machineFingerprint, machineInfo, describeMachine } from '../../src/evaluate/machine.js';
import { EnergyMeter, measureEnergy, raplDomains } from '../../src/evaluate/energy.js';
import { fileSizes, measureMemory, measurePeakRss, weightBytesByType } from '../../src/evaluate/memory.js';
import { aggregateProfile, profileModel } from '../../src/evaluate/profile.js';
import { ModelSession } from '../../src/evaluate/session.js';
import { tmpDir } from './helpers.js';

function mlp(hidden = 64) {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', DataType.FLOAT, ['N', 32]);
  const w1 = b.constant(float32Tensor('w1', [32, hidden], Array.from({ length: 32 * hidden }, (_, i) => Math.sin(i) / 8)));
  const b1 = b.constant(float32Tensor('b1', [hidden], Array.from({ length: hidden }, (_, i) => i / 100)));
  const w2 = b.constant(float32Tensor('w2', [hidden, 10], Array.from({ length: hidden * 10 }, (_, i) => Math.cos(i) / 8)));
  const h = b.op('Relu', [b.op('Add', [b.op('MatMul', [x, w1], {}, { name: 'fc1' }), b1], {}, { name: 'fc1_bias' })], {}, { name: 'act1' });
  b.op('MatMul', [h, w2], {}, { name: 'fc2', outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['N', 10]);
  return b.model({ opset: 17 });
}

test('machine: ISA flags from cpuinfo text, fingerprint stable and sensitive to what matters', () => {
  const intel = 'processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu sse avx2 avx512f avx512_vnni amx_tile\n';
  expect(isaFromFlags(cpuFlags(intel), 'x64')).toEqual({ avx2: true, avx512: true, vnni: true, amx: true });
  expect(isaFromFlags(cpuFlags('flags : sse avx2 avx_vnni\n'), 'x64')).toEqual({ avx2: true, avx512: false, vnni: true, amx: false });
  const m = machineInfo({ cpuinfo: intel });
  expect(m.cpuModel).toBe('Test CPU 9000');
  expect(m.ortVersion).toMatch(/^\d+\.\d+/);
  expect(m.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  expect(machineInfo({ cpuinfo: intel }).fingerprint).toBe(m.fingerprint);
  expect(machineFingerprint({ ...m, intraOpThreads: 2 })).not.toBe(m.fingerprint);
  expect(machineFingerprint({ ...m, isa: { ...m.isa, vnni: false } })).not.toBe(m.fingerprint);
  expect(describeMachine(m)).toMatch(/Test CPU 9000, \d+ cores, AVX-512\+VNNI\+AMX, ORT/);
  // The real machine too.
  expect(machineInfo().cores).toBeGreaterThan(0);
});

test('energy: RAPL counters (with wrap-around) when readable, CPU seconds otherwise', async () => {
  const root = tmpDir('pg-rapl-');
  fs.mkdirSync(path.join(root, 'intel-rapl:0'));
  fs.mkdirSync(path.join(root, 'intel-rapl:0:0'));
  fs.writeFileSync(path.join(root, 'intel-rapl:0', 'energy_uj'), '999000000');
  fs.writeFileSync(path.join(root, 'intel-rapl:0', 'max_energy_range_uj'), '1000000000');
  fs.writeFileSync(path.join(root, 'intel-rapl:0:0', 'energy_uj'), '5');
  expect(raplDomains(root).map((d) => path.basename(path.dirname(d.file)))).toEqual(['intel-rapl:0']);
  const meter = EnergyMeter.start(root);
  fs.writeFileSync(path.join(root, 'intel-rapl:0', 'energy_uj'), '1000000'); // wrapped: +2 J
  const r = meter.stop();
  expect(r.source).toBe('rapl');
  expect(r.joules).toBeCloseTo(2, 9);
  const proxy = await measureEnergy(async () => {
    let s = 0;
    for (let i = 0; i < 200_000; i++) s += Math.sqrt(i);
    return s;
  }, 4, path.join(root, 'none'));
  expect(proxy.source).toBe('cpu-seconds');
  expect(proxy.joulesPerRequest).toBeUndefined();
  expect(proxy.cpuSecondsPerRequest).toBeGreaterThan(0);
});

test('memory: peak RSS of a child process, file and gzip sizes, weight bytes by type', async () => {
  const dir = tmpDir();
  const small = path.join(dir, 'small.onnx');
  const big = path.join(dir, 'big.onnx');
  saveModel(mlp(16), small);
  saveModel(mlp(65536), big, { externalThreshold: 1024 });
  const s = await measureMemory(small);
  expect(s.weightBytesByType).toEqual({ float32: 4 * (32 * 16 + 16 + 16 * 10) });
  expect(s.fileBytes).toBe(fs.statSync(small).size);
  expect(s.gzipBytes).toBeGreaterThan(0);
  expect(s.peakRssBytes).toBeGreaterThanOrEqual(s.loadedRssBytes);
  expect(s.loadedRssBytes).toBeGreaterThan(s.runtimeRssBytes * 0.5);
  const b = await measureMemory(big);
  const weights = 4 * (32 * 65536 + 65536 + 65536 * 10);
  expect(b.weightBytesByType.float32).toBe(weights);
  // External data counts toward the size; its ~11 MB of weights show in the child's RSS once the
  // session is loaded (well above RSS noise). The peak can be set by ORT's start-up for both
  // models alike, so it is only checked to cover the loaded RSS.
  expect(b.fileBytes).toBeGreaterThan(weights);
  expect(fileSizes(big).files).toHaveLength(2);
  expect(b.loadedRssBytes - s.loadedRssBytes).toBeGreaterThan(weights / 2);
  expect(b.peakRssBytes).toBeGreaterThanOrEqual(b.loadedRssBytes);
  const fromBytes = await measurePeakRss(encodeModel(mlp(16)), { batchSize: 4 });
  expect(fromBytes.peakRssBytes).toBeGreaterThan(0);
  await expect(measurePeakRss(path.join(dir, 'missing.onnx'), { label: 'missing.onnx' })).rejects.toThrow(/missing\.onnx: the memory probe could not run the model/);
});

test('weightBytesByType counts sparse initializers and mixed types', () => {
  const m = mlp(4);
  m.graph.initializers.push({ name: 'q', dataType: DataType.INT8, dims: [3, 5], raw: new Uint8Array(15) });
  expect(weightBytesByType(m)).toEqual({ float32: 4 * (32 * 4 + 4 + 40), int8: 15 });
});

test('profile: per-node times after warm-up, shares, fused nodes mapped back, costs joined', async () => {
  const model = mlp(64);
  const costs = new Map([
    ['fc1', { params: 2048, flops: 4096 }],
    ['fc1_bias', { params: 64, flops: 64 }],
    ['fc2', { params: 640, flops: 1280 }],
  ]);
  const p = await profileModel(encodeModel(model), { warmup: 3, runs: 7, batchSize: 4, costs, workDir: tmpDir('pg-prof-') });
  expect(p.runs).toBe(7);
  expect(p.nodes.length).toBeGreaterThan(0);
  for (const n of p.nodes) expect(n.calls).toBe(7);
  expect(p.nodes.reduce((s, n) => s + n.share, 0)).toBeCloseTo(1, 9);
  expect(p.byOpType.reduce((s, o) => s + o.totalUs, 0)).toBeCloseTo(p.totalUs, 6);
  const mapped = p.nodes.flatMap((n) => n.originalNames ?? []);
  expect(new Set(mapped)).toEqual(new Set(['fc1', 'fc1_bias', 'act1', 'fc2']));
  // ORT fuses MatMul + Add (+ Relu) into one node: it stands for several original nodes.
  const fused = p.nodes.find((n) => (n.originalNames?.length ?? 0) > 1);
  expect(fused?.originalNames).toEqual(expect.arrayContaining(['fc1', 'fc1_bias']));
  expect(fused?.params).toBe(2048 + 64);
  expect(p.optimizedModelFile && fs.existsSync(p.optimizedModelFile)).toBe(true);
  expect(path.basename(p.profileFile!)).toMatch(/^profile_.*\.json$/);
});

test('aggregateProfile discards events before the first measured run', () => {
  const ev = (cat: string, name: string, ts: number, dur: number, op?: string) => ({ cat, name, ts, dur, args: op ? { op_name: op } : {} });
  const events = [
    ev('Session', 'model_run', 0, 100),
    ev('Node', 'a_kernel_time', 10, 90, 'Gemm'),
    ev('Session', 'model_run', 200, 20),
    ev('Node', 'a_kernel_time', 205, 10, 'Gemm'),
    ev('Node', 'a_fence_before', 205, 1, 'Gemm'),
    ev('Session', 'model_run', 300, 20),
    ev('Node', 'a_kernel_time', 305, 14, 'Gemm'),
  ];
  expect(aggregateProfile(events, 1)).toEqual({ runs: 2, nodes: [{ name: 'a', opType: 'Gemm', totalUs: 24, calls: 2 }] });
  expect(aggregateProfile(events, 3)).toEqual({ runs: 0, nodes: [] });
});

test('session reports IO metadata used by validation', async () => {
  const s = await ModelSession.create(encodeModel(mlp(4)));
  expect(s.inputs).toEqual([{ name: 'x', type: 'float32', shape: ['N', 32] }]);
  await s.release();
});

test('mapOptimizedNames: by shared values, through NCHWc renames, unnamed nodes labelled by output', async () => {
  const { mapOptimizedNames } = await import('../../src/evaluate/profile.js');
  const node = (name: string, opType: string, inputs: string[], outputs: string[]) => ({ name, opType, domain: '', inputs, outputs, attributes: [] });
  const graph = (nodes: ReturnType<typeof node>[]) => ({ ...mlp(4).graph, nodes });
  const original = { ...mlp(4), graph: graph([node('c1', 'Conv', ['x', 'w'], ['a']), node('bn1', 'BatchNormalization', ['a', 's', 'b', 'm', 'v'], ['b']), node('', 'Relu', ['b'], ['r']), node('c2', 'Conv', ['r', 'w2'], ['y'])]) };
  const optimized = {
    ...original,
    graph: graph([node('fused', 'FusedConv', ['x', 'w'], ['r']), node('b2_nchwc', 'Conv', ['reorder_1'], ['reorder_2']), node('y_nchwc', 'Conv', ['r_nchwc', 'w2'], ['y_nchwc']), node('ReorderOutput_1', 'ReorderOutput', ['q'], ['q2'])]),
  };
  const m = mapOptimizedNames(original, optimized);
  expect(m.get('fused')).toEqual(['Relu:r', 'bn1', 'c1']);
  expect(m.get('y_nchwc')).toEqual(['c2']);
  expect(m.has('ReorderOutput_1')).toBe(false);
  const viaName = mapOptimizedNames({ ...original, graph: graph([...original.graph.nodes, node('bn2', 'BatchNormalization', ['y'], ['b2'])]) }, optimized);
  expect(viaName.get('b2_nchwc')).toEqual(['bn2', 'c2']);
});

test('profile: without a workDir the temp folder is removed after reading', async () => {
  // A private TMPDIR, so profiles of other test workers cannot show up here.
  const tmp = tmpDir('pg-tmp-');
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    const p = await profileModel(encodeModel(mlp(16)), { warmup: 1, runs: 2, batchSize: 2 });
    expect(p.nodes.length).toBeGreaterThan(0);
    expect(p.profileFile).toBeUndefined();
    expect(fs.readdirSync(tmp)).toEqual([]);
  } finally {
    process.env.TMPDIR = saved;
  }
});
