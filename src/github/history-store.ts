/**
 * The history store as a file on a branch of the repository, appended through the contents API.
 *
 * Compare-and-swap: the file is read with its blob sha and written back with that sha; when another
 * run wrote in between, GitHub answers 409 (sha no longer current) or 422 (the file appeared
 * since we saw none), and the append starts again from a fresh read. Only the new entry is added
 * to what was read, so a racer's entry is kept and no earlier entry is ever rewritten. A branch
 * that does not exist yet is created as an orphan holding only the store (a data branch, like
 * gh-pages), so the repository's code never lands on it.
 */
import { InputError } from '../util/errors.js';
import { appendEntry, emptyStore, parseStore, serializeStore } from '../history/store.js';
import type { HistoryEntry, HistoryStore } from '../history/types.js';
import type { GitHubClient } from './client.js';
import { statusOf } from './sticky-comment.js';

export interface RemoteStoreOptions {
  owner: string;
  repo: string;
  branch: string;
  /** Path of the store on the branch, e.g. history.json. */
  path: string;
  entry: HistoryEntry;
  cap?: number;
  /** Reads and writes before giving up on a busy branch. */
  maxAttempts?: number;
  /** Milliseconds before the first retry; doubles with each. */
  retryDelayMs?: number;
  log?: (message: string) => void;
}

export interface RemoteAppendResult {
  appended: boolean;
  /** Writes attempted (1 when nothing raced us). */
  attempts: number;
  entries: number;
  dropped: number;
  /** The commit that holds the new store. */
  commitSha?: string;
  createdBranch: boolean;
  reason?: string;
}

interface RemoteStore {
  store: HistoryStore;
  /** The file's blob sha; undefined when the file does not exist yet. */
  sha?: string;
  branchExists: boolean;
}

export async function appendToRemoteStore(octokit: GitHubClient, opts: RemoteStoreOptions): Promise<RemoteAppendResult> {
  const maxAttempts = opts.maxAttempts ?? 5;
  const log = opts.log ?? (() => {});
  const where = `${opts.branch}:${opts.path}`;
  for (let attempt = 1; ; attempt++) {
    const current = await readRemoteStore(octokit, opts);
    const result = appendEntry(current.store, opts.entry, opts.cap);
    if (!result.appended) return { appended: false, attempts: attempt, entries: current.store.entries.length, dropped: 0, createdBranch: false, reason: result.reason };
    const content = serializeStore(result.store);
    const message = `prune-gate history: ${opts.entry.commit.slice(0, 12)} (${result.store.entries.length} entries)`;
    try {
      const written = current.branchExists
        ? await writeFile(octokit, opts, content, message, current.sha)
        : await createOrphanBranch(octokit, opts, content, message);
      return { appended: true, attempts: attempt, entries: result.store.entries.length, dropped: result.dropped, commitSha: written, createdBranch: !current.branchExists };
    } catch (err) {
      const status = statusOf(err);
      if ((status === 409 || status === 422) && attempt < maxAttempts) {
        const delay = (opts.retryDelayMs ?? 1000) * 2 ** (attempt - 1);
        log(`${where} changed while we wrote (HTTP ${status}): reading it again and re-appending (attempt ${attempt + 1} of ${maxAttempts}).`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      if (status === 409 || status === 422) throw new Error(`${where} kept changing under us: gave up after ${attempt} attempts (${(err as Error).message}).`);
      throw err;
    }
  }
}

/** The store on the branch (empty when the file or the branch does not exist). */
export async function readRemoteStore(octokit: GitHubClient, opts: Pick<RemoteStoreOptions, 'owner' | 'repo' | 'branch' | 'path'>): Promise<RemoteStore> {
  const where = `${opts.branch}:${opts.path}`;
  try {
    const { data } = await octokit.rest.repos.getContent({ owner: opts.owner, repo: opts.repo, path: opts.path, ref: opts.branch });
    if (Array.isArray(data) || data.type !== 'file') throw new InputError(`${where} is a ${Array.isArray(data) ? 'folder' : data.type}, not the history file; set history-path to a file.`, 'history-path');
    if (!('content' in data) || data.encoding !== 'base64') {
      throw new InputError(`${where} is ${data.size} bytes, above the 1 MB the contents API returns; lower the history cap or start a new file.`, 'history-path');
    }
    return { store: parseStore(Buffer.from(data.content, 'base64').toString('utf8'), where), sha: data.sha, branchExists: true };
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  return { store: emptyStore(), branchExists: await branchExists(octokit, opts) };
}

async function branchExists(octokit: GitHubClient, opts: Pick<RemoteStoreOptions, 'owner' | 'repo' | 'branch'>): Promise<boolean> {
  try {
    await octokit.rest.repos.getBranch({ owner: opts.owner, repo: opts.repo, branch: opts.branch });
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

async function writeFile(octokit: GitHubClient, opts: RemoteStoreOptions, content: string, message: string, sha: string | undefined): Promise<string | undefined> {
  const { data } = await octokit.rest.repos.createOrUpdateFileContents({
    owner: opts.owner,
    repo: opts.repo,
    path: opts.path,
    branch: opts.branch,
    message,
    content: Buffer.from(content, 'utf8').toString('base64'),
    ...(sha ? { sha } : {}),
  });
  return data.commit.sha;
}

/** A new branch with no history of its own: one commit, one file. 422 when a racer created it first. */
async function createOrphanBranch(octokit: GitHubClient, opts: RemoteStoreOptions, content: string, message: string): Promise<string> {
  const { owner, repo } = opts;
  const tree = await octokit.rest.git.createTree({ owner, repo, tree: [{ path: opts.path, mode: '100644', type: 'blob', content }] });
  const commit = await octokit.rest.git.createCommit({ owner, repo, message, tree: tree.data.sha, parents: [] });
  await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${opts.branch}`, sha: commit.data.sha });
  return commit.data.sha;
}
