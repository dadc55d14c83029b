/**
 * The only module that imports onnxruntime-node. It is loaded lazily (the first time a session is
 * needed) so `--help`, `inspect` and config validation work without the native runtime, and a
 * missing binary becomes one clear message instead of a crash.
 *
 * Everything that crosses this border is plain data (`HostTensor`), never an ORT type.
 */
import { createRequire } from 'node:module';
import type * as OrtTypes from 'onnxruntime-node';
import { InputError } from '../util/errors.js';
import { TOOL_VERSION } from '../util/version.js';

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
}

export interface IoInfo {
  name: string;
  type: string;
  /** Symbolic dimensions as strings, unknown as -1 or the symbol name. */
  shape: Array<number | string>;
}

type OrtModule = typeof OrtTypes;
/** Errors and fatal errors only. */
const DEFAULT_LOG_SEVERITY = 3;
let ortModule: OrtModule | undefined;

/** Loads onnxruntime-node once; a missing or broken native binary is an InputError with advice. */
export function loadRuntime(): OrtModule {
  if (ortModule) return ortModule;
  try {
    const require = createRequire(import.meta.url);
    ortModule = require('onnxruntime-node') as OrtModule;
    // The process-wide logger, set before the first session initializes it: errors only (see SessionOptions.logSeverityLevel).
    ortModule.env.logLevel = 'error';
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /'onnxruntime-node'/.test((err as Error).message);
    const what = missing ? 'the onnxruntime-node package is not installed beside prune-gate' : `its native binary for ${process.platform}-${process.arch} does not load`;
    throw new InputError(
      `ONNX Runtime is missing: ${what} (${firstLine(err)}). ` +
        `In a workflow, use prune-gate's release tag (\`uses: <owner>/prune-gate@v${TOOL_VERSION.split('.')[0]}\`), whose tree carries ONNX Runtime's binaries for linux-x64 and linux-arm64 (ubuntu-latest); a branch such as \`@main\` holds dist/ only. ` +
        'On a machine (any platform npm serves), `npm install` or `npm ci` installs onnxruntime-node with prune-gate.',
      undefined,
      'runtime',
    );
  }
  return ortModule;
}

export function runtimeVersion(): string {
  return loadRuntime().env.versions?.node ?? 'unknown';
}

export class ModelSession {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtTypes.InferenceSession,
    readonly label: string,
  ) {}

  /** Creates a session from a file path or serialized model bytes. Load failures are InputErrors. */
  static async create(model: string | Uint8Array, options: SessionOptions = {}): Promise<ModelSession> {
    const ort = loadRuntime();
    const label = options.label ?? (typeof model === 'string' ? model : '<in-memory model>');
    const sessionOptions: OrtTypes.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.intraOpThreads ?? 1,
      interOpNumThreads: options.interOpThreads ?? 1,
      executionMode: 'sequential',
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      // Spinning thread pools of several sessions fight over 2 cores and wreck latency tails.
      extra: nestEntries({ 'session.intra_op.allow_spinning': '0', 'session.inter_op.allow_spinning': '0', ...options.configEntries }),
    };
    if (options.profileFilePrefix) {
      sessionOptions.enableProfiling = true;
      sessionOptions.profileFilePrefix = options.profileFilePrefix;
    }
    if (options.optimizedModelFilePath) sessionOptions.optimizedModelFilePath = options.optimizedModelFilePath;
    sessionOptions.logSeverityLevel = options.logSeverityLevel ?? DEFAULT_LOG_SEVERITY;
    try {
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      return new ModelSession(ort, session, label);
    } catch (err) {
      throw new InputError(`${label}: ONNX Runtime cannot load the model: ${firstLine(err)}`, label);
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
      throw new InputError(`${this.label}: ONNX Runtime failed to run the model: ${firstLine(err)}`, this.label);
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

function nestEntries(entries: Record<string, string>): Record<string, unknown> {
  // ORT's JS API takes config entries as a nested object keyed by the dotted name's parts.
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) {
    const parts = key.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = value;
  }
  return root;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
