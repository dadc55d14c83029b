/**
 * The PR comment and job summary, rendered from a Report: pure, deterministic, golden-tested.
 * Readable in ten seconds: the verdict and why first, then the metric, latency and size tables;
 * everything else folded in <details>. Every string that came from the user's files is escaped.
 */
import type { Interval } from '../evaluate/types.js';
import { escapeText as esc } from './escape.js';
import { markerBlock, type CommentMeta } from './markers.js';
import { stepCharts } from './chart.js';
import { renderNotes } from './notes.js';
import type { LatencyRow, MetricRow, RowStatus } from '../gate/types.js';
import type { Report, Trend } from './types.js';

/** GitHub rejects comment bodies above 65,536 characters; stay under with room for markers. */
export const MAX_COMMENT_CHARS = 65_000;

export interface RenderOptions {
  /** Rows per folded table before "… and N more". */
  maxRows?: number;
  /** The default branch's recent values: adds the one-line trend under the tables. */
  trend?: Trend;
  /** The gate's name in the heading, when the PR has several (absent: the heading as with one gate). */
  gate?: string;
}

/** A limit's unit after its number in the metric column ("drop ≤ 2 pts", "drop ≤ 3 dB"). */
const UNIT_SUFFIX: Record<MetricRow['unit'], string> = { points: ' pts', dB: ' dB', fraction: '', 'label units': '', 'output units': '' };
const MARK: Record<RowStatus, string> = { pass: '✅', fail: '❌', warn: '⚠️', info: '' };
const VERDICT_HEAD: Record<Report['verdict'], string> = {
  pass: '✅ prune-gate: pass',
  fail: '❌ prune-gate: fail',
  warn: '⚠️ prune-gate: pass with warnings',
  error: '🛑 prune-gate: error',
};

/** The PR comment: hidden markers, then the report. Shrinks folded tables if GitHub's size limit requires it. */
export function renderComment(report: Report, meta: CommentMeta = {}, options: RenderOptions = {}): string {
  const head = markerBlock(meta) + '\n';
  let body = head + renderMarkdown(report, options);
  for (const maxRows of [20, 5]) {
    if (body.length <= MAX_COMMENT_CHARS) break;
    body = head + renderMarkdown(report, { ...options, maxRows });
  }
  if (body.length > MAX_COMMENT_CHARS) body = body.slice(0, MAX_COMMENT_CHARS - 200) + '\n\n_(truncated: the full report is in report.md)_\n';
  return body;
}

/** The job summary: the same content without the comment markers. */
export function renderJobSummary(report: Report, options: RenderOptions = {}): string {
  return renderMarkdown(report, options);
}

export function renderMarkdown(report: Report, options: RenderOptions = {}): string {
  const maxRows = options.maxRows ?? 50;
  const out: string[] = [];
  const head = options.gate ? VERDICT_HEAD[report.verdict].replace('prune-gate:', `prune-gate (${esc(options.gate, 64)}):`) : VERDICT_HEAD[report.verdict];
  out.push(`### ${head}${sizeHeadline(report)}`, '', `**${esc(report.reason, 1000)}**`, '');
  const context = contextLine(report);
  if (context) out.push(context, '');
  out.push(...modelChangedCallout(report));
  if (report.gatedMeaning) out.push(`<sub>${esc(report.gatedMeaning, 500)}</sub>`, '');
  if (report.error) out.push(...errorSection(report));
  if (report.metrics.length > 0) out.push(...metricTable(report), '', legend(report), '');
  // One latency section per runtime target (config `targets:`), each gated on its own.
  for (const [target, rows] of byTarget(report.latency)) out.push(...(report.baseBranch && rows.some((l) => l.base) ? threeWayLatency(report, rows, target) : latencyTable(rows, target)), '');
  if (report.targets?.length) out.push(...targetsTable(report.targets), '');
  if (options.trend && options.trend.values.length > 0) out.push(trendLine(report, options.trend), '');
  if (report.resources) out.push(...resourceTable(report), '');
  out.push(...details(report, maxRows));
  out.push(footer(report));
  return out.join('\n') + '\n';
}

/** The candidate's file size against the PR model's, in the heading: the first number people look for. */
function sizeHeadline(report: Report): string {
  const r = report.resources;
  if (!r || report.verdict === 'error' || r.original.fileBytes <= 0) return '';
  return ` · model ${ratio(r.candidate.fileBytes / r.original.fileBytes)} the size`;
}

