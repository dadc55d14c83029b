/**
 * Real git repositories in temp folders for the base-branch tests: commits made with a fixed
 * identity, and shallow clones as actions/checkout makes them (only the tip, over file://).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const IDENTITY = ['-c', 'user.name=prune-gate tests', '-c', 'user.email=tests@example.invalid', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main'];

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', [...IDENTITY, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** `git init` in `dir` (created when missing). */
export function initRepo(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-git-'))): string {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q');
  return dir;
}

/** Stages everything and commits; returns the commit's SHA. */
export function commitAll(dir: string, message: string): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

/** A clone holding only the tip commit, as actions/checkout's default fetch-depth 1 does. */
export function shallowClone(origin: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-clone-'));
  execFileSync('git', ['clone', '-q', '--depth=1', `file://${origin}`, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  return dir;
}
