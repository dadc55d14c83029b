/**
 * Intermediate activations on calibration data: the model is re-exported with the requested
 * values added as graph outputs and run batch by batch. Consumers get one batch at a time, so
 * statistics can be accumulated without holding every activation in memory.
 *
 * Memory: a large model goes to ORT as a temporary file with external data (`openSession`), never
 * as one serialized buffer. Encoding costs twice the weights in JS while ORT parses a third copy
 * out of the buffer; from a file, ORT maps the weights and only pages it reads become resident.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataType, encodeModel, initializerBytes, serializeModel, toTypedArray, type Model, type Tensor, type ValueInfo } from '../onnx/index.js';
import { ModelSession, type Feeds, type HostTensor, type SessionOptions } from './session.js';

export type ActivationBatch = Record<string, HostTensor>;

/** Models with more initializer bytes than this go to ORT as a file with external data. */
export const LARGE_MODEL_BYTES = 64 * 1024 * 1024;

/** A copy of the model whose outputs are the original outputs plus `values` (float tensors). */
export function withExtraOutputs(model: Model, values: string[]): Model {
  const existing = new Set(model.graph.outputs.map((o) => o.name));
  const typeOf = new Map<string, ValueInfo>([...model.graph.valueInfo, ...model.graph.inputs].map((v) => [v.name, v]));
  const extra: ValueInfo[] = values
    .filter((v) => !existing.has(v))
    .map((name) => typeOf.get(name) ?? { name, type: { kind: 'tensor', elemType: DataType.FLOAT } });
  return { ...model, graph: { ...model.graph, outputs: [...model.graph.outputs, ...extra] } };
}

export interface OpenSession {
  session: ModelSession;
  /** Runs the session with `feeds` plus the weights it takes as inputs (see OpenOptions.feedAsInput). */
  run(feeds: Feeds, outputNames?: string[]): Promise<Record<string, HostTensor>>;
  /** Releases the session and removes the temporary files, if any. */
  close(): Promise<void>;
}

export interface OpenOptions extends SessionOptions {
  /**
   * Float32 initializers for which this returns true are made graph inputs and fed on every run
   * from the tensor's own bytes (ORT reads JS memory in place): ORT then holds no copy of them.
   * Only for weights whose being constant changes nothing ORT does with them at the session's
   * optimization level, or whose values do not matter (shape probes). Tensors whose bytes are not
   * 4-byte aligned stay initializers.
   */
  feedAsInput?: (t: Tensor) => boolean;
}

/**
 * An ORT session for an in-memory model. Small models are encoded into one buffer; a model with
 * more than LARGE_MODEL_BYTES of initializers is written to a temporary directory as a model file
 * and an external data file, straight from the tensors' bytes (no copy; no fsync, the files live
 * only as long as the session). The results are the same either way: ORT builds the same graph.
 */
export async function openSession(model: Model, options: OpenOptions = {}): Promise<OpenSession> {
  const { feedAsInput, ...sessionOptions } = options;
  const g = model.graph;
  const fed = feedAsInput ? g.initializers.filter((t) => t.dataType === DataType.FLOAT && t.raw.byteOffset % 4 === 0 && !g.inputs.some((i) => i.name === t.name) && feedAsInput(t)) : [];
  const weights: Feeds = {};
  for (const t of fed) weights[t.name] = { type: 'float32', dims: [...t.dims], data: toTypedArray(t) as Float32Array };
  if (fed.length) {
    const names = new Set(fed.map((t) => t.name));
    const inputs: ValueInfo[] = fed.map((t) => ({ name: t.name, type: { kind: 'tensor', elemType: DataType.FLOAT, shape: [...t.dims] } }));
    model = { ...model, graph: { ...g, inputs: [...g.inputs, ...inputs], initializers: g.initializers.filter((t) => !names.has(t.name)) } };
  }
  const run = (session: ModelSession) => (feeds: Feeds, outputNames?: string[]) => session.run(fed.length ? { ...feeds, ...weights } : feeds, outputNames);
  if (initializerBytes(model) <= LARGE_MODEL_BYTES) {
    const session = await ModelSession.create(encodeModel(model), sessionOptions);
    return { session, run: run(session), close: () => session.release() };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-session-'));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  let session: ModelSession;
  try {
    const file = path.join(dir, 'model.onnx');
    const out = serializeModel(model, { externalThreshold: 1024, externalLocation: 'model.onnx.data' }, file);
    writeChunks(file, [out.bytes]);
    if (out.external) writeChunks(path.join(dir, out.external.location), out.external.chunks);
    session = await ModelSession.create(file, sessionOptions);
  } catch (err) {
    remove();
    throw err;
  }
  return {
    session,
    run: run(session),
    async close() {
      try {
        await session.release();
      } finally {
        remove();
      }
    },
  };
}

function writeChunks(file: string, chunks: Uint8Array[]): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (const c of chunks) {
      let done = 0;
      while (done < c.byteLength) done += fs.writeSync(fd, c, done, c.byteLength - done);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Runs `model` on every batch of `feeds`, calling `onBatch` with the requested values (graph
 * inputs are passed through from the feeds). Returns nothing: accumulate in the callback.
 */
export async function forEachActivationBatch(
  model: Model,
  values: string[],
  feeds: Iterable<Feeds> | AsyncIterable<Feeds>,
  onBatch: (batch: ActivationBatch, index: number) => void | Promise<void>,
  options: OpenOptions = {},
): Promise<void> {
  const inputNames = new Set(model.graph.inputs.map((i) => i.name));
  const fromModel = values.filter((v) => !inputNames.has(v));
  const { run, close } = await openSession(withExtraOutputs(model, fromModel), { label: 'activation capture', ...options });
  try {
    let index = 0;
    for await (const batch of feeds) {
      const outputs = fromModel.length ? await run(batch, fromModel) : {};
      for (const v of values) if (inputNames.has(v)) outputs[v] = batch[v];
      await onBatch(outputs, index++);
    }
  } finally {
    await close();
  }
}
