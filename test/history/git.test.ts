/** `history add` without --commit reads HEAD from git: a real repository in a temp folder. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { headCommit } from '../../src/history/index.js';
import { InputError } from '../../src/util/errors.js';

test('HEAD, its committer time and the branch; outside a repository an input error that says to pass --commit', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-git-'));
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_COMMITTER_DATE: '2026-11-05T10:00:00+02:00', GIT_AUTHOR_DATE: '2026-11-05T10:00:00+02:00' } }).trim();
    expect(() => headCommit(dir)).toThrow(InputError);
    expect(() => headCommit(dir)).toThrow(/pass --commit SHA/);
    git('init', '-q', '-b', 'main');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'first');
    expect(headCommit(dir)).toEqual({ commit: git('rev-parse', 'HEAD'), time: '2026-11-05T08:00:00.000Z', branch: 'main' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
