/**
 * What `prune-gate inspect` reports about a model, as plain data, and its human rendering. Pure:
 * shapes (for FLOPs) and external file sizes are measured by the caller and passed in.
 */
import type { Dim, Graph, Model, Node, OpsetImport, Tensor, ValueInfo } from './ir.js';
import { allGraphs } from './graph-ops.js';
import { dataTypeName, elementCount } from './tensor-data.js';
import { graphCost, type NodeCost } from './flops.js';

export interface IoSummary {
  name: string;
  type: string;
  /** Fixed sizes as numbers, symbolic dims by name, unknown as '?'. */
  shape: Array<number | string> | null;
}

export interface InspectReport {
  file?: string;
  irVersion: number;
  opsets: OpsetImport[];
  producer: { name: string; version: string };
  inputs: IoSummary[];
  outputs: IoSummary[];
  /** Nodes in the main graph, and in all nested graphs and functions together. */
  nodeCount: { main: number; total: number };
  subgraphs: number;
  functions: number;
  /** Node counts by 'domain:opType' (default domain without prefix), largest first. */
  opCounts: Array<{ op: string; count: number }>;
  /** Elements of every initializer and Constant tensor, in every graph. */
  parameters: number;
  weights: Array<{ dataType: string; tensors: number; elements: number; bytes: number }>;
  externalData: Array<{ location: string; tensors: number; bytes: number; fileBytes?: number }>;
  /** `nestedNodes`: nodes inside If/Loop/Scan bodies and functions, which the FLOPs do not include. */
  flops?: { total: number; unknownNodes: number; nestedNodes: number; byOp: Array<{ op: string; flops: number }>; nodes: NodeCost[] };
  /** Why FLOPs are missing, when they are. */
  flopsMissing?: string;
}

export interface InspectOptions {
  file?: string;
  /** Concrete shapes of the main graph's values (from evaluate/shapes.ts). */
  shapes?: Map<string, readonly number[]>;
  /** Why no shapes could be had (printed instead of FLOPs). */
  shapesMissing?: string;
  /** Size of each external data file by location, as found on disk. */
  externalFileBytes?: Record<string, number>;
}

export function inspectModel(model: Model, options: InspectOptions = {}): InspectReport {
  const graphs = allGraphs(model);
  const opCounts = new Map<string, number>();
  let total = 0;
  const nodeLists = [...graphs.map((g) => g.nodes), ...model.functions.map((f) => f.nodes)];
  for (const nodes of nodeLists) {
    for (const n of nodes) {
      const key = n.domain ? `${n.domain}:${n.opType}` : n.opType;
      opCounts.set(key, (opCounts.get(key) ?? 0) + 1);
      total++;
    }
  }
  const weights = new Map<string, { dataType: string; tensors: number; elements: number; bytes: number }>();
  const external = new Map<string, { location: string; tensors: number; bytes: number; fileBytes?: number }>();
  let parameters = 0;
  const addTensor = (t: Tensor) => {
    const dataType = dataTypeName(t.dataType);
    const w = weights.get(dataType) ?? { dataType, tensors: 0, elements: 0, bytes: 0 };
    const elements = elementCount(t.dims);
    w.tensors++;
    w.elements += elements;
    w.bytes += t.strings ? t.strings.reduce((a, s) => a + s.byteLength, 0) : t.raw.byteLength;
    weights.set(dataType, w);
    parameters += elements;
    if (t.external) {
      const e = external.get(t.external.location) ?? { location: t.external.location, tensors: 0, bytes: 0, fileBytes: options.externalFileBytes?.[t.external.location] };
      e.tensors++;
      e.bytes += t.external.length;
      external.set(t.external.location, e);
    }
  };
  for (const g of graphs) {
    g.initializers.forEach(addTensor);
    for (const s of g.sparseInitializers) addTensor({ ...s.values, dims: s.dims });
    constantTensors(g.nodes).forEach(addTensor);
  }
  for (const f of model.functions) constantTensors(f.nodes).forEach(addTensor);

  const report: InspectReport = {
    file: options.file,
    irVersion: model.irVersion,
    opsets: model.opsetImports.map((o) => ({ domain: o.domain, version: o.version })),
    producer: { name: model.producerName, version: model.producerVersion },
    inputs: realInputs(model.graph).map(ioSummary),
    outputs: model.graph.outputs.map(ioSummary),
    nodeCount: { main: model.graph.nodes.length, total },
    subgraphs: graphs.length - 1,
    functions: model.functions.length,
    opCounts: [...opCounts].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || a.op.localeCompare(b.op)),
    parameters,
    weights: [...weights.values()].sort((a, b) => b.bytes - a.bytes),
    externalData: [...external.values()].sort((a, b) => a.location.localeCompare(b.location)),
  };
  if (options.shapes) {
    const cost = graphCost(model.graph, options.shapes);
    const byOp = new Map<string, number>();
    for (const n of cost.nodes) if (n.flops) byOp.set(n.opType, (byOp.get(n.opType) ?? 0) + n.flops);
    report.flops = {
      total: cost.totalFlops,
      unknownNodes: cost.unknownNodes,
      nestedNodes: total - model.graph.nodes.length,
      byOp: [...byOp].map(([op, flops]) => ({ op, flops })).sort((a, b) => b.flops - a.flops),
      nodes: cost.nodes,
    };
  } else {
    report.flopsMissing = options.shapesMissing ?? 'no shapes were probed';
  }
  return report;
}

