/**
 * Speed on models this repository did not write: `prune-gate run` with the default recipe on each
 * generated zoo model (torch.onnx exports: a PyTorch MNIST CNN, ResNet-18, MobileNetV2, a
 * TransformerEncoder; bench/zoo/README.md) and on PaddleOCR's direction classifier (paddle2onnx,
 * labelled by rendering, bench/zoo/paddle-cls.ts), then `optimize --replay` of its report. Per model:
 * the gated drift, the candidate's P95 against the original at batch 1 and 32 (interleaved, with
 * the 95 % interval), and whether the replay rebuilt the same bytes.
 *
 * Targets (issue: speed on foreign models): drift <= 1 pt, P95 <= 0.6x at batch 32 and <= 0.75x at
 * batch 1 for the CNNs and the transformer; never a candidate whose interval is wholly above 1.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { optimizeOnly } from '../src/pipeline/optimize.js';
import { runPipeline } from '../src/pipeline/run.js';
import type { BenchRow } from './types.js';
import { ensureZoo } from './zoo/index.js';
import { ensurePaddleCls } from './zoo/paddle-cls.js';

const TARGET = { 1: 0.75, 32: 0.6 } as Record<number, number>;

export async function runZooSpeedBench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const only = process.env.ZOO_ONLY?.split(',');
  const rows: BenchRow[] = [];
  const members = [...ensureZoo(log).flatMap((z) => (z.generated && z.config ? [{ name: z.name, config: z.config }] : [])), ...[ensurePaddleCls(log) ?? []].flat()];
  for (const z of members) {
    if (only && !only.includes(z.name)) continue;
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `pg-zoo-${z.name}-`));
    log(`== zoo: ${z.name}`);
    const t0 = performance.now();
    const outcome = await runPipeline({ configPath: z.config, outDir: out, log: (m) => log(`  ${m}`) });
    const seconds = (performance.now() - t0) / 1000;
    const r = outcome.report;
    const gated = r.metrics.find((m) => m.gated);
    rows.push({ name: `zoo ${z.name}: run wall time (verdict ${r.verdict}, ${r.decisions?.length ?? 0} steps kept)`, value: seconds, unit: 's' });
    if (gated) rows.push({ name: `zoo ${z.name}: ${gated.metric} drift`, value: gated.drift, unit: 'pt', target: '<= 1 pt', pass: gated.drift <= 1 });
    for (const l of r.latency) {
      const goal = TARGET[l.batchSize];
      const ci = l.ratios.p95.interval;
      rows.push({
        name: `zoo ${z.name}: P95 vs original, batch ${l.batchSize} (95% CI ${ci.low.toFixed(2)}-${ci.high.toFixed(2)})`,
        value: l.candidate.p95,
        unit: 'ms',
        reference: l.original.p95,
        ratio: l.ratios.p95.value,
        target: goal !== undefined ? `<= ${goal}x, never wholly above 1` : 'never wholly above 1',
        pass: ci.low <= 1 && (goal === undefined || l.ratios.p95.value <= goal),
      });
    }
    const replayed = path.join(out, 'replayed.onnx');
    const replay = await optimizeOnly({ configPath: z.config, out: replayed, replay: path.join(out, 'report.json') });
    rows.push({ name: `zoo ${z.name}: optimize --replay rebuilds the candidate byte for byte`, value: replay.replayMatches ? 1 : 0, unit: 'bool', target: '1', pass: replay.replayMatches === true });
    fs.rmSync(out, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printRows } = await import('./table.js');
  printRows(await runZooSpeedBench((l) => process.stderr.write(`${l}\n`)));
}
