/**
 * Quantization defaults for the machine we run on. On x86 without VNNI, MLAS multiplies uint8
 * activations by int8 weights with vpmaddubsw, which adds adjacent u8*s8 products into a saturating
 * int16: 255*127*2 overflows. Weights limited to 7 bits (+-63) cannot overflow and, as measured on
 * this kind of machine (shared README), cost no speed; with VNNI (or AMX) the products go straight
 * to int32 and 8-bit weights are safe.
 */
import { cpuFlags } from '../../evaluate/machine.js';

export interface MachineQuantDefaults {
  activationType: 'uint8' | 'int8';
  weightBits: 7 | 8;
  note: string;
}

export function machineQuantDefaults(cpuinfo?: string): MachineQuantDefaults {
  const flags = cpuFlags(cpuinfo);
  const vnni = flags.has('avx512_vnni') || flags.has('avx_vnni') || flags.has('amx_int8') || flags.has('amx_tile');
  if (flags.has('avx2') && !vnni) {
    return {
      activationType: 'uint8',
      weightBits: 7,
      note: 'AVX2 without VNNI: uint8 x int8 products saturate in int16 (vpmaddubsw), so weights use 7 bits (+-63); measured to keep accuracy at the same speed',
    };
  }
  if (flags.has('avx2') || flags.has('avx512f')) {
    return { activationType: 'uint8', weightBits: 8, note: 'VNNI/AMX present: uint8 x int8 accumulates in int32 without saturation, 8-bit weights' };
  }
  if (flags.size === 0) return { activationType: 'uint8', weightBits: 8, note: 'CPU flags unreadable: uint8 activations, 8-bit weights (ORT default)' };
  // ARM (NEON/dot-product) and others: signed activations are the native fast path of MLAS there.
  return { activationType: 'int8', weightBits: 8, note: 'non-x86 CPU: int8 activations and weights (MLAS s8s8 path)' };
}