/** Which PR, which commit, when, and where the run and its artifact are. */
function contextLine(report: Report): string {
  const pr = report.pullRequest;
  const parts = [
    ...(pr ? [`PR #${pr.number} at \`${pr.headSha.slice(0, 12)}\``] : []),
    ...(report.created && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(report.created) ? [`measured ${report.created.slice(0, 10)} ${report.created.slice(11, 16)} UTC`] : []),
    ...(report.run ? [`[workflow run](${encodeURI(report.run.url)})${report.run.artifact ? `, artifact \`${esc(report.run.artifact, 100)}\`` : ''}`] : []),
  ];
  return parts.length ? `<sub>${parts.join(' · ')}</sub>` : '';
}

/** A PR that changed the model is compared with what it replaced: say so before any table. */
function modelChangedCallout(report: Report): string[] {
  const base = report.baseBranch;
  const lines: string[] = [];
  if (report.prModelChanged) {
    lines.push(
      "It is not the model the frozen baseline was frozen from (sha256 differs): the metrics are gated against the frozen baseline, with the PR model's own numbers in their own column. Once it is merged, refreeze the baseline (`mode: baseline`, or `npx prune-gate baseline`).",
    );
  }
  if (base?.changed) lines.push(`It differs from the base branch's model (\`${esc(base.model)}\`${base.commit ? ` at ${base.commit.slice(0, 12)}` : ''}), measured beside it in the latency table.`);
  if (lines.length === 0) return [];
  return ['> [!NOTE]', `> **This PR changes the model.** ${lines.join(' ')}`, ''];
}

/** The commands that rerun this on a laptop, and rebuild the candidate from the recorded decisions. */
function reproduce(report: Report): string[] {
  const version = /^\d+\.\d+\.\d+/.test(report.toolVersion) ? `@${report.toolVersion}` : '';
  const config = shellArg(report.configPath);
  const base = report.baseBranch;
  const lines: string[] = [];
  if (base?.commit) lines.push(`git show ${base.commit}:${shellArg(base.model)} > base.onnx`);
  lines.push(`npx prune-gate${version} run --config ${config}${base?.commit ? ` --base-model base.onnx --base-commit ${base.commit}` : ''}`);
  if (report.decisions?.length) {
    const run = report.run && /\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)/.exec(report.run.url);
    const dir = report.run?.artifact ? shellArg(report.run.artifact) : 'prune-gate-report';
    lines.push('', "# this run's candidate, byte for byte, from its recorded decisions");
    if (run && report.run?.artifact) lines.push(`gh run download ${run[3]} --repo ${run[1]}/${run[2]} --name ${dir} --dir ${dir}`);
    lines.push(`npx prune-gate${version} optimize --config ${config} --replay ${dir}/report.json --out model.optimized.onnx`);
  }
  return ['<details>', '<summary>Reproduce locally</summary>', '', '```sh', ...lines, '```', '', '</details>', ''];
}

/** A path or name as one shell word; anything beyond plain path characters is single-quoted (quotes and backticks dropped). */
function shellArg(s: string): string {
  return /^[\w./@:+-]+$/.test(s) ? s : `'${s.replace(/[`'\n\r]/g, '')}'`;
}

function errorSection(report: Report): string[] {
  const e = report.error!;
  const lines = [`**What went wrong** (${e.kind}${e.where ? `, \`${esc(e.where)}\`` : ''}):`, '', '<pre>' + escPre(e.message) + '</pre>', ''];
  const fix: Record<typeof e.kind, string> = {
    config: `Fix \`${esc(report.configPath)}\` and push again; \`npx prune-gate run --config ${esc(report.configPath)}\` reproduces this locally.`,
    model: 'Check that the model file is committed (not a Git LFS pointer) and loads in ONNX Runtime.',
    data: 'Check the evaluation data paths and shapes in the config.',
    baseline: `Freeze one with \`npx prune-gate baseline --config ${esc(report.configPath)}\` and commit it, or remove \`baseline:\` from the config.`,
    runtime: `In a workflow, use prune-gate's release tag (\`uses: <owner>/prune-gate@v${report.toolVersion.split('.')[0]}\`): its tree carries ONNX Runtime's Linux binaries, a branch such as \`@main\` holds \`dist/\` only. On a machine, \`npm install\` (or \`npm ci\`) installs onnxruntime-node.`,
    parts: 'Every verify shard and bench part of one workflow run must reach the merge job: check that each matrix job succeeded and uploaded its folder, that the download step fetched every artifact, and re-run the failed jobs (docs/scale-out.md).',
    internal: 'This is a bug in prune-gate; please open an issue with this comment.',
  };
  lines.push(fix[e.kind], '');
  return lines;
}

