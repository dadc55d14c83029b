#!/usr/bin/env node
// Sets the version, builds the release tree that `uses: <owner>/prune-gate@v1` runs with no
// install step, checks it, smoke-tests it, and commits it to the release branch with the tags.
//
//   node scripts/release.mjs 1.2.3            # bump, build release/v1.2.3/, check, smoke-test, commit + tag locally
//   node scripts/release.mjs 1.2.3 --dry-run  # the same with nothing committed; package.json is put back after
//   node scripts/release.mjs 2.0.0 --push     # ... and push the branch and both tags to origin
//
// The version (any MAJOR >= 1, with or without a leading v) goes into package.json and
// package-lock.json and, through the build, into dist/ (the CLI's --version and the comment's
// footer); that change is committed on the current branch before the release tree is cut, so the
// package, the footer and the tag always say the same version.
//
// The tree: action.yml, dist/, LICENSE, README.md, and node_modules/ with onnxruntime-node trimmed
// to the Linux binaries (x64 and arm64), onnxruntime-web trimmed to its Node entry and the one
// .wasm build it loads (SIMD, 14 MB), plus onnxruntime-common, the runtime dependency of both.
// See docs/releasing.md.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
/** GitHub warns above 50 MB per file and refuses above 100 MB. */
const MAX_FILE_BYTES = 50 * 1024 * 1024;
const PLATFORMS = ['linux/x64', 'linux/arm64'];
const RUNTIME_PACKAGES = ['onnxruntime-node', 'onnxruntime-web', 'onnxruntime-common'];
/** What onnxruntime-web needs in Node (evaluate/targets.ts): its Node entry, and the plain SIMD build (not JSEP, JSPI or asyncify). */
const WEB_FILES = /^(package\.json|README\.md|LICENSE|dist(\/(ort\.node\.min\.m?js|ort-wasm-simd-threaded\.(mjs|wasm)))?)$/;

const args = process.argv.slice(2);
const version = args.find((a) => !a.startsWith('--'))?.replace(/^v/, '');
const dryRun = args.includes('--dry-run');
const push = args.includes('--push');
if (!version || !/^[1-9]\d*\.\d+\.\d+$/.test(version)) fail('usage: node scripts/release.mjs MAJOR.MINOR.PATCH [--dry-run | --push]  (MAJOR >= 1)', 2);
const tag = `v${version}`;
const major = `v${version.split('.')[0]}`;
const branch = `releases/${major}`;

const git = (...a) => execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' }).trim();
const VERSIONED = ['package.json', 'package-lock.json'];
const saved = Object.fromEntries(VERSIONED.map((f) => [f, fs.readFileSync(path.join(ROOT, f), 'utf8')]));
const current = JSON.parse(saved['package.json']).version;
if (compareVersions(version, current) < 0) fail(`${version} is lower than package.json's version ${current}`, 2);
if (!dryRun && git('status', '--porcelain')) fail('the working tree has changes: commit or stash them first', 2);
if (!dryRun && git('tag', '--list', tag)) fail(`tag ${tag} already exists`, 2);

step(`version ${current} -> ${version} in ${VERSIONED.join(' and ')}; build`);
execFileSync('npm', ['version', version, '--no-git-tag-version', '--allow-same-version'], { cwd: ROOT, stdio: 'ignore' });
execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
if (!dryRun && git('status', '--porcelain')) {
  git('add', '--all', '--', ...VERSIONED, 'dist');
  git('commit', '--quiet', '-m', `Release ${tag}: version ${version} in package.json and dist/`);
}

const tree = path.join(ROOT, 'release', tag);
step(`assemble ${path.relative(ROOT, tree)}`);
fs.rmSync(tree, { recursive: true, force: true });
fs.mkdirSync(tree, { recursive: true });
for (const f of ['action.yml', 'LICENSE', 'README.md', 'dist']) fs.cpSync(path.join(ROOT, f), path.join(tree, f), { recursive: true });
// dist/ is ESM: without "type": "module" beside it Node would read it as CommonJS.
fs.writeFileSync(path.join(tree, 'package.json'), JSON.stringify({ name: 'prune-gate-release', version, private: true, type: 'module' }, null, 2) + '\n');
for (const name of RUNTIME_PACKAGES) {
  const from = path.join(ROOT, 'node_modules', name);
  const to = path.join(tree, 'node_modules', name);
  fs.cpSync(from, to, {
    recursive: true,
    // Only the runtime: no install script, no binaries for other platforms.
    filter: (src) => {
      const rel = path.relative(from, src).split(path.sep).join('/');
      if (name === 'onnxruntime-node' && rel.startsWith('script')) return false;
      if (name === 'onnxruntime-web') return rel === '' || WEB_FILES.test(rel);
      const bin = /^bin\/napi-v6\/([^/]+)(?:\/([^/]+))?/.exec(rel);
      if (!bin) return true;
      return bin[2] === undefined ? PLATFORMS.some((p) => p.startsWith(bin[1] + '/')) : PLATFORMS.includes(`${bin[1]}/${bin[2]}`);
    },
  });
}

