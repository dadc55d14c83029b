/**
 * `prune-gate inspect MODEL [--json]`: what the model is made of, and its FLOPs where one ORT run
 * can tell the shapes. The file is always loaded with our importer first: ORT never sees a file
 * the importer rejects (the native runtime can crash on garbage).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../util/errors.js';
import { loadModel, inspectModel, formatInspectReport, type InspectReport, type Model } from '../onnx/index.js';
import { probeShapes } from '../evaluate/shapes.js';
import { runAction } from './command-runner.js';

export interface InspectCommandOptions {
  json?: boolean;
  /** Sizes for symbolic dimensions, `name=value` (others default to 1). */
  dim?: string[];
  /** Skip the ORT run (no FLOPs). */
  flops?: boolean;
}

export function registerInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('Print what an ONNX model holds: IR and opsets, inputs and outputs, op counts, parameters, weight bytes, external data and estimated FLOPs.')
    .argument('<model>', 'path to the .onnx file')
    .option('--json', 'print one JSON object instead of tables')
    .option('--dim <name=value...>', 'size for a symbolic input dimension (default 1 for every symbolic dimension)')
    .option('--no-flops', 'do not run the model to learn shapes (no FLOPs)')
    .action(
      runAction(async (file: string, opts: InspectCommandOptions) => {
        const report = await inspectFile(file, opts);
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspectReport(report));
      }),
    );
}

/** Loads, probes and inspects a model file. Bad files are InputErrors; an ORT failure only drops FLOPs. */
export async function inspectFile(file: string, opts: InspectCommandOptions = {}): Promise<InspectReport> {
  const dimValues = parseDims(opts.dim ?? []);
  const model = loadModel(file);
  let shapes: Map<string, number[]> | undefined;
  let shapesMissing: string | undefined;
  if (opts.flops === false) {
    shapesMissing = 'skipped (--no-flops)';
  } else {
    try {
      shapes = await probeShapes(model, undefined, { dimValues, label: file });
    } catch (err) {
      const symbolic = model.graph.inputs.some((i) => i.type?.kind === 'tensor' && i.type.shape?.some((d) => typeof d !== 'number'));
      const hint = symbolic ? '; symbolic dimensions were set to 1, give real sizes with --dim name=size' : '';
      shapesMissing = `ONNX Runtime could not run the model with generated inputs: ${(err as Error).message.replace(`${file}: `, '')}${hint}`;
    }
  }
  return inspectModel(model, { file, shapes, shapesMissing, externalFileBytes: externalSizes(model, file) });
}

function externalSizes(model: Model, file: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  const dir = path.dirname(path.resolve(file));
  const visit = (location: string) => {
    if (location in sizes) return;
    try {
      sizes[location] = fs.statSync(path.join(dir, location)).size;
    } catch {
      // Left out: the report shows the file as missing (loading would have failed anyway).
    }
  };
  const stack = [model.graph];
  while (stack.length) {
    const g = stack.pop() as Model['graph'];
    for (const t of g.initializers) if (t.external) visit(t.external.location);
    for (const n of g.nodes) for (const a of n.attributes) if (a.type === 'graph') stack.push(a.value);
  }
  return sizes;
}

function parseDims(specs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const spec of specs) {
    const m = /^(.+)=(\d+)$/.exec(spec);
    if (!m || Number(m[2]) < 1) throw new InputError(`--dim '${spec}': expected name=size with a positive size, e.g. --dim batch=1`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}
