/** Prints benchmark rows as one aligned table. */
import type { BenchRow } from './types.js';

export function formatRows(rows: BenchRow[]): string {
  const cells = rows.map((r) => [
    r.name,
    `${num(r.value)} ${r.unit}`,
    r.reference === undefined ? '' : `${num(r.reference)} ${r.unit}`,
    r.ratio === undefined ? '' : num(r.ratio),
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'ok' : 'MISSED',
  ]);
  const header = ['benchmark', 'value', 'reference', 'ratio', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

export function printRows(rows: BenchRow[]): void {
  process.stdout.write(`${formatRows(rows)}\n`);
}

function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 0.01 ? x.toFixed(3) : x.toPrecision(3);
}
