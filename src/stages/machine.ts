/**
 * What the runner's kernels reward in a structured cut. ORT's NCHWc convolutions (and its packed
 * GEMM) work in blocks of 16 float channels with AVX-512 and 8 with AVX2 or NEON: a layer cut to a
 * count off the block pays for the whole block. Measured on a PyTorch MNIST CNN (AVX-512, batch 32):
 * conv2 cut to 24 channels ran 0.70x of float where 32 ran 0.59x (shared README);
 * `npm run bench -- --only zoo-blocks` measures it again on the runner.
 */
import { cpuFlags } from '../evaluate/machine.js';

export function channelBlock(cpuinfo?: string): number {
  return cpuFlags(cpuinfo).has('avx512f') ? 16 : 8;
}
