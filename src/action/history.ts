/**
 * `mode: history` (a push to the default branch): this run's summary appended to the store on the
 * history branch; and, in the other modes, the PR comment's trend read from a local store file.
 */
import * as core from '@actions/core';
import { createGitHubClient, type ClientOptions } from '../github/client.js';
import type { RunContext } from '../github/event.js';
import { appendToRemoteStore } from '../github/history-store.js';
import { entryWithModelHash, readStoreFile, trendFor } from '../history/index.js';
import type { Report, Trend } from '../report/types.js';
import { InputError } from '../util/errors.js';
import type { ActionInputs } from './inputs.js';

export type HistoryOutcome =
  | { recorded: true; entries: number; attempts: number; commitSha?: string }
  | { recorded: false; skipped: 'not-default-branch' | 'error-report' | 'no-token' | 'already-recorded'; message: string };

export async function recordHistory(report: Report, inputs: ActionInputs, ctx: RunContext, client: Partial<Omit<ClientOptions, 'token'>> = {}): Promise<HistoryOutcome> {
  const onDefault = ctx.defaultBranch === undefined || ctx.ref === undefined || ctx.ref === `refs/heads/${ctx.defaultBranch}`;
  if (ctx.eventName.startsWith('pull_request') || !onDefault) {
    return skip('not-default-branch', `mode: history records pushes to the default branch${ctx.defaultBranch ? ` (${ctx.defaultBranch})` : ''}; this run is ${ctx.eventName || 'no event'} on ${ctx.ref ?? 'no ref'}: nothing recorded.`);
  }
  if (report.verdict === 'error') return skip('error-report', 'The run measured nothing (error report): nothing recorded in the history.');
  if (!inputs.token) return skip('no-token', 'No token: the history was not recorded. mode: history needs `permissions: contents: write`.');
  if (!ctx.sha) throw new InputError('GITHUB_SHA is not set: mode: history records the commit the workflow runs on.', 'GITHUB_SHA');
  const entry = entryWithModelHash(report, {
    commit: ctx.sha,
    ...(ctx.headCommitTime && !Number.isNaN(Date.parse(ctx.headCommitTime)) ? { time: new Date(ctx.headCommitTime).toISOString() } : {}),
    ...(ctx.defaultBranch ? { branch: ctx.defaultBranch } : {}),
    ...(ctx.runId ? { run: { id: ctx.runId, attempt: ctx.runAttempt ?? 1 } } : {}),
    runner: runnerOf(process.env),
  });
  const octokit = createGitHubClient({ token: inputs.token, log: (m) => core.info(m), ...client });
  const r = await appendToRemoteStore(octokit, { owner: ctx.owner, repo: ctx.repo, branch: inputs.historyBranch, path: inputs.historyPath, entry, log: (m) => core.info(m), retryDelayMs: client.retryBaseMs });
  if (!r.appended) return skip('already-recorded', `${inputs.historyBranch}:${inputs.historyPath}: ${r.reason}.`);
  core.info(`History: ${entry.commit.slice(0, 12)} appended to ${inputs.historyBranch}:${inputs.historyPath} (${r.entries} entries${r.createdBranch ? ', branch created' : ''}${r.attempts > 1 ? `, after ${r.attempts - 1} conflict(s)` : ''}).`);
  return { recorded: true, entries: r.entries, attempts: r.attempts, ...(r.commitSha ? { commitSha: r.commitSha } : {}) };
}

/** The trend for the PR comment when a store file is given; a bad file costs the trend, not the comment. */
export function trendFromInput(report: Report, inputs: ActionInputs): Trend | undefined {
  if (!inputs.historyFile) return undefined;
  try {
    return trendFor(report, readStoreFile(inputs.historyFile));
  } catch (err) {
    core.warning(`No trend line: ${(err as Error).message}`);
    return undefined;
  }
}

function runnerOf(env: NodeJS.ProcessEnv): { environment?: string; os?: string; arch?: string; name?: string } {
  const pick = (v: string | undefined) => (v ? v.slice(0, 200) : undefined);
  const r = { environment: pick(env.RUNNER_ENVIRONMENT), os: pick(env.RUNNER_OS), arch: pick(env.RUNNER_ARCH), name: pick(env.RUNNER_NAME) };
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
}

function skip(skipped: Extract<HistoryOutcome, { recorded: false }>['skipped'], message: string): HistoryOutcome {
  core.notice(message);
  return { recorded: false, skipped, message };
}
