/** Child process for targets.test.ts: opens one session of argv[3] on the target in argv[2]. */
import { ModelSession } from '../../src/evaluate/session.js';

const s = await ModelSession.create(process.argv[3], { target: process.argv[2] as 'native' | 'wasm' });
await s.release();
process.stdout.write(`loaded on ${s.target}\n`);
