/**
 * A GitHub Actions runner environment in a temp folder: INPUT_* variables, a real event payload
 * file, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files, and readers for what the Action wrote.
 * Used in-process (applyEnv sets process.env and returns a restore function) and for child
 * processes (pass `env` to spawn).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface PullRequestSpec {
  number: number;
  headSha: string;
  /** owner/name of the head repository; differs from the base for a fork. */
  headRepo?: string;
  action?: string;
  /** The base commit (pull_request.base.sha); default '2' * 40, a commit no repository has. */
  baseSha?: string;
}

export interface WorkflowRunSpec {
  id: number;
  runAttempt?: number;
  headSha: string;
  headRepo?: string;
  /** PRs GitHub lists on the run: empty for forks. */
  pullRequests?: { number: number; headSha: string }[];
}

export interface ActionEnvOptions {
  /** Action inputs by their action.yml names, e.g. { config: 'x.yml', 'fail-on-gate': 'false' }. */
  inputs?: Record<string, string>;
  repository?: string;
  pullRequest?: PullRequestSpec;
  workflowRun?: WorkflowRunSpec;
  /** Overrides the event name (defaults from the payload kind, or push). */
  eventName?: string;
  apiUrl?: string;
  runId?: number;
  runAttempt?: number;
  /** Working directory for the run; defaults to the temp folder. */
  workspace?: string;
  /** A push: the commit (GITHUB_SHA), its time in the payload, and the ref (GITHUB_REF, default refs/heads/main). */
  push?: { sha: string; time?: string; ref?: string };
}

export interface ActionEnv {
  dir: string;
  env: Record<string, string>;
  eventPath: string;
  summaryFile: string;
  outputFile: string;
  readOutputs(): Record<string, string>;
  readSummary(): string;
  cleanup(): void;
}

export function pullRequestEvent(repository: string, pr: PullRequestSpec): Record<string, unknown> {
  const [owner, name] = repository.split('/');
  const headRepo = pr.headRepo ?? repository;
  const fork = headRepo !== repository;
  const repo = (full: string, isFork: boolean) => ({
    id: full.length * 1000,
    name: full.split('/')[1],
    full_name: full,
    owner: { login: full.split('/')[0], type: 'User' },
    fork: isFork,
    private: false,
    default_branch: 'main',
  });
  return {
    action: pr.action ?? 'synchronize',
    number: pr.number,
    before: '1'.repeat(40),
    after: pr.headSha,
    pull_request: {
      url: `https://api.github.com/repos/${repository}/pulls/${pr.number}`,
      html_url: `https://github.com/${repository}/pull/${pr.number}`,
      number: pr.number,
      state: 'open',
      title: 'Shrink the model',
      user: { login: fork ? headRepo.split('/')[0] : 'octocat', type: 'User' },
      updated_at: '2026-11-28T04:00:00Z',
      head: { label: `${headRepo.split('/')[0]}:feature`, ref: 'feature', sha: pr.headSha, repo: repo(headRepo, fork) },
      base: { label: `${owner}:main`, ref: 'main', sha: pr.baseSha ?? '2'.repeat(40), repo: repo(repository, false) },
    },
    repository: { ...repo(repository, false), name, owner: { login: owner, type: 'Organization' } },
    sender: { login: 'octocat', type: 'User' },
  };
}

export function workflowRunEvent(repository: string, run: WorkflowRunSpec): Record<string, unknown> {
  const [owner, name] = repository.split('/');
  return {
    action: 'completed',
    workflow_run: {
      id: run.id,
      name: 'prune-gate measure',
      event: 'pull_request',
      status: 'completed',
      conclusion: 'success',
      run_attempt: run.runAttempt ?? 1,
      head_sha: run.headSha,
      head_branch: 'feature',
      head_repository: { full_name: run.headRepo ?? repository },
      repository: { full_name: repository },
      pull_requests: (run.pullRequests ?? []).map((p) => ({ number: p.number, head: { sha: p.headSha, ref: 'feature' }, base: { sha: '2'.repeat(40), ref: 'main' } })),
    },
    repository: { full_name: repository, name, owner: { login: owner } },
    sender: { login: 'octocat', type: 'User' },
  };
}

export function buildActionEnv(options: ActionEnvOptions = {}): ActionEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-action-'));
  const repository = options.repository ?? 'acme/models';
  const payload = options.workflowRun
    ? workflowRunEvent(repository, options.workflowRun)
    : options.pullRequest
      ? pullRequestEvent(repository, options.pullRequest)
      : options.push
        ? { ref: options.push.ref ?? 'refs/heads/main', after: options.push.sha, head_commit: { id: options.push.sha, timestamp: options.push.time }, repository: { full_name: repository, default_branch: 'main' } }
        : { ref: 'refs/heads/main', repository: { full_name: repository } };
  const eventName = options.eventName ?? (options.workflowRun ? 'workflow_run' : options.pullRequest ? 'pull_request' : 'push');
  const eventPath = path.join(dir, 'event.json');
  const summaryFile = path.join(dir, 'step_summary.md');
  const outputFile = path.join(dir, 'output.txt');
  fs.writeFileSync(eventPath, JSON.stringify(payload, null, 2));
  fs.writeFileSync(summaryFile, '');
  fs.writeFileSync(outputFile, '');
  const env: Record<string, string> = {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: repository,
    GITHUB_SHA: options.pullRequest?.headSha ?? options.workflowRun?.headSha ?? options.push?.sha ?? '3'.repeat(40),
    ...(options.push ? { GITHUB_REF: options.push.ref ?? 'refs/heads/main' } : {}),
    GITHUB_RUN_ID: String(options.runId ?? 4242),
    GITHUB_RUN_ATTEMPT: String(options.runAttempt ?? 1),
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_OUTPUT: outputFile,
    GITHUB_WORKSPACE: options.workspace ?? dir,
    GITHUB_API_URL: options.apiUrl ?? 'http://127.0.0.1:9',
    RUNNER_TEMP: dir,
  };
  for (const [k, v] of Object.entries(options.inputs ?? {})) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  return {
    dir,
    env,
    eventPath,
    summaryFile,
    outputFile,
    readOutputs: () => parseOutputFile(fs.readFileSync(outputFile, 'utf8')),
    readSummary: () => fs.readFileSync(summaryFile, 'utf8'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Parses GITHUB_OUTPUT's `name<<DELIM\nvalue\nDELIM` records (and plain name=value lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (heredoc) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i]);
      out[heredoc[1]] = value.join('\n');
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=');
      out[lines[i].slice(0, at)] = lines[i].slice(at + 1);
    }
  }
  return out;
}

/** Sets the variables on process.env (removing other INPUT_* and GITHUB_* ones); returns a restore function. */
export function applyEnv(env: Record<string, string>): () => void {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_') || k.startsWith('GITHUB_')) delete process.env[k];
  Object.assign(process.env, env);
  return () => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  };
}

/** Sets one action input on process.env, as the runner would (`INPUT_<NAME>`, spaces as underscores). */
export function setInput(name: string, value: string): void {
  process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
}
