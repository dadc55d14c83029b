/**
 * The bundled example end to end: `prune-gate run` on examples/mnist, and the optimized model's
 * P95 against the float model at each configured batch size (interleaved in the same process).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runPipeline } from '../src/pipeline/run.js';
import type { BenchRow } from './types.js';

const GOAL = 0.7;

export async function runExampleBench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bench-example-'));
  const t0 = performance.now();
  const outcome = await runPipeline({ configPath: path.resolve(import.meta.dirname, '../examples/mnist/prune-gate.yml'), outDir, log });
  const seconds = (performance.now() - t0) / 1000;
  const rows: BenchRow[] = [{ name: 'example: prune-gate run wall time', value: seconds, unit: 's', target: '< 180 s', pass: seconds < 180 }];
  const accuracy = outcome.report.metrics.find((m) => m.gated);
  if (accuracy) rows.push({ name: `example: ${accuracy.metric} drift`, value: accuracy.drift, unit: 'pt', target: '<= 1 pt', pass: accuracy.drift <= 1 });
  for (const l of outcome.report.latency) {
    rows.push({
      name: `example: optimized P95 vs float, batch ${l.batchSize}`,
      value: l.candidate.p95,
      unit: 'ms',
      reference: l.original.p95,
      ratio: l.ratios.p95.value,
      target: `<= ${GOAL} (95% CI ${l.ratios.p95.interval.low.toFixed(2)}-${l.ratios.p95.interval.high.toFixed(2)})`,
      pass: l.ratios.p95.value <= GOAL,
    });
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printRows } = await import('./table.js');
  printRows(await runExampleBench((l) => process.stderr.write(`${l}\n`)));
}
