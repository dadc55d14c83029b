/**
 * Pruning passes: structured (dependency groups, importance, training-free repair), fine-grained
 * magnitude, N:M, low-rank factorization, and the per-layer sensitivity scan.
 */
export { pruneStructured, type StructuredOptions } from './structured.js';
export { pruneUnstructured, pruneNM, type UnstructuredOptions, type NMOptions } from './unstructured.js';
export { pruneLowRank, type LowRankOptions } from './lowrank.js';
export { scanLayerSensitivity, type SensitivityOptions, type SensitivityRow } from './sensitivity.js';
export { dependencyGroups, type PruneGroup, type GroupMember } from './depgraph.js';
export type { Importance } from './importance.js';
export type { RepairMode } from './repair.js';
