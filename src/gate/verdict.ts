/**
 * The gate: pure functions from measurements and thresholds to a verdict. The rule everywhere is
 * "never a red build caused by noise": a number beyond its limit fails only when the configured
 * rule says so (`use: point`), or when the whole 95 % interval is beyond it (`use: interval`, and
 * always for latency); a limit inside the interval is a warning, not a failure.
 */
import type { EvalResult, Interval, LatencyComparison } from '../evaluate/types.js';
import { canonicalMetric, higherIsBetter, metricColumns, metricDef, metricValue, type MetricRule, type MetricUnit, type MetricValues, type PerSampleResults } from '../metrics/index.js';
import type { Baseline } from './baseline.js';
import { mcnemar, metricDifference } from './paired-stats.js';
import type { LatencyRow, MetricRow, Verdict } from './types.js';

/** The config's `gate:` section (structurally the same as config's GateConfig). */
export interface GateRules {
  accuracyDrop: number;
  use: 'point' | 'interval';
  p95Ratio?: number;
  /** PR model / base branch P95 at most this (`gate.p95-regression`); absent: shown, not gated. */
  p95Regression?: number;
  relative?: boolean;
  metrics?: Partial<Record<string, MetricRule>>;
}

export interface GateInput {
  /** Configured metrics; the first one is gated. */
  metrics: string[];
  rules: GateRules;
  /** The frozen baseline, when the config names one; otherwise the original model is the reference. */
  baseline?: Baseline;
  /** The PR's model as committed, measured in this run. */
  original: EvalResult;
  candidate: EvalResult;
  latency: LatencyComparison[];
  /** The PR model against the base branch's model (reference: base branch), per batch size, when it was measured. */
  baseLatency?: LatencyComparison[];
  /** True when the PR's model differs from the frozen baseline's (sha256 differs). */
  prModelChanged?: boolean;
  /** Seed for the bootstrap. */
  seed?: number;
  /** latency (default): a candidate slower than the original is marked; size: allowed, and the verdict says so. */
  objective?: 'latency' | 'size';
  /**
   * The optimizer kept steps, but the candidate is the original: none made the model faster
   * ('not-faster'), or none stayed inside the accuracy rule on the test split ('drifted').
   */
  candidateIsOriginal?: 'not-faster' | 'drifted';
  resamples?: number;
}

export interface GateDecision {
  verdict: Exclude<Verdict, 'error'>;
  reason: string;
  gatedMetric: string;
  reference: 'frozen-baseline' | 'original-model';
  metrics: MetricRow[];
  latency: LatencyRow[];
}

interface Reference {
  metrics: MetricValues;
  perSample: PerSampleResults;
  samples: number;
  label: string;
}

export function decideVerdict(input: GateInput): GateDecision {
  if (input.metrics.length === 0) throw new Error('decideVerdict: no metrics configured');
  const gatedMetric = input.metrics[0];
  const ref: Reference = input.baseline
    ? { metrics: input.baseline.metrics, perSample: input.baseline.perSample, samples: input.baseline.samples, label: 'the frozen baseline' }
    : { metrics: input.original.metrics, perSample: input.original.perSample, samples: input.original.samples, label: 'the PR model' };

  const names = [...input.metrics];
  for (const m of Object.keys(input.rules.metrics ?? {})) if (!names.some((n) => canonicalMetric(n) === canonicalMetric(m))) names.push(m);

  const rows: MetricRow[] = [];
  for (const name of names) {
    const row = metricRow(name, name === gatedMetric, input, ref);
    if (row) rows.push(row);
  }
  if (!rows.some((r) => r.metric === gatedMetric)) {
    throw new Error(`decideVerdict: the gated metric "${gatedMetric}" is missing from the evaluation results`);
  }
  const latency = input.latency.map((c) => {
    const row = latencyRow(c, input.rules.p95Ratio);
    const base = input.baseLatency?.find((b) => b.batchSize === c.batchSize);
    return base ? withBase(row, base, input.rules.p95Regression) : row;
  });
  let { verdict, reason } = summarize(rows, latency, ref.label);
  if (verdict === 'pass' && input.candidateIsOriginal) {
    verdict = 'warn';
    const why = input.candidateIsOriginal === 'drifted' ? 'no optimization step kept by the search stayed inside the accuracy rule on the test split' : 'no optimization step made the model faster on this machine';
    reason = sentence(`${why}, so the candidate is the PR model, unchanged; ${lowerFirst(reason)}`);
  }
  const slower = latency.filter((l) => l.ratios.p95.value > 1);
  if (verdict !== 'fail' && input.objective === 'size' && slower.length) {
    reason = sentence(`${reason.replace(/\.$/, '')}; with objective size, the candidate is slower: ${slower.map((l) => `${fmt(l.ratios.p95.value)}× P95 at batch ${l.batchSize}`).join(', ')}`);
  }
  return { verdict, reason, gatedMetric, reference: input.baseline ? 'frozen-baseline' : 'original-model', metrics: rows, latency };
}

