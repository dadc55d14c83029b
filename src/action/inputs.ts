/**
 * The Action's inputs, read once into a typed object. Booleans accept what YAML users type
 * (true/false/yes/no/on/off); an empty value means the default, so the module also works when
 * run outside the runner with only some INPUT_* variables set.
 */
import * as core from '@actions/core';
import { InputError } from '../util/errors.js';

export type ActionMode = 'run' | 'measure' | 'comment' | 'history';

export interface ActionInputs {
  configPath: string;
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
}

export const DEFAULT_REPORT_PATH = 'prune-gate-report';

export function parseInputs(): ActionInputs {
  const mode = (core.getInput('mode') || 'run').toLowerCase();
  if (mode !== 'run' && mode !== 'measure' && mode !== 'comment' && mode !== 'history') {
    throw new InputError(`input "mode" must be run, measure, comment or history (got "${mode}").`, 'mode');
  }
  const token = core.getInput('token');
  if (token) core.setSecret(token);
  const author = core.getInput('comment-author');
  const historyFile = core.getInput('history');
  return {
    configPath: core.getInput('config') || 'prune-gate.yml',
    token,
    comment: bool('comment', true),
    failOnGate: bool('fail-on-gate', true),
    mode,
    reportPath: core.getInput('report-path') || DEFAULT_REPORT_PATH,
    ...(author ? { commentAuthor: author } : {}),
    historyBranch: core.getInput('history-branch') || 'prune-gate-history',
    historyPath: core.getInput('history-path') || 'history.json',
    ...(historyFile ? { historyFile } : {}),
  };
}

function bool(name: string, fallback: boolean): boolean {
  const v = core.getInput(name).toLowerCase();
  if (v === '') return fallback;
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  throw new InputError(`input "${name}" must be true or false (got "${v}").`, name);
}
