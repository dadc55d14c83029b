/**
 * Quantization passes on the ONNX IR: static int8 QDQ with calibration, dynamic int8, int4
 * weight-only (MatMulNBits), float16 weight storage, per-node sensitivity and automatic fallback.
 */
export { quantizeInt8Static, type StaticInt8Options } from './qdq.js';
export { quantizeInt8Dynamic, type DynamicInt8Options } from './dynamic.js';
export { quantizeInt4WeightOnly, type Int4Options } from './nbits.js';
export { quantizeFp16 } from './fp16.js';
export { rankQuantSensitivity, type NodeSensitivity } from './sensitivity.js';
export { quantizeWithFallback, type FallbackOptions } from './fallback.js';
export { machineQuantDefaults, type MachineQuantDefaults } from './machine.js';
export type { CalibrationMethod } from './calibration.js';
