/**
 * The files the scale-out commands hand each other through artifacts: search.json (the loop's
 * decisions), verify.json (one shard of the test split, per sample) and bench.json (latency on one
 * runner kind). Each has a JSON Schema in schemas/, checked on write and on read, so a part from
 * another version or a damaged download is refused with the path of what is wrong.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GateConfig } from '../config/index.js';
import type { EvalResult, LatencyComparison, MachineInfo } from '../evaluate/types.js';
import type { Baseline } from '../gate/baseline.js';
import type { StepDecision, StepRow } from '../loop/types.js';
import type { PassSummary, Skipped } from '../passes/types.js';
import type { SplitRecord } from '../report/types.js';
import { readReport } from '../report/validate.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { InputError } from '../util/errors.js';
import { compileSchema, schemaProblems } from '../util/json-schema.js';
import type { PartFingerprint } from './fingerprint.js';
import baselineSchema from '../../schemas/baseline.schema.json' with { type: 'json' };
import benchSchema from '../../schemas/bench.schema.json' with { type: 'json' };
import reportSchema from '../../schemas/report.schema.json' with { type: 'json' };
import searchSchema from '../../schemas/search.schema.json' with { type: 'json' };
import verifySchema from '../../schemas/verify.schema.json' with { type: 'json' };

export interface SearchRecord {
  schemaVersion: 1;
  kind: 'search';
  toolVersion: string;
  fingerprint: PartFingerprint;
  split: SplitRecord;
  steps: StepRow[];
  /** The kept steps: `optimize --replay search.json` rebuilds the candidate from them. */
  decisions: StepDecision[];
  passes: PassSummary[];
  fallbackNodes: Skipped[];
  notes: string[];
  timings: Record<string, number>;
}

export interface VerifyPart {
  schemaVersion: 1;
  kind: 'verify';
  fingerprint: PartFingerprint;
  shard: { index: number; of: number };
  configPath: string;
  testSamples: number;
  /** [start, end) in the test split's sample order. */
  samples: { start: number; end: number };
  split: SplitRecord;
  gate: { metrics: string[]; rules: GateConfig; seed: number; objective: 'latency' | 'size'; gatedMeaning?: string };
  models: { original: string; candidate: string };
  prModelChanged?: boolean;
  original: EvalResult;
  candidate: EvalResult;
  /** The frozen baseline over this shard's samples. */
  baseline?: Baseline;
  /** search.json found beside the candidate (same candidate sha256). */
  search?: SearchRecord;
  notes: string[];
}

export interface BenchPart {
  schemaVersion: 1;
  kind: 'bench';
  fingerprint: PartFingerprint;
  runner: { kind: string; fingerprint: string; machine: MachineInfo & { fingerprint?: string } };
  latency: LatencyComparison[];
}

export type Part = SearchRecord | VerifyPart | BenchPart;

const FILES = { search: 'search.json', verify: 'verify.json', bench: 'bench.json' } as const;
const SCHEMAS = { search: searchSchema, verify: verifySchema, bench: benchSchema };
const validators = new Map<Part['kind'], ReturnType<typeof compileSchema>>();

function problems(kind: Part['kind'], data: unknown): string[] {
  let v = validators.get(kind);
  if (!v) {
    const refs = [reportSchema, baselineSchema, searchSchema].filter((s) => s !== SCHEMAS[kind]);
    v = compileSchema(SCHEMAS[kind], refs);
    validators.set(kind, v);
  }
  return schemaProblems(v, data, { max: 10 });
}

/** Writes `part` as DIR/<kind>.json (checked against its schema first); returns the file. */
export function writePart(dir: string, part: Part): string {
  const file = path.join(dir, FILES[part.kind]);
  const json = JSON.stringify(part) + '\n';
  const found = problems(part.kind, JSON.parse(json));
  if (found.length) throw new Error(`internal: the ${part.kind} part does not match schemas/${part.kind}.schema.json:\n  ${found.join('\n  ')}`);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, json);
  return file;
}

/**
 * Reads a part: a file, or a folder (a downloaded artifact) holding one of search.json,
 * verify.json, bench.json. `want`: the kinds accepted here.
 */
export function readPart<K extends Part['kind']>(fileOrDir: string, want: K[]): Extract<Part, { kind: K }> {
  let file = fileOrDir;
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    const found = want.map((k) => path.join(fileOrDir, FILES[k])).filter((f) => fs.existsSync(f));
    if (found.length !== 1) {
      throw new InputError(`${fileOrDir}: ${found.length ? `holds ${found.map((f) => path.basename(f)).join(' and ')}; pass one of them` : `holds no ${want.map((k) => FILES[k]).join(' or ')}; pass the folder a ${want.join(' or ')} command wrote (--out), or the file itself`}`, fileOrDir);
    }
    file = found[0];
  }
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file}: cannot read it as JSON (${(err as Error).message})`, file);
  }
  const kind = (data as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string' || !(want as string[]).includes(kind)) {
    throw new InputError(`${file}: is not a ${want.join(' or ')} part (its kind is ${typeof kind === 'string' ? `'${kind}'` : 'missing'})`, file);
  }
  const found = problems(kind as K, data);
  if (found.length) throw new InputError(`${file} does not match schemas/${kind}.schema.json:\n  ${found.join('\n  ')}\nIt must be written by \`prune-gate ${kind}\` of the same version.`, file);
  return data as Extract<Part, { kind: K }>;
}

/** The decisions to replay and the candidate they built, from a report.json or a search.json (file or folder). */
export function readDecisions(fileOrDir: string): { decisions?: StepDecision[]; candidateSha256?: string } {
  const isSearch = fs.existsSync(fileOrDir) && (fs.statSync(fileOrDir).isDirectory() ? fs.existsSync(path.join(fileOrDir, FILES.search)) : path.basename(fileOrDir) === FILES.search);
  if (isSearch) {
    const record = readPart(fileOrDir, ['search']);
    return { decisions: record.decisions, candidateSha256: record.fingerprint.candidate };
  }
  const report = readReport(fileOrDir);
  return { decisions: report.decisions, candidateSha256: report.models.candidateSha256 };
}
