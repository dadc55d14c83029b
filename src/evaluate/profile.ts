/**
 * Per-node time from ORT's profiler, aggregated by node and by op type, with each node's share of
 * the total. Warm-up runs are profiled too (profiling starts at session creation), so only node
 * events after the first measured `model_run` count. Node names in the profile are ORT's
 * post-optimization names; the optimized graph is saved and matched to the original by value
 * names so fused nodes can be reported under the nodes they replaced.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from '../util/errors.js';
import { decodeModel, loadModel, type Model, type Node } from '../onnx/index.js';
import type { Dataset } from './data.js';
import { feedsFor } from './latency.js';
import { ModelSession, type Feeds } from './session.js';

export interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; [k: string]: unknown };
}

export interface NodeTime {
  /** ORT's node name (post-optimization). */
  name: string;
  opType: string;
  /** Microseconds summed over measured runs. */
  totalUs: number;
  /** Mean per measured run. */
  meanUs: number;
  calls: number;
  /** Fraction of all node time (0-1). */
  share: number;
  /** Nodes of the original model this node stands for (fusions list several); absent when unknown. */
  originalNames?: string[];
  params?: number;
  flops?: number;
}

export interface OpTypeTime {
  opType: string;
  totalUs: number;
  nodes: number;
  share: number;
}

export interface ModelProfile {
  runs: number;
  totalUs: number;
  nodes: NodeTime[];
  byOpType: OpTypeTime[];
  /** Only with ProfileOptions.workDir: without it the temp folder is removed after reading. */
  profileFile?: string;
  optimizedModelFile?: string;
}

export type NodeCosts = Map<string, { params: number; flops: number }>;

/** Sums node kernel times after the first `warmupRuns` model runs. */
export function aggregateProfile(events: ProfileEvent[], warmupRuns: number): { runs: number; nodes: Array<{ name: string; opType: string; totalUs: number; calls: number }> } {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  if (runs.length <= warmupRuns) return { runs: 0, nodes: [] };
  const cutoff = runs[warmupRuns].ts;
  const byName = new Map<string, { name: string; opType: string; totalUs: number; calls: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < cutoff) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    const entry = byName.get(name) ?? { name, opType: String(e.args?.op_name ?? 'unknown'), totalUs: 0, calls: 0 };
    entry.totalUs += e.dur;
    entry.calls++;
    byName.set(name, entry);
  }
  return { runs: runs.length - warmupRuns, nodes: [...byName.values()] };
}

/**
 * For each optimized node, the original nodes it replaced: the producers of its outputs in the
 * original graph and, back from them, every original node until the optimized node's inputs.
 */
export function mapOptimizedNames(original: Model, optimized: Model): Map<string, string[]> {
  const producer = new Map<string, Node>();
  for (const n of original.graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const originalNames = new Set(original.graph.nodes.map((n) => n.name).filter(Boolean));
  // ORT's NCHWc layout pass renames the values it re-lays out to `<name>_nchwc`.
  const base = (v: string) => (producer.has(v) ? v : v.replace(/_nchwc$/, ''));
  const result = new Map<string, string[]>();
  for (const n of optimized.graph.nodes) {
    const stop = new Set(n.inputs.map(base));
    const found = new Set<string>();
    const queue = n.outputs.map(base).filter((o) => producer.has(o));
    const seen = new Set<string>();
    while (queue.length && found.size <= 64) {
      const v = queue.pop() as string;
      if (seen.has(v) || stop.has(v)) continue;
      seen.add(v);
      const p = producer.get(v);
      if (!p) continue;
      found.add(nodeLabel(p));
      for (const i of p.inputs) if (i && !stop.has(i)) queue.push(i);
    }
    if (found.size && found.size <= 64) result.set(n.name, [...found].sort());
    else if (originalNames.has(n.name)) result.set(n.name, [n.name]);
    else {
      // NCHWc nodes read and write renamed values but are named after the original output they
      // compute (`batch_norm_16.tmp_3_nchwc`): take its producer and the fusable chain before it.
      const p = producer.get(n.name.replace(/_nchwc$/, ''));
      if (p) result.set(n.name, fusedChain(p, producer).map(nodeLabel).sort());
    }
  }
  return result;
}

const FUSABLE = new Set(['BatchNormalization', 'Add', 'Relu', 'Clip', 'HardSigmoid', 'HardSwish', 'Sigmoid', 'Mul', 'LeakyRelu', 'Tanh']);
const ANCHORS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'FusedConv']);

/** `p` and, back along first inputs, the elementwise nodes ORT folds into a Conv/MatMul, up to it. */
function fusedChain(p: Node, producer: Map<string, Node>): Node[] {
  const chain = [p];
  let cur = p;
  for (let step = 0; step < 8 && !ANCHORS.has(cur.opType) && FUSABLE.has(cur.opType); step++) {
    const prev = producer.get(cur.inputs[0]);
    if (!prev) break;
    chain.push(prev);
    cur = prev;
  }
  return ANCHORS.has(cur.opType) ? chain : [p];
}

