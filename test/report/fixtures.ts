/** Reports built from hand-made measurements through the real gate and report builder. */
import { decideVerdict, type GateRules } from '../../src/gate/verdict.js';
import { buildReport, errorReport } from '../../src/report/build.js';
import { InputError } from '../../src/util/errors.js';
import type { Baseline } from '../../src/gate/baseline.js';
import type { MachineInfo, MemoryStats } from '../../src/evaluate/types.js';
import type { StepRow } from '../../src/loop/types.js';
import type { Report } from '../../src/report/types.js';
import { classification, labelsOf, latency, range, stats } from '../gate/fixtures.js';
import { worstOf } from '../../src/gate/worst.js';
import { scoreOutput } from '../../src/metrics/index.js';
import { outputsDecision } from '../../src/pipeline/targets.js';
import type { EvalResult } from '../../src/evaluate/types.js';

export const machine: MachineInfo = {
  cpuModel: 'AMD EPYC 7B13',
  cores: 2,
  isa: { avx2: true, avx512: false, vnni: false, amx: false },
  ortVersion: '1.30.0',
  nodeVersion: 'v20.20.2',
  platform: 'linux-x64',
  intraOpThreads: 1,
  interOpThreads: 1,
  energySource: 'cpu-seconds',
};

const mem = (peak: number, file: number, gz: number, types: Record<string, number>): MemoryStats => ({ peakRssBytes: peak, fileBytes: file, gzipBytes: gz, weightBytesByType: types });

const steps: StepRow[] = [
  { index: 0, stage: 'start', action: 'PR model', params: {}, metric: 98.2, drift: 0, latency: [{ batchSize: 32, ratio: 1, interval: { low: 1, high: 1, level: 0.95 } }], sizeBytes: 1_710_000, kept: true, reason: 'reference' },
  { index: 1, stage: 'prune', action: 'structured', params: { target: 0.1, importance: 'activation' }, metric: 98.0, drift: 0.2, driftInterval: { low: 0.05, high: 0.35, level: 0.95 }, latency: [{ batchSize: 32, ratio: 0.88, interval: { low: 0.85, high: 0.9, level: 0.95 } }], sizeBytes: 1_540_000, kept: true, reason: 'within budget' },
  { index: 2, stage: 'prune', action: 'structured', params: { target: 0.2, importance: 'activation' }, metric: 96.9, drift: 1.3, driftInterval: { low: 1.0, high: 1.6, level: 0.95 }, latency: [{ batchSize: 32, ratio: 0.9, interval: { low: 0.87, high: 0.93, level: 0.95 } }], sizeBytes: 1_370_000, kept: false, reason: 'drift 1.3 > step budget 1 | rolled back' },
  { index: 3, stage: 'quantize', action: 'int8-static', params: { calibration: 'percentile', fallback: 'auto' }, metric: 97.8, drift: 0.4, driftInterval: { low: 0.2, high: 0.6, level: 0.95 }, latency: [{ batchSize: 32, ratio: 0.58, interval: { low: 0.55, high: 0.6, level: 0.95 } }], sizeBytes: 420_000, kept: true, reason: 'within budget' },
];

function baseReport(rules: GateRules, wrong: number[], n: number, lat: ReturnType<typeof latency>[]): Report {
  const labels = labelsOf(n);
  const original = classification(labels, range(0, Math.round(n * 0.018)));
  const candidate = classification(labels, wrong);
  const decision = decideVerdict({ metrics: ['accuracy'], rules, original, candidate, latency: lat, seed: 42, resamples: 1000 });
  return buildReport({
    toolVersion: '0.1.0',
    configPath: 'models/prune-gate.yml',
    gatedMeaning: 'The gated metric, accuracy, is the share of samples whose top-1 class is the label, in points.',
    models: { original: 'models/mnist.onnx', candidate: 'out/mnist.optimized.onnx' },
    decision,
    machine,
    resources: { original: mem(88_000_000, 1_710_000, 1_580_000, { float32: 1_700_000 }), candidate: mem(71_000_000, 420_000, 310_000, { int8: 400_000, float32: 12_000 }) },
    steps,
    passes: [
      {
        pass: 'structured',
        paramsBefore: 425_000,
        paramsAfter: 382_000,
        changed: [{ name: 'conv2', opType: 'Conv', change: '64 -> 58 output channels', error: 0.0123 }],
        skipped: [{ what: 'group [conv1]', reason: 'input layer: 1 input channel' }],
        notes: ['fine-grained sparsity saves storage, not time, on ORT CPU'],
      },
      {
        pass: 'int8-static',
        paramsBefore: 382_000,
        paramsAfter: 382_000,
        changed: [{ name: 'fc|1<script>alert(1)</script>', opType: 'MatMul', change: 'int8 per-channel' }],
        skipped: [],
        notes: [],
      },
    ],
    fallbackNodes: [{ what: '@octo-org/team conv1', reason: 'slower quantized: 0.42 -> 1.52 ms (u8 NCHW MaxPool)' }],
    profile: {
      batchSize: 1,
      top: [
        { name: 'conv2_quant', opType: 'QLinearConv', ms: 0.21, share: 0.48 },
        { name: 'fc|1 **bold**', opType: 'QLinearMatMul', ms: 0.09, share: 0.2 },
      ],
    },
    split: { how: 'split', fraction: 0.3, searchSamples: 1700, testSamples: n },
    notes: [
      'Weights restricted to 7 bits to avoid u8s8 saturation on AVX2 without VNNI.',
      // One line per held-back layer, as the sensitivity scan writes them: folded into one line.
      'Sensitivity scan: conv3 cut alone to 20 % drifts 0.9 pt, to 10 % 0.4 pt (over 0.5 pt, half the budget): cut to 10 % at most.',
      'Sensitivity scan: conv4 cut alone to 20 % drifts 1.2 pt, to 10 % 0.7 pt (over 0.5 pt, half the budget): not cut.',
      'Sensitivity scan: fc|1 cut alone to 20 % drifts 0.6 pt, to 10 % 0.3 pt (over 0.5 pt, half the budget): cut to 10 % at most.',
    ],
    timings: { optimize: 41.2, evaluate: 6.5, bench: 60 },
  });
}

