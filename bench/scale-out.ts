/**
 * Scale-out timing (issue 16, docs/scale-out.md): the wall time of `prune-gate verify` over the
 * whole test split in one process against two shards (`--shard 1/2` and `2/2`) run as two
 * processes at once, as two matrix jobs would run them, here on one machine's cores. Real CLI
 * processes of the bundle (dist/cli.js, what the workflow runs), on ResNet-18 from the zoo with its
 * 1,000 eval digits repeated REPEAT times, so that evaluating outweighs what every process pays
 * once (process start, config, reading the data, fingerprints, two ONNX Runtime sessions, writing
 * verify.json).
 *
 * That fixed cost F is fitted, not guessed: a process that verifies a fraction f of the test split
 * takes T(f) = F + f·E, so the whole split (f = 1) and its smallest shard (one batch) give F and E.
 * Two parallel shards should then take about F + E/2 of wall time: close to 0.5x plus F/(2·T(1)).
 * Medians of ROUNDS rounds, each round running the three in turn so they share the machine's noise.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { encodeNpy, readNpy } from '../src/evaluate/npy.js';
import { readPart } from '../src/pipeline/parts.js';
import type { BenchRow } from './types.js';
import { ensureZoo, zooModels } from './zoo/index.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist/cli.js');
const REPEAT = Number(process.env.SCALE_OUT_REPEAT) || 10;
const ROUNDS = Number(process.env.SCALE_OUT_ROUNDS) || 3;
const MODEL = 'resnet18';
const BATCH = 64;

export async function runScaleOutBench(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  if (!fs.existsSync(CLI)) throw new Error('scale-out: dist/cli.js is missing; run `npm run build` first (the matrix jobs run the bundle)');
  let zoo = zooModels().find((m) => m.name === MODEL)!;
  if (!fs.existsSync(path.join(zoo.dir, 'zoo.json'))) zoo = ensureZoo(log).find((m) => m.name === MODEL)!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bench-scale-out-'));
  try {
    const t0 = performance.now();
    cli(['search', '--config', zoo.config!, '--out', path.join(dir, 'search'), '--quiet']);
    const searchSeconds = (performance.now() - t0) / 1000;
    const config = tiledProject(zoo.dir, dir);
    const candidate = path.join(dir, 'search', 'model.onnx');
    const verify = (shard: string) => ['verify', '--config', config, '--candidate', candidate, '--shard', shard, '--out', path.join(dir, `verify-${shard.replace('/', '-of-')}`), '--quiet'];

    // One run first: the split's size gives the number of batches, hence the smallest shard (one batch).
    cli(verify('1/1'));
    const whole = readPart(path.join(dir, 'verify-1-of-1'), ['verify']);
    const batches = Math.ceil(whole.testSamples / BATCH);
    const tiny = `1/${batches}`;
    const times = { whole: [] as Timing[], parallel: [] as Timing[], tiny: [] as Timing[], start: [] as Timing[] };
    for (let round = 1; round <= ROUNDS; round++) {
      times.whole.push(await timed([verify('1/1')]));
      times.parallel.push(await timed([verify('1/2'), verify('2/2')]));
      times.tiny.push(await timed([verify(tiny)]));
      times.start.push(await timed([['--version']]));
      const show = (t: Timing) => `${t.wall.toFixed(2)} s (cpu ${t.cpu.toFixed(2)} s)`;
      log(`round ${round}/${ROUNDS}: 1/1 ${show(times.whole.at(-1)!)}, 1/2 and 2/2 in parallel ${show(times.parallel.at(-1)!)}, ${tiny} ${show(times.tiny.at(-1)!)}, --version ${show(times.start.at(-1)!)}`);
    }
    const fraction = (shard: string) => {
      const p = readPart(path.join(dir, `verify-${shard.replace('/', '-of-')}`), ['verify']);
      return (p.samples.end - p.samples.start) / p.testSamples;
    };
    const fTiny = fraction(tiny);
    // The slower of the two shards sets the wall time; they differ by at most one batch.
    const fHalf = Math.max(fraction('1/2'), fraction('2/2'));
    const med = (key: keyof typeof times, of: keyof Timing) => median(times[key].map((t) => t[of]));
    /** T(f) = F + f*E through the whole split and its smallest shard. */
    const fit = (of: keyof Timing) => {
      const evaluate = (med('whole', of) - med('tiny', of)) / (1 - fTiny);
      return { fixed: med('whole', of) - evaluate, evaluate };
    };
    const wall = fit('wall');
    const cpu = fit('cpu');
    const t1 = med('whole', 'wall');
    const tPar = med('parallel', 'wall');
    const what = `${MODEL}, ${whole.testSamples} test samples = the zoo's eval set x${REPEAT}, batch ${BATCH}`;
    const rows: BenchRow[] = [
      { name: `scale-out: search, once, before the shards (${MODEL}, the zoo's 1,000 samples)`, value: searchSeconds, unit: 's' },
      { name: `scale-out: verify --shard 1/1, one process (${what}); median of ${ROUNDS}`, value: t1, unit: 's' },
      {
        name: 'scale-out: verify --shard 1/2 and 2/2 as two parallel processes, wall time',
        value: tPar,
        unit: 's',
        reference: t1,
        ratio: tPar / t1,
        target: `~${((wall.fixed + fHalf * wall.evaluate) / t1).toFixed(2)} = (F + E/2) / T(1/1), F and E fitted from wall times`,
      },
      { name: `scale-out: verify --shard ${tiny}, one batch (${(fTiny * 100).toFixed(1)} % of the split), wall time`, value: med('tiny', 'wall'), unit: 's' },
      { name: 'scale-out: fixed cost per verify process F, wall (fitted: T(f) = F + f*E)', value: wall.fixed, unit: 's', reference: t1, ratio: wall.fixed / t1 },
      { name: 'scale-out: node dist/cli.js --version (process start alone, part of F), wall', value: med('start', 'wall'), unit: 's' },
    ];
    if (TIME) {
      const c1 = med('whole', 'cpu');
      rows.push(
        { name: 'scale-out: CPU seconds of verify --shard 1/1', value: c1, unit: 's' },
        { name: 'scale-out: CPU seconds of the busier of the parallel shards', value: med('parallel', 'cpu'), unit: 's', reference: c1, ratio: med('parallel', 'cpu') / c1, target: `~${((cpu.fixed + fHalf * cpu.evaluate) / c1).toFixed(2)} = (F + E/2) / T(1/1) in CPU seconds` },
        { name: 'scale-out: fixed cost per verify process F, CPU seconds (fitted)', value: cpu.fixed, unit: 's', reference: c1, ratio: cpu.fixed / c1 },
        { name: 'scale-out: evaluating the whole test split E, CPU seconds (fitted)', value: cpu.evaluate, unit: 's', reference: c1, ratio: cpu.evaluate / c1 },
      );
    }
    return rows;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A project beside the zoo member whose eval set is its own repeated REPEAT times: the same model
 * and per-sample cost, REPEAT times the evaluation. Returns the config path.
 */
