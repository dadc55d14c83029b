/**
 * Float16 weight storage: float32 initializers are stored as float16 and a Cast back to float32 is
 * inserted, so every operator still computes in float32. ORT folds the Casts at load time: the file
 * halves, the latency and the runtime memory do not change ("size only").
 */
import { cleanup, cloneModel, countParams, DataType, elementCount, initializerBytes, fromFloat32, GraphIndex, intAttr, NameGenerator, toFloat32, toposort, type Model, type Node } from '../../onnx/index.js';
import type { LayerChange, PassContext, PassResult, Skipped } from '../types.js';
import { sizeChange } from './size-note.js';
import { sqnrDb } from './params.js';
import { constantsToInitializers } from './preprocess.js';
import { checkFloatModel, checkNodeNames } from './validate.js';

/** Below this many elements a Cast node costs more bytes than float16 saves. */
const MIN_ELEMENTS = 16;

export async function quantizeFp16(model: Model, options: { nodesToExclude?: string[] }, ctx: PassContext): Promise<PassResult> {
  const pass = 'fp16';
  checkFloatModel(model, pass);
  const exclude = checkNodeNames(model, options.nodesToExclude);
  const m = cloneModel(model);
  constantsToInitializers(m);
  const g = m.graph;
  const index = new GraphIndex(g);
  const names = new NameGenerator(g);
  const graphInputs = new Set(g.inputs.map((i) => i.name));
  const changed: LayerChange[] = [];
  const skipped: Skipped[] = [];
  const casts: Node[] = [];
  for (const t of [...g.initializers]) {
    if (t.dataType !== DataType.FLOAT || elementCount(t.dims) < MIN_ELEMENTS || graphInputs.has(t.name)) continue;
    const users = index.consumersOf(t.name);
    if (users.length === 0) continue;
    const excludedUsers = users.filter((u) => exclude.has(u.name));
    if (excludedUsers.length) {
      skipped.push({ what: t.name, reason: `read by excluded node ${excludedUsers.map((u) => u.name).join(', ')}` });
      continue;
    }
    const values = toFloat32(t);
    const half = fromFloat32(names.next(`${t.name}_fp16`), DataType.FLOAT16, [...t.dims], values);
    let overflow = 0;
    for (const v of values) if (Math.abs(v) > 65504) overflow++;
    if (overflow) {
      skipped.push({ what: t.name, reason: `${overflow} values exceed the float16 range` });
      continue;
    }
    g.initializers[g.initializers.indexOf(t)] = half;
    casts.push({ name: names.next(`${t.name}_Cast`), opType: 'Cast', domain: '', inputs: [half.name], outputs: [t.name], attributes: [intAttr('to', DataType.FLOAT)] });
    const sqnr = sqnrDb(values, toFloat32(half));
    changed.push({ name: t.name, opType: users.map((u) => u.opType).join('/'), change: `float16 storage (Cast to float32), SQNR ${sqnr.toFixed(1)} dB`, error: sqnr });
  }
  g.nodes.unshift(...casts);
  toposort(g);
  cleanup(g);
  ctx.log?.(`${pass}: ${changed.length} initializers stored as float16`);
  const notes = [
    `fp16 weights save size only: ${sizeChange(initializerBytes(model), initializerBytes(m))}; compute stays float32 (ORT folds the Casts at load), so latency and runtime memory do not improve`,
  ];
  return { model: m, summary: { pass, paramsBefore: countParams(model), paramsAfter: countParams(m), changed, skipped, notes } };
}
