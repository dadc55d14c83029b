/**
 * The commit a local `history add` records, read from git when not given: HEAD's SHA, its
 * committer time and the current branch. In a workflow the Action reads them from the event instead.
 */
import { execFileSync } from 'node:child_process';
import { InputError } from '../util/errors.js';

export interface CommitInfo {
  commit: string;
  time: string;
  branch?: string;
}

export function headCommit(cwd = process.cwd()): CommitInfo {
  const git = (...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  let commit: string;
  try {
    commit = git('rev-parse', 'HEAD');
  } catch (err) {
    throw new InputError(`cannot read the commit from git in ${cwd} (${(err as Error).message.split('\n')[0]}); pass --commit SHA.`, 'commit');
  }
  const time = new Date(git('show', '-s', '--format=%cI', 'HEAD')).toISOString();
  const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
  return { commit, time, ...(branch && branch !== 'HEAD' ? { branch } : {}) };
}
