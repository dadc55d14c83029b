/**
 * Load + save of a BERT-base-sized model (110M float32 parameters, ~440 MB of external data)
 * through the IR, against `cp` of the same files, measured in the same run; and the peak RSS of a
 * load + save in a fresh child process. Targets: <= 3x cp, peak RSS <= 2x the model's bytes.
 *
 *   npx tsx bench/onnx-io.ts
 *
 * Our save fsyncs (atomic write), so the reference is cp followed by fsync of the copies; plain cp
 * is reported too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataType, GraphBuilder, int64Tensor, loadModel, saveModel, type Model, type Tensor } from '../src/onnx/index.js';
import { formatRows } from './table.js';
import type { BenchRow } from './types.js';
import { peakRss } from './peak-rss.js';

const HIDDEN = 768;
const FFN = 3072;
const LAYERS = 12;
const VOCAB = 30522;
const RUNS = 3;

/** xorshift32 straight into the float bits: ~uniform in [-0.05, 0.05), fast enough for 110M values. */
function randomWeights(name: string, dims: number[], seed: number): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = ((s >>> 0) / 4294967296 - 0.5) * 0.1;
  }
  return { name, dataType: DataType.FLOAT, dims, raw: new Uint8Array(data.buffer) };
}

export function bertSizedModel(): Model {
  const b = new GraphBuilder('bert_base_shaped');
  const ids = b.input('input_ids', DataType.INT64, [1, 'seq']);
  let x = b.op('Gather', [b.constant(randomWeights('embeddings', [VOCAB, HIDDEN], 1)), ids]);
  let seed = 2;
  for (let l = 0; l < LAYERS; l++) {
    const attnIn = x;
    for (const p of ['q', 'k', 'v', 'o']) x = b.op('MatMul', [x, b.constant(randomWeights(`l${l}.${p}`, [HIDDEN, HIDDEN], seed++))]);
    x = b.op('Add', [x, attnIn]);
    const h = b.op('Relu', [b.op('MatMul', [x, b.constant(randomWeights(`l${l}.ffn1`, [HIDDEN, FFN], seed++))])]);
    x = b.op('Add', [x, b.op('MatMul', [h, b.constant(randomWeights(`l${l}.ffn2`, [FFN, HIDDEN], seed++))])]);
  }
  b.op('Reshape', [x, b.constant(int64Tensor('flat', [2], [-1, HIDDEN]))], {}, { outputs: ['hidden'] });
  b.output('hidden', DataType.FLOAT, ['seq', HIDDEN]);
  return b.model({ opset: 17 });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function seconds(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function filesOf(model: string): string[] {
  return [model, `${model}.data`];
}

function bytesOf(files: string[]): number {
  return files.reduce((a, f) => a + fs.statSync(f).size, 0);
}

/** Child mode: load + save once (or nothing, for the baseline), report peak RSS on stdout. */
function child(src: string, dst: string): void {
  if (src !== '--idle') saveModel(loadModel(src), dst, { externalThreshold: 1024 });
  process.stdout.write(`${peakRss()}\n`);
}

/** Flushes dirty pages so one measurement does not pay for the previous one's writeback. */
function settle(): void {
  execFileSync('sync');
}

export async function runOnnxIoBench(log: (line: string) => void = () => undefined): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bench-io-'));
  try {
    const src = path.join(dir, 'src', 'model.onnx');
    let genSeconds = 0;
    {
      const t = process.hrtime.bigint();
      const model = bertSizedModel();
      saveModel(model, src, { externalThreshold: 1024 });
      genSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    }
    const modelBytes = bytesOf(filesOf(src));
    log(`generated ${(modelBytes / 2 ** 20).toFixed(0)} MiB in ${genSeconds.toFixed(1)} s`);

    const cp: number[] = [];
    const cpSync: number[] = [];
    const load: number[] = [];
    const save: number[] = [];
    const both: number[] = [];
    // Nothing is deleted until the end: on a disk mounted with online discard, deleting 400 MB
    // makes the next fsync wait for the discards, which would charge one measurement for another.
    for (let run = 0; run < RUNS; run++) {
      const cpDir = path.join(dir, `cp${run}`);
      const cpSyncDir = path.join(dir, `cpsync${run}`);
      fs.mkdirSync(cpDir);
      fs.mkdirSync(cpSyncDir);
      settle();
      cp.push(seconds(() => execFileSync('cp', [...filesOf(src), cpDir])));
      settle();
      cpSync.push(seconds(() => execFileSync('sh', ['-c', 'cp "$1" "$2" "$3" && sync "$3"/*', 'sh', ...filesOf(src), cpSyncDir])));

      const out = path.join(dir, `ir${run}`, 'model.onnx');
      let model: Model | undefined;
      settle();
      const tLoad = seconds(() => (model = loadModel(src)));
      const tSave = seconds(() => saveModel(model as Model, out, { externalThreshold: 1024 }));
      model = undefined;
      load.push(tLoad);
      save.push(tSave);
      both.push(tLoad + tSave);
      if (bytesOf(filesOf(out)) !== modelBytes) throw new Error('the saved model differs in size from the original');
      log(`run ${run + 1}: cp ${cp[run].toFixed(2)} s, cp+sync ${cpSync[run].toFixed(2)} s, load ${tLoad.toFixed(2)} s, save ${tSave.toFixed(2)} s`);
    }

    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', src, path.join(dir, 'child', 'model.onnx')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`child load+save failed: ${r.stderr}`);
    const childPeak = Number(r.stdout.trim().split('\n').pop());
    const idle = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', '--idle', ''], { encoding: 'utf8' });
    const baseRss = Number(idle.stdout.trim());

    const ref = median(cpSync);
    const total = median(both);
    return [
      { name: 'model bytes (110M float32 params, external data)', value: modelBytes / 2 ** 20, unit: 'MiB' },
      { name: 'generate + first save', value: genSeconds, unit: 's' },
      { name: 'cp (median of 3)', value: median(cp), unit: 's' },
      { name: 'cp + fsync (median of 3)', value: ref, unit: 's' },
      { name: 'load through IR (median of 3)', value: median(load), unit: 's' },
      { name: 'save through IR, fsynced (median of 3)', value: median(save), unit: 's' },
      { name: 'load + save through IR vs cp + fsync', value: total, unit: 's', reference: ref, ratio: total / ref, target: '<= 3x', pass: total / ref <= 3 },
      { name: 'load + save through IR vs plain cp', value: total, unit: 's', reference: median(cp), ratio: total / median(cp) },
      { name: 'peak RSS of load + save / model bytes', value: childPeak / 2 ** 20, unit: 'MiB', reference: modelBytes / 2 ** 20, ratio: childPeak / modelBytes, target: '<= 2x', pass: childPeak / modelBytes <= 2 },
      { name: 'peak RSS of an idle node + tsx (for scale)', value: baseRss / 2 ** 20, unit: 'MiB' },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  if (process.argv[2] === '--child') {
    child(process.argv[3], process.argv[4]);
  } else {
    const rows = await runOnnxIoBench((line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`${formatRows(rows)}\n`);
  }
}
