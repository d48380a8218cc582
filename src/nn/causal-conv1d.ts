import { planConv1d, type Conv1dPlan } from './conv1d-options.js';
import { runConv1dPlan } from './conv1d.js';
import { jsGemmKernel, type GemmKernel } from './gemm.js';
import { formatShape, type Tensor } from './tensor.js';

/** Options of {@link causalConv1d}. Padding is implied: `(K−1)·dilation` zeros on the left. */
export interface CausalConv1dOptions {
  stride?: number;
  dilation?: number;
  groups?: number;
}

/**
 * Validates a causal convolution and returns its plan: left zero padding `(K−1)·d`, none on the
 * right, so output `j` sees inputs `≤ j·stride` only. An empty input (`L = 0`) is allowed and
 * gives an empty output.
 */
export function planCausalConv1d(input: Tensor, weight: Tensor, bias: Tensor | null, options: CausalConv1dOptions = {}): Conv1dPlan {
  if (input.shape.length !== 3) {
    throw new Error(`causalConv1d: input must be 3-D [N, C, L], got ${formatShape(input.shape)}`);
  }
  const length = input.shape[2] as number;
  const kernelSize = weight.shape[2] ?? 0;
  const history = Math.max(kernelSize - 1, 0) * (options.dilation ?? 1);
  // Symmetric padding of `history` on a non-empty probe validates every other rule with the
  // offline planner's messages; the causal plan then drops the right side.
  const probe = length === 0 ? { shape: [input.shape[0] as number, input.shape[1] as number, 1], data: new Float32Array((input.shape[0] as number) * (input.shape[1] as number)) } : input;
  const plan = planConv1d(probe, weight, bias, { ...options, padding: Number.isInteger(history) ? history : 0 });
  const stride = plan.stride;
  return {
    ...plan,
    length,
    padLeft: (plan.kernelSize - 1) * plan.dilation,
    padRight: 0,
    outLength: length === 0 ? 0 : Math.floor((length - 1) / stride) + 1,
  };
}

/**
 * Offline causal convolution: `conv1d(leftpad(x, (K−1)·d), weight, bias, { stride, dilation, groups })`.
 * This is the whole-stream function a {@link StreamingConv1d} computes chunk by chunk.
 * @param input `[N, Cin, L]`; @returns `[N, Cout, floor((L−1)/s) + 1]`.
 */
export function causalConv1d(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: CausalConv1dOptions = {},
  kernel: GemmKernel = jsGemmKernel,
): Tensor {
  const plan = planCausalConv1d(input, weight, bias, options);
  const out = runConv1dPlan(plan, input, weight, bias, kernel);
  return { shape: [plan.batch, plan.outChannels, plan.outLength], data: out };
}
