/**
 * The latency half of the fallback: profile the float and the quantized model on the same batch
 * (ORT's profiler, optimization level 'all', so QDQ pairs are fused as in production) and list
 * the quantized regions whose time is clearly above their float time.
 *
 * Why regions, not nodes: where the Q/DQ boundaries sit decides the kernels. On a PyTorch MNIST
 * CNN conv1 (1 input channel) ran slower quantized while conv2 ran faster, and leaving conv1 alone
 * in float made the whole model 2x slower: the MaxPool between them became a uint8 NCHW pool
 * instead of the NHWC one (shared README). A region is a set of quantized nodes that int8 tensors
 * flow between: from a node's outputs through Q/DQ pairs and data-movement ops (pooling, reshapes,
 * transposes) to the next quantized node. A region's quantized time is its nodes' kernels, the Q/DQ
 * nodes that serve only it and the data movement inside it; its float time is the same nodes' in
 * the float profile. A region is left in float whole or not at all, so no new boundary is made
 * inside it. Regions whose int8 never meets another node's (dynamic quantization quantizes each
 * node's input at run time) are single nodes, judged as before (dynamic ConvInteger ran ~5x slower
 * than float Conv here). Time ORT spends on nodes serving several regions is charged to none.
 */
import type { Feeds } from '../../evaluate/session.js';
import { profileModel, type ModelProfile } from '../../evaluate/profile.js';
import { encodeModel, type Model, type Node } from '../../onnx/index.js';

export interface SlowerRegion {
  /** The quantized nodes of the region, in graph order. */
  nodes: string[];
  floatUs: number;
  quantUs: number;
}

/** Quantized time must exceed float time by this factor to count: profiles of 20 runs jitter by a few %. */
const SLOWER_FACTOR = 1.1;
/** And by this much in absolute terms, so microsecond-sized nodes do not flip on noise. */
const MIN_DIFFERENCE_US = 5;
/** Op types that only move data in or out of int8 for the node they feed. */
const HELPERS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear']);
/** Ops int8 tensors pass through between quantized nodes (ORT runs them on uint8 or in place). */
const DATA_MOVEMENT = new Set([
  'MaxPool', 'GlobalMaxPool', 'Relu', 'Clip', 'Reshape', 'Transpose', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Slice', 'Split', 'Gather', 'Pad', 'Resize',
]);

/** Profiles both models on `feeds` and returns the quantized regions that run clearly slower (see slowerInProfiles). */
export async function slowerQuantizedRegions(float: Model, quant: Model, targets: string[], feeds: Feeds, options: { runs?: number } = {}): Promise<SlowerRegion[]> {
  const profile = (m: Model) => profileModel(encodeModel(m), { feeds, runs: options.runs ?? 20, warmup: 5, threads: 1 });
  return slowerInProfiles(await profile(float), await profile(quant), quant, targets);
}

/**
 * The decision, from two recorded profiles: each region's time in the float profile and in the
 * quantized one (see the file comment); slower means above SLOWER_FACTOR and MIN_DIFFERENCE_US both.
 */
export function slowerInProfiles(floatProfile: ModelProfile, quantProfile: ModelProfile, quant: Model, targets: string[]): SlowerRegion[] {
  const wanted = new Set(targets);
  const { regionOf, members } = quantizedRegions(quant, wanted);
  const owners = helperOwners(quant, wanted);
  const regionsOf = (name: string) => [...new Set([...(owners.get(name) ?? []).map((t) => regionOf.get(t) as string), ...(regionOf.has(name) && !wanted.has(name) ? [regionOf.get(name) as string] : [])])];
  const floatTimes = timePerOwner(floatProfile, (name) => (regionOf.has(name) ? [regionOf.get(name) as string] : []));
  const quantTimes = timePerOwner(quantProfile, regionsOf);
  const slower: SlowerRegion[] = [];
  for (const [root, nodes] of members) {
    const floatUs = floatTimes.get(root);
    const quantUs = quantTimes.get(root);
    if (floatUs === undefined || quantUs === undefined) continue;
    if (quantUs > floatUs * SLOWER_FACTOR && quantUs - floatUs > MIN_DIFFERENCE_US) slower.push({ nodes, floatUs, quantUs });
  }
  return slower;
}

/**
 * Regions of the quantized graph: targets joined when int8 flows from one to the other (through
 * helpers and DATA_MOVEMENT ops); `regionOf` maps every target and every data-movement node inside
 * one region to the region's first target, `members` each region to its targets in graph order.
 */
function quantizedRegions(model: Model, targets: Set<string>): { regionOf: Map<string, string>; members: Map<string, string[]> } {
  const consumers = consumerMap(model);
  const parent = new Map([...targets].map((t) => [t, t]));
  const find = (t: string): string => {
    while (parent.get(t) !== t) t = parent.get(t) as string;
    return t;
  };
  const movementOf = new Map<string, Set<string>>();
  for (const n of model.graph.nodes) {
    if (!targets.has(n.name)) continue;
    // From each quantized node forward: helpers and data movement, until the next quantized node.
    const queue: Array<{ value: string; quantized: boolean }> = n.outputs.map((value) => ({ value, quantized: false }));
    const seen = new Set<string>();
    const moved: string[] = [];
    while (queue.length) {
      const { value, quantized } = queue.pop() as { value: string; quantized: boolean };
      if (seen.has(value)) continue;
      seen.add(value);
      for (const c of consumers.get(value) ?? []) {
        if (targets.has(c.name)) {
          // Joined only when an int8 tensor (a QuantizeLinear output) or the node's own int8 output got there.
          if (quantized) parent.set(find(c.name), find(n.name));
        } else if (HELPERS.has(c.opType)) {
          queue.push(...c.outputs.map((v) => ({ value: v, quantized: quantized || c.opType === 'QuantizeLinear' })));
        } else if (DATA_MOVEMENT.has(c.opType)) {
          moved.push(c.name);
          queue.push(...c.outputs.map((v) => ({ value: v, quantized })));
        }
      }
    }
    for (const m of moved) movementOf.set(m, new Set([...(movementOf.get(m) ?? []), n.name]));
  }
  const order = model.graph.nodes.map((n) => n.name);
  const members = new Map<string, string[]>();
  for (const t of order.filter((name) => targets.has(name))) members.set(find(t), [...(members.get(find(t)) ?? []), t]);
  // A region is named by its first target in graph order.
  const nameOf = new Map([...members].map(([root, nodes]) => [root, nodes[0]]));
  const regionOf = new Map<string, string>();
  for (const t of targets) regionOf.set(t, nameOf.get(find(t)) as string);
  for (const [m, from] of movementOf) {
    const regions = new Set([...from].map((t) => regionOf.get(t)));
    // Data movement counts for a region only when every quantized node reaching it is in that region.
    if (regions.size === 1) regionOf.set(m, [...regions][0] as string);
  }
  return { regionOf, members: new Map([...members].map(([root, nodes]) => [nameOf.get(root) as string, nodes])) };
}

function consumerMap(model: Model): Map<string, Node[]> {
  const consumers = new Map<string, Node[]>();
  for (const n of model.graph.nodes) for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  return consumers;
}

/** Mean microseconds per run charged to each owner: profile nodes that stand for exactly one. */
function timePerOwner(profile: ModelProfile, ownersOf: (name: string) => string[]): Map<string, number> {
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
  const consumers = consumerMap(model);
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
