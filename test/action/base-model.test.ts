/** The base branch's model read from the PR's base commit with git, in real repositories. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { baseModelFromGit } from '../../src/action/base-model.js';
import { commitAll, git, initRepo, shallowClone } from '../helpers/git-repo.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FULL = path.join(ROOT, 'test/fixtures/models/mnist-mlp.onnx');
const HALF = path.join(ROOT, 'test/fixtures/models/mnist-mlp-half.onnx');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const track = (d: string) => (dirs.push(d), d);

/** main had the half-size model; the PR's commit replaces it with the full one and adds a new model. */
function repository(): { origin: string; base: string; head: string } {
  const origin = track(initRepo());
  fs.mkdirSync(path.join(origin, 'models'));
  fs.copyFileSync(HALF, path.join(origin, 'models/model.onnx'));
  fs.writeFileSync(path.join(origin, 'models/lfs.onnx'), 'version https://git-lfs.github.com/spec/v1\noid sha256:' + 'a'.repeat(64) + '\nsize 123\n');
  const base = commitAll(origin, 'base: the half-size model');
  fs.copyFileSync(FULL, path.join(origin, 'models/model.onnx'));
  fs.copyFileSync(HALF, path.join(origin, 'models/new.onnx'));
  const head = commitAll(origin, 'PR: the full model');
  return { origin, base, head };
}

test('a shallow checkout fetches the base commit and extracts its model, byte for byte; a second lookup needs no fetch', () => {
  const { origin, base, head } = repository();
  const clone = track(shallowClone(origin));
  expect(git(clone, 'rev-parse', 'HEAD')).toBe(head);
  expect(() => git(clone, 'cat-file', '-e', `${base}^{commit}`)).toThrow();
  const temp = track(fs.mkdtempSync(path.join(os.tmpdir(), 'pg-temp-')));
  const logs: string[] = [];
  const found = baseModelFromGit({ commit: base, model: 'models/model.onnx', cwd: clone, tempDir: temp, log: (m) => logs.push(m) });
  expect(found).toMatchObject({ found: true, path: 'models/model.onnx', commit: base, fetched: true });
  if (!found.found) throw new Error(found.reason);
  expect(found.file.startsWith(temp)).toBe(true);
  expect(fs.readFileSync(found.file).equals(fs.readFileSync(HALF))).toBe(true);
  expect(logs).toEqual([`fetching the base commit ${base.slice(0, 12)} (shallow checkout)`]);
  // The PR's own model is untouched.
  expect(fs.readFileSync(path.join(clone, 'models/model.onnx')).equals(fs.readFileSync(FULL))).toBe(true);
  // An absolute model path, as the config loader gives it, reads the same blob; the commit is there now.
  const again = baseModelFromGit({ commit: base, model: path.join(clone, 'models/model.onnx'), cwd: clone, tempDir: temp });
  expect(again).toMatchObject({ found: true, fetched: false });
});

test('what stops the comparison is a reason, not a failure: a new model, a Git LFS pointer, an unknown commit, no git', () => {
  const { origin, base } = repository();
  const clone = track(shallowClone(origin));
  const lookup = (model: string, commit = base, cwd = clone) => baseModelFromGit({ commit, model, cwd });
  expect(lookup('models/new.onnx')).toEqual({ found: false, reason: `models/new.onnx does not exist at the base commit ${base.slice(0, 12)} (a new model): nothing to compare with` });
  expect(lookup('models/lfs.onnx')).toMatchObject({ found: false, reason: expect.stringContaining('models/lfs.onnx is a Git LFS pointer at the base commit') });
  expect(lookup('models/model.onnx', 'f'.repeat(40))).toMatchObject({ found: false, reason: expect.stringMatching(/^the base commit ffffffffffff is not in the checkout and `git fetch --depth=1 origin f{40}` failed \(.+\); use actions\/checkout with fetch-depth: 0/) });
  expect(lookup('models/model.onnx', 'main')).toEqual({ found: false, reason: 'the base commit "main" is not a SHA' });
  const plain = track(fs.mkdtempSync(path.join(os.tmpdir(), 'pg-plain-')));
  expect(lookup('model.onnx', base, plain)).toMatchObject({ found: false, reason: expect.stringContaining(`${plain} is not a git checkout`) });
});
