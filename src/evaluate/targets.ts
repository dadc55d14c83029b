/**
 * The runtime targets a model is validated and measured on: one entry per target, read by config
 * validation (the names), sessions (how to load the runtime and build its session options), the
 * pipeline (which targets to measure) and the report (the runtime's name and version).
 *
 * The only module that imports an ONNX Runtime package. Each is loaded lazily, the first time a
 * session on its target is needed: `--help`, `inspect` and config validation work without either,
 * and onnxruntime-web (about 30 MB of WebAssembly) is loaded only when a config lists `wasm`.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as OrtTypes from 'onnxruntime-node';
import { InputError } from '../util/errors.js';
import { TOOL_VERSION } from '../util/version.js';

export type OrtModule = typeof OrtTypes;
export type * as OrtTypes from 'onnxruntime-node';
export type OrtSessionOptions = OrtTypes.InferenceSession.SessionOptions;

/** What every target's session is built from (session.ts fills it from SessionOptions). */
export interface CommonSessionOptions {
  threads: number;
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  logSeverityLevel: 0 | 1 | 2 | 3 | 4;
  configEntries: Record<string, string>;
  profileFilePrefix?: string;
  optimizedModelFilePath?: string;
}

export interface RuntimeTarget {
  name: TargetName;
  /** The npm package that runs it. */
  runtime: string;
  load(): Promise<OrtModule>;
  /** The runtime's version once loaded. */
  version(ort: OrtModule): string;
  sessionOptions(common: CommonSessionOptions): OrtSessionOptions;
  /** Whether ORT's per-node profiler and optimized-model output work there (profile.ts needs both). */
  profiles: boolean;
  /**
   * The loop's per-step latency probe gets this many times its budget here: a target whose runs
   * are much slower would otherwise decide a step on a handful of runs.
   */
  probeBudgetScale: number;
}

export const TARGET_NAMES = ['native', 'wasm'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export const TARGETS: Record<TargetName, RuntimeTarget> = {
  native: {
    name: 'native',
    runtime: 'onnxruntime-node',
    load: async () => loadRuntime(),
    version: (ort) => ort.env.versions?.node ?? 'unknown',
    sessionOptions: (c) => ({
      intraOpNumThreads: c.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: c.graphOptimizationLevel,
      // Spinning thread pools of several sessions fight over 2 cores and wreck latency tails.
      extra: nestEntries({ 'session.intra_op.allow_spinning': '0', 'session.inter_op.allow_spinning': '0', ...c.configEntries }),
      logSeverityLevel: c.logSeverityLevel,
      ...(c.profileFilePrefix && { enableProfiling: true, profileFilePrefix: c.profileFilePrefix }),
      ...(c.optimizedModelFilePath && { optimizedModelFilePath: c.optimizedModelFilePath }),
    }),
    profiles: true,
    probeBudgetScale: 1,
  },
  wasm: {
    name: 'wasm',
    runtime: 'onnxruntime-web',
    load: loadWeb,
    version: (ort) => (ort.env.versions as { web?: string } | undefined)?.web ?? 'unknown',
    // Threads are process-wide in the WebAssembly runtime (set once in loadWeb); the config
    // entries are native-only tuning (spinning, x64 quantization precision).
    sessionOptions: (c) => ({ executionProviders: ['wasm'], graphOptimizationLevel: c.graphOptimizationLevel, logSeverityLevel: c.logSeverityLevel }),
    profiles: false,
    // About 13x slower than native on the torch CNN at batch 32 (35 vs 2.7 ms): 4x the probe time
    // gives a step about a third of native's runs, instead of the minimum 20 that left its P95
    // interval at 0.8-1.5 where a longer measurement showed 0.65-0.90.
    probeBudgetScale: 4,
  },
};

/** Whether rows and messages name their target: not when native is the only one (they read as before targets existed). */
export function namesTargets(targets: readonly TargetName[]): boolean {
  return targets.length > 1 || targets[0] !== 'native';
}

export function isTargetName(name: string): name is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(name);
}

/** Errors and fatal errors only. */
const LOG_LEVEL = 'error';
let nativeModule: OrtModule | undefined;
let webModule: Promise<OrtModule> | undefined;

/** Loads onnxruntime-node once; a missing or broken native binary is an InputError with advice. */
export function loadRuntime(): OrtModule {
  if (nativeModule) return nativeModule;
  try {
    const require = createRequire(import.meta.url);
    nativeModule = require('onnxruntime-node') as OrtModule;
    // The process-wide logger, set before the first session initializes it: errors only (see SessionOptions.logSeverityLevel).
    nativeModule.env.logLevel = LOG_LEVEL;
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
  return nativeModule;
}

/** WebAssembly threads: one unless a config sets `bench.threads` (setWebThreads). */
let webThreads = 1;

/** The WebAssembly runtime's threads in this process (for the record of a measurement). */
export function webThreadCount(): number {
  return webThreads;
}

/**
 * The WebAssembly runtime's threads. Unlike native sessions', they are process-wide and fixed
 * when the runtime loads: set before the first wasm session (prepare does, from bench.threads).
 */
export function setWebThreads(threads: number): void {
  if (webModule && threads !== webThreads) throw new Error(`the WebAssembly runtime already runs ${webThreads} thread(s) in this process; its thread count is fixed when it loads`);
  webThreads = threads;
}

/**
 * Loads onnxruntime-web once (a dynamic import: never loaded unless a target needs it), with its
 * .wasm files taken from the installed package (never fetched), SIMD, and one thread unless set:
 * the browser default without cross-origin isolation, and what a shared CI core measures
 * reproducibly. More threads run as Node worker threads.
 */
function loadWeb(): Promise<OrtModule> {
  webModule ??= (async () => {
    let ort: OrtModule;
    let dist: string;
    try {
      dist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
      ort = (await import('onnxruntime-web')) as unknown as OrtModule;
    } catch (err) {
      webModule = undefined;
      throw new InputError(
        `targets: wasm needs the onnxruntime-web package, which does not load (${firstLine(err)}). It is a dependency of prune-gate: \`npm ci\` installs it, and the release tag's tree carries it; or remove wasm from targets.`,
        'targets',
        'runtime',
      );
    }
    // 1.30 ships only SIMD builds (ort-wasm-simd-threaded.*): nothing to choose there.
    const wasm = ort.env.wasm as { numThreads?: number; wasmPaths?: string; proxy?: boolean };
    wasm.numThreads = webThreads;
    wasm.proxy = false;
    wasm.wasmPaths = dist + path.sep;
    ort.env.logLevel = LOG_LEVEL;
    return ort;
  })();
  return webModule;
}

/**
 * The operator a runtime has no kernel for, from its load error: ORT says it three ways (no
 * schema for the opset, no kernel for the node, an unregistered custom domain).
 */
export function missingOperator(message: string): { opType: string; domain?: string; node?: string } | undefined {
  const kernel = /Could not find an implementation for (\w+)\(\d+\) node with name '([^']*)'/.exec(message);
  if (kernel) return { opType: kernel[1], node: kernel[2] };
  const schema = /No Op registered for (\w+) with domain_version/.exec(message);
  if (schema) return { opType: schema[1] };
  const custom = /([\w.]+):(\w+)\(-?\d+\) is not a registered function\/op/.exec(message);
  if (custom) return { opType: custom[2], domain: custom[1] };
  return undefined;
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

export function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
