/**
 * A small, real HTTP server on 127.0.0.1 that speaks the part of the GitHub REST API prune-gate
 * uses: issue comments (list with Link-header pagination, create, update, delete), one pull
 * request, /user, and files on branches (FakeContents: the contents API and orphan branches). Tokens decide who you are; faults can be queued per route to exercise
 * retries, rate limits and read-only tokens. Octokit is pointed at it through baseUrl.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeContents } from './fake-github-contents.js';

export interface FakeUser {
  login: string;
  id: number;
  type: 'User' | 'Bot';
}

export interface FakeComment {
  id: number;
  body: string;
  user: FakeUser;
  created_at: string;
  updated_at: string;
}

export interface Fault {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  at: number;
}

export const BOT: FakeUser = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };
export const OTHER_BOT: FakeUser = { login: 'other-ci[bot]', id: 5000, type: 'Bot' };
export const HUMAN: FakeUser = { login: 'octocat', id: 1, type: 'User' };

export class FakeGitHub {
  readonly comments = new Map<string, FakeComment[]>();
  readonly pulls = new Map<string, { number: number; headSha: string; headRepo: string; baseRepo: string }>();
  readonly requests: RequestRecord[] = [];
  readonly contents = new FakeContents();
  /** token -> user; a token listed in readOnly gets 403 on every write. */
  readonly tokens = new Map<string, FakeUser>([
    ['bot-token', BOT],
    ['readonly-token', BOT],
    ['human-token', HUMAN],
  ]);
  readonly readOnly = new Set<string>(['readonly-token']);
  private nextId = 1000;
  private clock = Date.parse('2026-11-28T00:00:00Z');
  private faults: { method: string; pattern: RegExp; fault: Fault }[] = [];
  /** Called once after the next successful write (POST/PATCH), to stage what a racing client does meanwhile. */
  afterNextWrite?: (comment: FakeComment) => void;
  private server?: http.Server;
  baseUrl = '';

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => this.handle(req, raw, res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** The next `times` requests matching method and path pattern get `fault` instead of an answer. */
  failNext(method: string, pattern: RegExp, fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push({ method, pattern, fault });
  }

  seedComment(owner: string, repo: string, issue: number, body: string, user: FakeUser): FakeComment {
    const c = this.newComment(body, user);
    this.list(owner, repo, issue).push(c);
    return c;
  }

  list(owner: string, repo: string, issue: number): FakeComment[] {
    const key = `${owner}/${repo}#${issue}`;
    let l = this.comments.get(key);
    if (!l) this.comments.set(key, (l = []));
    return l;
  }

  deleteComment(id: number): void {
    for (const l of this.comments.values()) {
      const i = l.findIndex((c) => c.id === id);
      if (i >= 0) l.splice(i, 1);
    }
  }

  private newComment(body: string, user: FakeUser): FakeComment {
    this.clock += 1000;
    const t = new Date(this.clock).toISOString();
    return { id: this.nextId++, body, user, created_at: t, updated_at: t };
  }

  private runAfterWrite(c: FakeComment): void {
    const hook = this.afterNextWrite;
    this.afterNextWrite = undefined;
    hook?.(c);
  }

  private handle(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = req.method ?? 'GET';
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method, path: url.pathname + url.search, status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const faultIdx = this.faults.findIndex((f) => f.method === method && f.pattern.test(url.pathname));
    if (faultIdx >= 0) {
      const { fault } = this.faults.splice(faultIdx, 1)[0];
      return send(fault.status, fault.body ?? { message: `injected ${fault.status}` }, fault.headers);
    }
    const auth = (req.headers.authorization ?? '').replace(/^(token|bearer)\s+/i, '');
    const user = this.tokens.get(auth);
    if (!user) return send(401, { message: 'Bad credentials' });
    const isWrite = method !== 'GET' && method !== 'HEAD';
    if (isWrite && this.readOnly.has(auth)) return send(403, { message: 'Resource not accessible by integration' });

    let m: RegExpExecArray | null;
    if (method === 'GET' && url.pathname === '/user') return send(200, user);
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname))) {
      const list = this.list(m[1], m[2], Number(m[3]));
      if (method === 'GET') {
        const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
        const page = Number(url.searchParams.get('page') ?? 1);
        const last = Math.max(1, Math.ceil(list.length / perPage));
        const links: string[] = [];
        const link = (p: number, rel: string) => {
          const u = new URL(url.pathname, this.baseUrl);
          u.searchParams.set('per_page', String(perPage));
          u.searchParams.set('page', String(p));
          links.push(`<${u.toString()}>; rel="${rel}"`);
        };
        if (page < last) {
          link(page + 1, 'next');
          link(last, 'last');
        }
        if (page > 1) {
          link(1, 'first');
          link(page - 1, 'prev');
        }
        return send(200, list.slice((page - 1) * perPage, page * perPage), links.length ? { link: links.join(', ') } : {});
      }
      if (method === 'POST') {
        const body = (JSON.parse(raw || '{}') as { body?: string }).body ?? '';
        const c = this.newComment(body, user);
        list.push(c);
        send(201, c);
        return this.runAfterWrite(c);
      }
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname))) {
      const id = Number(m[3]);
      const c = [...this.comments.values()].flat().find((x) => x.id === id);
      if (!c) return send(404, { message: 'Not Found' });
      if (method === 'PATCH') {
        if (c.user.login !== user.login) return send(403, { message: 'Must have admin rights to Repository.' });
        c.body = (JSON.parse(raw || '{}') as { body?: string }).body ?? c.body;
        this.clock += 1000;
        c.updated_at = new Date(this.clock).toISOString();
        send(200, { ...c });
        return this.runAfterWrite(c);
      }
      if (method === 'DELETE') {
        this.deleteComment(id);
        return send(204);
      }
    }
    if (method === 'GET' && (m = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/.exec(url.pathname))) {
      const pr = this.pulls.get(`${m[1]}/${m[2]}#${m[3]}`);
      if (!pr) return send(404, { message: 'Not Found' });
      return send(200, { number: pr.number, head: { sha: pr.headSha, repo: { full_name: pr.headRepo } }, base: { repo: { full_name: pr.baseRepo } } });
    }
    if (this.contents.handle(method, url, raw, send)) return;
    return send(404, { message: `fake GitHub does not implement ${method} ${url.pathname}` });
  }
}
