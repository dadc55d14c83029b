/**
 * A model's outputs over a data set, sample by sample, for the label-free comparison: the
 * reference the candidate is scored against. Small outputs stay in memory; past a limit (a text
 * detector's maps over a few hundred pages are gigabytes) every output spills to its own file in a
 * temporary folder and is read back by offset, one run's samples at a time.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** `n` samples of one output, each of `shape`, as [n, ...shape] row-major. */
export interface SampleBlock {
  values: Float32Array;
  n: number;
  shape: number[];
}

interface Chunk {
  start: number;
  n: number;
  shape: number[];
  /** In memory, or at `offset` (bytes) in the series' file. */
  values?: Float32Array;
  offset?: number;
}

interface Series {
  chunks: Chunk[];
  count: number;
  file?: string;
  fileBytes: number;
}

/** Outputs kept in memory up to this many bytes in all; beyond, on disk. */
export const OUTPUT_MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;

export class OutputStore {
  private readonly series = new Map<string, Series>();
  private memoryBytes = 0;
  private dir?: string;

  constructor(
    /** What the outputs are of (a model file, "expected outputs"), for messages. */
    readonly label: string,
    private readonly memoryLimit = OUTPUT_MEMORY_LIMIT_BYTES,
  ) {}

  get names(): string[] {
    return [...this.series.keys()];
  }

  /** Samples stored for `name` (0 when none). */
  count(name: string): number {
    return this.series.get(name)?.count ?? 0;
  }

  /** The per-sample shape of `name`, or undefined when it changes between runs. */
  shapeOf(name: string): number[] | undefined {
    const chunks = this.series.get(name)?.chunks ?? [];
    const first = chunks[0]?.shape;
    return first && chunks.every((c) => c.shape.join() === first.join()) ? [...first] : undefined;
  }

  /** Whether the outputs live on disk. */
  get spilled(): boolean {
    return this.dir !== undefined;
  }

  /** Adds the next `block.n` samples of output `name` (blocks of one output come in sample order). */
  append(name: string, block: SampleBlock): void {
    let s = this.series.get(name);
    if (!s) {
      s = { chunks: [], count: 0, fileBytes: 0 };
      this.series.set(name, s);
    }
    const chunk: Chunk = { start: s.count, n: block.n, shape: [...block.shape] };
    s.count += block.n;
    s.chunks.push(chunk);
    if (!this.dir && this.memoryBytes + block.values.byteLength > this.memoryLimit) this.spill();
    if (this.dir) this.writeChunk(name, s, chunk, block.values);
    else {
      chunk.values = block.values.slice();
      this.memoryBytes += block.values.byteLength;
    }
  }

  /** Samples [start, start + n) of output `name`; they must share one shape. */
  read(name: string, start: number, n: number): SampleBlock {
    const s = this.series.get(name);
    if (!s || start + n > s.count) throw new Error(`${this.label}: output '${name}' holds ${s?.count ?? 0} samples, not [${start}, ${start + n})`);
    const parts = s.chunks.filter((c) => c.start < start + n && c.start + c.n > start);
    const shape = parts[0].shape;
    const per = shape.reduce((a, b) => a * b, 1);
    if (parts.some((c) => c.shape.join() !== shape.join())) throw new Error(`${this.label}: output '${name}' changes shape within samples [${start}, ${start + n})`);
    const values = new Float32Array(n * per);
    for (const c of parts) {
      const from = Math.max(start, c.start);
      const to = Math.min(start + n, c.start + c.n);
      const data = c.values ? c.values.subarray((from - c.start) * per, (to - c.start) * per) : this.readChunk(s, c, from - c.start, to - from, per);
      values.set(data, (from - start) * per);
    }
    return { values, n, shape: [...shape] };
  }

  /** Every sample of `name` (they must share one shape). */
  readAll(name: string): SampleBlock {
    return this.read(name, 0, this.count(name));
  }

  /** A store of these samples (indices into this one, in order), read one at a time. */
  pick(samples: number[], label = this.label): OutputStore {
    const out = new OutputStore(label, this.memoryLimit);
    for (const name of this.names) for (const s of samples) out.append(name, this.read(name, s, 1));
    return out;
  }

  /** Deletes the spill files. */
  release(): void {
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.series.clear();
    this.memoryBytes = 0;
  }

  private spill(): void {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-gate-outputs-'));
    for (const [name, s] of this.series) {
      for (const c of s.chunks) {
        if (!c.values) continue;
        const values = c.values;
        c.values = undefined;
        this.writeChunk(name, s, c, values);
      }
    }
    this.memoryBytes = 0;
  }

  private writeChunk(name: string, s: Series, c: Chunk, values: Float32Array): void {
    s.file ??= path.join(this.dir!, `${this.names.indexOf(name)}-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.f32`);
    fs.appendFileSync(s.file, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    c.offset = s.fileBytes;
    s.fileBytes += values.byteLength;
  }

  private readChunk(s: Series, c: Chunk, first: number, count: number, per: number): Float32Array {
    const out = new Float32Array(count * per);
    const fd = fs.openSync(s.file!, 'r');
    try {
      fs.readSync(fd, new Uint8Array(out.buffer), 0, out.byteLength, c.offset! + first * per * 4);
    } finally {
      fs.closeSync(fd);
    }
    return out;
  }
}
