/**
 * The scale-out part files: written only when they match their schema, read back with the exact
 * path of what is wrong, and refused when they are another kind of part.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readPart, writePart, type BenchPart } from '../../src/pipeline/parts.js';
import { defaultRunnerKind } from '../../src/pipeline/bench-part.js';
import { parseShard } from '../../src/pipeline/verify.js';
import { machineInfo } from '../../src/evaluate/machine.js';
import { InputError } from '../../src/util/errors.js';

const sha = (c: string) => c.repeat(64);
const stats = (p95: number) => ({ batchSize: 1, p50: p95 * 0.9, p95, p99: p95 * 1.1, mean: p95 * 0.95, throughput: 1000 / p95, runs: 40 });
const ratio = (v: number) => ({ value: v, interval: { low: v - 0.05, high: v + 0.05, level: 0.95 } });

function benchPart(): BenchPart {
  const { arch: _arch, ...machine } = machineInfo({ intraOpThreads: 1, interOpThreads: 1 });
  return {
    schemaVersion: 1,
    kind: 'bench',
    fingerprint: { toolVersion: '0.1.0', model: sha('a'), candidate: sha('b'), config: sha('c'), data: sha('d') },
    runner: { kind: 'linux-x64', fingerprint: machine.fingerprint, machine },
    latency: [{ batchSize: 1, reference: stats(2), candidate: stats(1), ratios: { p50: ratio(0.5), p95: ratio(0.5), p99: ratio(0.5) } }],
  };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pg-parts-'));

test('a part is read back from its file or its folder as written', () => {
  const dir = tmp();
  const file = writePart(dir, benchPart());
  expect(path.basename(file)).toBe('bench.json');
  expect(readPart(dir, ['bench'])).toEqual(benchPart());
  expect(readPart(file, ['verify', 'bench'])).toEqual(benchPart());
});

test('a damaged part is refused with the path of the problem; another kind is refused by name', () => {
  const dir = tmp();
  const part = benchPart() as unknown as { runner: { kind: string }; latency: { ratios: { p95: { value: unknown } } }[] };
  part.latency[0].ratios.p95.value = 'fast';
  fs.writeFileSync(path.join(dir, 'bench.json'), JSON.stringify(part));
  expect(() => readPart(dir, ['bench'])).toThrow(/bench\.json does not match schemas\/bench\.schema\.json:\n {2}\/latency\/0\/ratios\/p95\/value must be a number/);
  expect(() => readPart(dir, ['verify'])).toThrow(/holds no verify\.json/);
  expect(() => readPart(path.join(dir, 'bench.json'), ['verify'])).toThrow(/is not a verify part \(its kind is 'bench'\)/);
  // Never written when it does not match (a bug, not the user's input).
  expect(() => writePart(tmp(), { ...benchPart(), runner: { ...benchPart().runner, kind: 'two words' } })).toThrow(/internal: the bench part does not match/);
});

test('--shard i/n and the runner kind', () => {
  expect(parseShard('2/4')).toEqual({ index: 2, of: 4 });
  for (const bad of ['0/4', '5/4', '2', 'a/b', '1/0']) expect(() => parseShard(bad)).toThrow(InputError);
  expect(defaultRunnerKind({ RUNNER_OS: 'Linux', RUNNER_ARCH: 'ARM64' })).toBe('linux-arm64');
  expect(defaultRunnerKind({})).toBe(`${process.platform}-${process.arch}`);
});