step('check file sizes');
let total = 0;
for (const file of walk(tree)) {
  const size = fs.statSync(file).size;
  total += size;
  if (size > MAX_FILE_BYTES) fail(`${path.relative(tree, file)} is ${(size / 2 ** 20).toFixed(1)} MB, above the 50 MB limit`, 1);
}
console.log(`  ${walk(tree).length} files, ${(total / 2 ** 20).toFixed(1)} MB in all`);

step('smoke test: the Action entry on the bundled example, from the release tree alone');
smokeTest();

if (dryRun) {
  if (version !== current) {
    // Put the version back, and dist/ with it.
    for (const f of VERSIONED) fs.writeFileSync(path.join(ROOT, f), saved[f]);
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  }
  console.log(`\ndry run: ${path.relative(ROOT, tree)} is ready; nothing committed.`);
  process.exit(0);
}

step(`commit to ${branch}, tag ${tag}, move ${major}`);
const worktree = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-release-'));
const hasBranch = spawnSync('git', ['rev-parse', '--verify', '--quiet', branch], { cwd: ROOT }).status === 0;
git('worktree', 'add', '--detach', worktree, hasBranch ? branch : 'HEAD');
try {
  const wt = (...a) => execFileSync('git', a, { cwd: worktree, encoding: 'utf8' }).trim();
  if (!hasBranch) wt('checkout', '--orphan', branch);
  wt('rm', '-rf', '--quiet', '--ignore-unmatch', '.');
  for (const f of fs.readdirSync(tree)) fs.cpSync(path.join(tree, f), path.join(worktree, f), { recursive: true });
  wt('add', '--all', '--force', '.');
  const source = git('rev-parse', 'HEAD');
  wt('commit', '--quiet', '--allow-empty', '-m', `prune-gate ${tag}\n\nBuilt from ${source} by scripts/release.mjs.`);
  // A new branch is checked out in the worktree already; an existing one was checked out detached.
  if (hasBranch) git('branch', '-f', branch, wt('rev-parse', 'HEAD'));
  git('tag', '-a', tag, '-m', `prune-gate ${tag}`, branch);
  git('tag', '-f', '-a', major, '-m', `prune-gate ${major} (= ${tag})`, branch);
} finally {
  git('worktree', 'remove', '--force', worktree);
}
if (push) {
  // The version bump on the source branch first: the tag's tree names that commit.
  git('push', 'origin', 'HEAD');
  git('push', 'origin', branch);
  git('push', 'origin', tag);
  git('push', '--force', 'origin', major);
}
console.log(`\nreleased ${tag} on ${branch}${push ? ' and pushed' : `; push with: git push origin HEAD ${branch} ${tag} && git push --force origin ${major}`}`);

function smokeTest() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-smoke-'));
  try {
    fs.cpSync(path.join(ROOT, 'examples', 'mnist'), path.join(work, 'mnist'), { recursive: true });
    // The smoke test asks whether the tree runs, not how fast the model is: a short benchmark will do.
    const config = path.join(work, 'mnist', 'prune-gate.yml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/time-budget: \S+/, 'time-budget: 1s'));
    const out = path.join(work, 'outputs.txt');
    fs.writeFileSync(out, '');
    const env = {
      PATH: process.env.PATH,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REPOSITORY: 'prune-gate/smoke-test',
      GITHUB_WORKSPACE: work,
      GITHUB_OUTPUT: out,
      'INPUT_CONFIG': 'mnist/prune-gate.yml',
      'INPUT_COMMENT': 'false',
      'INPUT_FAIL-ON-GATE': 'false',
      'INPUT_MODE': 'run',
      'INPUT_REPORT-PATH': 'report',
      'INPUT_TOKEN': '',
      'INPUT_COMMENT-AUTHOR': '',
    };
    // The tree is copied elsewhere so nothing can resolve from the repository's node_modules.
    const isolated = path.join(work, 'action');
    fs.cpSync(tree, isolated, { recursive: true });
    const r = spawnSync(process.execPath, [path.join(isolated, 'dist', 'index.js')], { cwd: work, env, encoding: 'utf8' });
    const outputs = fs.readFileSync(out, 'utf8');
    const verdict = /verdict<<(\S+)\n(.*)\n/.exec(outputs)?.[2];
    if (r.status !== 0 || !verdict || verdict === 'error') {
      fail(`smoke test failed (exit ${r.status}, verdict ${verdict}):\n${r.stdout}\n${r.stderr}`, 1);
    }
    if (!fs.existsSync(path.join(work, 'report', 'report.json'))) fail('smoke test wrote no report.json', 1);
    const reported = JSON.parse(fs.readFileSync(path.join(work, 'report', 'report.json'), 'utf8')).toolVersion;
    const cli = spawnSync(process.execPath, [path.join(isolated, 'dist', 'cli.js'), '--version'], { encoding: 'utf8' }).stdout.trim();
    if (reported !== version || cli !== version) fail(`the tree is not version ${version}: the report says ${reported}, the CLI ${cli}`, 1);
    console.log(`  exit 0, verdict ${verdict}, version ${version} in the report and the CLI`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** -1, 0 or 1 as MAJOR.MINOR.PATCH a is below, equal to or above b. */
function compareVersions(a, b) {
  const [x, y] = [a, b].map((v) => v.split(/[.-]/).slice(0, 3).map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function step(what) {
  console.log(`\n== ${what}`);
}

function fail(message, code) {
  console.error(`release: ${message}`);
  process.exit(code);
}
