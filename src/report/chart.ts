/**
 * Mermaid `xychart-beta` charts of the optimization steps, as GitHub renders them in comments.
 * xychart has one y-axis, so drift (against the PR model, positive = worse) and the P95 ratio of
 * each step to the one before it (the loop's probe) get one chart each over the same steps; the
 * drift chart draws the gate's limit as a line, the ratio chart the line at 1 (a step below it made
 * the model faster). Only numbers and step indices go into the chart source, never user-controlled
 * names.
 */
import type { Report } from './types.js';

export function stepCharts(report: Report): string[] {
  const steps = report.steps;
  if (steps.length < 2) return [];
  // Quoted labels: band categories are text, and bare numbers there are easy to misparse.
  const x = `x-axis "step" [${steps.map((s) => `"${s.index}"`).join(', ')}]`;
  const out: string[] = [];
  const drifts = steps.map((s) => s.drift);
  const gated = report.metrics.find((m) => m.metric === report.gatedMetric && m.rule);
  const limit = gated?.rule && !gated.rule.relative ? gated.rule.maxDrift : undefined;
  const top = Math.max(...drifts, limit ?? 0);
  const bottom = Math.min(0, ...drifts);
  out.push(
    '```mermaid',
    'xychart-beta',
    `  title "Drift vs PR model per step (points, positive = worse${limit !== undefined ? '; line = limit' : ''})"`,
    `  ${x}`,
    `  y-axis "drift (points)" ${n(niceFloor(bottom))} --> ${n(niceCeil(top))}`,
    `  bar [${drifts.map(n).join(', ')}]`,
    ...(limit !== undefined ? [`  line [${steps.map(() => n(limit)).join(', ')}]`] : []),
    '```',
  );
  if (steps.every((s) => s.latency?.length)) {
    // The largest batch size: where structure pays off first.
    const ratios = steps.map((s) => s.latency!.reduce((a, b) => (b.batchSize > a.batchSize ? b : a)).ratio);
    const batch = Math.max(...steps[0].latency!.map((l) => l.batchSize));
    out.push(
      '',
      '```mermaid',
      'xychart-beta',
      `  title "P95 ÷ previous step (loop probe), batch ${batch} (line = 1)"`,
      `  ${x}`,
      `  y-axis "ratio" 0 --> ${n(niceCeil(Math.max(1, ...ratios)))}`,
      `  bar [${ratios.map(n).join(', ')}]`,
      `  line [${steps.map(() => '1').join(', ')}]`,
      '```',
    );
  }
  return out;
}

function n(x: number): string {
  const s = x.toFixed(3).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

/** Axis bounds rounded outward so the chart does not clip the largest bar. */
function niceCeil(x: number): number {
  if (x <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(x)) / 2;
  return Math.ceil((x * 1.05) / step) * step;
}

function niceFloor(x: number): number {
  return x >= 0 ? 0 : -niceCeil(-x);
}
