/**
 * One history entry from one report.json: the numbers a trend needs (gated metric and the others
 * with their intervals, P95 per batch size, size, the kept recipe) and where they were measured.
 * What the report cannot say (the commit, its time, the runner) comes from the caller.
 */
import { InputError } from '../util/errors.js';
import type { Report } from '../report/types.js';
import type { HistoryEntry, HistoryInterval } from './types.js';

export interface EntryContext {
  commit: string;
  /** ISO 8601; defaults to now. */
  time?: string;
  branch?: string;
  run?: { id: number; attempt: number };
  runner?: HistoryEntry['runner'];
  /** sha256 of the original model file; the report records only the candidate's. */
  originalSha256?: string;
}

const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export function entryFromReport(report: Report, context: EntryContext): HistoryEntry {
  if (!COMMIT.test(context.commit)) throw new InputError(`commit must be a full 40-hex-digit SHA (got "${context.commit}"); pass --commit or run inside a git checkout.`, 'commit');
  if (report.verdict === 'error') throw new InputError(`the report is an error report (${report.error?.message ?? report.reason}): it measured nothing to record in the history.`, 'report');
  const runner = context.runner && Object.keys(context.runner).length > 0 ? context.runner : undefined;
  return {
    commit: context.commit,
    time: context.time ?? new Date().toISOString(),
    ...(context.branch ? { branch: context.branch } : {}),
    ...(context.run ? { run: context.run } : {}),
    toolVersion: report.toolVersion,
    verdict: report.verdict,
    reference: report.reference,
    models: {
      ...(context.originalSha256 ? { originalSha256: context.originalSha256 } : {}),
      ...(report.models.candidateSha256 ? { candidateSha256: report.models.candidateSha256 } : {}),
    },
    gatedMetric: report.gatedMetric,
    metrics: report.metrics.map((m) => ({
      metric: m.metric,
      unit: m.unit,
      higherIsBetter: m.higherIsBetter,
      gated: m.gated,
      reference: round(m.reference),
      candidate: round(m.candidate),
      drift: round(m.drift),
      ...(m.interval ? { interval: interval(m.interval) } : {}),
    })),
    // One target's rows (the config's first): the trend is per batch size, and timings of two runtimes are never pooled.
    p95: report.latency.filter((l) => l.target === report.latency[0]?.target).map((l) => ({
      batchSize: l.batchSize,
      original: round(l.original.p95),
      candidate: round(l.candidate.p95),
      ratio: round(l.ratios.p95.value),
      interval: interval(l.ratios.p95.interval),
    })),
    ...(report.resources
      ? {
          size: {
            original: { fileBytes: report.resources.original.fileBytes, gzipBytes: report.resources.original.gzipBytes },
            candidate: { fileBytes: report.resources.candidate.fileBytes, gzipBytes: report.resources.candidate.gzipBytes },
          },
        }
      : {}),
    recipe: (report.decisions ?? []).map((d) => ({
      stage: d.stage.stage,
      kind: stageKind(d.stage),
      goal: round(d.goal),
      reached: round(d.reached),
    })),
    ...(runner ? { runner } : {}),
    ...(report.machine
      ? { machine: { cpuModel: report.machine.cpuModel, cores: report.machine.cores, platform: report.machine.platform, ...(report.machine.fingerprint ? { fingerprint: report.machine.fingerprint } : {}) } }
      : {}),
  };
}

function stageKind(stage: { stage: string; prune?: { kind: string }; quantize?: { kind: string } }): string {
  return (stage.stage === 'prune' ? stage.prune?.kind : stage.quantize?.kind) ?? stage.stage;
}

function interval(i: { low: number; high: number }): HistoryInterval {
  return { low: round(i.low), high: round(i.high) };
}

/** Six significant digits: more than any measurement here resolves, and the file stays small. */
function round(x: number): number {
  return Number(x.toPrecision(6));
}
