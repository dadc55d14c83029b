// onnxruntime-node builds tensors with the host realm's typed arrays, and onnxruntime-common
// checks them with `instanceof` against the test realm's: give tests the host's constructors so
// both sides agree (the classic jest cross-realm problem).
import { TestEnvironment } from 'jest-environment-node';

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Uint8Array', 'Uint8ClampedArray', 'Int8Array', 'Uint16Array', 'Int16Array',
  'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Buffer',
];

export default class SharedTypedArrayEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}
