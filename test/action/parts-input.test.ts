import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expandParts, partLines } from '../../src/action/parts-input.js';
import { InputError } from '../../src/util/errors.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-parts-'));
  for (const name of ['prune-gate-verify-1', 'prune-gate-verify-2', 'prune-gate-verify-10', 'prune-gate-bench-ubuntu-latest', 'prune-gate-search', '.hidden-verify-3']) fs.mkdirSync(path.join(dir, 'parts', name), { recursive: true });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the input is one path or pattern a line; blanks and # comments are dropped', () => {
  expect(partLines('  parts/a \r\n\n# the bench parts\nparts/b-*\n')).toEqual(['parts/a', 'parts/b-*']);
});

test('patterns expand, sorted, each path once; literal lines are kept as given', async () => {
  expect(await expandParts(['parts/prune-gate-verify-*', 'parts/prune-gate-verify-1', 'parts/prune-gate-bench-*', 'parts/missing'], dir)).toEqual([
    path.join('parts', 'prune-gate-verify-1'),
    path.join('parts', 'prune-gate-verify-10'),
    path.join('parts', 'prune-gate-verify-2'),
    path.join('parts', 'prune-gate-bench-ubuntu-latest'),
    'parts/missing',
  ]);
  expect(await expandParts(['parts/prune-gate-verify-?'], dir)).toEqual([path.join('parts', 'prune-gate-verify-1'), path.join('parts', 'prune-gate-verify-2')]);
  // Absolute patterns, and a wildcard in a folder above the parts.
  expect(await expandParts([path.join(dir, 'par*', '*-search')], '/')).toEqual([path.join(dir, 'parts', 'prune-gate-search')]);
});

test('no lines, or a pattern that matches nothing, is an input error naming it', async () => {
  await expect(expandParts([], dir)).rejects.toThrow(InputError);
  await expect(expandParts([], dir)).rejects.toThrow(/mode: merge needs the input "parts"/);
  await expect(expandParts(['parts/prune-gate-verify-*', 'parts/prune-gate-bench-arm*'], dir)).rejects.toThrow(/"parts\/prune-gate-bench-arm\*" matches nothing/);
  // Dot folders are not matched by a pattern (as in a shell).
  await expect(expandParts(['parts/*-verify-3'], dir)).rejects.toThrow(/matches nothing/);
});
