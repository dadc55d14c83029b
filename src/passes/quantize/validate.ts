/**
 * Input checks shared by the quantization passes. Everything here throws InputError with the
 * node, input or batch named, before any work is done, so a bad call writes nothing.
 */
import { InputError } from '../../util/errors.js';
import { DataType, dataTypeName, opsetVersion, upgradeOpset, type Model } from '../../onnx/index.js';
import type { Feeds } from '../../evaluate/session.js';
import { hostType } from '../../evaluate/shapes.js';

/** Every name in `names` must be a node of the main graph. */
export function checkNodeNames(model: Model, names: string[] | undefined, field = 'nodesToExclude'): Set<string> {
  const known = new Set(model.graph.nodes.map((n) => n.name));
  for (const name of names ?? []) {
    if (!known.has(name)) {
      const near = [...known].filter((k) => k && (k.includes(name) || name.includes(k))).slice(0, 3);
      throw new InputError(`${field}: no node named '${name}' in the model${near.length ? ` (similar: ${near.join(', ')})` : ''}; use the node names shown by \`prune-gate inspect\``, name);
    }
  }
  return new Set(names ?? []);
}

/** The passes compute in float32: float16/double/bfloat16 graph inputs are refused, not mis-converted. */
export function checkFloatModel(model: Model, pass: string): void {
  for (const input of model.graph.inputs) {
    if (model.graph.initializers.some((t) => t.name === input.name)) continue;
    const t = input.type;
    if (t?.kind !== 'tensor') continue;
    if (t.elemType === DataType.FLOAT16 || t.elemType === DataType.DOUBLE || t.elemType === DataType.BFLOAT16) {
      throw new InputError(
        `${pass}: model input '${input.name}' is ${dataTypeName(t.elemType)}; quantization starts from a float32 model (export it in float32 and quantize that)`,
        input.name,
      );
    }
  }
}

/**
 * Calibration batches must feed every graph input with the declared type, rank and fixed
 * dimensions, and hold only finite numbers (one NaN poisons every range it touches).
 */
export function checkCalibration(model: Model, batches: Feeds[] | undefined, pass: string): Feeds[] {
  if (!batches || batches.length === 0) {
    throw new InputError(`${pass}: needs calibration data (data.calibration in prune-gate.yml); none was given`, 'data.calibration');
  }
  const inits = new Set(model.graph.initializers.map((t) => t.name));
  const inputs = model.graph.inputs.filter((i) => !inits.has(i.name));
  batches.forEach((batch, b) => {
    for (const input of inputs) {
      const fed = batch[input.name];
      if (!fed) throw new InputError(`${pass}: calibration batch ${b} has no tensor for model input '${input.name}' (it has: ${Object.keys(batch).join(', ') || 'nothing'})`, input.name);
      const t = input.type;
      if (t?.kind !== 'tensor') continue;
      const want = hostType(t.elemType);
      if (want && fed.type !== want) throw new InputError(`${pass}: calibration batch ${b}, input '${input.name}': ${fed.type} given, the model expects ${want}`, input.name);
      if (t.shape) {
        if (t.shape.length !== fed.dims.length) {
          throw new InputError(`${pass}: calibration batch ${b}, input '${input.name}': shape [${fed.dims.join(',')}] has rank ${fed.dims.length}, the model expects [${t.shape.map((d) => d ?? '?').join(',')}]`, input.name);
        }
        t.shape.forEach((d, k) => {
          if (typeof d === 'number' && d > 0 && fed.dims[k] !== d) {
            throw new InputError(`${pass}: calibration batch ${b}, input '${input.name}': dimension ${k} is ${fed.dims[k]}, the model expects ${d} (shape [${t.shape?.map((x) => x ?? '?').join(',')}])`, input.name);
          }
        });
      }
      const expected = fed.dims.reduce((a, c) => a * c, 1);
      if (fed.data.length !== expected) throw new InputError(`${pass}: calibration batch ${b}, input '${input.name}': ${fed.data.length} values for shape [${fed.dims.join(',')}]`, input.name);
      if (fed.data instanceof Float32Array || fed.data instanceof Float64Array) {
        for (let i = 0; i < fed.data.length; i++) {
          if (!Number.isFinite(fed.data[i])) {
            throw new InputError(`${pass}: calibration batch ${b}, input '${input.name}' holds ${fed.data[i]} at element ${i}; calibration data must be finite`, input.name);
          }
        }
      }
    }
  });
  return batches;
}

/**
 * Raises the default-domain opset to `min` when needed (per-axis DequantizeLinear needs 13).
 * The upgrader rewrites changed operators and refuses, with an InputError naming the operator,
 * what it cannot convert faithfully; that message is passed on with the reason prefixed.
 */
export function ensureOpset(model: Model, min: number, why: string): string | undefined {
  const v = opsetVersion(model, '') ?? 1;
  if (v >= min) return undefined;
  try {
    const r = upgradeOpset(model, min);
    const rewritten = Object.entries(r.rewritten).map(([op, n]) => `${n} ${op}`).join(', ');
    return `opset upgraded ${r.from} -> ${r.to} (${why})${rewritten ? `; rewritten: ${rewritten}` : ''}`;
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`opset ${v} is too old for ${why} (needs ${min}) and cannot be upgraded: ${err.message}`, err.where);
    throw err;
  }
}
