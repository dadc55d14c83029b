/**
 * Accuracy of the MNIST CNN (examples/mnist) against structured sparsity, with and without
 * training-free repair, plus the batch-32 latency of the 30 % model against its FLOPs reduction.
 * Run with `npx tsx bench/prune-accuracy.ts`.
 */
import * as fs from 'node:fs';
import { readNpy } from '../src/evaluate/npy.js';
import { ModelSession, type Feeds } from '../src/evaluate/session.js';
import { encodeModel, loadModel, type Model } from '../src/onnx/index.js';
import { pruneStructured, type RepairMode } from '../src/passes/prune/index.js';

const DIR = 'examples/mnist';

async function accuracy(model: Model, x: Float32Array, y: ArrayLike<number | bigint>, shape: number[], input: string): Promise<number> {
  const s = await ModelSession.create(encodeModel(model));
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  let right = 0;
  const n = shape[0];
  for (let i = 0; i < n; i += 100) {
    const m = Math.min(100, n - i);
    const out = Object.values(await s.run({ [input]: { type: 'float32', dims: [m, ...shape.slice(1)], data: x.subarray(i * per, (i + m) * per) } }))[0];
    const logits = out.data as Float32Array;
    const classes = logits.length / m;
    for (let r = 0; r < m; r++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + best]) best = c;
      if (best === Number(y[i + r])) right++;
    }
  }
  await s.release();
  return (100 * right) / n;
}

async function latencyMs(model: Model, feeds: Feeds, runs = 200): Promise<number> {
  const s = await ModelSession.create(encodeModel(model));
  for (let i = 0; i < 20; i++) await s.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await s.run(feeds);
    times.push(performance.now() - t0);
  }
  await s.release();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  if (!fs.existsSync(`${DIR}/model.onnx`)) {
    console.log(`${DIR}/model.onnx not found; nothing to measure`);
    return;
  }
  const model = loadModel(`${DIR}/model.onnx`);
  const input = model.graph.inputs[0].name;
  const ex = readNpy(`${DIR}/data/eval_x.npy`);
  const ey = readNpy(`${DIR}/data/eval_y.npy`);
  const cx = readNpy(`${DIR}/data/calib_x.npy`);
  const ed = ex.data as Float32Array;
  const cd = cx.data as Float32Array;
  const per = cx.shape.slice(1).reduce((a, b) => a * b, 1);
  const calibration: Feeds[] = [];
  for (let i = 0; i < cx.shape[0]; i += 64) {
    const m = Math.min(64, cx.shape[0] - i);
    calibration.push({ [input]: { type: 'float32', dims: [m, ...cx.shape.slice(1)], data: cd.slice(i * per, (i + m) * per) } });
  }
  const base = await accuracy(model, ed, ey.data as ArrayLike<number>, ex.shape, input);
  console.log(`baseline accuracy ${base.toFixed(2)} % on ${ex.shape[0]} eval images; calibration ${cx.shape[0]} images`);
  console.log('| target | params removed | FLOPs removed | acc (no repair) | acc (bias-correction) | acc (least-squares) |');
  console.log('|---|---|---|---|---|---|');
  let at30: Model | undefined;
  for (const target of [0.1, 0.2, 0.3, 0.4, 0.5]) {
    const accs: Record<string, number> = {};
    let removed = 0;
    let flops = 0;
    for (const repair of ['none', 'bias-correction', 'least-squares'] as RepairMode[]) {
      const r = await pruneStructured(model, { target, importance: 'activation', repair, scope: 'global' }, { seed: 1, calibration });
      accs[repair] = await accuracy(r.model, ed, ey.data as ArrayLike<number>, ex.shape, input);
      removed = 1 - r.summary.paramsAfter / r.summary.paramsBefore;
      flops = r.summary.flopsBefore && r.summary.flopsAfter ? 1 - r.summary.flopsAfter / r.summary.flopsBefore : NaN;
      if (target === 0.3 && repair === 'least-squares') at30 = r.model;
    }
    console.log(`| ${target} | ${(100 * removed).toFixed(1)} % | ${(100 * flops).toFixed(1)} % | ${accs.none.toFixed(2)} | ${accs['bias-correction'].toFixed(2)} | ${accs['least-squares'].toFixed(2)} |`);
  }
  if (at30) {
    const feeds: Feeds = { [input]: { type: 'float32', dims: [32, ...ex.shape.slice(1)], data: ed.slice(0, 32 * per) } };
    const [a, b] = [await latencyMs(model, feeds), await latencyMs(at30, feeds)];
    const r = await pruneStructured(model, { target: 0.3, importance: 'activation', repair: 'least-squares', scope: 'global' }, { seed: 1, calibration });
    const flopsCut = 1 - (r.summary.flopsAfter as number) / (r.summary.flopsBefore as number);
    const latCut = 1 - b / a;
    console.log(`batch 32 median latency: ${a.toFixed(3)} ms -> ${b.toFixed(3)} ms (${(100 * latCut).toFixed(1)} % less); FLOPs ${(100 * flopsCut).toFixed(1)} % less; ratio ${(latCut / flopsCut).toFixed(2)} (goal >= 0.8)`);
  }
}

await main();