/** Multi-line text inside <pre>: escaped for HTML, newlines kept, length capped. */
function escPre(text: string): string {
  const capped = text.length > 3000 ? text.slice(0, 2999) + '…' : text;
  return capped
    .split('\n')
    .map((l) => esc(l, 3000))
    .join('\n');
}

/** The names of the models compared: the same words in every table, note and sentence of the comment. */
const NAMES = { 'frozen-baseline': 'Frozen baseline', 'original-model': 'PR model' } as const;

function metricTable(report: Report): string[] {
  const three = report.prModelChanged === true;
  const head = three
    ? ['Metric', NAMES[report.reference], 'PR model', 'Candidate', `Drift vs ${lower(NAMES[report.reference])} (95 % CI)`, 'McNemar p', '']
    : ['Metric', NAMES[report.reference], 'Candidate', `Drift vs ${lower(NAMES[report.reference])} (95 % CI)`, 'McNemar p', ''];
  const rows = report.metrics.map((m) => {
    const cells = [metricName(m), f2(m.reference)];
    if (three) cells.push(m.prModel === undefined ? '' : f2(m.prModel));
    cells.push(f2(m.candidate), signed(m.drift) + (m.interval ? ` (${ci(m.interval)})` : ''), m.mcnemar ? pValue(m.mcnemar.pValue) : '', MARK[m.status]);
    return cells;
  });
  return table(head, rows, ['l', ...head.slice(1, -1).map((): 'r' => 'r'), 'c']);
}

/**
 * The comment's one sign convention, stated once under the first table: drift is how much worse
 * (positive) or better (negative) the candidate is, whichever way the metric runs; every ratio is
 * the newer model over the older one.
 */
function legend(report: Report): string {
  const ref = lower(NAMES[report.reference]);
  const base = report.baseBranch && report.latency.some((l) => l.base) ? ' (and PR model ÷ base branch)' : '';
  const ratios = report.latency.length || report.resources ? ` Ratios: candidate ÷ PR model${base}, below 1× is faster or smaller.` : '';
  return `<sub>Drift: how much worse the candidate is than the ${ref}, in the limit's unit (positive = worse, for every metric).${ratios}</sub>`;
}

function lower(s: string): string {
  return s === 'PR model' ? s : s.toLowerCase();
}

function metricName(m: MetricRow): string {
  const name = `**${esc(m.metric)}**`;
  if (!m.rule) return m.gated ? `${name} (gated)` : name;
  const unit = m.rule.relative ? ' %' : UNIT_SUFFIX[m.unit];
  const dir = m.higherIsBetter ? 'drop' : 'rise';
  return `${name} (${dir} ≤ ${num(m.rule.maxDrift)}${unit}${m.rule.use === 'interval' ? ', interval' : ''})`;
}

/** A P99 over fewer runs than this rests on the slowest one: its cell says so. */
const NOISY_P99_RUNS = 100;

/** Latency rows grouped by target, in the report's order (one untitled group without targets). */
function byTarget(rows: LatencyRow[]): Map<string | undefined, LatencyRow[]> {
  const groups = new Map<string | undefined, LatencyRow[]>();
  for (const r of rows) groups.set(r.target, [...(groups.get(r.target) ?? []), r]);
  return groups;
}

function onTarget(target: string | undefined): string {
  return target ? ` on ${esc(target, 20)}` : '';
}

function latencyTable(rows: LatencyRow[], target?: string): string[] {
  const goal = rows.find((r) => r.goal !== undefined)?.goal;
  const title = `**Latency${onTarget(target)}** (ms per batch, PR model → candidate, candidate ÷ PR model with 95 % CI${goal !== undefined ? `; goal: P95 ratio ≤ ${num(goal)}×` : ''})`;
  return [title, '', ...percentileTable(rows)];
}

