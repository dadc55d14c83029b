/** `prune-gate run --history FILE`: a real run on the MLP fixture whose report.md carries the trend of the stored commits. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../src/cli/program.js';
import { readStoreFile } from '../../src/history/index.js';
import { makeProject } from '../e2e/project.js';

test('report.md and stdout get the one-line trend from the store; without --history they do not', async () => {
  const p = makeProject({ recipe: [] }, { evalCount: 200, calibCount: 16 });
  const writes = process.stdout.write.bind(process.stdout);
  const out: string[] = [];
  process.stdout.write = ((c: string) => (out.push(String(c)), true)) as typeof process.stdout.write;
  try {
    const first = path.join(p.dir, 'first');
    expect(await main(['run', '--config', p.config, '--out', first, '--quiet'])).toBe(0);
    expect(fs.readFileSync(path.join(first, 'report.md'), 'utf8')).not.toContain('**Trend on');
    const store = path.join(p.dir, 'history.json');
    for (const c of ['a', 'b']) expect(await main(['history', 'add', first, '--store', store, '--commit', c.repeat(40), '--branch', 'main'])).toBe(0);
    out.length = 0;
    const second = path.join(p.dir, 'second');
    expect(await main(['run', '--config', p.config, '--out', second, '--history', store, '--quiet'])).toBe(0);
    const md = fs.readFileSync(path.join(second, 'report.md'), 'utf8');
    const accuracy = readStoreFile(store).entries.map((e) => e.metrics[0].candidate.toFixed(2));
    expect(md).toContain(`**Trend on \`main\`** (last 2 commits, oldest first): accuracy ${accuracy.join(' → ')} (this run `);
    expect(md).toMatch(/P95 batch 1 [\d.]+ → [\d.]+ ms \(this run [\d.]+\) · P95 batch 16 /);
    expect(out.join('')).toContain('**Trend on `main`**');
  } finally {
    process.stdout.write = writes;
    process.exitCode = undefined;
    p.cleanup();
  }
});
