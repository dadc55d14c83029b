/**
 * Child process for the fuzz test: creates an ORT session for each model file listed (JSON array in
 * argv[2], starting at index argv[3]) and reports one line per file as soon as it is done, so the
 * parent can tell which file a native crash happened on.
 */
import * as fs from 'node:fs';
import { InputError } from '../../src/util/errors.js';
import { ModelSession } from '../../src/evaluate/session.js';

const files = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as string[];
const start = Number(process.argv[3] ?? 0);
for (let i = start; i < files.length; i++) {
  let status: string;
  try {
    const s = await ModelSession.create(files[i], { graphOptimizationLevel: 'basic' });
    await s.release();
    status = 'session';
  } catch (err) {
    status = err instanceof InputError ? 'input-error' : `other ${JSON.stringify(String((err as Error)?.message ?? err).slice(0, 200))}`;
  }
  fs.writeSync(1, `${i} ${status}\n`);
}
