/**
 * Prunes one real model 30 % and runs original and result in ORT; prints one JSON line.
 * Run in a child process by real-models.test.ts, so the pass runs at production speed (loops over
 * typed arrays run many times slower inside jest's VM realm).
 */
import { loadModel } from '../../../src/onnx/index.js';
import { pruneStructured } from '../../../src/passes/prune/index.js';
import { randomFeeds, run } from './helpers.js';

const { file, dims: dimsJson, ints: intsJson } = JSON.parse(process.env.PRUNE_CHECK ?? '{}') as { file: string; dims: string; ints?: string };
const model = loadModel(file);
const feeds = randomFeeds(JSON.parse(dimsJson) as Record<string, number[]>, 3, 0.5);
for (const [k, v] of Object.entries(JSON.parse(intsJson ?? '{}') as Record<string, number>)) feeds[k] = { type: 'int64', dims: [], data: BigInt64Array.from([BigInt(v)]) };
const { model: pruned, summary } = await pruneStructured(model, { target: 0.3, importance: 'l1', repair: 'none' }, { seed: 1, calibration: [feeds] });
const [a, b] = [await run(model, feeds), await run(pruned, feeds)];
const shapes = Object.keys(a).map((k) => [a[k].dims, b[k]?.dims]);
process.stdout.write(`RESULT ${JSON.stringify({ summary, shapes })}\n`);
