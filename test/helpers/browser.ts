/**
 * A real browser for page tests: Debian's Chromium (`apt-get install chromium`; .ci/run installs
 * it), driven by playwright-core, which brings no browser of its own.
 */
import * as fs from 'node:fs';
import { PNG } from 'pngjs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does, or set CHROMIUM_PATH.`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

/** Distinct colours and the share of pixels that differ from the top-left (background) pixel. */
export function pngStats(png: Buffer): { width: number; height: number; colours: number; inkShare: number } {
  const img = PNG.sync.read(png);
  const colours = new Set<number>();
  let ink = 0;
  const bg = img.data.readUInt32BE(0);
  for (let i = 0; i < img.data.length; i += 4) {
    const px = img.data.readUInt32BE(i);
    colours.add(px);
    if (px !== bg) ink++;
  }
  return { width: img.width, height: img.height, colours: colours.size, inkShare: ink / (img.width * img.height) };
}
