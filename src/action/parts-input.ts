/**
 * `mode: merge`'s `parts` input: one path or pattern a line (the folders download-artifact wrote,
 * e.g. `parts/prune-gate-verify-*`), expanded here because the step has no shell to do it.
 * Only `*` and `?` within one path segment: enough for artifact folders, and nothing to pin.
 * A pattern that matches nothing is an error naming it, so a renamed artifact is not silently
 * left out (the merge itself then names a missing shard).
 */
import * as fs from 'node:fs';
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
export function expandParts(lines: string[], cwd: string): string[] {
  if (!lines.length) {
    throw new InputError('mode: merge needs the input "parts": the downloaded verify and bench artifact folders, one path or pattern a line (e.g. parts/prune-gate-verify-* and parts/prune-gate-bench-*).', 'parts');
  }
  const found: string[] = [];
  for (const line of lines) {
    const matches = /[*?]/.test(line) ? expandPattern(line, cwd) : [line];
    if (!matches.length) {
      throw new InputError(`input "parts": "${line}" matches nothing in ${cwd}; check the artifact names the download step wrote (one folder per artifact with download-artifact's pattern:), or remove the line.`, 'parts');
    }
    for (const m of matches) if (!found.includes(m)) found.push(m);
  }
  return found;
}

function expandPattern(pattern: string, cwd: string): string[] {
  const absolute = path.isAbsolute(pattern);
  const segments = pattern.split(/[\\/]+/).filter((s, i) => s !== '' || (i === 0 && absolute));
  let paths = [absolute ? path.sep : ''];
  for (const segment of segments.slice(absolute ? 1 : 0)) {
    if (!/[*?]/.test(segment)) {
      paths = paths.map((p) => (p ? path.join(p, segment) : segment));
      continue;
    }
    const re = segmentRegExp(segment);
    paths = paths.flatMap((p) => entries(path.resolve(cwd, p || '.')).filter((name) => re.test(name)).map((name) => (p ? path.join(p, name) : name)));
  }
  return paths.filter((p) => fs.existsSync(path.resolve(cwd, p)));
}

function entries(dir: string): string[] {
  try {
    // Sorted, so the parts reach merge in a stable order (merge orders shards itself; this keeps its messages stable).
    return fs.readdirSync(dir).filter((name) => !name.startsWith('.')).sort();
  } catch {
    return [];
  }
}

function segmentRegExp(segment: string): RegExp {
  const body = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}
