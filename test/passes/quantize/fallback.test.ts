import { encodeModel, type Model } from '../../../src/onnx/index.js';
import { ModelSession } from '../../../src/evaluate/session.js';
import { quantizeInt8Static, quantizeWithFallback, rankQuantSensitivity } from '../../../src/passes/quantize/index.js';
import { quantizedNodeTensors } from '../../../src/passes/quantize/sensitivity.js';
import { feedsFor, tinyCnn } from './helpers.js';
import { runStep } from '../../../src/stages/kinds.js';

const feeds = feedsFor('x', [8, 3, 16, 16], 3, 700, 2);
const ctx = { seed: 1, calibration: feeds };

/** Drift in "points": percentage of rows whose top-1 differs from the float model's. */
async function topOneDrift(reference: Model, candidate: Model): Promise<number> {
  const a = await ModelSession.create(encodeModel(reference));
  const b = await ModelSession.create(encodeModel(candidate));
  let differ = 0;
  let rows = 0;
  for (const f of feeds) {
    const x = (await a.run(f)).y.data as Float32Array;
    const y = (await b.run(f)).y.data as Float32Array;
    for (let r = 0; r < x.length / 5; r++) {
      const row = (d: Float32Array) => Array.from(d.subarray(r * 5, r * 5 + 5));
      const ax = row(x).indexOf(Math.max(...row(x)));
      const ay = row(y).indexOf(Math.max(...row(y)));
      rows++;
      if (ax !== ay) differ++;
    }
  }
  await a.release();
  await b.release();
  return (100 * differ) / rows;
}

test('sensitivity ranks every quantized node worst first, comparing dequantized outputs', async () => {
  const model = tinyCnn();
  const res = await quantizeInt8Static(model, { calibration: 'minmax' }, ctx);
  const pairs = quantizedNodeTensors(model, res.model);
  // Relu is folded: conv1 is compared on relu1's output, which both graphs have.
  expect(pairs.find((p) => p.node === 'conv1')?.tensor).toBe('relu1_out0');
  const ranking = await rankQuantSensitivity(model, res.model, ctx);
  expect(ranking.map((r) => r.node).sort()).toEqual(['add', 'conv1', 'conv2', 'fc', 'flat', 'gap', 'mm', 'pool1']);
  for (let i = 1; i < ranking.length; i++) expect(ranking[i].sqnrDb).toBeGreaterThanOrEqual(ranking[i - 1].sqnrDb);
  const sq = Object.fromEntries(ranking.map((r) => [r.node, r.sqnrDb]));
  expect(sq.conv1).toBeGreaterThan(30);
  expect(ranking[0].sqnrDb).toBeLessThan(ranking[ranking.length - 1].sqnrDb);
});

test('fallback excludes the worst nodes until the drift budget holds, then drops slower nodes', async () => {
  const model = tinyCnn();
  // A budget only the float model meets forces exclusions; we count every attempt.
  const seen: string[][] = [];
  const result = await quantizeWithFallback(
    model,
    (m, exclude) => {
      seen.push([...exclude]);
      return quantizeInt8Static(m, { calibration: 'minmax', weightBits: 8, nodesToExclude: exclude }, ctx);
    },
    async (m) => {
      const quantized = m.graph.nodes.filter((n) => n.opType === 'QuantizeLinear').length;
      return quantized > 0 && seen[seen.length - 1].length < 2 ? 5 : 0;
    },
    1,
    ctx,
    { latencyCheck: async () => [{ nodes: ['gap'], floatUs: 10, quantUs: 30 }] },
  );
  expect(seen[0]).toEqual([]);
  const excluded = result.excluded.map((e) => e.what);
  expect(excluded).toHaveLength(3);
  expect(excluded[2]).toBe('gap');
  const reasons = Object.fromEntries(result.summary.skipped.map((s) => [s.what.split(' ')[0], s.reason]));
  expect(reasons[excluded[0]]).toMatch(/fallback: SQNR/);
  expect(reasons.gap).toBe('fallback: slower quantized (30 us) than float (10 us) in the profile');
  expect(result.excluded[2].reason).toBe(reasons.gap);
  expect(result.summary.notes.join(' ')).toMatch(/fallback: all quantized: drift 5.00/);
  // What came back really has those nodes in float, and still tracks the float model.
  expect(result.summary.changed.map((c) => c.name).filter((n) => excluded.includes(n))).toEqual([]);
  expect(await topOneDrift(model, result.model)).toBeLessThan(25);
});

test('without native among the targets the fallback skips its native per-node latency check, and says so', async () => {
  const stage = { stage: 'quantize' as const, quantize: { kind: 'int8-static' as const, calibration: 'minmax' as const, fallback: 'auto' as const } };
  const hooks = { drift: async () => 0, budget: 1 };
  const note = /no per-node latency check \(it profiles natively, and the config's targets leave native out\)/;
  const wasmOnly = await runStep(tinyCnn(), stage, { goal: 1, reached: 0 }, { ...ctx, nativeLatency: false }, hooks);
  expect(wasmOnly.summary.notes.some((n) => note.test(n))).toBe(true);
  const withNative = await runStep(tinyCnn(), stage, { goal: 1, reached: 0 }, ctx, hooks);
  expect(withNative.summary.notes.some((n) => note.test(n))).toBe(false);
});
