/**
 * scripts/release.mjs on a copy of this repository (its own git history, the development
 * node_modules linked in): a release 2.0.0 sets the version in package.json, the lockfile and
 * dist/ (the CLI and the comment footer), commits that, cuts the release tree onto releases/v2 and
 * tags v2.0.0 and v2; a lower version and an existing tag are refused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-release-repo-'));
afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

const who = { GIT_AUTHOR_NAME: 'release test', GIT_AUTHOR_EMAIL: 'release@test.invalid', GIT_COMMITTER_NAME: 'release test', GIT_COMMITTER_EMAIL: 'release@test.invalid' };
const env = { ...process.env, ...who, ONNXRUNTIME_NODE_INSTALL: 'skip' };
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' }).trim();
const release = (...args: string[]) => spawnSync(process.execPath, ['scripts/release.mjs', ...args], { cwd: repo, env, encoding: 'utf8' });
const versionOf = (file: string) => (JSON.parse(fs.readFileSync(path.join(repo, file), 'utf8')) as { version: string }).version;

beforeAll(() => {
  for (const f of ['package.json', 'package-lock.json', '.npmrc', '.gitignore', 'action.yml', 'LICENSE', 'README.md', 'scripts', 'src', 'schemas', 'examples/mnist']) {
    fs.cpSync(path.join(ROOT, f), path.join(repo, f), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(repo, 'node_modules'), 'dir');
  git('init', '--quiet', '--initial-branch=main');
  // A symlink is not the folder .gitignore's `node_modules/` names.
  fs.appendFileSync(path.join(repo, '.git/info/exclude'), 'node_modules\n');
  git('add', '--all');
  git('commit', '--quiet', '-m', 'source');
});

test('release 2.0.0: the version is bumped everywhere, committed, and the tree is tagged v2.0.0 and v2 on releases/v2', () => {
  const before = versionOf('package.json');
  expect(before).not.toBe('2.0.0');
  const r = release('v2.0.0');
  // stderr rides along so a failure shows why.
  expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: 0 });
  expect(r.stdout).toContain('version 2.0.0 in the report and the CLI');

  expect(versionOf('package.json')).toBe('2.0.0');
  expect(versionOf('package-lock.json')).toBe('2.0.0');
  expect(execFileSync(process.execPath, [path.join(repo, 'dist/cli.js'), '--version'], { encoding: 'utf8' })).toBe('2.0.0\n');
  expect(git('status', '--porcelain')).toBe('');
  expect(git('log', '-1', '--format=%s', 'main')).toBe('Release v2.0.0: version 2.0.0 in package.json and dist/');
  expect(git('tag', '--list').split('\n').sort()).toEqual(['v2', 'v2.0.0']);
  expect(git('rev-parse', 'v2^{commit}')).toBe(git('rev-parse', 'releases/v2'));
  expect(JSON.parse(git('show', 'releases/v2:package.json'))).toMatchObject({ version: '2.0.0', type: 'module' });
  expect(git('grep', '-l', 'version: "2.0.0"', 'releases/v2', '--', 'dist')).not.toBe('');
  const tree = git('ls-tree', '-r', '--name-only', 'releases/v2');
  expect(tree).toMatch(/^node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\//m);
  // targets: [wasm]: onnxruntime-web's Node entry and its one SIMD build, not the JSEP/JSPI/asyncify ones (about 70 MB more).
  const web = tree.split('\n').filter((f) => f.startsWith('node_modules/onnxruntime-web/'));
  expect(web).toEqual(expect.arrayContaining(['node_modules/onnxruntime-web/package.json', 'node_modules/onnxruntime-web/dist/ort.node.min.mjs', 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs', 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm']));
  expect(web.filter((f) => /\.(jsep|jspi|asyncify)\.|\/lib\//.test(f))).toEqual([]);

  // Backwards or twice: refused before anything is built.
  const lower = release('1.9.9', '--dry-run');
  expect(lower.status).toBe(2);
  expect(lower.stderr).toContain("1.9.9 is lower than package.json's version 2.0.0");
  const again = release('2.0.0');
  expect(again.status).toBe(2);
  expect(again.stderr).toContain('tag v2.0.0 already exists');
  expect(release('0.9.0').stderr).toContain('usage: node scripts/release.mjs MAJOR.MINOR.PATCH');
});