/** Original node name; unnamed nodes (common in converted models) as `<OpType>:<first output>`. */
export function nodeLabel(n: Node): string {
  return n.name || `${n.opType}:${n.outputs[0] ?? ''}`;
}

export interface ProfileOptions {
  /** Feeds to run; otherwise taken from `dataset` or generated. */
  feeds?: Feeds;
  dataset?: Dataset;
  batchSize?: number;
  warmup?: number;
  runs?: number;
  threads?: number;
  /** Folder for the profile and the optimized model (default: a temp folder). */
  workDir?: string;
  /** Params/FLOPs per original node name (from the ONNX layer's FLOP counter). */
  costs?: NodeCosts;
  label?: string;
}

export async function profileModel(model: string | Uint8Array, options: ProfileOptions = {}): Promise<ModelProfile> {
  const label = options.label ?? (typeof model === 'string' ? model : '<in-memory model>');
  const dir = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pg-profile-'));
  fs.mkdirSync(dir, { recursive: true });
  try {
    return await profileIn(dir, model, label, options, options.workDir !== undefined);
  } finally {
    // Our own temp folder goes; a caller's workDir keeps the profile and the optimized graph.
    if (options.workDir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function profileIn(dir: string, model: string | Uint8Array, label: string, options: ProfileOptions, keepFiles: boolean): Promise<ModelProfile> {
  const prefix = path.join(dir, 'profile');
  const optimizedModelFile = path.join(dir, 'optimized.onnx');
  const warmup = options.warmup ?? 5;
  const runs = options.runs ?? 20;
  const started = Date.now();
  const session = await ModelSession.create(model, {
    label,
    intraOpThreads: options.threads ?? 1,
    profileFilePrefix: prefix,
    optimizedModelFilePath: optimizedModelFile,
    // Saving an 'all'-level graph warns that it is hardware specific; we only read names from it.
    logSeverityLevel: 3,
  });
  try {
    const feeds = options.feeds ?? feedsFor(session.inputs, label, options.batchSize ?? 1, { inputs: options.dataset });
    for (let i = 0; i < warmup + runs; i++) await session.run(feeds);
    session.endProfiling();
  } finally {
    await session.release();
  }
  const profileFile = newestProfile(dir, 'profile_', started);
  const events = JSON.parse(fs.readFileSync(profileFile, 'utf8')) as ProfileEvent[];
  const agg = aggregateProfile(events, warmup);
  let names = new Map<string, string[]>();
  if (fs.existsSync(optimizedModelFile)) {
    try {
      const original = typeof model === 'string' ? loadModel(model) : decodeModel(model, { label });
      names = mapOptimizedNames(original, loadModel(optimizedModelFile));
    } catch {
      // The optimized graph may use ops or layouts we cannot read back; keep ORT's names.
    }
  }
  const totalUs = agg.nodes.reduce((s, n) => s + n.totalUs, 0);
  const nodes: NodeTime[] = agg.nodes
    .map((n) => {
      const originalNames = names.get(n.name);
      const node: NodeTime = { ...n, meanUs: agg.runs ? n.totalUs / agg.runs : 0, share: totalUs ? n.totalUs / totalUs : 0, originalNames };
      if (options.costs) {
        const keys = originalNames ?? [n.name];
        const costs = keys.map((k) => options.costs?.get(k)).filter((c): c is { params: number; flops: number } => c !== undefined);
        if (costs.length) {
          node.params = costs.reduce((s, c) => s + c.params, 0);
          node.flops = costs.reduce((s, c) => s + c.flops, 0);
        }
      }
      return node;
    })
    .sort((a, b) => b.totalUs - a.totalUs || a.name.localeCompare(b.name));
  const ops = new Map<string, OpTypeTime>();
  for (const n of nodes) {
    const o = ops.get(n.opType) ?? { opType: n.opType, totalUs: 0, nodes: 0, share: 0 };
    o.totalUs += n.totalUs;
    o.nodes++;
    ops.set(n.opType, o);
  }
  const byOpType = [...ops.values()].map((o) => ({ ...o, share: totalUs ? o.totalUs / totalUs : 0 })).sort((a, b) => b.totalUs - a.totalUs || a.opType.localeCompare(b.opType));
  const files = keepFiles ? { profileFile, optimizedModelFile: fs.existsSync(optimizedModelFile) ? optimizedModelFile : undefined } : {};
  return { runs: agg.runs, totalUs, nodes, byOpType, ...files };
}

/** endProfiling() returns nothing: the file is `<prefix>_<timestamp>.json`; take the newest written since `sinceMs`. */
function newestProfile(dir: string, prefix: string, sinceMs: number): string {
  const candidates = fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .map((f) => ({ f: path.join(dir, f), t: fs.statSync(path.join(dir, f)).mtimeMs }))
    .filter((c) => c.t >= sinceMs - 1000)
    .sort((a, b) => b.t - a.t);
  if (!candidates.length) throw new InputError(`ONNX Runtime wrote no profile under ${dir}; is the folder writable?`, dir);
  return candidates[0].f;
}