/**
 * How much drift of the gated metric the optimizer may spend, in the metric's own units, measured
 * against the model it starts from. With a frozen baseline, whatever the PR's own model already
 * lost against it is taken off, so the optimized candidate still passes the gate.
 */
export function optimizationBudget(gatedMetric: string, rules: GateRules, start: MetricValues, baseline?: MetricValues): number {
  const rule = ruleFor(gatedMetric, true, rules) ?? {};
  const up = higherIsBetter(gatedMetric);
  const startValue = metricValue(start, gatedMetric);
  const refValue = (baseline && metricValue(baseline, gatedMetric)) ?? startValue;
  if (startValue === undefined || refValue === undefined) return rule.maxDrift ?? 0;
  let budget = Infinity;
  if (rule.maxDrift !== undefined) {
    const limit = rule.relative && refValue !== 0 ? (rule.maxDrift * Math.abs(refValue)) / 100 : rule.maxDrift;
    const alreadyLost = up ? refValue - startValue : startValue - refValue;
    budget = limit - Math.max(0, alreadyLost);
  }
  // An absolute bound (sqnr at least 20 dB) leaves the room between the start and the bound.
  if (up && rule.min !== undefined) budget = Math.min(budget, startValue - rule.min);
  if (!up && rule.max !== undefined) budget = Math.min(budget, rule.max - startValue);
  return Number.isFinite(budget) ? Math.max(0, budget) : 0;
}

function ruleFor(name: string, gated: boolean, rules: GateRules): (MetricRule & { maxDrift?: number }) | undefined {
  const own = Object.entries(rules.metrics ?? {}).find(([k]) => canonicalMetric(k) === canonicalMetric(name))?.[1];
  if (!own && !gated) return undefined;
  // A gated metric nobody configured follows the registry's default rule (a drift of accuracy-drop).
  const rule: MetricRule = { ...(gated ? metricDef(name)?.defaultRule(rules.accuracyDrop) : undefined), ...own };
  const maxDrift = higherIsBetter(name) ? rule.maxDrop : rule.maxIncrease;
  return { ...rule, maxDrift, use: own?.use ?? rules.use, relative: own?.relative ?? rules.relative ?? false };
}

function metricRow(name: string, isGatedMetric: boolean, input: GateInput, ref: Reference): MetricRow | undefined {
  const base = metricValue(ref.metrics, name);
  const cand = metricValue(input.candidate.metrics, name);
  if (base === undefined || cand === undefined) return undefined;
  const up = higherIsBetter(name);
  const configured = ruleFor(name, isGatedMetric, input.rules);
  // Relative drift is a percentage of the reference value; a zero reference has no scale, so the
  // limit is then read in the metric's own units.
  const rule = configured && configured.relative && base === 0 ? { ...configured, relative: false } : configured;
  const relative = rule?.relative ?? false;
  const scale = relative ? 100 / Math.abs(base) : 1;
  const worse = (up ? base - cand : cand - base) * scale;

  let interval: Interval | undefined;
  const paired = ref.samples === input.candidate.samples;
  const raw = paired ? metricDifference(name, ref.perSample, input.candidate.perSample, ref.samples, { seed: input.seed, resamples: input.resamples }) : undefined;
  if (raw) {
    const lo = (up ? raw.low : -raw.high) * scale;
    const hi = (up ? raw.high : -raw.low) * scale;
    interval = { low: lo, high: hi, level: raw.level };
  }
  const row: MetricRow = {
    metric: name,
    gated: rule !== undefined,
    higherIsBetter: up,
    unit: metricDef(name)?.unit ?? 'points',
    reference: base,
    candidate: cand,
    delta: cand - base,
    drift: worse,
    status: 'info',
  };
  if (input.baseline && input.prModelChanged) {
    const pr = metricValue(input.original.metrics, name);
    if (pr !== undefined) row.prModel = pr;
  }
  if (interval) row.interval = interval;
  const outcomes = paired ? binaryOutcomes(name, ref.perSample, input.candidate.perSample) : undefined;
  if (outcomes) {
    const m = mcnemar(outcomes.reference, outcomes.candidate);
    if (m) row.mcnemar = m;
  }
  if (!rule) return row;
  judge(row, rule, paired);
  return row;
}