function percentileTable(rows: LatencyRow[]): string[] {
  // A merged report: one section per runner kind, each measured on its own machine.
  const runners = rows.some((r) => r.runner !== undefined);
  const body = rows.map((r) => [
    ...(runners ? [esc(r.runner ?? '', 100)] : []),
    String(r.batchSize),
    `${ms(r.original.p50)} → ${ms(r.candidate.p50)} (${ratio(r.ratios.p50.value)})`,
    `${ms(r.original.p95)} → ${ms(r.candidate.p95)} (${ratio(r.ratios.p95.value)}, ${ciRatio(r.ratios.p95.interval)})`,
    `${ms(r.original.p99)} → ${ms(r.candidate.p99)} (${ratio(r.ratios.p99.value)}, ${ciRatio(r.ratios.p99.interval)}${r.runs !== undefined && r.runs < NOISY_P99_RUNS ? `; noisy: ${r.runs} runs` : ''})`,
    MARK[r.status],
  ]);
  return table([...(runners ? ['Runner'] : []), 'Batch', 'P50', 'P95', 'P99', ''], body, [...(runners ? ['l' as const] : []), 'r', 'r', 'r', 'r', 'c']);
}

/**
 * With the base branch measured: P95 of the three models side by side, each ratio with its 95 %
 * interval and mark; the candidate's P50/P99 against the PR model are folded under it.
 */
function threeWayLatency(report: Report, rows: LatencyRow[], target?: string): string[] {
  const goal = rows.find((r) => r.goal !== undefined)?.goal;
  const limit = rows.find((r) => r.vsBase?.limit !== undefined)?.vsBase?.limit;
  const base = report.baseBranch!;
  const limits = [limit !== undefined ? `PR model ÷ base branch ≤ ${num(limit)}×` : 'PR model ÷ base branch not gated (gate.p95-regression)', ...(goal !== undefined ? [`candidate ÷ PR model ≤ ${num(goal)}×`] : [])];
  const title = `**Latency${onTarget(target)}** (P95 ms per batch, measured interleaved in this run; base branch: \`${esc(base.model)}\`${base.commit ? ` at ${base.commit.slice(0, 12)}` : ''}; ${limits.join(', ')})`;
  const ratioCell = (r: { value: number; interval: Interval }, status: RowStatus) => `${ratio(r.value)} (${ciRatio(r.interval)}) ${MARK[status]}`.trimEnd();
  const body = rows.map((r) => [
    String(r.batchSize),
    r.base ? ms(r.base.p95) : '',
    ms(r.original.p95),
    ms(r.candidate.p95),
    r.vsBase ? ratioCell(r.vsBase.ratios.p95, r.vsBase.status) : '',
    ratioCell(r.ratios.p95, r.status),
  ]);
  return [
    title,
    '',
    ...table(['Batch', 'Base branch', 'PR model', 'Candidate', 'PR model ÷ base branch', 'Candidate ÷ PR model'], body, ['r', 'r', 'r', 'r', 'r', 'r']),
    '',
    '<details>',
    '<summary>PR model → candidate: P50, P95, P99 (candidate ÷ PR model)</summary>',
    '',
    ...percentileTable(rows),
    '',
    '</details>',
  ];
}

/** Each model's outputs on a further runtime target against its native run: the fidelity metrics, each with its limit. */
function targetsTable(targets: NonNullable<Report['targets']>): string[] {
  const title = '**Runtime targets** (outputs against the same model run natively; the candidate\'s are gated)';
  const body = targets.map((t) => [
    `${esc(t.target, 20)} (${esc(t.runtime, 100)})`,
    t.model === 'candidate' ? 'candidate' : 'PR model',
    // Rounding differences between runtimes are around 1e-6: shown as such, not as 0.
    t.metrics.map((m) => `${metricName(m)} ${m.candidate !== 0 && Math.abs(m.candidate) < 1e-3 ? m.candidate.toExponential(1) : num(m.candidate)} ${MARK[m.status]}`.trimEnd()).join(', '),
    MARK[t.verdict],
  ]);
  return [title, '', ...table(['Target', 'Model', 'Outputs against native', ''], body, ['l', 'l', 'l', 'c'])];
}

/** One line: the last values on the default branch, oldest first, then this run's. */
function trendLine(report: Report, trend: Trend): string {
  const n = trend.values.length;
  const series = (values: (number | null)[], format: (x: number) => string) => values.map((v) => (v === null ? '–' : format(v))).join(' → ');
  const current = report.metrics.find((m) => m.metric === trend.metric)?.candidate;
  const parts = [`${esc(trend.metric)} ${series(trend.values, f2)}${current === undefined ? '' : ` (this run ${f2(current)})`}`];
  for (const p of trend.p95) {
    const now = report.latency.find((l) => l.batchSize === p.batchSize)?.candidate.p95;
    parts.push(`P95 batch ${p.batchSize} ${series(p.values, ms)} ms${now === undefined ? '' : ` (this run ${ms(now)})`}`);
  }
  return `**Trend on \`${esc(trend.branch)}\`** (last ${n} commit${n === 1 ? '' : 's'}, oldest first): ${parts.join(' · ')}`;
}

