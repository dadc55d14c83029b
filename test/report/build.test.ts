import { buildReport, errorReport } from '../../src/report/build.js';
import { decideVerdict } from '../../src/gate/verdict.js';
import { machineFingerprint } from '../../src/evaluate/machine.js';
import type { Baseline } from '../../src/gate/baseline.js';
import { InputError } from '../../src/util/errors.js';
import { reportProblems } from '../../src/report/validate.js';
import { classification, labelsOf, range, stats } from '../gate/fixtures.js';
import { machine } from './fixtures.js';

const labels = labelsOf(500);
const frozen = classification(labels, range(0, 5));
const baseline = (fingerprint: string): Baseline => ({
  schemaVersion: 1,
  created: '2026-11-01T00:00:00.000Z',
  toolVersion: '0.1.0',
  modelSha256: 'e'.repeat(64),
  configHash: 'h',
  task: 'classification',
  samples: frozen.samples,
  metrics: frozen.metrics,
  perSample: frozen.perSample,
  latency: [stats(1, 1, 1.1, 1.2)],
  machine: { fingerprint, info: machine },
});

function report(b: Baseline) {
  const decision = decideVerdict({ metrics: ['accuracy'], rules: { accuracyDrop: 2, use: 'point' }, baseline: b, original: frozen, candidate: frozen, latency: [], prModelChanged: false, resamples: 200 });
  return buildReport({
    toolVersion: '0.1.0',
    configPath: 'c.yml',
    models: { original: 'm.onnx' },
    decision,
    prModelChanged: false,
    storedBaseline: b,
    machine,
    passes: [{ pass: 'p', paramsBefore: 1, paramsAfter: 1, changed: [], skipped: [], notes: ['same note', 'pass note'] }],
    notes: ['same note', 'caller note'],
  });
}

test('stored baseline latency says whether it came from this machine', () => {
  const same = report(baseline(machineFingerprint(machine)));
  expect(same.storedBaselineLatency!.note).toBe('Shown for information only: the gate compares latencies measured in this run.');
  const other = report(baseline('0000000000000000'));
  expect(other.storedBaselineLatency!.note).toMatch(/^Measured on a different machine \(fingerprint 0000000000000000, this run [0-9a-f]{16}\)/);
  expect(other.machine!.fingerprint).toBe(machineFingerprint(machine));
  expect(other.prModelChanged).toBe(false);
  expect(reportProblems(JSON.parse(JSON.stringify(other)))).toEqual([]);
});

test('notes from passes and the caller appear once each, in order', () => {
  expect(report(baseline('x')).notes).toEqual(['same note', 'pass note', 'caller note']);
});

test('error reports classify the error from where it points', () => {
  const kind = (err: unknown) => errorReport({ toolVersion: '0.1.0', configPath: 'c.yml', error: err }).error!.kind;
  expect(kind(new InputError('bad', 'c.yml#/gate'))).toBe('config');
  expect(kind(new InputError('bad', 'models/m.onnx'))).toBe('model');
  expect(kind(new InputError('bad', 'data/x.npy'))).toBe('data');
  expect(kind(new TypeError('boom'))).toBe('internal');
  const r = errorReport({ toolVersion: '0.1.0', configPath: 'c.yml', error: new TypeError('boom') });
  expect(r).toMatchObject({ verdict: 'error', reason: 'No verdict: prune-gate hit an internal error (a bug; please report it).' });
  expect(reportProblems(r)).toEqual([]);
});

test('writeReportFiles refuses a report that would not validate (NaN becomes null in JSON)', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { writeReportFiles } = await import('../../src/report/validate.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-write-'));
  try {
    const r = report(baseline('x'));
    r.metrics[0].drift = Number.NaN;
    expect(() => writeReportFiles(dir, r, '# x')).toThrow(/\/metrics\/0\/drift must be a number \(got null\)/);
    expect(fs.readdirSync(dir)).toEqual([]);
    r.metrics[0].drift = 0;
    const written = writeReportFiles(dir, r, '# x');
    expect(JSON.parse(fs.readFileSync(written.reportPath, 'utf8'))).toEqual(JSON.parse(JSON.stringify(r)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
