/**
 * The one place an Octokit is built. Retries 5xx with backoff (@octokit/plugin-retry) and waits
 * out primary and secondary rate limits (@octokit/plugin-throttling). Delays scale with
 * `retryBaseMs` so tests can run the same code paths in milliseconds.
 */
import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface ClientOptions {
  token: string;
  /** REST API root; defaults to GITHUB_API_URL (GitHub Enterprise Server) or https://api.github.com. */
  baseUrl?: string;
  /** Milliseconds per second of the delays GitHub asks for (retry-after, rate-limit reset): 1000 in production. */
  retryBaseMs?: number;
  /** Retries after the first attempt, for 5xx and for rate limits. */
  retries?: number;
  /** Longest rate-limit wait accepted, in seconds; beyond it the request fails (a comment is not worth an hour). */
  maxRateLimitWaitSeconds?: number;
  /**
   * GitHub asks integrations to space content-creating writes (1 s, 3 s for notifying ones); the
   * throttling plugin does that by default. Tests turn it off.
   */
  spaceWrites?: boolean;
  log?: (message: string) => void;
}

/** A Bottleneck.Group stand-in that schedules at once: used for writes when spacing is off. */
const immediateGroup = {
  key: () => ({ schedule: (...args: unknown[]) => (typeof args[0] === 'function' ? (args[0] as (...a: unknown[]) => unknown)(...args.slice(1)) : (args[1] as (...a: unknown[]) => unknown)(...args.slice(2))) }),
};

export function createGitHubClient(options: ClientOptions): GitHubClient {
  const base = options.retryBaseMs ?? 1000;
  const retries = options.retries ?? 3;
  const maxWait = options.maxRateLimitWaitSeconds ?? 120;
  const log = options.log ?? (() => {});
  const onLimit = (kind: string) => (retryAfter: number, req: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
    const again = retryCount < retries && retryAfter <= maxWait;
    log(`GitHub ${kind} on ${req.method} ${req.url}: ${again ? `retrying in ${retryAfter} s` : 'giving up'}`);
    return again;
  };
  const throttle: Record<string, unknown> = {
    retryAfterBaseValue: base,
    fallbackSecondaryRateRetryAfter: 60,
    onRateLimit: onLimit('rate limit'),
    onSecondaryRateLimit: onLimit('secondary rate limit'),
  };
  if (options.spaceWrites === false) {
    throttle.write = immediateGroup;
    throttle.notifications = immediateGroup;
  }
  return getOctokit(
    options.token,
    {
      baseUrl: options.baseUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com',
      // 429 is left to the throttling plugin, which honours retry-after / x-ratelimit-reset;
      // plugin-retry would retry it on its own fixed schedule first. A 409 (a stale sha in a
      // contents write) is a conflict the caller resolves by reading again, not by repeating.
      retry: { retries, retryAfterBaseValue: base, doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451] },
      // The write groups are duck-typed stand-ins when spacing is off, so the typed option does not fit.
      throttle: throttle as never,
    },
    retry,
    throttling,
  );
}
