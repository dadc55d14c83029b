/**
 * The npm package as a user gets it: `npm pack`, the tarball installed into an empty folder
 * outside the repository (only the registry's packages beside it: onnxruntime-node and its
 * dependencies, from npm's cache), then `npx prune-gate` there on a copy of the MNIST example,
 * with nothing of the source tree on PATH or on Node's resolution path.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; files: string[]; dependencies: Record<string, string> };
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-package-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Node's own folder and the system's: not the repository's node_modules/.bin that `npm test` puts on PATH. */
const env = {
  PATH: [path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(path.delimiter),
  HOME: process.env.HOME ?? os.homedir(),
  ...(process.env.npm_config_cache ? { npm_config_cache: process.env.npm_config_cache } : {}),
  // onnxruntime-node's install script would fetch CUDA files from outside the registry; its CPU binaries are in the package.
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  NO_COLOR: '1',
};

function npx(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  // --no: never fetch a package called prune-gate from the registry; only the installed one may answer.
  const r = spawnSync('npx', ['--no', '--', 'prune-gate', ...args], { cwd, env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the packed tarball installs outside the repository and its CLI runs the example: --version, inspect, baseline, run', () => {
  expect(pkg).not.toHaveProperty('private');
  // Everything else is bundled into dist/.
  expect(Object.keys(pkg.dependencies)).toEqual(['onnxruntime-node', 'onnxruntime-web']);

  const packed = execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' }).trim().split('\n').at(-1)!;
  const tarball = path.join(work, packed);
  const listed = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
  const outside = listed.filter((f) => !/^package\/(package\.json|README\.md|LICENSE|dist\/.+|schemas\/[^/]+\.schema\.json)$/.test(f));
  expect(outside).toEqual([]);
  expect(listed).toEqual(expect.arrayContaining(['package/dist/cli.js', 'package/dist/index.js', 'package/schemas/config.schema.json', 'package/LICENSE']));

  const app = path.join(work, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'a-team-project', private: true }));
  execFileSync('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env, stdio: 'pipe' });
  expect(fs.realpathSync(path.join(app, 'node_modules/prune-gate')).startsWith(fs.realpathSync(app))).toBe(true);

  // The team's files: a copy of the example, with a short benchmark and the verdict on accuracy alone.
  const project = path.join(app, 'model');
  fs.cpSync(path.join(ROOT, 'examples/mnist'), project, { recursive: true });
  fs.rmSync(path.join(project, 'baseline.json'));
  const config = path.join(project, 'prune-gate.yml');
  const yml = fs.readFileSync(config, 'utf8').replace(/time-budget: \S+/, 'time-budget: 300ms').replace(/batch-sizes: \[[^\]]*\]/, 'batch-sizes: [1]').replace(/^\s*p95-ratio:.*$/m, '');
  fs.writeFileSync(config, `${yml}objective: size\n`);

  const version = npx(app, '--version');
  expect(version).toMatchObject({ status: 0, stdout: `${pkg.version}\n` });

  const inspect = npx(app, 'inspect', 'model/model.onnx', '--json');
  expect(inspect.status).toBe(0);
  expect(JSON.parse(inspect.stdout)).toMatchObject({ inputs: [expect.objectContaining({ name: 'input' })] });

  const baseline = npx(app, 'baseline', '--config', 'model/prune-gate.yml');
  expect(baseline.stderr).not.toMatch(/error/i);
  expect(baseline.status).toBe(0);
  const frozen = JSON.parse(fs.readFileSync(path.join(project, 'baseline.json'), 'utf8')) as { toolVersion: string };
  expect(frozen.toolVersion).toBe(pkg.version);

  const run = npx(app, 'run', '--config', 'model/prune-gate.yml', '--out', 'out');
  expect(run.stderr).not.toMatch(/internal error/);
  expect(run.status).toBe(0);
  const report = JSON.parse(fs.readFileSync(path.join(app, 'out/report.json'), 'utf8')) as { verdict: string; reference: string; toolVersion: string };
  expect(report).toMatchObject({ verdict: 'pass', reference: 'frozen-baseline', toolVersion: pkg.version });
  // The comment's footer names the same version.
  expect(fs.readFileSync(path.join(app, 'out/report.md'), 'utf8')).toContain(`<sub>prune-gate ${pkg.version} ·`);
});