/** The 0/1 per-sample outcomes McNemar's test pairs, for metrics whose column holds them (not per-position shares). */
function binaryOutcomes(metric: string, a: PerSampleResults, b: PerSampleResults): { reference: number[]; candidate: number[] } | undefined {
  const def = metricDef(metric);
  const ca = metricColumns(metric, a);
  const cb = metricColumns(metric, b);
  if (!def?.mcnemar || !ca || !cb) return undefined;
  const key = Object.keys(def.perSample)[0];
  const binary = (c: number[]) => c.every((v) => v === 0 || v === 1);
  return binary(ca[key]) && binary(cb[key]) ? { reference: ca[key], candidate: cb[key] } : undefined;
}

/** Sets status and explanation from the rule; the order of checks is the order of severity. */
function judge(row: MetricRow, rule: MetricRule & { maxDrift?: number }, paired: boolean): void {
  const unit = rule.relative ? '% of the reference' : UNIT_WORDS[row.unit];
  const word = row.higherIsBetter ? 'dropped' : 'rose';
  // The interval is always the drift's (positive = worse): an improvement states its negative drift
  // before the interval, so the two numbers in the sentence never have opposite signs.
  const interval = row.interval ? `95 % CI ${fmt(row.interval.low)} to ${fmt(row.interval.high)}` : '';
  const what = row.drift < 0 ? `${row.metric} improved by ${fmt(-row.drift)}${unit}` : `${row.metric} ${word} ${fmt(row.drift)}${unit}`;
  const ci = row.drift < 0 ? ` (drift ${fmt(row.drift)}${interval ? `, ${interval}` : ''})` : interval ? ` (${interval})` : '';
  if (rule.min !== undefined && row.candidate < rule.min) {
    row.status = 'fail';
    row.explanation = `${row.metric} is ${fmt(row.candidate)}, below the minimum ${fmt(rule.min)}`;
    return;
  }
  if (rule.max !== undefined && row.candidate > rule.max) {
    row.status = 'fail';
    row.explanation = `${row.metric} is ${fmt(row.candidate)}, above the maximum ${fmt(rule.max)}`;
    return;
  }
  if (rule.maxDrift === undefined) {
    row.status = 'pass';
    row.explanation = `${row.metric} is within its bounds`;
    return;
  }
  const limit = rule.maxDrift;
  row.rule = { maxDrift: limit, use: rule.use ?? 'point', relative: rule.relative ?? false };
  const limitText = `the ${num(limit)}${rule.relative ? ' %' : LIMIT_WORDS[row.unit]} limit`;
  const useInterval = rule.use === 'interval' && row.interval !== undefined;
  if (useInterval ? row.interval!.low > limit : row.drift > limit) {
    row.status = 'fail';
    row.explanation = useInterval ? `${what}${ci}: the whole interval is above ${limitText}` : `${what}${ci}, above ${limitText}`;
    return;
  }
  if (row.interval && row.interval.high > limit) {
    row.status = 'warn';
    row.explanation = `${what}, within ${limitText}, but its 95 % interval reaches ${fmt(row.interval.high)}; more evaluation samples would settle it`;
    return;
  }
  row.status = 'pass';
  const noInterval = rule.use === 'interval' && !row.interval ? (paired ? ' (no per-sample results: point estimate used)' : ' (samples differ from the reference: point estimate used)') : '';
  row.explanation = `${what}${ci}, within ${limitText}${noInterval}`;
}

/** A drift in the metric's unit, as the explanation words it ("dropped 0.4 points", "rose 0.02"). */
const UNIT_WORDS: Record<MetricUnit, string> = { points: ' points', dB: ' dB', fraction: '', 'label units': '', 'output units': '' };
/** The limit's unit as an adjective ("the 2-point limit", "the 3 dB limit"). */
const LIMIT_WORDS: Record<MetricUnit, string> = { points: '-point', dB: ' dB', fraction: '', 'label units': '', 'output units': '' };

/**
 * One batch size's latency row. With a goal, 'fail' only when the whole P95-ratio interval is
 * above it; without, a candidate slower than the original is marked (⚠️ above 1, ❌ when the whole
 * interval is), which the verdict reports but does not fail on.
 */
