/**
 * The Action's inputs, read once into a typed object. Booleans accept what YAML users type
 * (true/false/yes/no/on/off); an empty value means the default, so the module also works when
 * run outside the runner with only some INPUT_* variables set.
 */
import * as core from '@actions/core';
import { InputError } from '../util/errors.js';

export type ActionMode = 'run' | 'measure' | 'comment';

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
}

export const DEFAULT_REPORT_PATH = 'prune-gate-report';

export function parseInputs(): ActionInputs {
  const mode = (core.getInput('mode') || 'run').toLowerCase();
  if (mode !== 'run' && mode !== 'measure' && mode !== 'comment') {
    throw new InputError(`input "mode" must be run, measure or comment (got "${mode}").`, 'mode');
  }
  const token = core.getInput('token');
  if (token) core.setSecret(token);
  const author = core.getInput('comment-author');
  return {
    configPath: core.getInput('config') || 'prune-gate.yml',
    token,
    comment: bool('comment', true),
    failOnGate: bool('fail-on-gate', true),
    mode,
    reportPath: core.getInput('report-path') || DEFAULT_REPORT_PATH,
    ...(author ? { commentAuthor: author } : {}),
  };
}

function bool(name: string, fallback: boolean): boolean {
  const v = core.getInput(name).toLowerCase();
  if (v === '') return fallback;
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  throw new InputError(`input "${name}" must be true or false (got "${v}").`, name);
}
