import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../src/cli/program.js';
import { inspectFile } from '../../src/cli/inspect.js';
import { DataType, GraphBuilder, formatInspectReport, inspectModel, saveModel, graphCost, type InspectReport } from '../../src/onnx/index.js';
import { probeShapes } from '../../src/evaluate/shapes.js';
import { contribModel, convNet, ifOuterScope } from './families.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `prune-gate inspect ...` in process (the real program); returns exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  process.stdout.write = ((s: string) => ((stdout += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['inspect', ...args]);
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  process.exitCode = undefined;
  return { code, stdout, stderr };
}

test('inspectModel: structure, parameters, weight bytes by type, FLOPs from probed shapes', async () => {
  const model = convNet();
  const shapes = await probeShapes(model);
  const r = inspectModel(model, { file: 'convnet.onnx', shapes });
  expect(r.irVersion).toBe(8);
  expect(r.opsets).toEqual([{ domain: '', version: 17 }]);
  expect(r.inputs).toEqual([{ name: 'x', type: 'float32', shape: ['N', 3, 16, 16] }]);
  expect(r.outputs).toEqual([{ name: 'y', type: 'float32', shape: ['N', 10] }]);
  expect(r.opCounts.find((o) => o.op === 'Conv')?.count).toBe(2);
  expect(r.nodeCount).toEqual({ main: model.graph.nodes.length, total: model.graph.nodes.length });
  const elements = model.graph.initializers.reduce((a, t) => a + t.dims.reduce((p, d) => p * d, 1), 0);
  expect(r.parameters).toBe(elements);
  expect(r.weights).toEqual([{ dataType: 'float32', tensors: model.graph.initializers.length, elements, bytes: 4 * elements }]);
  expect(r.flops?.total).toBe(graphCost(model.graph, shapes).totalFlops);
  expect(r.flops?.byOp[0].op).toBe('Conv');
  expect(r.flopsMissing).toBeUndefined();
  const text = formatInspectReport(r);
  expect(text).toMatch(/^ir version {2}8$/m);
  expect(text).toMatch(/^x {6}float32 {2}\[N, 3, 16, 16\]$/m);
  expect(text).toContain('estimated FLOPs at batch 1:');
});

test('nested graphs, functions domains and missing shapes are reported', () => {
  const r = inspectModel(ifOuterScope(), { shapesMissing: 'skipped' });
  expect(r.subgraphs).toBe(2);
  expect(r.nodeCount.total).toBe(r.nodeCount.main + 4);
  expect(r.flops).toBeUndefined();
  expect(formatInspectReport(r)).toContain('FLOPs: not available (skipped)');
  const withShapes = inspectModel(ifOuterScope(), { shapes: new Map() });
  expect(withShapes.flops?.nestedNodes).toBe(4);
  expect(formatInspectReport(withShapes)).toMatch(/not counted: .*4 nodes inside subgraphs and functions/);
  const c = inspectModel(contribModel());
  expect(c.opCounts.map((o) => o.op).sort()).toEqual(['com.microsoft:FusedMatMul', 'com.microsoft:Gelu']);
});

test('CLI --json: one JSON object, external data files with sizes', async () => {
  const file = path.join(dir, 'ext', 'm.onnx');
  saveModel(convNet(), file, { externalThreshold: 256 });
  const { code, stdout, stderr } = await cli([file, '--json', '--dim', 'N=2']);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const r = JSON.parse(stdout) as InspectReport;
  expect(r.file).toBe(file);
  expect(r.externalData).toHaveLength(1);
  expect(r.externalData[0].location).toBe('m.onnx.data');
  expect(r.externalData[0].fileBytes).toBe(fs.statSync(`${file}.data`).size);
  expect(r.externalData[0].bytes).toBeLessThanOrEqual(r.externalData[0].fileBytes as number);
  // --dim N=2 doubles the work of the batch-1 probe.
  const one = await inspectFile(file);
  expect(r.flops?.total).toBe(2 * (one.flops?.total as number));
});

test('CLI human output; a model ORT cannot run still gets everything but FLOPs, with the reason', async () => {
  const b = new GraphBuilder('custom');
  const x = b.input('x', DataType.FLOAT, [2]);
  b.op('Mystery', [x], {}, { outputs: ['y'], domain: 'acme' });
  b.output('y', DataType.FLOAT);
  const file = path.join(dir, 'custom.onnx');
  saveModel(b.model({ opset: 17, extraOpsets: [{ domain: 'acme', version: 1 }] }), file);
  const { code, stdout } = await cli([file]);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^opsets +ai\.onnx 17, acme 1$/m);
  expect(stdout).toMatch(/^acme:Mystery +1$/m);
  expect(stdout).toMatch(/FLOPs: not available \(ONNX Runtime could not run the model.*Mystery/);
});

test('CLI bad input: missing file, not ONNX, bad --dim each exit 2 with one line', async () => {
  const junk = path.join(dir, 'junk.onnx');
  fs.writeFileSync(junk, 'this is not a model\n');
  for (const [args, message] of [
    [[path.join(dir, 'nope.onnx')], /nope\.onnx: no such file/],
    [[junk], /junk\.onnx: not a valid ONNX model/],
    [[junk, '--dim', 'N=0'], /--dim 'N=0'/],
  ] as Array<[string[], RegExp]>) {
    const { code, stdout, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  }
});
