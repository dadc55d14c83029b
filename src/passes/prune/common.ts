/**
 * Shared plumbing of the pruning passes: option checks, layer selection, cost measurement.
 */
import { InputError } from '../../util/errors.js';
import { probeAllShapes } from '../../evaluate/shapes.js';
import type { Feeds } from '../../evaluate/session.js';
import { countParams, graphCost, type Model } from '../../onnx/index.js';

export function checkTarget(target: unknown, field = 'target'): number {
  if (typeof target !== 'number' || !Number.isFinite(target) || target < 0 || target >= 1) {
    throw new InputError(`${field} must be a number in [0, 1) (the fraction to remove), got ${String(target)}`, field);
  }
  return target;
}

export function checkChoice<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (!allowed.includes(value as T)) throw new InputError(`${field} must be one of ${allowed.join(', ')}, got '${String(value)}'`, field);
  return value as T;
}

/** Every name in `layers`/`exclude`/`layerRatios` must be a node of the model. */
export function checkLayerNames(model: Model, fields: Record<string, string[] | undefined>): void {
  const nodes = new Set(model.graph.nodes.map((n) => n.name));
  for (const [field, names] of Object.entries(fields)) {
    for (const name of names ?? []) {
      if (!nodes.has(name)) {
        const close = [...nodes].filter((n) => n.toLowerCase().includes(name.toLowerCase())).slice(0, 3);
        throw new InputError(`${field}: no node named '${name}' in the model${close.length ? ` (did you mean ${close.map((c) => `'${c}'`).join(', ')}?)` : ''}`, field);
      }
    }
  }
}

/** Whether a layer (or any of a group's producers) is selected by layers/exclude. */
export function selected(names: string[], layers?: string[], exclude?: string[]): boolean {
  if (layers && layers.length && !names.some((n) => layers.includes(n))) return false;
  if (exclude && names.some((n) => exclude.includes(n))) return false;
  return true;
}

export interface Cost {
  params: number;
  flops?: number;
  shapes?: Map<string, number[]>;
  /** The probe saw every intermediate value (see probeAllShapes). */
  complete?: boolean;
}

/** Parameters, and FLOPs when one probe run in ORT succeeds (shapes from the given feeds or generated ones). */
export async function measure(model: Model, feeds?: Feeds, log?: (m: string) => void): Promise<Cost> {
  const params = countParams(model);
  try {
    const { shapes, complete } = await probeAllShapes(model, feeds);
    return { params, flops: graphCost(model.graph, shapes).totalFlops, shapes, complete };
  } catch (err) {
    log?.(`shape probe failed (${(err as Error).message.split('\n')[0]}); FLOPs not counted`);
    return { params };
  }
}

export const FINE_GRAINED_NOTE =
  "fine-grained sparsity keeps tensor shapes: it saves storage after compression (gzip/sparse_initializer), not time, on ONNX Runtime's CPU provider";
