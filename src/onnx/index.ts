/** The ONNX model layer: IR, import/export, tensor data, graph helpers. Knows nothing of passes or GitHub. */
export * from './ir.js';
export * from './tensor-data.js';
export * from './graph-ops.js';
export { loadModel, decodeModel, type ImportOptions } from './import.js';
export { saveModel, serializeModel, encodeModel, type SaveOptions, type SerializedModel } from './export.js';
export { GraphBuilder, type AttrValue } from './builder.js';
export { upgradeOpset, irVersionForOpset, MAX_UPGRADE_OPSET, type UpgradeResult } from './opset-upgrade.js';
export { graphCost, nodeFlops, type GraphCost, type NodeCost, type ShapeLookup } from './flops.js';
export { inspectModel, formatInspectReport, formatCount, formatBytes, type InspectReport, type InspectOptions, type IoSummary } from './inspect.js';
export { decodeTensorFile } from './tensor-file.js';
export { countParams, initializerBytes } from './weights.js';
