/**
 * Accuracy against structured sparsity on the repository's three real models (bench/real-models.ts),
 * without repair, with bias correction and with least-squares repair (per-layer ratios, activation
 * importance, no fine-tuning); and, on the CNN, how much of the FLOPs cut of a 30 % prune shows up
 * as batch-32 latency (goal: at least 0.8 of it). Run alone with `npx tsx bench/prune-accuracy.ts`.
 */
import { benchLatency } from '../src/evaluate/latency.js';
import { encodeModel, type Model } from '../src/onnx/index.js';
import { pruneStructured, type RepairMode } from '../src/passes/prune/index.js';
import { accuracy, loadRealModels, type RealModel } from './real-models.js';
import type { BenchRow } from './types.js';

const TARGETS = [0.1, 0.2, 0.3, 0.4, 0.5];
const REPAIRS: RepairMode[] = ['none', 'bias-correction', 'least-squares'];

export async function runPruneAccuracyBench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const m of loadRealModels(log)) rows.push(...(await sweep(m, log)));
  return rows;
}

async function sweep(m: RealModel, log: (line: string) => void): Promise<BenchRow[]> {
  const ctx = { seed: 1, calibration: m.calibration };
  const base = await accuracy(m.model, m.evalFeeds, m.labels);
  const rows: BenchRow[] = [{ name: `${m.name} float32 accuracy`, value: base, unit: '%' }];
  log(`prune-accuracy: ${m.name}: ${base.toFixed(2)} %`);
  for (const target of TARGETS) {
    const acc: Partial<Record<RepairMode, number>> = {};
    let flopsCut = 0;
    let pruned30: Model | undefined;
    for (const repair of REPAIRS) {
      const r = await pruneStructured(m.model, { target, importance: 'activation', repair }, ctx);
      acc[repair] = await accuracy(r.model, m.evalFeeds, m.labels);
      flopsCut = r.summary.flopsBefore && r.summary.flopsAfter ? 1 - r.summary.flopsAfter / r.summary.flopsBefore : 0;
      if (target === 0.3 && repair === 'least-squares') pruned30 = r.model;
    }
    const label = `${m.name} structured ${Math.round(target * 100)} % (FLOPs -${(100 * flopsCut).toFixed(0)} %)`;
    rows.push({ name: `${label}: accuracy, least-squares repair (reference: no repair)`, value: acc['least-squares'] as number, unit: '%', reference: acc.none });
    rows.push({ name: `${label}: accuracy, bias correction (reference: no repair)`, value: acc['bias-correction'] as number, unit: '%', reference: acc.none });
    log(`prune-accuracy: ${label}: none ${acc.none?.toFixed(2)}, bias-correction ${acc['bias-correction']?.toFixed(2)}, least-squares ${acc['least-squares']?.toFixed(2)}`);
    if (pruned30 && m.name === 'CNN') rows.push(await latencyShare(m, pruned30, flopsCut));
  }
  return rows;
}

/** Batch-32 P50 latency cut of the pruned model (interleaved with the original) over its FLOPs cut. */
async function latencyShare(m: RealModel, pruned: Model, flopsCut: number): Promise<BenchRow> {
  const r = await benchLatency({ models: [{ model: encodeModel(m.model), label: 'original' }, { model: encodeModel(pruned), label: 'pruned' }], batchSizes: [32], timeBudgetMs: 3000, seed: 1, dims: {} });
  const c = r.batches[0].comparison!;
  const latencyCut = 1 - c.ratios.p50.value;
  const share = latencyCut / flopsCut;
  return { name: `CNN structured 30 %: batch-32 P50 latency cut / FLOPs cut (${(100 * latencyCut).toFixed(1)} % / ${(100 * flopsCut).toFixed(1)} %)`, value: share, unit: 'x', target: '>= 0.8', pass: share >= 0.8 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printRows } = await import('./table.js');
  printRows(await runPruneAccuracyBench((l) => process.stderr.write(`${l}\n`)));
}