function tiledProject(zooDir: string, dir: string): string {
  fs.mkdirSync(path.join(dir, 'data'));
  fs.symlinkSync(path.join(zooDir, 'model.onnx'), path.join(dir, 'model.onnx'));
  for (const name of ['eval_x.npy', 'eval_y.npy']) {
    const src = readNpy(path.join(zooDir, 'data', name));
    const n = src.data.length;
    // The same typed array kind (float32 digits, int64 labels), REPEAT copies end to end.
    const data = new (src.data.constructor as new (length: number) => Float32Array)(n * REPEAT);
    for (let k = 0; k < REPEAT; k++) data.set(src.data as Float32Array, k * n);
    fs.writeFileSync(path.join(dir, 'data', name), encodeNpy(src.type, [src.shape[0] * REPEAT, ...src.shape.slice(1)], data));
  }
  const config = path.join(dir, 'prune-gate.yml');
  const yaml = {
    model: 'model.onnx',
    task: 'classification',
    data: { eval: { inputs: { input: 'data/eval_x.npy' }, labels: 'data/eval_y.npy' }, 'batch-size': BATCH },
    metrics: ['accuracy'],
  };
  fs.writeFileSync(config, stringify(yaml));
  return config;
}

function cli(args: string[]): void {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`prune-gate ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
}

/** GNU time: each child's own CPU seconds, which the machine's other load does not inflate. */
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Timing {
  /** Wall seconds until every process started together has exited 0. */
  wall: number;
  /** The CPU seconds (user + system) of the busiest of them; NaN without /usr/bin/time. */
  cpu: number;
}

async function timed(runs: string[][]): Promise<Timing> {
  const t0 = performance.now();
  const cpus = await Promise.all(
    runs.map(
      (args) =>
        new Promise<number>((resolve, reject) => {
          const argv = [process.execPath, CLI, ...args];
          const child = TIME ? spawn(TIME, ['-f', 'cpu %U %S', ...argv], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('error', reject);
          child.on('close', (code) => {
            if (code !== 0) return reject(new Error(`prune-gate ${args.join(' ')} exited ${code}: ${stderr}`));
            const m = /^cpu ([\d.]+) ([\d.]+)$/m.exec(stderr);
            resolve(m ? Number(m[1]) + Number(m[2]) : NaN);
          });
        }),
    ),
  );
  return { wall: (performance.now() - t0) / 1000, cpu: Math.max(...cpus) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printRows } = await import('./table.js');
  printRows(await runScaleOutBench((l) => process.stderr.write(`${l}\n`)));
}
