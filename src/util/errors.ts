/**
 * Errors the user can fix: bad files, bad config, bad data. Entry points turn them into one
 * clear message and exit code 2, never a stack trace. Anything else is a bug and is reported as one.
 */
export class InputError extends Error {
  constructor(
    message: string,
    /** The file, field or node the message is about, for tools that want it separately. */
    readonly where?: string,
    /** What the user has to fix, when the file's extension does not say it (a baseline is JSON too; the runtime is no file of theirs). */
    readonly subject?: 'config' | 'model' | 'data' | 'baseline' | 'runtime',
  ) {
    super(message);
    this.name = 'InputError';
  }
}

export const EXIT_INPUT_ERROR = 2;