export function passReport(): Report {
  return baseReport({ accuracyDrop: 2, use: 'point', p95Ratio: 0.7 }, range(0, 100), 4000, [latency(1, 0.46, 0.42, 0.5), latency(32, 0.52, 0.49, 0.55)]);
}

export function failReport(): Report {
  return baseReport({ accuracyDrop: 2, use: 'point', p95Ratio: 0.7 }, range(0, 200), 4000, [latency(1, 0.46, 0.42, 0.5)]);
}

export function warnReport(): Report {
  // Latency point above the goal, interval straddling it: a warning, not a red build.
  return baseReport({ accuracyDrop: 2, use: 'interval', p95Ratio: 0.5 }, range(0, 100), 4000, [latency(1, 0.55, 0.45, 0.65)]);
}

/** The baseline frozen from 98 % accuracy on 2,000 samples, on another machine. */
function frozenBaseline(): Baseline {
  const frozen = classification(labelsOf(2000), range(0, 20));
  return {
    schemaVersion: 1,
    created: '2026-11-01T00:00:00.000Z',
    toolVersion: '0.1.0',
    modelSha256: 'f'.repeat(64),
    configHash: 'cfg',
    task: 'classification',
    samples: frozen.samples,
    metrics: frozen.metrics,
    perSample: frozen.perSample,
    latency: [stats(1, 0.9, 1.1, 1.3)],
    machine: { fingerprint: '0123456789abcdef', info: { ...machine, cpuModel: 'Intel Xeon 8375C' } },
  };
}

/** A frozen baseline plus a PR that changed the model: three metric columns. */
export function frozenBaselineReport(): Report {
  const labels = labelsOf(2000);
  const baseline = frozenBaseline();
  const decision = decideVerdict({
    metrics: ['accuracy'],
    rules: { accuracyDrop: 2, use: 'point' },
    baseline,
    original: classification(labels, range(0, 30)),
    candidate: classification(labels, range(0, 36)),
    latency: [latency(1, 0.5, 0.47, 0.53)],
    prModelChanged: true,
    seed: 1,
    resamples: 1000,
  });
  return buildReport({ toolVersion: '0.1.0', configPath: 'prune-gate.yml', models: { original: 'model.onnx', candidate: 'out/model.optimized.onnx' }, decision, prModelChanged: true, storedBaseline: baseline, machine });
}

/**
 * A PR that replaced the model: the frozen baseline's and the PR model's metrics, and the base
 * branch's model measured beside the PR model and the candidate, the PR model 1.8× slower than it
 * at batch 32 (the whole interval above the 1.1× limit) while the pruned candidate is 0.6× the PR model.
 */
export function baseBranchReport(): Report {
  const labels = labelsOf(2000);
  const decision = decideVerdict({
    metrics: ['accuracy'],
    rules: { accuracyDrop: 2, use: 'point', p95Regression: 1.1 },
    baseline: frozenBaseline(),
    original: classification(labels, range(0, 30)),
    candidate: classification(labels, range(0, 36)),
    latency: [latency(1, 0.8, 0.74, 0.86), latency(32, 0.6, 0.57, 0.63)],
    baseLatency: [againstBase(1, 1.04, 0.97, 1.12), againstBase(32, 1.8, 1.7, 1.9)],
    prModelChanged: true,
    seed: 1,
    resamples: 1000,
  });
  const report = buildReport({
    toolVersion: '0.1.0',
    configPath: 'prune-gate.yml',
    models: { original: 'model.onnx', candidate: 'prune-gate-report/model.onnx' },
    baseBranch: { model: 'model.onnx', commit: '2222222222222222222222222222222222222222', changed: true },
    created: '2026-12-02T12:00:00.000Z',
    decision,
    prModelChanged: true,
    machine,
    resources: { original: mem(88_000_000, 941_184, 870_000, { float32: 940_000 }), candidate: mem(80_000_000, 286_778, 265_000, { float32: 286_000 }) },
    decisions: [{ stageIndex: 0, stage: { stage: 'prune', prune: { kind: 'structured', target: 0.5 } }, goal: 0.5, reached: 0.5 }],
  });
  // What the Action adds: the pull request, and the run with the artifact holding report and model.
  report.pullRequest = { number: 7, headSha: '0123456789abcdef0123456789abcdef01234567', runId: 987654321, runAttempt: 2 };
  report.run = { url: 'https://github.com/acme/models/actions/runs/987654321/attempts/2', artifact: 'prune-gate-report' };
  return report;
}

