/**
 * `mode: merge`'s `parts` input: one path or pattern a line (the folders download-artifact wrote,
 * e.g. `parts/prune-gate-verify-*`), expanded here because the step has no shell to do it.
 * Patterns are @actions/glob's (`*`, `?`, `[...]`, `**`), as in actions/upload-artifact's `path`.
 * A pattern that matches nothing is an error naming it, so a renamed artifact is not silently
 * left out (the merge itself then names a missing shard).
 */
import * as glob from '@actions/glob';
import * as path from 'node:path';
import { InputError } from '../util/errors.js';

/** The input's lines, trimmed, without blanks and `#` comments. */
export function partLines(input: string): string[] {
  return input
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** Every line expanded against `cwd`, in order, each path once; literal lines are kept as given (merge says when one is missing). */
export async function expandParts(lines: string[], cwd: string): Promise<string[]> {
  if (!lines.length) {
    throw new InputError('mode: merge needs the input "parts": the downloaded verify and bench artifact folders, one path or pattern a line (e.g. parts/prune-gate-verify-* and parts/prune-gate-bench-*).', 'parts');
  }
  const found: string[] = [];
  for (const line of lines) {
    const matches = /[*?[]/.test(line) ? await expandPattern(line, cwd) : [line];
    if (!matches.length) {
      throw new InputError(`input "parts": "${line}" matches nothing in ${cwd}; check the artifact names the download step wrote (one folder per artifact with download-artifact's pattern:), or remove the line.`, 'parts');
    }
    for (const m of matches) if (!found.includes(m)) found.push(m);
  }
  return found;
}

/** A pattern's matches by @actions/glob (the runner's own globbing), sorted for stable messages; relative patterns give relative paths. */
async function expandPattern(pattern: string, cwd: string): Promise<string[]> {
  const absolute = path.isAbsolute(pattern);
  const globber = await glob.create(path.resolve(cwd, pattern), { implicitDescendants: false, matchDirectories: true });
  const matches = (await globber.glob()).filter((m) => !path.basename(m).startsWith('.')).sort();
  return absolute ? matches : matches.map((m) => path.relative(cwd, m));
}
