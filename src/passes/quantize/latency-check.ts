/**
 * The latency half of the fallback: profile the float and the quantized model on the same batch
 * (ORT's profiler, optimization level 'all', so QDQ pairs are fused as in production) and list
 * the quantized nodes whose own time is clearly above their float time. A quantized node's own
 * time is its kernel plus the quantize/dequantize nodes that serve only it; the float node's is its
 * kernel plus whatever ORT fused into it. Time ORT spends on nodes shared by several quantized
 * nodes (layout transposes, a QuantizeLinear feeding two convolutions) is not charged to any.
 *
 * Why per node: a whole quantized model can be faster while one node in it is slower (dynamic
 * ConvInteger ran ~5x slower than float Conv here, a 1-input-channel Conv 3.6x); the loop's
 * whole-step veto cannot see that.
 */
import type { Feeds } from '../../evaluate/session.js';
import { profileModel, type ModelProfile } from '../../evaluate/profile.js';
import { encodeModel, type Model } from '../../onnx/index.js';

export interface SlowerNode {
  node: string;
  floatUs: number;
  quantUs: number;
}

/** Quantized time must exceed float time by this factor to count: profiles of 20 runs jitter by a few %. */
const SLOWER_FACTOR = 1.1;
/** And by this much in absolute terms, so microsecond-sized nodes do not flip on noise. */
const MIN_DIFFERENCE_US = 5;
/** Op types that only move data in or out of int8 for the node they feed. */
const HELPERS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear']);

/** Profiles both models on `feeds` and returns the quantized nodes that run clearly slower (see slowerInProfiles). */
export async function slowerQuantizedNodes(float: Model, quant: Model, targets: string[], feeds: Feeds, options: { runs?: number } = {}): Promise<SlowerNode[]> {
  const profile = (m: Model) => profileModel(encodeModel(m), { feeds, runs: options.runs ?? 20, warmup: 5, threads: 1 });
  return slowerInProfiles(await profile(float), await profile(quant), quant, targets);
}

/**
 * The decision, from two recorded profiles: each target's own time in the float profile and in
 * the quantized one (its kernel plus the Q/DQ nodes that serve only it, found in `quant`'s graph);
 * slower means above SLOWER_FACTOR and MIN_DIFFERENCE_US both.
 */
export function slowerInProfiles(floatProfile: ModelProfile, quantProfile: ModelProfile, quant: Model, targets: string[]): SlowerNode[] {
  const wanted = new Set(targets);
  const floatTimes = timePerTarget(floatProfile, (name) => (wanted.has(name) ? [name] : []));
  const owners = helperOwners(quant, wanted);
  const quantTimes = timePerTarget(quantProfile, (name) => owners.get(name) ?? []);
  const slower: SlowerNode[] = [];
  for (const node of targets) {
    const floatUs = floatTimes.get(node);
    const quantUs = quantTimes.get(node);
    if (floatUs === undefined || quantUs === undefined) continue;
    if (quantUs > floatUs * SLOWER_FACTOR && quantUs - floatUs > MIN_DIFFERENCE_US) slower.push({ node, floatUs, quantUs });
  }
  return slower;
}

/** Mean microseconds per run charged to each target: profile nodes that stand for exactly one. */
function timePerTarget(profile: ModelProfile, ownersOf: (name: string) => string[]): Map<string, number> {
  const times = new Map<string, number>();
  for (const p of profile.nodes) {
    const names = new Set([...(p.originalNames ?? []), baseName(p.name)]);
    const owners = new Set([...names].flatMap(ownersOf));
    if (owners.size !== 1) continue;
    const [owner] = owners;
    times.set(owner, (times.get(owner) ?? 0) + p.meanUs);
  }
  return times;
}

/** ORT's layout passes rename nodes `<name>_token_<n>` and `<name>_nchwc`. */
function baseName(name: string): string {
  let s = name;
  for (let prev = ''; prev !== s; ) {
    prev = s;
    s = s.replace(/_token_\d+$/, '').replace(/_nchwc$/, '');
  }
  return s;
}

/**
 * For each node of the quantized graph, the quantized nodes it serves: a target serves itself; a
 * Q/DQ/DynamicQuantizeLinear node serves the targets its outputs reach through other such nodes;
 * the helpers a pass names after its node (`<node>_Cast`, `<node>_bias_add`) serve that node.
 */
function helperOwners(model: Model, targets: Set<string>): Map<string, string[]> {
  const consumers = new Map<string, Model['graph']['nodes']>();
  for (const n of model.graph.nodes) for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const owners = new Map<string, string[]>();
  for (const n of model.graph.nodes) {
    if (targets.has(n.name)) owners.set(n.name, [n.name]);
    else if (HELPERS.has(n.opType)) {
      const found = new Set<string>();
      const queue = [...n.outputs];
      const seen = new Set<string>();
      while (queue.length) {
        const v = queue.pop() as string;
        if (seen.has(v)) continue;
        seen.add(v);
        for (const c of consumers.get(v) ?? []) {
          if (targets.has(c.name)) found.add(c.name);
          else if (HELPERS.has(c.opType)) queue.push(...c.outputs);
        }
      }
      if (found.size) owners.set(n.name, [...found]);
    } else {
      const prefixed = [...targets].filter((t) => n.name.startsWith(`${t}_`));
      if (prefixed.length === 1) owners.set(n.name, prefixed);
    }
  }
  return owners;
}
