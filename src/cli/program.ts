/** Builds the `prune-gate` command tree. Each command lives in its own module under src/cli/. */
import { Command, CommanderError } from 'commander';
import { EXIT_INPUT_ERROR } from '../errors.js';

declare const __VERSION__: string | undefined;
export const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

export function buildProgram(): Command {
  const program = new Command('prune-gate')
    .description('Prune and quantize an ONNX model, measure it against a frozen baseline, and gate the change.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
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
