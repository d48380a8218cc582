import type { GemmKernel, PackedMatrix } from './gemm.js';

/**
 * Reorders conv weights `[Cout, Cin/groups, K]` into the tap-major rows the gather code fills:
 * `packed[co, k·cinG + ci] = w[co, ci, k]`. Tap-major lets a streaming gather copy whole
 * input columns (`cinG` contiguous values per tap).
 */
export function packConvWeight(w: Float32Array, outChannels: number, cinG: number, kernelSize: number): Float32Array {
  const packed = new Float32Array(outChannels * cinG * kernelSize);
  for (let co = 0; co < outChannels; co++) {
    for (let ci = 0; ci < cinG; ci++) {
      for (let k = 0; k < kernelSize; k++) {
        packed[co * cinG * kernelSize + k * cinG + ci] = w[(co * cinG + ci) * kernelSize + k];
      }
    }
  }
  return packed;
}

/** One packed matrix per group, each `[Cout/groups, K·Cin/groups]` with its slice of the bias. */
export function packConvGroups(
  w: Float32Array,
  bias: Float32Array | null,
  outChannels: number,
  cinG: number,
  kernelSize: number,
  groups: number,
  kernel: GemmKernel,
): PackedMatrix[] {
  const packed = packConvWeight(w, outChannels, cinG, kernelSize);
  const coutG = outChannels / groups;
  const kd = cinG * kernelSize;
  const result: PackedMatrix[] = [];
  for (let g = 0; g < groups; g++) {
    result.push(
      kernel.pack(
        packed.subarray(g * coutG * kd, (g + 1) * coutG * kd),
        coutG,
        kd,
        bias === null ? null : bias.subarray(g * coutG, (g + 1) * coutG),
      ),
    );
  }
  return result;
}
