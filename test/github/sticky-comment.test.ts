import { createGitHubClient, type GitHubClient } from '../../src/github/client.js';
import { statusOf, upsertStickyComment, type StickyCommentOptions } from '../../src/github/sticky-comment.js';
import { markerBlock, parseMarkers, COMMENT_MARKER } from '../../src/report/markers.js';
import { BOT, FakeGitHub, HUMAN, OTHER_BOT } from '../helpers/fake-github-server.js';

const O = 'acme';
const R = 'models';
const PR = 7;
let gh: FakeGitHub;

beforeEach(async () => {
  gh = new FakeGitHub();
  await gh.start();
});
afterEach(async () => gh.stop());

function client(token = 'bot-token', log?: (m: string) => void): GitHubClient {
  return createGitHubClient({ token, baseUrl: gh.baseUrl, retryBaseMs: 1, spaceWrites: false, log });
}

function body(runId: number, text: string, attempt = 1): string {
  return `${markerBlock({ headSha: 'a'.repeat(40), runId, runAttempt: attempt })}\n${text}\n`;
}

function opts(runId: number, text: string, extra: Partial<StickyCommentOptions> = {}): StickyCommentOptions {
  return { owner: O, repo: R, issueNumber: PR, body: body(runId, text), meta: { runId, runAttempt: 1 }, ...extra };
}

const comments = () => gh.list(O, R, PR);

test('creates the comment, then updates it in place on the next run', async () => {
  const first = await upsertStickyComment(client(), opts(100, 'first'));
  expect(first.action).toBe('created');
  expect(comments()).toHaveLength(1);
  const second = await upsertStickyComment(client(), opts(101, 'second'));
  expect(second).toMatchObject({ action: 'updated', commentId: first.commentId, deleted: [] });
  expect(comments()).toHaveLength(1);
  expect(comments()[0].body).toContain('second');
  expect(parseMarkers(comments()[0].body).runId).toBe(101);
});

test('finds our comment on page 3 of a busy PR instead of posting a second one', async () => {
  for (let i = 0; i < 230; i++) gh.seedComment(O, R, PR, `chatter ${i}`, i % 2 ? HUMAN : OTHER_BOT);
  const ours = gh.seedComment(O, R, PR, body(50, 'old'), BOT);
  for (let i = 0; i < 10; i++) gh.seedComment(O, R, PR, `more ${i}`, HUMAN);
  const r = await upsertStickyComment(client(), opts(51, 'new'));
  expect(r).toMatchObject({ action: 'updated', commentId: ours.id });
  expect(comments().filter((c) => c.body.includes(COMMENT_MARKER))).toHaveLength(1);
  const pages = gh.requests.filter((q) => q.method === 'GET' && q.path.includes('/comments')).map((q) => new URL(q.path, gh.baseUrl).searchParams.get('page') ?? '1');
  expect(pages).toEqual(expect.arrayContaining(['1', '2', '3']));
});

test('cleans up duplicates from racing runs, keeping and updating the newest', async () => {
  const a = gh.seedComment(O, R, PR, body(10, 'a'), BOT);
  const b = gh.seedComment(O, R, PR, body(12, 'b'), BOT);
  const c = gh.seedComment(O, R, PR, body(11, 'c'), BOT);
  const r = await upsertStickyComment(client(), opts(13, 'd'));
  expect(r.action).toBe('updated');
  expect(r.commentId).toBe(b.id);
  expect(r.deleted.sort()).toEqual([a.id, c.id].sort());
  expect(comments().map((x) => x.id)).toEqual([b.id]);
  expect(comments()[0].body).toContain('d');
});

test('two racing creates converge on one comment, the newer run\'s', async () => {
  const [x, y] = await Promise.all([upsertStickyComment(client(), opts(300, 'older run')), upsertStickyComment(client(), opts(301, 'newer run'))]);
  expect(comments()).toHaveLength(1);
  expect(comments()[0].body).toContain('newer run');
  expect(x.action).toBe('skipped-older');
  expect(y.action).not.toBe('skipped-older');
  expect(x.commentId).toBe(y.commentId);
});

test('an older run never overwrites a newer run\'s comment; a re-run of the same run does', async () => {
  const newer = gh.seedComment(O, R, PR, body(200, 'from run 200'), BOT);
  const r = await upsertStickyComment(client(), opts(150, 'late older run'));
  expect(r).toMatchObject({ action: 'skipped-older', commentId: newer.id });
  expect(comments()[0].body).toContain('from run 200');
  expect(gh.requests.some((q) => q.method === 'PATCH' || q.method === 'POST')).toBe(false);
  const rerun = await upsertStickyComment(client(), { ...opts(200, 'rerun attempt 2'), body: body(200, 'rerun attempt 2', 2), meta: { runId: 200, runAttempt: 2 } });
  expect(rerun.action).toBe('updated');
  expect(comments()[0].body).toContain('rerun attempt 2');
});

