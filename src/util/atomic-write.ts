/**
 * Atomic file output: write to a temporary file beside the target, fsync, then rename over it.
 * A run killed half-way leaves at most a stray `.tmp-*` file, never a half-written target.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Chunks = Uint8Array | string | Iterable<Uint8Array>;

export function writeFileAtomic(file: string, data: Chunks): void {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
    else for (const chunk of data) writeAll(fd, chunk);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
}
