/**
 * Assembles the Report from the gate's decision and the pipeline's other records, and builds the
 * error report used when the run cannot measure at all (bad config, unreadable model), so the PR
 * still gets a comment that says what to fix.
 */
import * as path from 'node:path';
import { InputError } from '../util/errors.js';
import type { MachineInfo, MemoryStats } from '../evaluate/types.js';
import type { PassSummary, Skipped } from '../passes/types.js';
import { machineFingerprint } from '../evaluate/machine.js';
import type { Baseline } from '../gate/baseline.js';
import type { GateDecision } from '../gate/verdict.js';
import type { StepDecision, StepRow } from '../loop/types.js';
import { REPORT_SCHEMA_VERSION, type ProfileRow, type Report, type ReportError, type SplitRecord } from './types.js';

export interface ReportInput {
  toolVersion: string;
  configPath: string;
  /** One sentence on what the gated number is. */
  gatedMeaning?: string;
  models: { original: string; candidate?: string; candidateSha256?: string };
  decision: GateDecision;
  split?: SplitRecord;
  /** True when the PR's model differs from the frozen baseline's. */
  prModelChanged?: boolean;
  /** The base branch's model measured in this run. */
  baseBranch?: Report['baseBranch'];
  created?: string;
  /** The frozen baseline, for its stored latency (shown for information). */
  storedBaseline?: Baseline;
  machine?: MachineInfo;
  resources?: { original: MemoryStats; candidate: MemoryStats };
  /** Outputs on the runtime targets beyond native. */
  targets?: Report['targets'];
  steps?: StepRow[];
  /** The kept steps as decisions: what `optimize --replay` applies to rebuild the candidate. */
  decisions?: StepDecision[];
  passes?: PassSummary[];
  fallbackNodes?: Skipped[];
  profile?: { batchSize: number; top: ProfileRow[] };
  notes?: string[];
  timings?: Record<string, number>;
}

export function buildReport(input: ReportInput): Report {
  const d = input.decision;
  const report: Report = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    toolVersion: input.toolVersion,
    verdict: d.verdict,
    reason: d.reason,
    configPath: input.configPath,
    models: { ...input.models },
    gatedMetric: d.gatedMetric,
    ...(input.gatedMeaning && { gatedMeaning: input.gatedMeaning }),
    reference: d.reference,
    metrics: d.metrics,
    ...(input.split && { split: { ...input.split } }),
    latency: d.latency,
    ...(input.targets?.length && { targets: input.targets }),
    steps: input.steps ?? [],
    ...(input.decisions && { decisions: input.decisions }),
    passes: input.passes ?? [],
    fallbackNodes: input.fallbackNodes ?? [],
    notes: collectNotes(input),
    timings: input.timings ?? {},
  };
  if (input.prModelChanged !== undefined && d.reference === 'frozen-baseline') report.prModelChanged = input.prModelChanged;
  if (input.baseBranch) report.baseBranch = input.baseBranch;
  if (input.created) report.created = input.created;
  const fingerprint = input.machine ? machineFingerprint(input.machine) : undefined;
  if (input.storedBaseline && input.storedBaseline.latency.length > 0) {
    const stored = input.storedBaseline.machine.fingerprint;
    const note =
      fingerprint && stored !== fingerprint
        ? `Measured on a different machine (fingerprint ${stored}, this run ${fingerprint}); shown for information only: the gate compares latencies measured in this run.`
        : 'Shown for information only: the gate compares latencies measured in this run.';
    report.storedBaselineLatency = { rows: input.storedBaseline.latency.map((l) => ({ batchSize: l.batchSize, p50: l.p50, p95: l.p95, p99: l.p99 })), note };
  }
  if (input.resources) report.resources = input.resources;
  if (input.profile) report.profile = input.profile;
  if (input.machine) report.machine = { ...input.machine, fingerprint: fingerprint! };
  return report;
}

/** Pass notes and caller notes, in order, each once. */
function collectNotes(input: ReportInput): string[] {
  const out: string[] = [];
  for (const n of [...(input.passes ?? []).flatMap((p) => p.notes), ...(input.notes ?? [])]) if (!out.includes(n)) out.push(n);
  return out;
}

export interface ErrorReportInput {
  toolVersion: string;
  configPath: string;
  modelPath?: string;
  error: unknown;
  /** Overrides the kind guessed from the error. */
  kind?: ReportError['kind'];
  timings?: Record<string, number>;
}

/** A report for a run that could not measure: verdict `error`, and the one message that says what to fix. */
export function errorReport(input: ErrorReportInput): Report {
  const err = input.error;
  const message = err instanceof Error ? err.message : String(err);
  const where = err instanceof InputError ? err.where : undefined;
  const kind = input.kind ?? guessKind(err, where);
  const error: ReportError = { kind, message: message.slice(0, 4000) };
  if (where) error.where = where.slice(0, 4000);
  const what = { config: 'the config is invalid', model: 'the model could not be loaded', data: 'the evaluation data could not be read', baseline: 'the frozen baseline could not be read', runtime: "ONNX Runtime's native binary could not be loaded", parts: 'the parts of the job matrix could not be merged', internal: 'prune-gate hit an internal error' }[kind];
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    toolVersion: input.toolVersion,
    verdict: 'error',
    reason: `No verdict: ${what}${kind === 'internal' ? ' (a bug; please report it)' : ''}.`,
    configPath: input.configPath,
    models: { original: input.modelPath ?? '' },
    gatedMetric: '',
    reference: 'original-model',
    metrics: [],
    latency: [],
    steps: [],
    passes: [],
    fallbackNodes: [],
    notes: [],
    timings: input.timings ?? {},
    error,
  };
}

function guessKind(err: unknown, where: string | undefined): ReportError['kind'] {
  if (!(err instanceof InputError)) return 'internal';
  if (err.subject) return err.subject;
  const file = (where ?? '').split('#')[0];
  const ext = path.extname(file).toLowerCase();
  if (ext === '.onnx') return 'model';
  if (ext === '.yml' || ext === '.yaml' || file === '') return 'config';
  return 'data';
}
