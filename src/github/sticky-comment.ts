/**
 * One PR comment per pull request and gate, updated in place.
 *
 * Finding it: every comment page is read (a busy PR has hundreds of comments); ours carries the
 * hidden marker of this gate (`meta.gate`; with `adoptLegacy`, also the marker of comments written
 * before gates had ids) AND was written by the expected author (the token's login, `github-actions[bot]`
 * for GITHUB_TOKEN); when the caller does not know the login, any Bot-typed author with the marker
 * counts, never a human who quoted our comment.
 *
 * Ordering rule (an older run must never overwrite a newer one): each comment carries the workflow
 * run that measured it, `run=<run id>.<attempt>`. GitHub assigns run ids in increasing order as
 * events arrive, so a push that happened later gets a larger id even if its run finishes first;
 * a re-run keeps its id and raises the attempt. So (run id, attempt) ordered lexicographically is
 * "newer". A SHA alone cannot be ordered, and commit timestamps can be forged or rebased, so they
 * are not used. A comment without a run marker (hand-edited, or an old version) is the oldest.
 *
 * Races: two runs may both find nothing and both create. After every write the comments are
 * listed again and all but the newest (by run key, then comment id) are deleted; every racer
 * computes the same winner, so they converge on one comment. Two runs may also update the same
 * comment; if the older one's write lands last, the newer run sees that on its re-list and writes
 * again. (There is no compare-and-swap for comments, so a tiny window remains; the example
 * workflows also cancel superseded runs with `concurrency`.)
 */
import { hasCommentMarker, parseMarkers, type CommentMeta } from '../report/markers.js';
import type { GitHubClient } from './client.js';

export interface StickyCommentOptions {
  owner: string;
  repo: string;
  issueNumber: number;
  /** The full comment body, including the markers (see renderComment). */
  body: string;
  /** This run's run id/attempt; missing id means "newest" (a local run has no ordering to respect). */
  meta: CommentMeta;
  /** Login our comments are written by; undefined: any Bot author. */
  expectedAuthor?: string;
  /** Also take over a comment with the id-less marker of older versions (the gate has no explicit id). */
  adoptLegacy?: boolean;
  perPage?: number;
}

export interface StickyCommentResult {
  /** created/updated: our body is on the PR; skipped-older: a newer run's comment was kept. */
  action: 'created' | 'updated' | 'skipped-older';
  /** The comment now on the PR. */
  commentId: number;
  url?: string;
  /** Duplicate comments removed. */
  deleted: number[];
}

interface ListedComment {
  id: number;
  body?: string | null;
  html_url?: string;
  user?: { login: string; type?: string } | null;
}

type RunKey = [number, number];

function keyOf(meta: CommentMeta): RunKey {
  return meta.runId === undefined ? [-1, 0] : [meta.runId, meta.runAttempt ?? 1];
}

function compareKeys(a: RunKey, b: RunKey): number {
  return a[0] - b[0] || a[1] - b[1];
}

export async function upsertStickyComment(octokit: GitHubClient, opts: StickyCommentOptions): Promise<StickyCommentResult> {
  const mine: RunKey = opts.meta.runId === undefined ? [Number.MAX_SAFE_INTEGER, 0] : keyOf(opts.meta);
  const ours = await listOurs(octokit, opts);
  const newest = pickNewest(ours);
  let result: StickyCommentResult;
  if (newest && compareKeys(keyOf(parseMarkers(newest.body ?? '')), mine) > 0) {
    result = { action: 'skipped-older', commentId: newest.id, url: newest.html_url, deleted: [] };
  } else if (newest) {
    const updated = await updateOrNull(octokit, opts, newest.id);
    result = updated
      ? { action: 'updated', commentId: updated.id, url: updated.html_url, deleted: [] }
      : await create(octokit, opts); // deleted between our list and our update
  } else {
    result = await create(octokit, opts);
  }
  // Re-list after writing: racing runs may have created their own; all converge on one winner.
  // GitHub has no conditional update for comments, so an older racer can still overwrite us
  // between our write and this check; the newer run then writes its body again (twice at most).
  for (let attempt = 0; ; attempt++) {
    const after = await listOurs(octokit, opts);
    const winner = pickNewest(after);
    if (!winner) break;
    for (const c of after) if (c.id !== winner.id && (await deleteQuietly(octokit, opts, c.id))) result.deleted.push(c.id);
    const winnerKey = keyOf(parseMarkers(winner.body ?? ''));
    if (winner.body === opts.body || compareKeys(winnerKey, mine) === 0) {
      if (winner.id !== result.commentId) result = { ...result, commentId: winner.id, url: winner.html_url };
      break;
    }
    if (compareKeys(winnerKey, mine) > 0) {
      result = { ...result, action: 'skipped-older', commentId: winner.id, url: winner.html_url };
      break;
    }
    if (attempt >= 2) break;
    // An older run's body replaced ours: put ours back.
    const again = await updateOrNull(octokit, opts, winner.id);
    if (!again) break;
    result = { ...result, action: 'updated', commentId: again.id, url: again.html_url };
  }
  return result;
}

async function listOurs(octokit: GitHubClient, opts: StickyCommentOptions): Promise<ListedComment[]> {
  const all = (await octokit.paginate(octokit.rest.issues.listComments, {
    owner: opts.owner,
    repo: opts.repo,
    issue_number: opts.issueNumber,
    per_page: opts.perPage ?? 100,
  })) as ListedComment[];
  return all.filter((c) => hasCommentMarker(c.body, opts.meta.gate, opts.adoptLegacy) && isOurAuthor(c.user, opts.expectedAuthor));
}

function isOurAuthor(user: ListedComment['user'], expected: string | undefined): boolean {
  if (!user) return false;
  return expected ? user.login === expected : user.type === 'Bot';
}

/** Newest by run key; ties (same run posting twice in a race) by the larger comment id. */
function pickNewest(comments: ListedComment[]): ListedComment | undefined {
  let best: ListedComment | undefined;
  let bestKey: RunKey = [-Infinity, 0];
  for (const c of comments) {
    const k = keyOf(parseMarkers(c.body ?? ''));
    const cmp = compareKeys(k, bestKey);
    if (!best || cmp > 0 || (cmp === 0 && c.id > best.id)) {
      best = c;
      bestKey = k;
    }
  }
  return best;
}

async function create(octokit: GitHubClient, opts: StickyCommentOptions): Promise<StickyCommentResult> {
  const { data } = await octokit.rest.issues.createComment({ owner: opts.owner, repo: opts.repo, issue_number: opts.issueNumber, body: opts.body });
  return { action: 'created', commentId: data.id, url: data.html_url, deleted: [] };
}

async function updateOrNull(octokit: GitHubClient, opts: StickyCommentOptions, id: number): Promise<ListedComment | null> {
  try {
    const { data } = await octokit.rest.issues.updateComment({ owner: opts.owner, repo: opts.repo, comment_id: id, body: opts.body });
    return data;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

async function deleteQuietly(octokit: GitHubClient, opts: StickyCommentOptions, id: number): Promise<boolean> {
  try {
    await octokit.rest.issues.deleteComment({ owner: opts.owner, repo: opts.repo, comment_id: id });
    return true;
  } catch (err) {
    // Another racer deleted it first: the outcome we wanted.
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

/** HTTP status of an Octokit RequestError (checked structurally: @octokit/request-error is not our direct dependency). */
export function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}
