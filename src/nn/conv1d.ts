import { planConv1d, type Conv1dOptions, type Conv1dPlan } from './conv1d-options.js';
import { packConvGroups } from './conv-packing.js';
import { jsGemmKernel, type GemmKernel, type PackedMatrix } from './gemm.js';
import { paddedSourceIndex } from './padding.js';
import type { Tensor } from './tensor.js';

/** Output rows gathered per product; bounds the im2col scratch to `ROW_BLOCK × K·Cin/groups`. */
const ROW_BLOCK = 256;

/**
 * 1-D convolution with exactly the semantics of torch.nn.functional.conv1d / nn.Conv1d.
 *
 * @param input `[N, Cin, L]` (or unbatched `[Cin, L]`, as PyTorch accepts).
 * @param weight `[Cout, Cin/groups, K]`.
 * @param bias `[Cout]` or `null`.
 * @param options stride, padding (number | 'same' | 'valid'), dilation, groups, paddingMode; PyTorch defaults.
 * @param kernel the matrix-product kernel; the plain TypeScript one by default.
 * @returns `[N, Cout, Lout]` with `Lout = floor((L + 2p − d(K−1) − 1)/s) + 1` (`[Cout, Lout]` if unbatched).
 * @throws Error for every combination PyTorch rejects, naming the problem and the numbers.
 */
export function conv1d(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: Conv1dOptions = {},
  kernel: GemmKernel = jsGemmKernel,
): Tensor {
  const plan = planConv1d(input, weight, bias, options);
  const data = runConv1dPlan(plan, input, weight, bias, kernel);
  const shape = plan.unbatched ? [plan.outChannels, plan.outLength] : [plan.batch, plan.outChannels, plan.outLength];
  return { shape, data };
}

/** Packs the weights for `plan` and computes its output `[N, Cout, Lout]` (empty when Lout is 0). */
export function runConv1dPlan(plan: Conv1dPlan, input: Tensor, weight: Tensor, bias: Tensor | null, kernel: GemmKernel): Float32Array {
  const out = new Float32Array(plan.batch * plan.outChannels * plan.outLength);
  if (plan.outLength === 0 || plan.batch === 0) return out;
  const packed = packConvGroups(weight.data, bias === null ? null : bias.data, plan.outChannels, plan.inChannels / plan.groups, plan.kernelSize, plan.groups, kernel);
  try {
    conv1dPlanned(plan, input.data, packed, out);
  } finally {
    // Packed per call: give the storage back (a long-lived WebAssembly kernel would grow otherwise).
    for (const p of packed) p.dispose?.();
  }
  return out;
}

/**
 * The arithmetic of conv1d on a validated plan and pre-packed weights (one matrix per group):
 * gathers tap-major im2col rows, `ROW_BLOCK` output positions at a time, and multiplies.
 * `x` is `[N, Cin, L]`, `out` receives `[N, Cout, Lout]`.
 */
export function conv1dPlanned(plan: Conv1dPlan, x: Float32Array, packed: readonly PackedMatrix[], out: Float32Array): void {
  const { batch, inChannels, length, outChannels, kernelSize: K, stride, dilation, groups, outLength } = plan;
  const cinG = inChannels / groups;
  const coutG = outChannels / groups;
  const kd = cinG * K;
  // Source column of every (output position, tap); −1 reads a zero.
  const src = new Int32Array(outLength * K);
  for (let t = 0; t < outLength; t++) {
    for (let k = 0; k < K; k++) {
      src[t * K + k] = paddedSourceIndex(t * stride + k * dilation, plan.padLeft, length, plan.paddingMode);
    }
  }
  const rows = Math.min(ROW_BLOCK, Math.max(outLength, 1));
  const cols = new Float32Array(rows * kd);
  const y = new Float32Array(rows * coutG);
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < groups; g++) {
      const xBase = (n * inChannels + g * cinG) * length;
      const mat = packed[g] as PackedMatrix;
      for (let t0 = 0; t0 < outLength; t0 += rows) {
        const m = Math.min(rows, outLength - t0);
        for (let r = 0; r < m; r++) {
          const rowBase = r * kd;
          for (let k = 0; k < K; k++) {
            const s = src[(t0 + r) * K + k];
            const dst = rowBase + k * cinG;
            if (s < 0) {
              cols.fill(0, dst, dst + cinG);
            } else {
              for (let ci = 0; ci < cinG; ci++) cols[dst + ci] = x[xBase + ci * length + s];
            }
          }
        }
        mat.run(m, cols, 0, y, 0, coutG);
        const outBase = (n * outChannels + g * coutG) * outLength + t0;
        for (let r = 0; r < m; r++) {
          for (let j = 0; j < coutG; j++) out[outBase + j * outLength + r] = y[r * coutG + j];
        }
      }
    }
  }
}
