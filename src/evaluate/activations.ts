/**
 * Intermediate activations on calibration data: the model is re-exported with the requested
 * values added as graph outputs and run batch by batch. Consumers get one batch at a time, so
 * statistics can be accumulated without holding every activation in memory.
 */
import { DataType, encodeModel, type Model, type ValueInfo } from '../onnx/index.js';
import { ModelSession, type Feeds, type HostTensor, type SessionOptions } from './session.js';

export type ActivationBatch = Record<string, HostTensor>;

/** A copy of the model whose outputs are the original outputs plus `values` (float tensors). */
export function withExtraOutputs(model: Model, values: string[]): Model {
  const existing = new Set(model.graph.outputs.map((o) => o.name));
  const typeOf = new Map<string, ValueInfo>([...model.graph.valueInfo, ...model.graph.inputs].map((v) => [v.name, v]));
  const extra: ValueInfo[] = values
    .filter((v) => !existing.has(v))
    .map((name) => typeOf.get(name) ?? { name, type: { kind: 'tensor', elemType: DataType.FLOAT } });
  return { ...model, graph: { ...model.graph, outputs: [...model.graph.outputs, ...extra] } };
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
  options: SessionOptions = {},
): Promise<void> {
  const inputNames = new Set(model.graph.inputs.map((i) => i.name));
  const fromModel = values.filter((v) => !inputNames.has(v));
  const session = await ModelSession.create(encodeModel(withExtraOutputs(model, fromModel)), { label: 'activation capture', ...options });
  try {
    let index = 0;
    for await (const batch of feeds) {
      const outputs = fromModel.length ? await session.run(batch, fromModel) : {};
      for (const v of values) if (inputNames.has(v)) outputs[v] = batch[v];
      await onBatch(outputs, index++);
    }
  } finally {
    await session.release();
  }
}
