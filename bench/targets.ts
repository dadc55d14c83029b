/**
 * Runtime targets (docs/targets.md).
 *
 * `targets`: `prune-gate run` on examples/mnist, then each model (the original and the optimized
 * one) on the WebAssembly backend against itself natively, interleaved in one process
 * (evaluate/latency.ts with a target per model): the WASM/native P95 ratio of each.
 *
 * `targets-int8`: the zoo's PyTorch MNIST CNN, where static int8 is slower than float natively but
 * faster on WebAssembly: float against int8 on each target (the recipe's int8-static model, built
 * by `optimize`), then `prune-gate run` with that one-step recipe and `targets: [native]` and
 * `targets: [wasm]`, and whether each kept the step. `TARGETS_CNN_DIR=folder` (a model.onnx with
 * data/) skips generating the zoo.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchLatency } from '../src/evaluate/latency.js';
import { loadConfig } from '../src/config/index.js';
import { loadDataset } from '../src/evaluate/data.js';
import { runPipeline } from '../src/pipeline/run.js';
import { optimizeOnly } from '../src/pipeline/optimize.js';
import { stringify } from 'yaml';
import { ensureZoo } from './zoo/index.js';
import type { BenchRow } from './types.js';

const CONFIG = path.resolve(import.meta.dirname, '../examples/mnist/prune-gate.yml');

export async function runTargetsBench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bench-targets-'));
  try {
    const outcome = await runPipeline({ configPath: CONFIG, outDir, log });
    const config = loadConfig(CONFIG);
    const inputs = loadDataset(config.data.eval!);
    const rows: BenchRow[] = [];
    for (const [name, model] of [
      ['original', config.model],
      ['optimized', outcome.modelPath!],
    ] as const) {
      const r = await benchLatency({
        models: [
          { model, label: `${name} (native)`, target: 'native' },
          { model, label: `${name} (wasm)`, target: 'wasm' },
        ],
        batchSizes: config.bench.batchSizes,
        timeBudgetMs: config.bench.timeBudgetMs,
        threads: config.bench.threads,
        inputs,
        seed: config.seed,
        onProgress: log,
      });
      for (const b of r.batches) {
        const c = b.comparison!;
        rows.push({
          name: `targets: ${name} model, WASM/native P95, batch ${b.batchSize}`,
          value: c.candidate.p95,
          unit: 'ms',
          reference: c.reference.p95,
          ratio: c.ratios.p95.value,
          target: `measured (95% CI ${c.ratios.p95.interval.low.toFixed(2)}-${c.ratios.p95.interval.high.toFixed(2)})`,
        });
      }
    }
    return rows;
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

export async function runTargetsInt8Bench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const dir = process.env.TARGETS_CNN_DIR ?? ensureZoo(log).find((z) => z.name === 'torch-mnist-cnn')!.dir;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bench-int8-'));
  try {
    const config = (targets: string[]) => {
      const file = path.join(work, `${targets.join('-')}.yml`);
      const data = (f: string) => path.join(dir, 'data', f);
      fs.writeFileSync(
        file,
        stringify({
          model: path.join(dir, 'model.onnx'),
          task: 'classification',
          data: { eval: { inputs: { input: data('eval_x.npy') }, labels: data('eval_y.npy') }, calibration: { inputs: { input: data('calib_x.npy') } }, 'batch-size': 64 },
          metrics: ['accuracy'],
          bench: { 'batch-sizes': [32], 'time-budget': '10s' },
          recipe: [{ quantize: { kind: 'int8-static' } }],
          targets,
        }),
      );
      return file;
    };
    const int8 = path.join(work, 'int8.onnx');
    await optimizeOnly({ configPath: config(['native']), out: int8, log });
    const inputs = loadDataset({ inputs: { input: path.join(dir, 'data', 'eval_x.npy') } });
    const rows: BenchRow[] = [];
    for (const target of ['native', 'wasm'] as const) {
      const r = await benchLatency({ models: [{ model: path.join(dir, 'model.onnx'), label: 'float' }, { model: int8, label: 'int8' }], batchSizes: [32], timeBudgetMs: 10_000, target, inputs, onProgress: log });
      const c = r.batches[0].comparison!;
      rows.push({ name: `targets-int8: torch CNN int8/float P95 on ${target}, batch 32`, value: c.candidate.p95, unit: 'ms', reference: c.reference.p95, ratio: c.ratios.p95.value, target: `measured (95% CI ${c.ratios.p95.interval.low.toFixed(2)}-${c.ratios.p95.interval.high.toFixed(2)})` });
    }
    for (const targets of [['native'], ['wasm']]) {
      const out = path.join(work, `out-${targets.join('-')}`);
      const { report } = await runPipeline({ configPath: config(targets), outDir: out, log: (m) => log(`  ${m}`) });
      const step = report.steps.find((s) => s.stage === 'quantize');
      const p95 = step?.latency?.[0];
      rows.push({ name: `targets-int8: run with targets [${targets}] keeps the int8 step (value: 1 kept, 0 not kept)${p95 ? `; step P95 ${p95.ratio.toFixed(2)}x (${p95.interval.low.toFixed(2)}-${p95.interval.high.toFixed(2)})` : ''}`, value: step?.kept ? 1 : 0, unit: '' });
    }
    return rows;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printRows } = await import('./table.js');
  const log = (l: string) => process.stderr.write(`${l}\n`);
  printRows(process.argv.includes('--int8') ? await runTargetsInt8Bench(log) : await runTargetsBench(log));
}
