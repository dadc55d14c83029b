/**
 * Turns a command's outcome into the exit code contract: 0 success, 1 gate failed,
 * 2 usage or input error (one clear line, no stack trace). Anything else is a bug: say so.
 */
import { InputError, EXIT_INPUT_ERROR } from '../util/errors.js';

export type CommandResult = number | void;

export function runAction<A extends unknown[]>(action: (...args: A) => Promise<CommandResult> | CommandResult): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await action(...args);
      process.exitCode = typeof code === 'number' ? code : 0;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

export function reportError(err: unknown): number {
  if (err instanceof InputError) {
    process.stderr.write(`prune-gate: error: ${err.message}\n`);
    return EXIT_INPUT_ERROR;
  }
  const e = err as Error;
  process.stderr.write(`prune-gate: internal error: ${e?.message ?? String(err)}\n${e?.stack ?? ''}\nThis is a bug in prune-gate; please report it with the command you ran.\n`);
  return 3;
}
