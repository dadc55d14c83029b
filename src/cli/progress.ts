/** Progress messages on stderr (stdout carries the command's result), silenced by --quiet. */
export const progress = (quiet: boolean) => (message: string) => {
  if (!quiet) process.stderr.write(`prune-gate: ${message}\n`);
};