function resourceTable(report: Report): string[] {
  const { original: b, candidate: c } = report.resources!;
  const row = (label: string, x: number, y: number) => [label, bytes(x), bytes(y), x > 0 ? ratio(y / x) : ''];
  return table(
    ['', 'PR model', 'Candidate', 'Candidate ÷ PR model'],
    [row('File size', b.fileBytes, c.fileBytes), row('gzip size', b.gzipBytes, c.gzipBytes), row('Peak memory (RSS)', b.peakRssBytes, c.peakRssBytes)],
    ['l', 'r', 'r', 'r'],
  );
}

function details(report: Report, maxRows: number): string[] {
  const out: string[] = [];
  const fold = (summary: string, body: string[]) => out.push('<details>', `<summary>${summary}</summary>`, '', ...body, '', '</details>', '');
  if (report.steps.length > 0) {
    const kept = report.steps.filter((s) => s.kept).length;
    const rows = report.steps.map((s) => [
      String(s.index),
      esc(s.stage),
      esc(s.action),
      esc(params(s.params)),
      f2(s.metric),
      signed(s.drift) + (s.driftInterval ? ` (${ci(s.driftInterval)})` : ''),
      (s.latency ?? []).map((l) => `${ratio(l.ratio)} b${l.batchSize}${l.target ? ` ${esc(l.target, 20)}` : ''}`).join(', '),
      s.sizeBytes === undefined ? '' : bytes(s.sizeBytes),
      s.kept ? 'kept' : 'not kept',
      esc(s.reason),
    ]);
    fold(`Optimization steps (${report.steps.length}, ${kept} kept)`, [
      stepsLead(report),
      '',
      ...capped(table(['#', 'Stage', 'Action', 'Params', esc(report.gatedMetric || 'metric'), 'Drift vs PR model', 'P95 ÷ previous step (loop probe)', 'Size', 'Result', 'Why'], rows, ['r', 'l', 'l', 'l', 'r', 'r', 'r', 'r', 'l', 'l']), maxRows),
      '',
      ...stepCharts(report),
    ]);
  }
  const changed = report.passes.flatMap((p) => p.changed.map((c) => [esc(p.pass), esc(c.name), esc(c.opType), esc(c.change), c.error === undefined ? '' : num(c.error)]));
  const skipped = report.passes.flatMap((p) => p.skipped.map((s) => [esc(p.pass), esc(s.what), esc(s.reason)]));
  if (changed.length + skipped.length + report.fallbackNodes.length > 0) {
    const body: string[] = [];
    const summary = report.passes.map((p) => `- **${esc(p.pass)}**: ${count(p.paramsBefore)} → ${count(p.paramsAfter)} parameters, ${p.changed.length} changed, ${p.skipped.length} skipped`);
    body.push(...summary, '');
    if (changed.length > 0) body.push('Changed layers:', '', ...capped(table(['Pass', 'Node', 'Op', 'Change', 'Error'], changed, ['l', 'l', 'l', 'l', 'r']), maxRows), '');
    if (skipped.length > 0) body.push('Skipped:', '', ...capped(table(['Pass', 'What', 'Why'], skipped, ['l', 'l', 'l']), maxRows), '');
    if (report.fallbackNodes.length > 0) {
      body.push('Left in float (fallback):', '', ...capped(table(['Node', 'Why'], report.fallbackNodes.map((f) => [esc(f.what), esc(f.reason)]), ['l', 'l']), maxRows), '');
    }
    fold(`Layers: ${changed.length} changed, ${skipped.length} skipped, ${report.fallbackNodes.length} fallback`, trimEnd(body));
  }
  if (report.profile && report.profile.top.length > 0) {
    const rows = report.profile.top.map((p) => [esc(p.name), esc(p.opType), ms(p.ms), `${(100 * p.share).toFixed(1)} %`]);
    fold(`Per-layer profile (top ${report.profile.top.length}, batch ${report.profile.batchSize})`, capped(table(['Node', 'Op', 'ms', 'Share'], rows, ['l', 'l', 'r', 'r']), maxRows));
  }
  if (report.storedBaselineLatency) {
    const s = report.storedBaselineLatency;
    const rows = s.rows.map((r) => [String(r.batchSize), ms(r.p50), ms(r.p95), ms(r.p99)]);
    fold("Frozen baseline's stored latency", [...(s.note ? [esc(s.note, 1000), ''] : []), ...table(['Batch', 'P50', 'P95', 'P99'], rows, ['r', 'r', 'r', 'r'])]);
  }
  if (report.machine) {
    const m = report.machine;
    const isa = Object.entries(m.isa)
      .filter(([, on]) => on)
      .map(([k]) => k.toUpperCase())
      .join(', ');
    fold('Machine', [
      `- CPU: ${esc(m.cpuModel)} (${m.cores} cores; ${isa || 'no AVX2/AVX-512/VNNI/AMX'})`,
      `- ONNX Runtime ${esc(m.ortVersion)}, Node ${esc(m.nodeVersion)}, ${esc(m.platform)}`,
      `- Threads: intra-op ${m.intraOpThreads}, inter-op ${m.interOpThreads}; energy: ${m.energySource}`,
      ...(m.fingerprint ? [`- Fingerprint: \`${esc(m.fingerprint)}\``] : []),
    ]);
  }
  if (report.verdict !== 'error') out.push(...reproduce(report));
  out.push(...renderNotes(report.notes, maxRows));
  return out;
}

