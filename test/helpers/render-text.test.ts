import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy, readNpy } from '../../src/evaluate/npy.js';
import { renderPages, renderTextLines, TEXT_SAMPLES, type RenderedBatch } from './render-text.js';

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function range(a: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < lo) lo = a[i];
    if (a[i] > hi) hi = a[i];
  }
  return [lo, hi];
}

/** Image `n`, channel `c` of an NCHW batch. */
function plane({ data, shape }: RenderedBatch, n: number, c: number): Float32Array {
  const size = shape[2] * shape[3];
  return data.subarray((n * 3 + c) * size, (n * 3 + c + 1) * size);
}

test('TEXT_SAMPLES: about 40 short, distinct, printable strings', () => {
  expect(TEXT_SAMPLES.length).toBeGreaterThanOrEqual(35);
  expect(new Set(TEXT_SAMPLES).size).toBe(TEXT_SAMPLES.length);
  for (const s of TEXT_SAMPLES) expect(s).toMatch(/^[\x20-\x7e]{2,24}$/);
});

describe('renderTextLines', () => {
  const lines = TEXT_SAMPLES.slice(0, 6);

  test('shape, boxes inside the line, values in [-1, 1] as the recognizer expects', () => {
    const r = renderTextLines(lines, { seed: 5 });
    expect(r.shape).toEqual([6, 3, 48, 320]);
    expect(r.data.length).toBe(6 * 3 * 48 * 320);
    const [lo, hi] = range(r.data);
    expect(lo).toBeGreaterThanOrEqual(-1);
    expect(hi).toBeLessThanOrEqual(1);
    expect(lo).toBeLessThan(-0.7); // dark ink
    expect(hi).toBeGreaterThan(0.8); // light background
    expect(r.boxes.map((b) => b.text)).toEqual(lines);
    for (const b of r.boxes) {
      expect(b.x0).toBeGreaterThan(0);
      expect(b.x1).toBeLessThan(320);
      expect(b.y0).toBeGreaterThanOrEqual(0);
      expect(b.y1).toBeLessThanOrEqual(48);
      // Glyphs (ascender to descender) 60-75 % of the line height.
      expect((b.y1 - b.y0) / 48).toBeGreaterThan(0.6);
      expect((b.y1 - b.y0) / 48).toBeLessThan(0.75);
    }
  });

  test('grey: the three channels are equal', () => {
    const r = renderTextLines(lines.slice(0, 2), { seed: 2 });
    for (const n of [0, 1]) {
      expect(bytes(plane(r, n, 1)).equals(bytes(plane(r, n, 0)))).toBe(true);
      expect(bytes(plane(r, n, 2)).equals(bytes(plane(r, n, 0)))).toBe(true);
    }
  });

  test('ink only inside the text box: the margins and the area right of the text are background', () => {
    const r = renderTextLines(['Total 73.18'], { height: 48, width: 320, seed: 9 });
    const [b] = r.boxes;
    const p = plane(r, 0, 0);
    const background = p[0];
    let inkInside = 0;
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < 320; x++) {
        const v = p[y * 320 + x];
        if (x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1) inkInside += v < background - 1 ? 1 : 0;
        else if (x < b.x0 - 2 || x >= b.x1 + 2 || y < b.y0 - 2 || y >= b.y1 + 2) expect(v).toBe(background);
      }
    }
    expect(inkInside).toBeGreaterThan(50);
  });

  test('deterministic: same seed, same bytes; another seed, other bytes', () => {
    const a = renderTextLines(lines, { seed: 7 });
    const b = renderTextLines(lines, { seed: 7 });
    const c = renderTextLines(lines, { seed: 8 });
    expect(bytes(a.data).equals(bytes(b.data))).toBe(true);
    expect(a.boxes).toEqual(b.boxes);
    expect(bytes(a.data).equals(bytes(c.data))).toBe(false);
  });

  test('other sizes (the direction classifier takes 48 x 192); long lines shrink to fit', () => {
    const r = renderTextLines(['Grand total 1,099.00 incl. VAT and shipping'], { height: 48, width: 192 });
    expect(r.shape).toEqual([1, 3, 48, 192]);
    expect(r.boxes[0].x1).toBeLessThan(192);
    expect(r.boxes[0].fontSize).toBeLessThan(48 * 0.6);
    expect(renderTextLines([], {}).shape).toEqual([0, 3, 48, 320]);
    expect(() => renderTextLines(['x'], { width: 10.5 })).toThrow(/width/);
  });
});

describe('renderPages', () => {
  const pages = [TEXT_SAMPLES.slice(0, 3), TEXT_SAMPLES.slice(3, 8)];
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];

  test('shape, ImageNet normalisation ranges, one box per line, lines apart and on the page', () => {
    const r = renderPages(pages, { seed: 3 });
    expect(r.shape).toEqual([2, 3, 320, 320]);
    for (let n = 0; n < 2; n++) {
      for (let c = 0; c < 3; c++) {
        const [lo, hi] = range(plane(r, n, c));
        expect(lo).toBeGreaterThanOrEqual(-mean[c] / std[c] - 1e-5);
        expect(hi).toBeLessThanOrEqual((1 - mean[c]) / std[c] + 1e-5);
        expect(lo).toBeLessThan((0.3 - mean[c]) / std[c]);
        expect(hi).toBeGreaterThan((0.9 - mean[c]) / std[c]);
      }
      // The same grey pixel under each channel's mean/std.
      const [p0, p2] = [plane(r, n, 0), plane(r, n, 2)];
      for (let i = 0; i < p0.length; i += 997) expect(p2[i] * std[2] + mean[2]).toBeCloseTo(p0[i] * std[0] + mean[0], 5);
    }
    expect(r.boxes.map((b) => [b.image, b.text])).toEqual(pages.flatMap((lines, n) => lines.map((t) => [n, t])));
    for (let n = 0; n < 2; n++) {
      const boxes = r.boxes.filter((b) => b.image === n);
      for (const b of boxes) {
        expect(b.x0).toBeGreaterThanOrEqual(0);
        expect(b.y0).toBeGreaterThanOrEqual(0);
        expect(b.x1).toBeLessThanOrEqual(320);
        expect(b.y1).toBeLessThanOrEqual(320);
      }
      for (let i = 1; i < boxes.length; i++) expect(boxes[i].y0).toBeGreaterThanOrEqual(boxes[i - 1].y1);
    }
  });

  test('deterministic per seed; sizes must be multiples of 32', () => {
    const a = renderPages(pages, { size: 256, seed: 11 });
    const b = renderPages(pages, { size: 256, seed: 11 });
    expect(a.shape).toEqual([2, 3, 256, 256]);
    expect(bytes(a.data).equals(bytes(b.data))).toBe(true);
    expect(bytes(a.data).equals(bytes(renderPages(pages, { size: 256, seed: 12 }).data))).toBe(false);
    expect(() => renderPages(pages, { size: 300 })).toThrow(/multiple of 32/);
  });
});

test('the arrays round-trip through .npy (written to a temporary folder only)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'render-text-'));
  try {
    const r = renderTextLines(TEXT_SAMPLES.slice(0, 2), { seed: 1 });
    const file = path.join(dir, 'lines.npy');
    fs.writeFileSync(file, encodeNpy('float32', r.shape, r.data));
    const back = readNpy(file);
    expect(back.shape).toEqual(r.shape);
    expect(bytes(back.data as Float32Array).equals(bytes(r.data))).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
