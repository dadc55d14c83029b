/**
 * Child process for ort-log.test.ts: opens one session (argv[3]) with the default log level or
 * the one in argv[2], so the parent sees what ONNX Runtime's native logger writes to stderr.
 */
import { ModelSession } from '../../src/evaluate/session.js';

const level = process.argv[2] === 'default' ? undefined : (Number(process.argv[2]) as 0 | 1 | 2 | 3 | 4);
try {
  const s = await ModelSession.create(process.argv[3], level === undefined ? {} : { logSeverityLevel: level });
  await s.release();
  process.stdout.write('loaded\n');
} catch (err) {
  process.stdout.write(`${(err as Error).name}: ${(err as Error).message}\n`);
}
