/**
 * What the workflow run is about, read from the runner's environment and event payload at call
 * time (not at import, as @actions/github's `context` does), so one process can be tested under
 * several environments.
 */
import * as fs from 'node:fs';
import { InputError } from '../util/errors.js';

export interface PullRequestInfo {
  number: number;
  headSha: string;
  /** The base branch's commit the PR was opened against (pull_request.base.sha). */
  baseSha?: string;
  /** owner/name of the head and base repositories; they differ for a PR from a fork. */
  headRepo?: string;
  baseRepo?: string;
  isFork: boolean;
}

export interface WorkflowRunInfo {
  id: number;
  runAttempt: number;
  headSha: string;
  headRepo?: string;
  /** The event that triggered the measured run (pull_request for the fork-safe pattern). */
  event?: string;
  /** PRs GitHub links to the run; empty for PRs from forks. */
  pullRequests: { number: number; headSha?: string }[];
}

export interface RunContext {
  eventName: string;
  owner: string;
  repo: string;
  runId?: number;
  runAttempt?: number;
  /** The commit the workflow runs on (GITHUB_SHA) and its ref, e.g. refs/heads/main. */
  sha?: string;
  ref?: string;
  /** The repository's default branch, from the event payload. */
  defaultBranch?: string;
  /** A push event's head commit time (ISO 8601). */
  headCommitTime?: string;
  pullRequest?: PullRequestInfo;
  workflowRun?: WorkflowRunInfo;
  /** GITHUB_SERVER_URL, e.g. https://github.com (GitHub Enterprise: its own host). */
  serverUrl?: string;
}

/** The page of a workflow run (this one by default), for links in the comment and the job summary. */
export function runUrl(ctx: RunContext, runId = ctx.runId, attempt?: number): string | undefined {
  if (!runId || !ctx.owner || !ctx.repo) return undefined;
  const base = (ctx.serverUrl ?? 'https://github.com').replace(/\/+$/, '');
  return `${base}/${ctx.owner}/${ctx.repo}/actions/runs/${runId}${attempt && attempt > 1 ? `/attempts/${attempt}` : ''}`;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);

export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  let payload: Json = {};
  const eventPath = env.GITHUB_EVENT_PATH;
  if (eventPath && fs.existsSync(eventPath)) {
    try {
      payload = obj(JSON.parse(fs.readFileSync(eventPath, 'utf8'))) ?? {};
    } catch (err) {
      throw new InputError(`cannot parse the event payload ${eventPath}: ${(err as Error).message}`, eventPath);
    }
  }
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? str(obj(payload.repository)?.full_name) ?? '/').split('/');
  const ctx: RunContext = { eventName: env.GITHUB_EVENT_NAME ?? '', owner, repo, runId: int(env.GITHUB_RUN_ID), runAttempt: int(env.GITHUB_RUN_ATTEMPT) };
  if (env.GITHUB_SHA) ctx.sha = env.GITHUB_SHA;
  if (env.GITHUB_SERVER_URL && /^https?:\/\//.test(env.GITHUB_SERVER_URL)) ctx.serverUrl = env.GITHUB_SERVER_URL;
  if (env.GITHUB_REF) ctx.ref = env.GITHUB_REF;
  const defaultBranch = str(obj(payload.repository)?.default_branch);
  if (defaultBranch) ctx.defaultBranch = defaultBranch;
  const headCommitTime = str(obj(payload.head_commit)?.timestamp);
  if (headCommitTime) ctx.headCommitTime = headCommitTime;
  const pr = obj(payload.pull_request);
  if (pr && int(pr.number) !== undefined) {
    const headRepo = str(obj(obj(pr.head)?.repo)?.full_name);
    const baseRepo = str(obj(obj(pr.base)?.repo)?.full_name);
    const baseSha = str(obj(pr.base)?.sha);
    ctx.pullRequest = {
      number: int(pr.number)!,
      headSha: str(obj(pr.head)?.sha) ?? env.GITHUB_SHA ?? '',
      ...(baseSha && { baseSha }),
      headRepo,
      baseRepo,
      // A deleted fork has head.repo null: treat it as a fork, its token is read-only too.
      isFork: headRepo === undefined || (baseRepo !== undefined && headRepo.toLowerCase() !== baseRepo.toLowerCase()),
    };
  }
  const run = obj(payload.workflow_run);
  if (run && int(run.id) !== undefined) {
    const prs = Array.isArray(run.pull_requests) ? run.pull_requests : [];
    ctx.workflowRun = {
      id: int(run.id)!,
      runAttempt: int(run.run_attempt) ?? 1,
      headSha: str(run.head_sha) ?? '',
      headRepo: str(obj(run.head_repository)?.full_name),
      event: str(run.event),
      pullRequests: prs
        .map(obj)
        .filter((p): p is Json => p !== undefined && int(p.number) !== undefined)
        .map((p) => ({ number: int(p.number)!, headSha: str(obj(p.head)?.sha) })),
    };
  }
  return ctx;
}