test('an older racer\'s update landing after ours is repaired by the newer run', async () => {
  const existing = gh.seedComment(O, R, PR, body(100, 'run 100'), BOT);
  // Both runs 101 and 102 listed the comment; 102 writes first, then 101's write lands.
  gh.afterNextWrite = (c) => {
    c.body = body(101, 'late write from run 101');
  };
  const r = await upsertStickyComment(client(), opts(102, 'run 102'));
  expect(r).toMatchObject({ action: 'updated', commentId: existing.id });
  expect(comments()).toHaveLength(1);
  expect(comments()[0].body).toContain('run 102');
  expect(gh.requests.filter((q) => q.method === 'PATCH')).toHaveLength(2);
});

test('leaves humans quoting the marker and other bots alone', async () => {
  const quoted = gh.seedComment(O, R, PR, `> ${COMMENT_MARKER}\n> quoted`, HUMAN);
  const otherBot = gh.seedComment(O, R, PR, body(999, 'someone else'), OTHER_BOT);
  const r = await upsertStickyComment(client(), opts(5, 'ours', { expectedAuthor: BOT.login }));
  expect(r.action).toBe('created');
  expect(comments().map((c) => c.id)).toEqual([quoted.id, otherBot.id, r.commentId]);
  expect(comments()[0].body).toContain('quoted');
});

test('a comment deleted between runs is recreated; one deleted mid-run too', async () => {
  const first = await upsertStickyComment(client(), opts(1, 'one'));
  gh.deleteComment(first.commentId);
  const second = await upsertStickyComment(client(), opts(2, 'two'));
  expect(second.action).toBe('created');
  expect(second.commentId).not.toBe(first.commentId);
  // Deleted after our list, before our update: the PATCH gets 404 and we create instead.
  gh.failNext('PATCH', /\/issues\/comments\/\d+$/, { status: 404, body: { message: 'Not Found' } });
  gh.deleteComment(second.commentId);
  gh.seedComment(O, R, PR, body(2, 'ghost'), BOT);
  const ghostId = comments()[0].id;
  gh.deleteComment(ghostId);
  gh.seedComment(O, R, PR, body(2, 'ghost'), BOT);
  const third = await upsertStickyComment(client(), opts(3, 'three'));
  expect(['created', 'updated']).toContain(third.action);
  expect(comments()).toHaveLength(1);
  expect(comments()[0].body).toContain('three');
});

test('5xx responses are retried with backoff, then succeed', async () => {
  gh.failNext('POST', /\/issues\/7\/comments$/, { status: 502 }, 2);
  gh.failNext('GET', /\/issues\/7\/comments$/, { status: 500 }, 1);
  const r = await upsertStickyComment(client(), opts(1, 'after errors'));
  expect(r.action).toBe('created');
  expect(gh.requests.filter((q) => q.status >= 500).map((q) => `${q.method} ${q.status}`)).toEqual(['GET 500', 'POST 502', 'POST 502']);
  expect(comments()).toHaveLength(1);
});

test('persistent 5xx gives up after the configured retries', async () => {
  gh.failNext('POST', /\/comments$/, { status: 503 }, 10);
  await expect(upsertStickyComment(createGitHubClient({ token: 'bot-token', baseUrl: gh.baseUrl, retryBaseMs: 1, retries: 2, spaceWrites: false }), opts(1, 'x'))).rejects.toMatchObject({ status: 503 });
  expect(gh.requests.filter((q) => q.method === 'POST')).toHaveLength(3);
});

test('primary rate limit (403, remaining 0) and secondary rate limit (429, retry-after) are waited out', async () => {
  const logs: string[] = [];
  const reset = String(Math.ceil(Date.now() / 1000) + 1);
  gh.failNext('GET', /\/comments$/, { status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }, body: { message: 'API rate limit exceeded' } });
  gh.failNext('POST', /\/comments$/, { status: 429, headers: { 'retry-after': '2' }, body: { message: 'You have exceeded a secondary rate limit' } });
  const r = await upsertStickyComment(client('bot-token', (m) => logs.push(m)), opts(1, 'limited'));
  expect(r.action).toBe('created');
  expect(comments()).toHaveLength(1);
  expect(logs.some((l) => /^GitHub rate limit on GET .*retrying/.test(l))).toBe(true);
  expect(logs.some((l) => /^GitHub secondary rate limit on POST .*retrying in 2 s/.test(l))).toBe(true);
});

test('a read-only token fails with 403 at the first write, without retrying', async () => {
  const err = await upsertStickyComment(client('readonly-token'), opts(1, 'x')).catch((e: unknown) => e);
  expect(statusOf(err)).toBe(403);
  expect(gh.requests.filter((q) => q.method === 'POST')).toHaveLength(1);
  expect(comments()).toHaveLength(0);
});

test('a run without a run id (local use) posts and updates without marker ordering', async () => {
  const o = { owner: O, repo: R, issueNumber: PR, meta: {} };
  const a = await upsertStickyComment(client(), { ...o, body: `${markerBlock({})}\nlocal one\n` });
  const b = await upsertStickyComment(client(), { ...o, body: `${markerBlock({})}\nlocal two\n` });
  expect([a.action, b.action]).toEqual(['created', 'updated']);
  expect(comments()).toHaveLength(1);
  expect(comments()[0].body).toContain('local two');
  expect(gh.requests.filter((q) => q.method === 'PATCH')).toHaveLength(1);
});
