/** Builds the `prune-gate` command tree. Each command lives in its own module under src/cli/. */
import { Command, CommanderError } from 'commander';
import { EXIT_INPUT_ERROR } from '../util/errors.js';
import { TOOL_VERSION } from '../util/version.js';
import { registerBenchCommand } from './bench.js';
import { registerEvalCommand } from './eval.js';
import { registerHistoryCommand } from './history.js';
import { registerInspectCommand } from './inspect.js';
import { registerOptimizeCommand } from './optimize.js';
import { registerBaselineCommand, registerRunCommand } from './run.js';
import { registerMergeCommand, registerSearchCommand, registerVerifyCommand } from './scale-out.js';


export function buildProgram(): Command {
  const program = new Command('prune-gate')
    .description('Prune and quantize an ONNX model, measure it against a frozen baseline, and gate the change.')
    .version(TOOL_VERSION)
    .showHelpAfterError()
    .exitOverride();
  // In pipeline order: look at the model, measure it, optimize it, freeze a baseline, gate, record.
  registerInspectCommand(program);
  registerEvalCommand(program);
  registerBenchCommand(program);
  registerOptimizeCommand(program);
  registerBaselineCommand(program);
  registerRunCommand(program);
  // The same run split over a job matrix: search once, verify in shards, bench per runner kind, merge.
  registerSearchCommand(program);
  registerVerifyCommand(program);
  registerMergeCommand(program);
  registerHistoryCommand(program);
  return program;
}

/** Parses argv, runs the command, returns the exit code (0 ok, 1 gate failed, 2 usage/input error). */
export async function main(argv: string[]): Promise<number> {
  process.exitCode = undefined;
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_INPUT_ERROR;
    throw err;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
