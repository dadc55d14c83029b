/**
 * Every quantization form on the repository's three real models (bench/real-models.ts: the MNIST
 * CNN, MLP and transformer encoder): accuracy drift against float32 on the held-out digits, P95
 * latency at batch 1 and 32 (interleaved with the float model in one process, same session
 * options), and file size. Goal (issue): static int8 within 0.5 points of float32 on the CNN with a
 * P95 speedup of at least 1.3x at batch 32. Run alone with `npx tsx bench/quantize-accuracy.ts`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModel } from '../src/onnx/index.js';
import { benchLatency } from '../src/evaluate/latency.js';
import type { PassContext, PassResult } from '../src/passes/types.js';
import { quantizeFp16, quantizeInt8Dynamic, quantizeInt4WeightOnly, quantizeInt8Static } from '../src/passes/quantize/index.js';
import { accuracy, loadRealModels, type RealModel } from './real-models.js';
import type { BenchRow } from './types.js';

type Form = [string, (m: RealModel, ctx: PassContext) => Promise<PassResult>];

const FORMS: Form[] = [
  ['static int8 (percentile, machine default bits)', (m, ctx) => quantizeInt8Static(m.model, { calibration: 'percentile' }, ctx)],
  ['static int8 (minmax, 7-bit weights)', (m, ctx) => quantizeInt8Static(m.model, { calibration: 'minmax', weightBits: 7 }, ctx)],
  ['static int8 (entropy)', (m, ctx) => quantizeInt8Static(m.model, { calibration: 'entropy' }, ctx)],
  ['dynamic int8', (m, ctx) => quantizeInt8Dynamic(m.model, {}, ctx)],
  ['int4 weight-only (block 32, calibrated)', (m, ctx) => quantizeInt4WeightOnly(m.model, { blockSize: 32, symmetric: false, method: 'calibrated' }, ctx)],
  ['fp16 weights', (m, ctx) => quantizeFp16(m.model, {}, ctx)],
];

export async function runQuantizeAccuracyBench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bench-qacc-'));
  try {
    for (const m of loadRealModels(log)) rows.push(...(await formsOf(m, dir, log)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

async function formsOf(m: RealModel, dir: string, log: (line: string) => void): Promise<BenchRow[]> {
  const ctx = { seed: 1, calibration: m.calibration };
  const floatAcc = await accuracy(m.model, m.evalFeeds, m.labels);
  const floatBytes = encodeModel(m.model).byteLength;
  const rows: BenchRow[] = [{ name: `${m.name} float32 accuracy`, value: floatAcc, unit: '%' }];
  const floatFile = path.join(dir, 'float.onnx');
  fs.writeFileSync(floatFile, encodeModel(m.model));
  for (const [name, run] of FORMS) {
    const res = await run(m, ctx);
    if (!res.summary.changed.length) {
      log(`quantize-accuracy: ${m.name} ${name}: nothing quantized (${res.summary.skipped.length} skipped)`);
      continue;
    }
    const acc = await accuracy(res.model, m.evalFeeds, m.labels);
    const drift = floatAcc - acc;
    const bytes = encodeModel(res.model);
    const file = path.join(dir, 'candidate.onnx');
    fs.writeFileSync(file, bytes);
    const isGoal = m.name === 'CNN' && name.startsWith('static int8 (percentile');
    rows.push({ name: `${m.name} ${name}: accuracy drift`, value: drift, unit: 'pt', target: isGoal ? '<= 0.5 pt' : undefined, pass: isGoal ? drift <= 0.5 : undefined });
    rows.push({ name: `${m.name} ${name}: size`, value: bytes.byteLength / 1e6, unit: 'MB', reference: floatBytes / 1e6, ratio: bytes.byteLength / floatBytes });
    const lat = await benchLatency({ models: [{ model: floatFile, label: 'float' }, { model: file, label: name }], batchSizes: [1, 32], timeBudgetMs: 2000, seed: 1, dims: {} });
    for (const b of lat.batches) {
      const c = b.comparison;
      if (!c) continue;
      const goal = isGoal && b.batchSize === 32;
      rows.push({ name: `${m.name} ${name}: P95 batch ${b.batchSize}`, value: c.candidate.p95, unit: 'ms', reference: c.reference.p95, ratio: c.ratios.p95.value, target: goal ? 'speedup >= 1.3x (ratio <= 0.77)' : undefined, pass: goal ? c.ratios.p95.value <= 0.77 : undefined });
    }
    log(`quantize-accuracy: ${m.name} ${name}: ${acc.toFixed(2)} % (drift ${drift.toFixed(2)}); ${res.summary.notes[0] ?? ''}`);
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printRows } = await import('./table.js');
  printRows(await runQuantizeAccuracyBench((l) => process.stderr.write(`${l}\n`)));
}
