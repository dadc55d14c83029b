import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { baselineFromRun, readBaseline, stableHash, writeBaseline, type Baseline } from '../../src/gate/baseline.js';
import { machineFingerprint } from '../../src/evaluate/machine.js';
import { InputError } from '../../src/util/errors.js';
import type { MachineInfo } from '../../src/evaluate/types.js';
import { stats } from './fixtures.js';

const machine: MachineInfo = { cpuModel: 'AMD EPYC 7B13', cores: 2, isa: { avx2: true, avx512: false, vnni: false, amx: false }, ortVersion: '1.30.0', nodeVersion: 'v20.20.2', platform: 'linux-x64', intraOpThreads: 1, interOpThreads: 1, energySource: 'cpu-seconds' };

function sample(): Baseline {
  return {
    schemaVersion: 1,
    created: '2026-11-28T04:00:00.000Z',
    toolVersion: '0.1.0',
    modelSha256: 'ab'.repeat(32),
    configHash: 'cfg1',
    task: 'classification',
    samples: 3,
    metrics: { accuracy: 66.66666666666667, f1: 50 },
    perSample: { correct: [1, 0, 1], predicted: [0, 2, 1], labels: [0, 1, 1] },
    latency: [stats(1, 0.5, 0.7, 0.9)],
    memory: { peakRssBytes: 1e8, fileBytes: 4096, gzipBytes: 3000, weightBytesByType: { float32: 4000 } },
    machine: { fingerprint: machineFingerprint(machine), info: machine },
  };
}

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-baseline-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('round-trips byte for byte and leaves no temporary files', () => {
  const file = path.join(dir, 'baseline.json');
  writeBaseline(file, sample());
  const first = fs.readFileSync(file);
  expect(readBaseline(file)).toEqual(sample());
  writeBaseline(file, readBaseline(file));
  expect(fs.readFileSync(file).equals(first)).toBe(true);
  expect(fs.readdirSync(dir)).toEqual(['baseline.json']);
});

function expectInputError(file: string, pattern: RegExp): void {
  let err: unknown;
  try {
    readBaseline(file);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toMatch(pattern);
}

test('names the exact JSON path of a bad value', () => {
  const file = path.join(dir, 'baseline.json');
  const b = sample() as unknown as { perSample: { correct: unknown[] } };
  b.perSample.correct[1] = 'no';
  fs.writeFileSync(file, JSON.stringify(b));
  expectInputError(file, /\/perSample\/correct\/1 must be a number \(got 'no'\)/);
});

test('missing keys, unknown keys, bad JSON, missing file, newer versions and short per-sample arrays are input errors', () => {
  const file = path.join(dir, 'baseline.json');
  const { modelSha256: _drop, ...rest } = sample();
  fs.writeFileSync(file, JSON.stringify({ ...rest, extra: 1 }));
  expectInputError(file, /missing required key 'modelSha256'/);
  expectInputError(file, /\/extra: unknown key/);
  fs.writeFileSync(file, '{"schemaVersion": 1,');
  expectInputError(file, /not valid JSON/);
  expectInputError(path.join(dir, 'absent.json'), /cannot read baseline .*absent\.json/);
  fs.writeFileSync(file, JSON.stringify({ ...sample(), schemaVersion: 9 }));
  expectInputError(file, /schemaVersion 9, newer than this prune-gate understands/);
  fs.writeFileSync(file, JSON.stringify({ ...sample(), samples: 4 }));
  expectInputError(file, /\/perSample\/correct has 3 entries but \/samples is 4/);
});

test('refuses to write an invalid baseline', () => {
  expect(() => writeBaseline(path.join(dir, 'b.json'), { ...sample(), modelSha256: 'nothex' })).toThrow(/\/modelSha256 must match pattern/);
  expect(fs.existsSync(path.join(dir, 'b.json'))).toBe(false);
});

test('the machine fingerprint changes with performance-relevant traits only', () => {
  const f = machineFingerprint(machine);
  expect(f).toMatch(/^[0-9a-f]{16}$/);
  expect(machineFingerprint({ ...machine, nodeVersion: 'v22' })).toBe(f);
  expect(machineFingerprint({ ...machine, isa: { ...machine.isa, vnni: true } })).not.toBe(f);
  expect(machineFingerprint({ ...machine, cores: 4 })).not.toBe(f);
});

test('baselineFromRun records a measured run that validates and round-trips', () => {
  const b = baselineFromRun({
    created: '2026-11-28T05:00:00.000Z',
    toolVersion: '0.1.0',
    modelSha256: 'cd'.repeat(32),
    configHash: stableHash({ task: 'classification', metrics: ['accuracy'] }),
    eval: { task: 'classification', samples: 2, metrics: { accuracy: 50 }, perClass: { '0': 100, '1': 0 }, perSample: { correct: [1, 0], predicted: [0, 0], labels: [0, 1] } },
    latency: [stats(1, 1, 2, 3)],
    machine,
  });
  const file = path.join(dir, 'b.json');
  writeBaseline(file, b);
  expect(readBaseline(file)).toEqual(b);
  expect(b.machine.fingerprint).toBe(machineFingerprint(machine));
});

test('stableHash ignores key order but not values', () => {
  expect(stableHash({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(stableHash({ b: [1, { d: 3, c: 2 }], a: 1 }));
  expect(stableHash({ a: 1 })).not.toBe(stableHash({ a: 2 }));
  expect(stableHash([1, 2])).not.toBe(stableHash([2, 1]));
});
