/**
 * What every pass takes and gives back. Passes edit a Model (the IR) and return what they did as
 * data; they know nothing of reporting, config files or GitHub.
 */
import type { Model } from '../onnx/index.js';
import type { Feeds } from '../evaluate/session.js';

export interface PassContext {
  /** Calibration batches (model input name -> tensor), for activation-aware passes. */
  calibration?: Feeds[];
  /** Seed for anything random (sampling, tie-breaking). Same seed, same output bytes. */
  seed: number;
  /** Progress messages for the user (one line each). */
  log?: (message: string) => void;
  /**
   * False when native speed is not what is asked (config `targets:` without native): quantization's
   * fallback then skips its node-level latency check, which profiles on the native runtime, and the
   * step as a whole is judged on the listed targets. Default true.
   */
  nativeLatency?: boolean;
}

export interface Skipped {
  /** Node, layer or group the pass left alone. */
  what: string;
  reason: string;
}

export interface LayerChange {
  /** Node name. */
  name: string;
  opType: string;
  /** e.g. "64 -> 45 output channels", "int8 per-channel", "2:4". */
  change: string;
  /** Optional error measure, e.g. relative reconstruction error after repair, SQNR in dB. */
  error?: number;
}

export interface PassSummary {
  pass: string;
  paramsBefore: number;
  paramsAfter: number;
  flopsBefore?: number;
  flopsAfter?: number;
  changed: LayerChange[];
  skipped: Skipped[];
  /** Plain statements for the report, e.g. "fine-grained sparsity saves storage, not time on ORT CPU". */
  notes: string[];
}

export interface PassResult {
  model: Model;
  summary: PassSummary;
}
