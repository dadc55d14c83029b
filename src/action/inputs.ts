/**
 * The Action's inputs, read once into a typed object. Booleans accept what YAML users type
 * (true/false/yes/no/on/off); an empty value means the default, so the module also works when
 * run outside the runner with only some INPUT_* variables set.
 */
import * as path from 'node:path';
import * as core from '@actions/core';
import { GATE_ID_PATTERN } from '../report/markers.js';
import { InputError } from '../util/errors.js';
import { partLines } from './parts-input.js';

export type ActionMode = 'run' | 'measure' | 'comment' | 'history' | 'baseline' | 'merge';

export interface ActionInputs {
  configPath: string;
  /** The gate's id (input `id`, else from the config path): keys its comment, summary section, outputs and default report folder. */
  gateId: string;
  /** Whether `id` was given; a derived id also takes over a comment written before ids existed. */
  gateIdGiven: boolean;
  token: string;
  comment: boolean;
  failOnGate: boolean;
  mode: ActionMode;
  /** run/measure: the folder report.json and report.md are written to. comment: the report file or folder to post. */
  reportPath: string;
  /** Login our comments are written by; empty: any bot (github-actions[bot] for GITHUB_TOKEN). */
  commentAuthor?: string;
  /** mode: history: the branch and path of the store the run is appended to. */
  historyBranch: string;
  historyPath: string;
  /** A local history store file: the PR comment gets a one-line trend from it. */
  historyFile?: string;
  /** The artifact name the workflow uploads the report folder under (named in the comment with the run's link). */
  artifact: string;
  /** On a PR: read the base commit's model with git and benchmark it beside the PR model and the candidate. */
  compareBase: boolean;
  /** mode: merge: the verify and bench part folders, one path or pattern a line (expanded by parts-input.ts). */
  parts: string[];
}

export const DEFAULT_REPORT_PATH = 'prune-gate-report';
/** The id of the gate whose config is the default `prune-gate.yml`: its report folder and heading stay as before ids. */
export const DEFAULT_GATE_ID = 'prune-gate';

const MODES: readonly ActionMode[] = ['run', 'measure', 'comment', 'history', 'baseline', 'merge'];

export function parseInputs(): ActionInputs {
  const mode = (core.getInput('mode') || 'run').toLowerCase();
  if (!MODES.includes(mode as ActionMode)) {
    throw new InputError(`input "mode" must be run, measure, comment, history, baseline or merge (got "${mode}").`, 'mode');
  }
  const token = core.getInput('token');
  if (token) core.setSecret(token);
  const author = core.getInput('comment-author');
  const historyFile = core.getInput('history');
  const configPath = core.getInput('config') || 'prune-gate.yml';
  const givenId = core.getInput('id');
  if (givenId && !GATE_ID_PATTERN.test(givenId)) {
    throw new InputError(`input "id" must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (got "${givenId}").`, 'id');
  }
  const gateId = givenId || gateIdOf(configPath);
  return {
    configPath,
    gateId,
    gateIdGiven: Boolean(givenId),
    token,
    comment: bool('comment', true),
    failOnGate: bool('fail-on-gate', true),
    mode: mode as ActionMode,
    reportPath: core.getInput('report-path') || (gateId === DEFAULT_GATE_ID ? DEFAULT_REPORT_PATH : `${DEFAULT_REPORT_PATH}-${gateId}`),
    ...(author ? { commentAuthor: author } : {}),
    historyBranch: core.getInput('history-branch') || 'prune-gate-history',
    historyPath: core.getInput('history-path') || 'history.json',
    ...(historyFile ? { historyFile } : {}),
    compareBase: bool('compare-base', true),
    parts: partLines(core.getInput('parts')),
    artifact: core.getInput('artifact') || path.basename(core.getInput('report-path') || (gateId === DEFAULT_GATE_ID ? DEFAULT_REPORT_PATH : `${DEFAULT_REPORT_PATH}-${gateId}`)),
  };
}

/** A gate id from a config path: `prune-gate.yml` -> `prune-gate`, `models/vision/prune-gate.yml` -> `models-vision-prune-gate`. */
export function gateIdOf(configPath: string): string {
  const slug = configPath
    .replace(/\\/g, '/')
    .replace(/^(\.\/)+/, '')
    .replace(/\.(ya?ml|json)$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|-+$/g, '');
  // Long paths keep their end, the part that tells two configs apart.
  const id = slug.length > 64 ? slug.slice(-64).replace(/^[^a-z0-9]+/, '') : slug;
  return id || DEFAULT_GATE_ID;
}

function bool(name: string, fallback: boolean): boolean {
  const v = core.getInput(name).toLowerCase();
  if (v === '') return fallback;
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  throw new InputError(`input "${name}" must be true or false (got "${v}").`, name);
}
