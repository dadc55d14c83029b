/**
 * Memory and size: the peak resident set of a fresh child process that loads the model and runs
 * one batch (so nothing else in this process pollutes it), the file size with external data, its
 * gzip size, and weight bytes by element type from the IR.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { InputError } from '../util/errors.js';
import { byteLength, dataTypeName, elementCount, loadModel, type Model } from '../onnx/index.js';
import type { MemoryStats } from './types.js';
import type { Feeds } from './session.js';

/**
 * The child is plain CommonJS run with `node -e`, so it works the same from src/ (tsx, jest) and
 * from the bundled dist/: it gets onnxruntime-node's resolved path from the parent.
 */
const CHILD_SCRIPT = `
const ort = require(process.env.PG_ORT_PATH);
const runtimeRss = process.memoryUsage().rss;
(async () => {
  const batch = Number(process.env.PG_BATCH);
  const threads = Number(process.env.PG_THREADS);
  const s = await ort.InferenceSession.create(process.env.PG_MODEL, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  const loadedRss = process.memoryUsage().rss;
  const feeds = {};
  const ctors = { float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
    int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, bool: Uint8Array, float16: Uint16Array };
  if (process.env.PG_FEEDS) {
    // Real feeds: a JSON header line [{ name, type, dims, bytes }], then each tensor's bytes.
    const buf = require('fs').readFileSync(process.env.PG_FEEDS);
    const nl = buf.indexOf(10);
    let at = nl + 1;
    for (const t of JSON.parse(buf.subarray(0, nl).toString())) {
      const C = ctors[t.type];
      const bytes = buf.subarray(at, at + t.bytes);
      at += t.bytes;
      feeds[t.name] = new ort.Tensor(t.type, new C(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), t.dims);
    }
  }
  for (const m of process.env.PG_FEEDS ? [] : s.inputMetadata) {
    const dims = (m.shape || []).map((d, k) => (typeof d === 'number' && d > 0 ? d : k === 0 ? batch : 1));
    const n = dims.reduce((a, b) => a * b, 1);
    const C = ctors[m.type];
    if (!C) throw new Error('input ' + m.name + ' has unsupported type ' + m.type);
    feeds[m.name] = new ort.Tensor(m.type, new C(n), dims);
  }
  await s.run(feeds);
  process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, runtimeRss, loadedRss }));
})().catch((e) => { process.stderr.write(String(e && e.message || e)); process.exit(3); });
`;

export interface PeakRss {
  /** Peak resident set of the child, bytes. */
  peakRssBytes: number;
  /** Resident set after loading the runtime, before the model (what Node + ORT cost alone). */
  runtimeRssBytes: number;
  /** Resident set right after the session was created. */
  loadedRssBytes: number;
}

export function ortModulePath(): string {
  return createRequire(import.meta.url).resolve('onnxruntime-node');
}

/** Spawns `node -e` to load `model` (a path, or bytes written to a temp file) and run one batch of zeros. */
/**
 * Spawns `node -e` to load `model` (a path, or bytes written to a temp file) and run one batch: the
 * given feeds (real data: a model may refuse zeros of size 1, e.g. a reflect Pad), else zeros with
 * free dimensions of 1 and the batch dimension `batchSize`.
 */
export async function measurePeakRss(model: string | Uint8Array, options: { batchSize?: number; threads?: number; timeoutMs?: number; label?: string; feeds?: Feeds } = {}): Promise<PeakRss> {
  let file = typeof model === 'string' ? model : '';
  // A temporary folder only for what must be handed over as files (model bytes, feeds).
  const tmp = typeof model !== 'string' || options.feeds ? fs.mkdtempSync(path.join(os.tmpdir(), 'pg-rss-')) : undefined;
  if (tmp && typeof model !== 'string') {
    file = path.join(tmp, 'model.onnx');
    fs.writeFileSync(file, model);
  }
  const feedsFile = tmp && options.feeds ? writeFeeds(options.feeds, path.join(tmp, 'feeds.bin')) : undefined;
  const label = options.label ?? (typeof model === 'string' ? model : '<in-memory model>');
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', CHILD_SCRIPT], {
        env: { ...process.env, PG_ORT_PATH: ortModulePath(), PG_MODEL: path.resolve(file), PG_BATCH: String(options.batchSize ?? 1), PG_THREADS: String(options.threads ?? 1), ...(feedsFile && { PG_FEEDS: feedsFile }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(stdout);
        else if (signal) reject(new InputError(`${label}: the memory probe was killed (${signal}); the model may need more memory or time than allowed`, label));
        else reject(new InputError(`${label}: the memory probe could not run the model: ${stderr.trim().split('\n')[0]}`, label));
      });
    });
    const r = JSON.parse(out) as { maxRssKb: number; runtimeRss: number; loadedRss: number };
    return { peakRssBytes: r.maxRssKb * 1024, runtimeRssBytes: r.runtimeRss, loadedRssBytes: r.loadedRss };
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Feeds as the probe reads them: a JSON header line, then each tensor's bytes. */
function writeFeeds(feeds: Feeds, file: string): string {
  const tensors = Object.entries(feeds).map(([name, t]) => {
    const data = t.data as ArrayBufferView;
    return { name, type: t.type, dims: t.dims, bytes: data.byteLength, view: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  });
  const header = JSON.stringify(tensors.map(({ name, type, dims, bytes }) => ({ name, type, dims, bytes })));
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`${header}\n`), ...tensors.map((t) => t.view)]));
  return file;
}

/** Weight bytes per element type (initializers and sparse initializers, as stored). */
export function weightBytesByType(model: Model): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (type: number, bytes: number) => {
    const name = dataTypeName(type);
    out[name] = (out[name] ?? 0) + bytes;
  };
  for (const t of model.graph.initializers) add(t.dataType, t.strings ? t.strings.reduce((s, x) => s + x.byteLength, 0) : byteLength(t.dataType, elementCount(t.dims)));
  for (const s of model.graph.sparseInitializers) {
    add(s.values.dataType, byteLength(s.values.dataType, elementCount(s.values.dims)));
    add(s.indices.dataType, byteLength(s.indices.dataType, elementCount(s.indices.dims)));
  }
  return out;
}

/** Bytes of the model file plus its external data files, and the gzip size of all of them. */
export function fileSizes(file: string, model?: Model): { fileBytes: number; gzipBytes: number; files: string[] } {
  const m = model ?? loadModel(file);
  const dir = path.dirname(path.resolve(file));
  const externals = new Set<string>();
  for (const t of m.graph.initializers) if (t.external) externals.add(path.join(dir, t.external.location));
  const files = [path.resolve(file), ...[...externals].sort()];
  let fileBytes = 0;
  let gzipBytes = 0;
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    fileBytes += bytes.byteLength;
    gzipBytes += gzipSync(bytes).byteLength;
  }
  return { fileBytes, gzipBytes, files };
}

/** Everything in MemoryStats for a model file. */
export async function measureMemory(file: string, options: { batchSize?: number; threads?: number; feeds?: Feeds } = {}): Promise<MemoryStats & { runtimeRssBytes: number; loadedRssBytes: number }> {
  const model = loadModel(file);
  const sizes = fileSizes(file, model);
  const rss = await measurePeakRss(file, options);
  return { peakRssBytes: rss.peakRssBytes, runtimeRssBytes: rss.runtimeRssBytes, loadedRssBytes: rss.loadedRssBytes, fileBytes: sizes.fileBytes, gzipBytes: sizes.gzipBytes, weightBytesByType: weightBytesByType(model) };
}
