/** Seeded mutations of model bytes for the corrupt-file tests: truncation, bit flips, junk. */
import { mulberry32 } from '../helpers/seeded-random.js';

export interface Mutant {
  label: string;
  bytes: Uint8Array;
}

/**
 * `count` mutants of `original`: a third truncations (at spread and random offsets), a third byte
 * flips and overwrites (1-8 positions, some with interesting values), the rest spliced junk,
 * duplicated and deleted ranges.
 */
export function mutants(source: Uint8Array, count: number, seed: number): Mutant[] {
  // A plain copy: Buffer.slice returns a view, and flips must not accumulate in the source.
  const original = Uint8Array.from(source);
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const out: Mutant[] = [];
  const interesting = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x08, 0x0a, 0x12, 0x1a, 0x22];
  for (let k = 0; k < count; k++) {
    const kind = k % 3;
    if (kind === 0) {
      // Spread evenly through the file, plus a random jitter so every run is not the same grid.
      const at = k % 2 === 0 ? Math.floor(((k / 3) * original.length) / Math.ceil(count / 3)) % original.length : int(original.length);
      out.push({ label: `truncate@${at}`, bytes: original.slice(0, at) });
    } else if (kind === 1) {
      const bytes = original.slice();
      const n = 1 + int(8);
      const where: number[] = [];
      for (let i = 0; i < n; i++) {
        const at = int(bytes.length);
        where.push(at);
        bytes[at] = rand() < 0.5 ? bytes[at] ^ (1 << int(8)) : interesting[int(interesting.length)];
      }
      out.push({ label: `flip@${where.join(',')}`, bytes });
    } else {
      const choice = int(4);
      const at = int(original.length);
      const len = 1 + int(64);
      if (choice === 0) {
        const junk = Uint8Array.from({ length: len }, () => int(256));
        out.push({ label: `junk-insert@${at}+${len}`, bytes: concat(original.subarray(0, at), junk, original.subarray(at)) });
      } else if (choice === 1) {
        out.push({ label: `delete@${at}+${len}`, bytes: concat(original.subarray(0, at), original.subarray(at + len)) });
      } else if (choice === 2) {
        out.push({ label: `duplicate@${at}+${len}`, bytes: concat(original.subarray(0, at + len), original.subarray(at, at + len), original.subarray(at + len)) });
      } else {
        out.push({ label: `random-file+${len * 16}`, bytes: Uint8Array.from({ length: len * 16 }, () => int(256)) });
      }
    }
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