/** The PR model (the `latency` fixture's reference: P50 1, P95 1.2, P99 1.5 ms) against a base branch `ratio` times faster. */
function againstBase(batchSize: number, ratio: number, low: number, high: number): ReturnType<typeof latency> {
  const c = latency(batchSize, ratio, low, high);
  return { ...c, reference: stats(batchSize, 1 / ratio, 1.2 / ratio, 1.5 / ratio), candidate: stats(batchSize, 1, 1.2, 1.5) };
}

export function configErrorReport(): Report {
  return errorReport({
    toolVersion: '0.1.0',
    configPath: 'prune-gate.yml',
    error: new InputError('prune-gate.yml: /gate/accuracy-drop must be >= 0 (got -1). Set it to the largest drop in points you accept, e.g. 2.', 'prune-gate.yml#/gate/accuracy-drop'),
  });
}

export function modelErrorReport(): Report {
  return errorReport({
    toolVersion: '0.1.0',
    configPath: 'prune-gate.yml',
    modelPath: 'model.onnx',
    error: new InputError('model.onnx is a Git LFS pointer (132 bytes), not an ONNX model.\nRun `git lfs pull` in the workflow (actions/checkout with lfs: true).', 'model.onnx'),
  });
}

/** One model's outputs, 200 samples of 10 logits, scored against `reference` by the fidelity metrics. */
function fidelityOf(values: Float32Array, reference: Float32Array): EvalResult {
  const { metrics, perSample } = scoreOutput('fidelity', { n: 200, values, per: 10, shape: [10], reference });
  return { task: 'fidelity', samples: 200, metrics, perSample };
}

/** `targets: [native, wasm]`: a latency section per target, each gated (wasm fails its goal), and the outputs on wasm. */
export function targetsReport(): Report {
  const labels = labelsOf(4000);
  const original = classification(labels, range(0, 72));
  const candidate = classification(labels, range(0, 100));
  const rules: GateRules = { accuracyDrop: 2, use: 'point', p95Ratio: 0.8 };
  const gate = (lat: ReturnType<typeof latency>[]) => decideVerdict({ metrics: ['accuracy'], rules, original, candidate, latency: lat, seed: 42, resamples: 1000 });
  const decision = worstOf([
    { label: 'native', tag: { target: 'native' }, decision: gate([latency(32, 0.62, 0.58, 0.66)]) },
    { label: 'wasm', tag: { target: 'wasm' }, decision: gate([latency(32, 0.86, 0.83, 0.9)]) },
  ]);
  const native = Float32Array.from({ length: 2000 }, (_, i) => Math.sin(i * 0.37) * 4);
  // WebAssembly's kernels round differently: a few 1e-6 apart.
  const wasm = Float32Array.from(native, (v, i) => v + (i % 7 === 0 ? 2e-6 : 0));
  const outputs = (model: 'original' | 'candidate') => {
    const d = outputsDecision(fidelityOf(native, native), fidelityOf(wasm, native), ['agreement', 'cosine', 'sqnr', 'max-abs-error'], 2, 42);
    return { target: 'wasm', runtime: 'onnxruntime-web 1.30.0', model, verdict: d.verdict, metrics: d.metrics } as const;
  };
  return buildReport({
    toolVersion: '0.1.0',
    configPath: 'models/prune-gate.yml',
    models: { original: 'models/mnist.onnx', candidate: 'out/mnist.optimized.onnx' },
    decision,
    machine,
    targets: [outputs('original'), outputs('candidate')],
    steps: [
      { index: 0, stage: 'quantize', action: 'int8-static', params: {}, metric: 97.5, drift: 0.7, latency: [{ target: 'native', batchSize: 32, ratio: 1.2, interval: { low: 1.1, high: 1.3, level: 0.95 } }, { target: 'wasm', batchSize: 32, ratio: 0.76, interval: { low: 0.72, high: 0.8, level: 0.95 } }], kept: false, reason: 'P95 1.20× (95 % CI 1.10–1.30) at batch 32 on native, 0.76× (0.72–0.80) at batch 32 on wasm: not confirmed faster than before this step' },
    ],
    notes: [],
    timings: { optimize: 12, benchmark: 30 },
  });
}
