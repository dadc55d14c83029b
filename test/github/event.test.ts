import * as fs from 'node:fs';
import { readRunContext } from '../../src/github/event.js';
import { InputError } from '../../src/util/errors.js';
import { buildActionEnv, pullRequestEvent, type ActionEnv } from '../helpers/action-env.js';

const SHA = 'ab'.repeat(20);
let e: ActionEnv | undefined;
afterEach(() => e?.cleanup());

test('a same-repo pull_request event', () => {
  e = buildActionEnv({ pullRequest: { number: 3, headSha: SHA }, runId: 10, runAttempt: 2 });
  expect(readRunContext(e.env)).toEqual({
    eventName: 'pull_request',
    owner: 'acme',
    repo: 'models',
    runId: 10,
    runAttempt: 2,
    sha: SHA,
    defaultBranch: 'main',
    pullRequest: { number: 3, headSha: SHA, baseSha: '2'.repeat(40), headRepo: 'acme/models', baseRepo: 'acme/models', isFork: false },
  });
});

test('a fork, including a deleted one (head.repo null), is a fork', () => {
  e = buildActionEnv({ pullRequest: { number: 3, headSha: SHA, headRepo: 'mallory/models' } });
  expect(readRunContext(e.env).pullRequest?.isFork).toBe(true);
  const payload = pullRequestEvent('acme/models', { number: 3, headSha: SHA }) as { pull_request: { head: { repo: unknown } } };
  payload.pull_request.head.repo = null;
  fs.writeFileSync(e.eventPath, JSON.stringify(payload));
  expect(readRunContext(e.env).pullRequest).toMatchObject({ isFork: true, headRepo: undefined });
});

test('a workflow_run event carries the measured run and its (possibly empty) PR list', () => {
  e = buildActionEnv({ workflowRun: { id: 99, runAttempt: 3, headSha: SHA, headRepo: 'mallory/models', pullRequests: [] } });
  const ctx = readRunContext(e.env);
  expect(ctx.pullRequest).toBeUndefined();
  expect(ctx.workflowRun).toEqual({ id: 99, runAttempt: 3, headSha: SHA, headRepo: 'mallory/models', event: 'pull_request', pullRequests: [] });
});

test('push events have no PR; a corrupt payload is an input error', () => {
  e = buildActionEnv({});
  expect(readRunContext(e.env).pullRequest).toBeUndefined();
  fs.writeFileSync(e.eventPath, '{');
  expect(() => readRunContext(e!.env)).toThrow(InputError);
});