export function latencyRow(c: LatencyComparison, goal: number | undefined): LatencyRow {
  const row: LatencyRow = { batchSize: c.batchSize, original: pick(c.reference), candidate: pick(c.candidate), ratios: c.ratios, status: 'info', runs: Math.min(c.reference.runs, c.candidate.runs) };
  const r = c.ratios.p95;
  if (goal === undefined) {
    if (r.value > 1) row.status = r.interval.low > 1 ? 'fail' : 'warn';
    return row;
  }
  row.goal = goal;
  row.status = r.interval.low > goal ? 'fail' : r.value > goal ? 'warn' : 'pass';
  return row;
}

const pick = (s: LatencyComparison['reference']) => ({ p50: s.p50, p95: s.p95, p99: s.p99 });

/**
 * The base branch's numbers on a row, and the PR model against them (`vsBase`: the base branch is
 * the reference). Judged as the candidate's goal is: 'fail' only when the whole P95-ratio interval
 * is above the limit; without a limit the ratio is shown and not judged.
 */
export function withBase(row: LatencyRow, base: LatencyComparison, limit: number | undefined): LatencyRow {
  const r = base.ratios.p95;
  const status = limit === undefined ? 'info' : r.interval.low > limit ? 'fail' : r.value > limit ? 'warn' : 'pass';
  return { ...row, base: pick(base.reference), vsBase: { ratios: base.ratios, ...(limit !== undefined && { limit }), status } };
}

function summarize(rows: MetricRow[], latency: LatencyRow[], refLabel: string): { verdict: GateDecision['verdict']; reason: string } {
  const failed = rows.find((r) => r.status === 'fail');
  if (failed) return { verdict: 'fail', reason: sentence(`${failed.explanation}, against ${refLabel}`) };
  const slow = latency.find((l) => l.status === 'fail' && l.goal !== undefined);
  if (slow) return { verdict: 'fail', reason: sentence(`${latencyText(slow)}: the whole interval is above the ${num(slow.goal!)}× goal`) };
  const regressed = latency.find((l) => l.vsBase?.status === 'fail');
  if (regressed) return { verdict: 'fail', reason: sentence(`${regressionText(regressed)}: the whole interval is above the ${num(regressed.vsBase!.limit!)}× limit (gate.p95-regression)`) };
  const warned = rows.find((r) => r.status === 'warn');
  if (warned) return { verdict: 'warn', reason: sentence(warned.explanation!) };
  const slowish = latency.find((l) => l.status === 'warn' && l.goal !== undefined);
  if (slowish) return { verdict: 'warn', reason: sentence(`${latencyText(slowish)}, above the ${num(slowish.goal!)}× goal, but the interval includes it, so this may be noise`) };
  const regressish = latency.find((l) => l.vsBase?.status === 'warn');
  if (regressish) return { verdict: 'warn', reason: sentence(`${regressionText(regressish)}, above the ${num(regressish.vsBase!.limit!)}× limit (gate.p95-regression), but the interval includes it, so this may be noise`) };
  const gated = rows.find((r) => r.gated)!;
  const lat = latency.filter((l) => l.goal !== undefined);
  const latText = lat.length > 0 ? ` and p95 latency meets the ${num(lat[0].goal!)}× goal at ${lat.map((l) => `batch ${l.batchSize} (${fmt(l.ratios.p95.value)}×)`).join(', ')}` : '';
  return { verdict: 'pass', reason: sentence(`${gated.explanation} against ${refLabel}${latText}`) };
}

function regressionText(l: LatencyRow): string {
  const r = l.vsBase!.ratios.p95;
  return `the PR model's P95 latency at batch ${l.batchSize} is ${fmt(r.value)}× the base branch's (95 % CI ${fmt(r.interval.low)}–${fmt(r.interval.high)})`;
}

function latencyText(l: LatencyRow): string {
  const r = l.ratios.p95;
  return `the candidate's P95 latency at batch ${l.batchSize} is ${fmt(r.value)}× the PR model's (95 % CI ${fmt(r.interval.low)}–${fmt(r.interval.high)})`;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function sentence(s: string): string {
  const t = s.trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (t.endsWith('.') ? '' : '.');
}

/** A configured number as the user wrote it (2, 0.7), not padded. */
function num(x: number): string {
  return String(Number(x.toFixed(4)));
}

/** Two decimals, no negative zero: the precision the report shows. */
export function fmt(x: number): string {
  const s = x.toFixed(2);
  return s === '-0.00' ? '0.00' : s;
}
