/**
 * Paths as the report shows them: relative to the repository (the working directory the CLI and
 * the Action run in), so a comment names `models/model.onnx`, not the runner's
 * /home/runner/work/... Paths outside it stay absolute.
 */
import * as path from 'node:path';

export function displayPath(file: string, root: string = process.cwd()): string {
  if (!file) return file;
  const rel = path.relative(root, path.resolve(root, file));
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}
