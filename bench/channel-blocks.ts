/**
 * Verifies the kernel-block table (src/stages/machine.ts) on this runner: the zoo's PyTorch MNIST
 * CNN (torch.onnx, not ours) with its second convolution (64 channels) cut to 24, 32, 40 and 48
 * channels, no repair, each measured against the float model interleaved at batch 32. Where the
 * table is right, counts on the runner's block cost less per channel kept than counts off it.
 */
import { benchLatency } from '../src/evaluate/latency.js';
import { loadDataset } from '../src/evaluate/data.js';
import { channelBlock } from '../src/stages/machine.js';
import { encodeModel, loadModel } from '../src/onnx/index.js';
import { pruneStructured } from '../src/passes/prune/index.js';
import type { BenchRow } from './types.js';
import { ensureZoo } from './zoo/index.js';

const LAYER = '/features/features.3/Conv';
const COUNTS = [24, 32, 40, 48];

export async function runChannelBlockBench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const cnn = ensureZoo(log).find((z) => z.name === 'torch-mnist-cnn')!;
  const model = loadModel(cnn.model);
  const data = loadDataset({ inputs: { input: cnn.data!.eval } });
  const block = channelBlock();
  const rows: BenchRow[] = [];
  for (const keep of COUNTS) {
    const { model: cut } = await pruneStructured(model, { target: 1 - keep / 64, importance: 'l1', repair: 'none', multiple: 1, layers: [LAYER] }, { seed: 0 });
    const r = await benchLatency({ models: [{ model: cnn.model, label: 'float' }, { model: encodeModel(cut), label: `${keep} channels` }], batchSizes: [32], timeBudgetMs: 4000, inputs: data, seed: 0 });
    const c = r.batches[0].comparison!;
    log(`conv2 at ${keep} channels: P95 ${c.ratios.p95.value.toFixed(2)}x`);
    rows.push({
      name: `channel blocks: torch CNN conv2 64 -> ${keep} channels (${keep % block === 0 ? 'on' : 'off'} the ${block}-channel block), P95 vs float, batch 32 (95% CI ${c.ratios.p95.interval.low.toFixed(2)}-${c.ratios.p95.interval.high.toFixed(2)})`,
      value: c.candidate.p95,
      unit: 'ms',
      reference: c.reference.p95,
      ratio: c.ratios.p95.value,
    });
  }
  // The table holds when a count on the block costs no more than the count a half block below it.
  for (let i = 0; i + 1 < COUNTS.length; i += 2) {
    const [off, on] = [rows[i], rows[i + 1]];
    rows.push({ name: `channel blocks: ${COUNTS[i + 1]} channels (on the block) cost no more than ${COUNTS[i]} (off it)`, value: on.ratio!, unit: 'x', reference: off.ratio, ratio: on.ratio! / off.ratio!, target: '<= 1.03', pass: on.ratio! / off.ratio! <= 1.03 });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printRows } = await import('./table.js');
  printRows(await runChannelBlockBench((l) => process.stderr.write(`${l}\n`)));
}
