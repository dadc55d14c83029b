/**
 * The part of the fake GitHub that holds files on branches: the contents API (GET a file with its
 * blob sha, PUT it with compare-and-swap on that sha: 409 when the sha is stale, 422 when a file
 * exists and no sha was sent), GET a branch, and the git data calls that create an orphan branch
 * (trees, commits, refs). Blob shas are git's own (sha1 of "blob <len>\0<content>").
 */
import * as crypto from 'node:crypto';

export type Send = (status: number, body?: unknown) => void;

interface Branch {
  commit: string;
  files: Map<string, string>;
}

export function blobSha(content: string): string {
  const bytes = Buffer.from(content, 'utf8');
  return crypto.createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export class FakeContents {
  /** owner/repo@branch -> head commit and files. */
  readonly branches = new Map<string, Branch>();
  /** Trees and commits created through the git data API, by sha, until a ref points at one. */
  private readonly trees = new Map<string, Map<string, string>>();
  private readonly commits = new Map<string, { tree: string; parents: string[]; message: string }>();
  /** Messages of every commit written, in order, per owner/repo@branch. */
  readonly log = new Map<string, string[]>();
  /**
   * Called once when the next contents PUT arrives, before it is checked: stage a racing writer
   * here (e.g. `writeFile(...)`), and the PUT then carries a stale sha.
   */
  beforeNextPut?: () => void;
  private counter = 0;

  /** Writes a file as a push would (a new commit on the branch, created if missing). */
  writeFile(owner: string, repo: string, branch: string, path: string, content: string, message = 'racing push'): void {
    const key = `${owner}/${repo}@${branch}`;
    const b = this.branches.get(key) ?? { commit: '', files: new Map<string, string>() };
    b.files.set(path, content);
    b.commit = this.nextSha();
    this.branches.set(key, b);
    this.log.set(key, [...(this.log.get(key) ?? []), message]);
  }

  readFile(owner: string, repo: string, branch: string, path: string): string | undefined {
    return this.branches.get(`${owner}/${repo}@${branch}`)?.files.get(path);
  }

  /** Serves the routes it knows; false for any other request. */
  handle(method: string, url: URL, raw: string, send: Send): boolean {
    let m: RegExpExecArray | null;
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/.exec(url.pathname))) {
      const [owner, repo, path] = [m[1], m[2], decodeURIComponent(m[3])];
      if (method === 'GET') {
        const branch = this.branches.get(`${owner}/${repo}@${url.searchParams.get('ref') ?? 'main'}`);
        const content = branch?.files.get(path);
        if (content === undefined) return send(404, { message: 'Not Found' }), true;
        return send(200, { type: 'file', encoding: 'base64', size: Buffer.byteLength(content), name: path.split('/').pop(), path, sha: blobSha(content), content: Buffer.from(content).toString('base64') }), true;
      }
      if (method === 'PUT') {
        const hook = this.beforeNextPut;
        this.beforeNextPut = undefined;
        hook?.();
        const body = JSON.parse(raw || '{}') as { message?: string; content?: string; sha?: string; branch?: string };
        const key = `${owner}/${repo}@${body.branch ?? 'main'}`;
        const branch = this.branches.get(key);
        if (!branch) return send(404, { message: `Branch ${body.branch} not found` }), true;
        const existing = branch.files.get(path);
        if (existing !== undefined && body.sha === undefined) return send(422, { message: '"sha" wasn\'t supplied.' }), true;
        if (existing !== undefined && body.sha !== blobSha(existing)) return send(409, { message: `${path} does not match ${body.sha}` }), true;
        if (existing === undefined && body.sha !== undefined) return send(404, { message: 'Not Found' }), true;
        const content = Buffer.from(body.content ?? '', 'base64').toString('utf8');
        this.writeFile(owner, repo, body.branch ?? 'main', path, content, body.message ?? '');
        return send(existing === undefined ? 201 : 200, { content: { path, sha: blobSha(content) }, commit: { sha: this.branches.get(key)!.commit, message: body.message } }), true;
      }
    }
    if (method === 'GET' && (m = /^\/repos\/([^/]+)\/([^/]+)\/branches\/(.+)$/.exec(url.pathname))) {
      const branch = this.branches.get(`${m[1]}/${m[2]}@${decodeURIComponent(m[3])}`);
      if (!branch) return send(404, { message: 'Branch not found' }), true;
      return send(200, { name: decodeURIComponent(m[3]), commit: { sha: branch.commit } }), true;
    }
    if (method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/git\/trees$/.test(url.pathname)) {
      const body = JSON.parse(raw || '{}') as { tree: { path: string; content: string }[] };
      const sha = this.nextSha();
      this.trees.set(sha, new Map(body.tree.map((t) => [t.path, t.content])));
      return send(201, { sha }), true;
    }
    if (method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/git\/commits$/.test(url.pathname)) {
      const body = JSON.parse(raw || '{}') as { tree: string; parents: string[]; message: string };
      if (!this.trees.has(body.tree)) return send(422, { message: 'Tree SHA does not exist' }), true;
      const sha = this.nextSha();
      this.commits.set(sha, body);
      return send(201, { sha }), true;
    }
    if (method === 'POST' && (m = /^\/repos\/([^/]+)\/([^/]+)\/git\/refs$/.exec(url.pathname))) {
      const body = JSON.parse(raw || '{}') as { ref: string; sha: string };
      const name = body.ref.replace(/^refs\/heads\//, '');
      const key = `${m[1]}/${m[2]}@${name}`;
      if (this.branches.has(key)) return send(422, { message: 'Reference already exists' }), true;
      const commit = this.commits.get(body.sha);
      if (!commit) return send(422, { message: 'Object does not exist' }), true;
      this.branches.set(key, { commit: body.sha, files: new Map(this.trees.get(commit.tree)) });
      this.log.set(key, [commit.message]);
      return send(201, { ref: body.ref, object: { sha: body.sha } }), true;
    }
    return false;
  }

  private nextSha(): string {
    return (++this.counter).toString(16).padStart(40, 'c');
  }
}
