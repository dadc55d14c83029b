/**
 * What a scale-out part was measured on: the models, the config and the data, hashed, so `merge`
 * can refuse a part that belongs to another candidate, config or data set before combining it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config, DataSource } from '../config/index.js';
import { sha256File, stableHash } from '../gate/baseline.js';
import { TOOL_VERSION } from '../util/version.js';

export interface PartFingerprint {
  toolVersion: string;
  /** sha256 of the committed model. */
  model: string;
  /** sha256 of the candidate model. */
  candidate: string;
  /** sha256 of the config file's bytes. */
  config: string;
  /** Hash of every data file the config names (eval or search and test), by content. */
  data: string;
  /** sha256 of the frozen baseline file, when the config names one. */
  baseline?: string;
}

export function partFingerprint(config: Config, candidate: string): PartFingerprint {
  const sources = { eval: config.data.eval, search: config.data.search };
  const data = stableHash(Object.fromEntries(Object.entries(sources).filter(([, s]) => s).map(([k, s]) => [k, sourceHashes(s!, config.baseDir)])));
  return {
    toolVersion: TOOL_VERSION,
    model: sha256File(config.model),
    candidate: sha256File(candidate),
    config: sha256File(config.file),
    data,
    ...(config.baseline && fs.existsSync(config.baseline) && { baseline: sha256File(config.baseline) }),
  };
}

/** Each file of a data source (a test_data_set folder file by file), relative to the config, with its sha256. */
function sourceHashes(source: DataSource, baseDir: string): Record<string, string> {
  const files = [...(typeof source.inputs === 'string' ? [source.inputs] : Object.values(source.inputs)), ...(source.labels ? [source.labels] : [])];
  const out: Record<string, string> = {};
  for (const file of files.flatMap(listFiles)) out[path.relative(baseDir, file)] = sha256File(file);
  return out;
}

function listFiles(p: string): string[] {
  if (!fs.statSync(p).isDirectory()) return [p];
  return fs
    .readdirSync(p)
    .sort()
    .flatMap((name) => listFiles(path.join(p, name)));
}

/** The first field in which two fingerprints differ, in words, or undefined when they agree. */
export function fingerprintDifference(a: PartFingerprint, b: PartFingerprint): string | undefined {
  const words: Record<keyof PartFingerprint, string> = { candidate: 'another candidate', model: 'another committed model', config: 'another config', data: 'other data', baseline: 'another frozen baseline', toolVersion: 'another prune-gate version' };
  for (const key of ['candidate', 'model', 'config', 'data', 'baseline', 'toolVersion'] as const) {
    if (a[key] !== b[key]) return `${words[key]} (${key} ${short(b[key])}, not ${short(a[key])})`;
  }
  return undefined;
}

const short = (v: string | undefined) => (v === undefined ? 'none' : v.length > 16 ? v.slice(0, 12) : v);