/**
 * What the step table measures, so it cannot be read against the tables above: the loop judges
 * each step on the search samples against the PR model, and times it in a short probe against the
 * model before it; the shipped candidate's latency is the final benchmark's, repeated here.
 */
function stepsLead(report: Report): string {
  const split = report.split;
  const samples = !split ? 'the samples the loop searched on' : split.how === 'none' ? `the ${split.testSamples} evaluation samples` : `the ${split.searchSamples} search samples (the table above: the ${split.testSamples} test samples)`;
  const metric = esc(report.gatedMetric || 'the metric');
  const final = report.latency.map((l) => `${ratio(l.ratios.p95.value)} at batch ${l.batchSize}${l.runner ? ` on ${esc(l.runner, 100)}` : ''}${onTarget(l.target)}`);
  const shipped = final.length ? ` The shipped candidate's P95 is the final interleaved benchmark's, as in the latency table: ${final.join(', ')} (candidate ÷ PR model).` : '';
  return `Each step as the loop judged it: ${metric} and its drift against the PR model on ${samples}. P95 ÷ previous step is the loop's short probe of the step against the model before it, which only decides whether the step is kept.${shipped}`;
}

function footer(report: Report): string {
  // Phase keys name the PR model "original" (report.json keeps them); the comment uses its one name.
  const times = Object.entries(report.timings)
    .map(([k, v]) => `${esc(k.replace(/original/g, 'PR model').replace(/-/g, ' '))} ${v.toFixed(1)} s`)
    .join(', ');
  const models = report.models.candidate ? ` · model \`${esc(report.models.original)}\` → \`${esc(report.models.candidate)}\`` : report.models.original ? ` · model \`${esc(report.models.original)}\`` : '';
  return `<sub>prune-gate ${esc(report.toolVersion)} · config \`${esc(report.configPath)}\`${models}${times ? ` · ${times}` : ''}</sub>`;
}

function table(head: string[], rows: string[][], align: ('l' | 'r' | 'c')[]): string[] {
  const sep = align.map((a) => (a === 'r' ? '---:' : a === 'c' ? ':-:' : '---'));
  return [`| ${head.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** Keeps the header, separator and maxRows rows, then says how many were left out. */
function capped(lines: string[], maxRows: number): string[] {
  if (lines.length - 2 <= maxRows) return lines;
  return [...lines.slice(0, 2 + maxRows), '', `_… and ${lines.length - 2 - maxRows} more in report.json_`];
}

function trimEnd(lines: string[]): string[] {
  const out = [...lines];
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

function params(p: Record<string, string | number | boolean>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

function f2(x: number): string {
  const s = x.toFixed(2);
  return s === '-0.00' ? '0.00' : s;
}

function signed(x: number): string {
  const s = f2(x);
  return s.startsWith('-') || s === '0.00' ? s : `+${s}`;
}

function ci(i: Interval): string {
  return `${f2(i.low)} to ${f2(i.high)}`;
}

function ciRatio(i: Interval): string {
  return `${f2(i.low)}–${f2(i.high)}`;
}

function ratio(x: number): string {
  return `${f2(x)}×`;
}

function num(x: number): string {
  return String(Number(x.toFixed(4)));
}

function pValue(p: number): string {
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

export function ms(x: number): string {
  if (x < 1) return x.toFixed(3);
  if (x < 100) return x.toFixed(2);
  return x.toFixed(1);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function count(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}
