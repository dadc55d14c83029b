/**
 * A model session on one runtime target (targets.ts: native onnxruntime-node by default, or
 * onnxruntime-web's WebAssembly backend). Load and run failures become InputErrors; everything
 * that crosses this border is plain data (`HostTensor`), never an ORT type.
 */
import { loadModel, decodeModel } from '../onnx/index.js';
import { InputError } from '../util/errors.js';
import { firstLine, loadRuntime, missingOperator, TARGETS, type OrtModule, type OrtTypes, type TargetName } from './targets.js';

export { loadRuntime };

export type ElementType = 'float32' | 'float64' | 'float16' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'string';

/** A tensor on the JS side: element type, shape, data. */
export interface HostTensor {
  type: ElementType;
  dims: number[];
  data: Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | string[];
}

export type Feeds = Record<string, HostTensor>;

export interface SessionOptions {
  /** Intra-op threads (default 1: measurements on shared CI runners need pinned threads). */
  intraOpThreads?: number;
  interOpThreads?: number;
  /** Always 'all' for measurements: at 'basic' QDQ graphs run unfused and many times slower. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write ORT's per-node profile (JSON) with this file prefix. */
  profileFilePrefix?: string;
  /** Save the graph as ORT optimized it (maps profiler node names back to the model). */
  optimizedModelFilePath?: string;
  /** Extra session config entries (e.g. session.x64quantprecision). */
  configEntries?: Record<string, string>;
  /** Label for error messages (usually the model's path). */
  label?: string;
  /**
   * ORT log severity (0 verbose .. 4 fatal); default 3, errors: ORT's own warnings ("Removing
   * initializer ...", hundreds of lines on some exported models) say nothing the user can act on
   * in prune-gate's log, and a failure to load or run still comes back as an exception.
   */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** The runtime target (default native). */
  target?: TargetName;
}

export interface IoInfo {
  name: string;
  type: string;
  /** Symbolic dimensions as strings, unknown as -1 or the symbol name. */
  shape: Array<number | string>;
}

/** Errors and fatal errors only. */
const DEFAULT_LOG_SEVERITY = 3;

/** The native runtime's version (machine info); loads it. */
export function runtimeVersion(): string {
  return TARGETS.native.version(loadRuntime());
}

export class ModelSession {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtTypes.InferenceSession,
    readonly label: string,
    readonly target: TargetName,
  ) {}

  /** Creates a session from a file path or serialized model bytes. Load failures are InputErrors. */
  static async create(model: string | Uint8Array, options: SessionOptions = {}): Promise<ModelSession> {
    const target = TARGETS[options.target ?? 'native'];
    const ort = await target.load();
    const label = options.label ?? (typeof model === 'string' ? model : '<in-memory model>');
    if (!target.profiles && (options.profileFilePrefix || options.optimizedModelFilePath)) throw new Error(`${label}: profiling is native-only; the ${target.name} target has no per-node profiler`);
    const sessionOptions = target.sessionOptions({
      threads: options.intraOpThreads ?? 1,
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      logSeverityLevel: options.logSeverityLevel ?? DEFAULT_LOG_SEVERITY,
      configEntries: options.configEntries ?? {},
      profileFilePrefix: options.profileFilePrefix,
      optimizedModelFilePath: options.optimizedModelFilePath,
    });
    try {
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      return new ModelSession(ort, session, label, target.name);
    } catch (err) {
      throw loadError(err, model, label, target.name);
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Input and output names with element types and shapes, as ORT reports them. */
  get inputs(): IoInfo[] {
    return ioInfo(this.session.inputMetadata as unknown as OrtTypes.InferenceSession.ValueMetadata[]);
  }

  get outputs(): IoInfo[] {
    return ioInfo(this.session.outputMetadata as unknown as OrtTypes.InferenceSession.ValueMetadata[]);
  }

  /** Runs the model. Returns every output (or the requested ones) as host tensors. */
  async run(feeds: Feeds, outputNames?: string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, OrtTypes.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new this.ort.Tensor(t.type, t.data as never, t.dims);
    let results: OrtTypes.InferenceSession.ReturnType;
    try {
      results = outputNames ? await this.session.run(ortFeeds, outputNames) : await this.session.run(ortFeeds);
    } catch (err) {
      throw new InputError(`${this.label}: ${runtimeName(this.target)} failed to run the model: ${firstLine(err)}`, this.label);
    }
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = { type: t.type as ElementType, dims: [...t.dims], data: t.data as HostTensor['data'] };
      t.dispose?.();
    }
    return out;
  }

  /** Stops profiling (the profile file appears under the prefix given at creation). */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function ioInfo(meta: OrtTypes.InferenceSession.ValueMetadata[]): IoInfo[] {
  return meta.map((m) => {
    const t = m as unknown as { name: string; isTensor: boolean; type?: string; shape?: Array<number | string> };
    return { name: t.name, type: t.isTensor ? (t.type ?? 'unknown') : 'non-tensor', shape: t.shape ? [...t.shape] : [] };
  });
}

function runtimeName(target: TargetName): string {
  return target === 'native' ? 'ONNX Runtime' : `ONNX Runtime on the ${target} target (${TARGETS[target].runtime})`;
}

/**
 * A load failure as the user can act on it. An operator the target has no kernel for is named
 * with its node (from the model when ORT's message does not say it) and the target: on a
 * non-native target it means the model cannot ship there as it is.
 */
function loadError(err: unknown, model: string | Uint8Array, label: string, target: TargetName): InputError {
  const message = firstLine(err);
  const missing = missingOperator(String((err as Error)?.message ?? err));
  if (!missing || target === 'native') return new InputError(`${label}: ${runtimeName(target)} cannot load the model: ${message}`, label);
  const nodes = missing.node ? [missing.node] : nodesOf(model, missing.opType, missing.domain);
  const where = nodes.length ? ` (node${nodes.length > 1 ? 's' : ''} ${nodes.slice(0, 5).map((n) => `'${n}'`).join(', ')}${nodes.length > 5 ? ', ...' : ''})` : '';
  const op = missing.domain ? `${missing.domain}:${missing.opType}` : missing.opType;
  return new InputError(
    `${label}: the ${target} target (${TARGETS[target].runtime}) has no kernel for operator ${op}${where}, so the model cannot run there. ` +
      `Remove ${target} from \`targets:\`, or export the model without ${missing.opType} (ONNX Runtime said: ${message})`,
    nodes[0] ?? label,
    'model',
  );
}

/** Names of the nodes of one op type (the model is read again only on this error path). */
function nodesOf(model: string | Uint8Array, opType: string, domain?: string): string[] {
  try {
    const m = typeof model === 'string' ? loadModel(model) : decodeModel(model);
    const sameDomain = (d: string | undefined) => domain === undefined || (d ?? '') === domain;
    return m.graph.nodes.filter((n) => n.opType === opType && sameDomain(n.domain)).map((n) => n.name ?? '');
  } catch {
    return [];
  }
}
