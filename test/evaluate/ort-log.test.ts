/**
 * ONNX Runtime's own warnings stay out of prune-gate's log (an exported model with unused
 * initializers made ORT print one "Removing initializer" line each), while a real failure still
 * reaches the user. The native logger writes to the process's stderr, so each case runs in a child.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataType, GraphBuilder, encodeModel, float32Tensor } from '../../src/onnx/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-ort-log-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function model(file: string, opType: string, unused: number): string {
  const b = new GraphBuilder('log');
  const x = b.input('x', DataType.FLOAT, ['N', 4]);
  for (let i = 0; i < unused; i++) b.constant(float32Tensor(`unused_${i}`, [4], new Float32Array(4)));
  b.op(opType, [x], {}, { outputs: ['y'] });
  b.output('y', DataType.FLOAT, ['N', 4]);
  const out = path.join(dir, file);
  fs.writeFileSync(out, encodeModel(b.model({ opset: 17 })));
  return out;
}

function open(level: string, file: string): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'ort-log-child.ts'), level, file], { encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr };
}

test("ORT's warnings are not passed through by default; asked for, they are there", () => {
  const file = model('unused.onnx', 'Relu', 5);
  const quiet = open('default', file);
  expect(quiet.stdout).toBe('loaded\n');
  expect(quiet.stderr).not.toMatch(/Removing initializer/);
  // The same model at ORT's own default (warnings): the lines the default keeps out.
  const loud = open('2', file);
  expect(loud.stderr.match(/Removing initializer 'unused_\d'/g)).toHaveLength(5);
});

test('a model ORT cannot load is still an error that names the problem', () => {
  const broken = open('default', model('broken.onnx', 'NoSuchOp', 0));
  expect(broken.stdout).toMatch(/^InputError: .*broken\.onnx: ONNX Runtime cannot load the model: .*NoSuchOp/);
});