/** Tensors held by Constant nodes (weights, for exporters that store them that way). */
function constantTensors(nodes: Node[]): Tensor[] {
  const out: Tensor[] = [];
  for (const n of nodes) {
    if (n.opType !== 'Constant' || n.domain !== '') continue;
    for (const a of n.attributes) if (a.type === 'tensor') out.push(a.value);
  }
  return out;
}

function realInputs(g: Graph): ValueInfo[] {
  const inits = new Set(g.initializers.map((t) => t.name));
  return g.inputs.filter((i) => !inits.has(i.name));
}

function ioSummary(v: ValueInfo): IoSummary {
  if (v.type?.kind !== 'tensor') return { name: v.name, type: v.type ? 'non-tensor' : 'unknown', shape: null };
  return { name: v.name, type: dataTypeName(v.type.elemType), shape: v.type.shape ? v.type.shape.map((d: Dim) => d ?? '?') : null };
}

// ---- human rendering ------------------------------------------------------------------------

/** A readable report: key facts, then aligned tables. */
export function formatInspectReport(r: InspectReport, options: { topNodes?: number } = {}): string {
  const lines: string[] = [];
  const opsets = r.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ');
  lines.push(
    ...table([
      ['model', r.file ?? '(in memory)'],
      ['ir version', String(r.irVersion)],
      ['opsets', opsets],
      ['producer', `${r.producer.name || '(none)'}${r.producer.version ? ` ${r.producer.version}` : ''}`],
      ['nodes', `${r.nodeCount.main} in the main graph, ${r.nodeCount.total} in all (${r.subgraphs} subgraphs, ${r.functions} functions)`],
      ['parameters', `${formatCount(r.parameters)} (${r.parameters})`],
    ]),
  );
  const shape = (s: IoSummary['shape']) => (s ? `[${s.join(', ')}]` : '(unknown)');
  lines.push('', ...table([['input', 'type', 'shape'], ...r.inputs.map((i) => [i.name, i.type, shape(i.shape)])], true));
  lines.push('', ...table([['output', 'type', 'shape'], ...r.outputs.map((o) => [o.name, o.type, shape(o.shape)])], true));
  lines.push('', ...table([['op', 'count'], ...r.opCounts.map((o) => [o.op, String(o.count)])], true, [false, true]));
  lines.push('', ...table([['weights', 'tensors', 'elements', 'bytes'], ...r.weights.map((w) => [w.dataType, String(w.tensors), String(w.elements), formatBytes(w.bytes)])], true, [false, true, true, true]));
  if (r.externalData.length) {
    const rows = r.externalData.map((e) => [e.location, String(e.tensors), formatBytes(e.bytes), e.fileBytes === undefined ? '(missing)' : formatBytes(e.fileBytes)]);
    lines.push('', ...table([['external data file', 'tensors', 'bytes used', 'file size'], ...rows], true, [false, true, true, true]));
  }
  lines.push('');
  if (r.flops) {
    const notes = [
      r.flops.unknownNodes ? `${r.flops.unknownNodes} nodes without known shapes` : '',
      r.flops.nestedNodes ? `${r.flops.nestedNodes} nodes inside subgraphs and functions` : '',
    ].filter(Boolean);
    const unknown = notes.length ? ` (not counted: ${notes.join(', ')})` : '';
    lines.push(`estimated FLOPs at batch 1: ${formatCount(r.flops.total)}${unknown}`);
    lines.push('', ...table([['op', 'FLOPs', 'share'], ...r.flops.byOp.map((o) => [o.op, formatCount(o.flops), percent(o.flops, r.flops?.total ?? 0)])], true, [false, true, true]));
    const top = [...r.flops.nodes].filter((n) => n.flops).sort((a, b) => (b.flops ?? 0) - (a.flops ?? 0)).slice(0, options.topNodes ?? 15);
    const rows = top.map((n) => [n.node || '(unnamed)', n.opType, formatCount(n.flops ?? 0) + (n.estimated ? '*' : ''), formatCount(n.params)]);
    lines.push('', ...table([['node (top by FLOPs)', 'op', 'FLOPs', 'params'], ...rows], true, [false, false, true, true]));
    lines.push('* estimate');
  } else {
    lines.push(`FLOPs: not available (${r.flopsMissing ?? 'unknown reason'})`);
  }
  return lines.join('\n') + '\n';
}

function table(rows: string[][], header = false, rightAlign: boolean[] = []): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const out = rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 && !rightAlign[c] ? cell : rightAlign[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd(),
  );
  if (header) out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out;
}

export function formatCount(n: number): string {
  const units: Array<[number, string]> = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, suffix] of units) if (Math.abs(n) >= scale) return `${(n / scale).toFixed(2)}${suffix}`;
  return String(n);
}

export function formatBytes(n: number): string {
  const units: Array<[number, string]> = [
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  for (const [scale, suffix] of units) if (n >= scale) return `${(n / scale).toFixed(2)} ${suffix}`;
  return `${n} B`;
}

function percent(part: number, whole: number): string {
  return whole ? `${((100 * part) / whole).toFixed(1)} %` : '-';
}
