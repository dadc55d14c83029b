/**
 * Posting the report as the sticky PR comment from inside the Action. Nothing here can change the
 * verdict: a failure to post is a warning. A 403 names its cause: on a PR from a fork under
 * `pull_request` the token is read-only whatever the workflow grants (a notice pointing to the
 * two-workflow pattern); anywhere else the token lacks `pull-requests: write` (a warning with
 * the `permissions:` lines to add).
 */
import * as core from '@actions/core';
import { createGitHubClient, type ClientOptions } from '../github/client.js';
import { statusOf, upsertStickyComment } from '../github/sticky-comment.js';
import { renderComment } from '../report/markdown.js';
import type { CommentMeta } from '../report/markers.js';
import type { Report, Trend } from '../report/types.js';
import { DEFAULT_GATE_ID } from './inputs.js';

export interface CommentTarget {
  owner: string;
  repo: string;
  issueNumber: number;
  meta: CommentMeta;
  /**
   * The event's token is read-only because the PR comes from another repository (a fork) and the
   * event is `pull_request`: no permission in the workflow can change that.
   */
  readOnlyFork?: boolean;
  /** The event this step runs on, to say which workflow needs the permission. */
  event?: string;
  /** Take over a comment written before gates had ids (the gate's id was not given). */
  adoptLegacy?: boolean;
}

export type CommentOutcome =
  | { posted: true; action: 'created' | 'updated' | 'skipped-older'; commentId: number; url?: string }
  | { posted: false; skipped: 'disabled' | 'no-token' | 'not-a-pr' | 'fork' | 'read-only' | 'stale-artifact' | 'error'; message?: string };

export const FORK_NOTICE =
  'This pull request comes from a fork, so its GITHUB_TOKEN is read-only and prune-gate cannot post the PR comment. ' +
  'The verdict and the job summary are unaffected. To get the comment on fork PRs, use the two-workflow pattern: ' +
  'run prune-gate with `mode: measure` on pull_request and upload the report as an artifact, then post it with `mode: comment` ' +
  'from a workflow_run workflow (see examples/workflows/prune-gate-measure.yml and prune-gate-comment.yml).';

/** The same for `mode: merge`, whose fork-safe form is the matrix example with `comment: false`. */
export const MERGE_FORK_NOTICE =
  'This pull request comes from a fork, so its GITHUB_TOKEN is read-only and prune-gate cannot post the PR comment. ' +
  'The verdict and the job summary are unaffected. To get the comment on fork PRs, set `comment: false` on the `mode: merge` step, ' +
  'upload the report folder as an artifact and post it with `mode: comment` from a workflow_run workflow ' +
  '(see examples/workflows/prune-gate-matrix.yml and prune-gate-comment.yml).';

export async function postReportComment(
  report: Report,
  target: CommentTarget,
  settings: { token: string; expectedAuthor?: string; client?: Partial<Omit<ClientOptions, 'token'>>; trend?: Trend },
): Promise<CommentOutcome> {
  if (!settings.token) {
    core.warning('No token: the PR comment was skipped. Pass `token: ${{ github.token }}` (the default) or a token with pull-requests: write.');
    return { posted: false, skipped: 'no-token' };
  }
  try {
    const octokit = createGitHubClient({ token: settings.token, log: (m) => core.info(m), ...settings.client });
    const r = await upsertStickyComment(octokit, {
      owner: target.owner,
      repo: target.repo,
      issueNumber: target.issueNumber,
      body: renderComment(report, target.meta, { gate: shownGate(target.meta.gate), ...(settings.trend ? { trend: settings.trend } : {}) }),
      meta: target.meta,
      adoptLegacy: target.adoptLegacy,
      expectedAuthor: settings.expectedAuthor,
    });
    if (r.action === 'skipped-older') core.info(`A newer run already commented on #${target.issueNumber}; left its comment in place.`);
    else core.info(`PR comment ${r.action}: ${r.url ?? `#${r.commentId}`}`);
    if (r.deleted.length > 0) core.info(`Removed ${r.deleted.length} duplicate prune-gate comment(s).`);
    return { posted: true, action: r.action, commentId: r.commentId, url: r.url };
  } catch (err) {
    if (statusOf(err) === 403) {
      const answer = `GitHub answered 403: ${(err as Error).message}`;
      if (target.readOnlyFork) {
        core.notice(`${FORK_NOTICE} (${answer})`);
        return { posted: false, skipped: 'fork', message: (err as Error).message };
      }
      core.warning(missingPermission(target, answer));
      return { posted: false, skipped: 'read-only', message: (err as Error).message };
    }
    const message = `Could not post the PR comment (${(err as Error).message}); the verdict is unchanged and the report is in the job summary.`;
    core.warning(message);
    return { posted: false, skipped: 'error', message };
  }
}

/** A 403 on a token that could be granted the permission: say which one, and where to grant it. */
export function missingPermission(target: CommentTarget, answer: string): string {
  const workflow = target.event === 'workflow_run' ? 'the workflow that runs `mode: comment`' : 'this workflow';
  return [
    `prune-gate could not post the PR comment: the token lacks the \`pull-requests: write\` permission (${answer}).`,
    `Add it to ${workflow} (or to its job):`,
    '',
    'permissions:',
    '  contents: read',
    '  pull-requests: write',
    '',
    'It is needed wherever the default workflow permissions are read-only (the repository or organization setting). With your own token in the `token` input, give that token write access to pull requests. The verdict and the job summary are unaffected.',
  ].join('\n');
}

/** The gate's name for headings: none for the default gate, whose heading stays as it was before ids. */
export function shownGate(gate: string | undefined): string | undefined {
  return gate === DEFAULT_GATE_ID ? undefined : gate;
}
