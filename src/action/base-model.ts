/**
 * The base branch's model for the latency comparison, read from the PR's base commit with git:
 * `git cat-file blob <base-sha>:<model path>` into a temporary file, after `git fetch --depth=1
 * origin <base-sha>` when the checkout is shallow and lacks that commit (actions/checkout fetches
 * only the merge commit by default). Anything that stops it (no git, the model is new in this PR,
 * a Git LFS pointer) is a note, never a failure: the run goes on without the base branch's column.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type BaseModelLookup = { found: true; file: string; /** The model's path in the repository. */ path: string; commit: string; fetched: boolean } | { found: false; reason: string };

export interface BaseModelRequest {
  /** The PR's base commit (pull_request.base.sha). */
  commit: string;
  /** The PR's model as the config names it (absolute, or relative to `cwd`). */
  model: string;
  /** The checkout (the workspace). */
  cwd: string;
  /** Folder for the extracted model (RUNNER_TEMP in a workflow). */
  tempDir?: string;
  log?: (message: string) => void;
}

export function baseModelFromGit(request: BaseModelRequest): BaseModelLookup {
  const { commit, cwd } = request;
  if (!/^[0-9a-f]{7,64}$/i.test(commit)) return { found: false, reason: `the base commit "${commit}" is not a SHA` };
  const git = (...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  let top: string;
  try {
    top = fs.realpathSync(git('rev-parse', '--show-toplevel'));
  } catch (err) {
    return { found: false, reason: `${cwd} is not a git checkout (${firstLine(err)})` };
  }
  const modelFile = path.resolve(cwd, request.model);
  const rel = path.relative(top, fs.existsSync(modelFile) ? fs.realpathSync(modelFile) : modelFile).split(path.sep).join('/');
  if (rel.startsWith('..')) return { found: false, reason: `the model ${request.model} is outside the repository` };
  let fetched = false;
  if (!has(git, `${commit}^{commit}`)) {
    request.log?.(`fetching the base commit ${commit.slice(0, 12)} (shallow checkout)`);
    try {
      git('fetch', '--depth=1', '--no-tags', 'origin', commit);
      fetched = true;
    } catch (err) {
      return { found: false, reason: `the base commit ${commit.slice(0, 12)} is not in the checkout and \`git fetch --depth=1 origin ${commit}\` failed (${firstLine(err)}); use actions/checkout with fetch-depth: 0, or let the job fetch` };
    }
  }
  if (!has(git, `${commit}:${rel}`)) return { found: false, reason: `${rel} does not exist at the base commit ${commit.slice(0, 12)} (a new model): nothing to compare with` };
  const dir = fs.mkdtempSync(path.join(request.tempDir ?? os.tmpdir(), 'prune-gate-base-'));
  const file = path.join(dir, path.basename(rel));
  // Streamed to the file: a model may be larger than any buffer execFileSync would allow.
  const fd = fs.openSync(file, 'w');
  try {
    const r = spawnSync('git', ['cat-file', 'blob', `${commit}:${rel}`], { cwd, stdio: ['ignore', fd, 'pipe'] });
    if (r.status !== 0) return { found: false, reason: `git cat-file could not read ${rel} at ${commit.slice(0, 12)} (${String(r.stderr).trim().split('\n')[0]})` };
  } finally {
    fs.closeSync(fd);
  }
  const head = Buffer.alloc(64);
  const handle = fs.openSync(file, 'r');
  fs.readSync(handle, head, 0, 64, 0);
  fs.closeSync(handle);
  if (head.toString('latin1').startsWith('version https://git-lfs')) return { found: false, reason: `${rel} is a Git LFS pointer at the base commit; the base branch's model is not compared (fetch LFS objects for it to be)` };
  return { found: true, file, path: rel, commit: commit.toLowerCase(), fetched };
}

function has(git: (...args: string[]) => string, object: string): boolean {
  try {
    git('cat-file', '-e', object);
    return true;
  } catch {
    return false;
  }
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.toString().trim() || e.message || String(err)).split('\n')[0];
}
