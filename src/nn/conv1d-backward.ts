import { planConv1d, type Conv1dOptions, type Conv1dPlan } from './conv1d-options.js';
import { jsGemmKernel, type GemmKernel, type PackedMatrix } from './gemm.js';
import { paddedSourceIndex } from './padding.js';
import { formatShape, type Tensor } from './tensor.js';

/** Rows gathered per product in the row-blocked loops; bounds the im2col scratch to `ROW_BLOCK × K·Cin/groups`. */
const ROW_BLOCK = 256;

/** Gradients of a conv1d with respect to its three inputs. */
export interface Conv1dGradients {
  /** Same shape as the input (`[N, Cin, L]`, or `[Cin, L]` if it was unbatched). */
  readonly gradInput: Tensor;
  /** `[Cout, Cin/groups, K]`. */
  readonly gradWeight: Tensor;
  /** `[Cout]`: the gradient a bias would get (gradOutput summed over batch and length), whether or not the layer has one. */
  readonly gradBias: Tensor;
}

/**
 * A convolution over activations in row layout: `x[(n·L + s)·Cin + c]` (one row of all channels
 * per position, the layout of a `[T, C]` series) and `y[(n·Lout + t)·Cout + c]`. Row layout lets
 * an im2col row be copied `Cin/groups` contiguous values per tap, and lets products write their
 * output rows in place, with no transposition.
 */
export interface ConvRowsGeometry {
  readonly batch: number;
  /** Input positions per sequence, `L`. */
  readonly length: number;
  /** Output positions per sequence, `Lout`. */
  readonly outLength: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly groups: number;
  /**
   * `src[t·K + k]`: the input column output `t` reads at tap `k` (padding modes resolved), or −1
   * for a zero. At least `outLength·K` entries.
   */
  readonly src: Int32Array;
}

/** Source-column table of a validated plan (see {@link ConvRowsGeometry.src}). */
export function convSourceTable(plan: Conv1dPlan): Int32Array {
  const { outLength, kernelSize: K, stride, dilation, padLeft, length, paddingMode } = plan;
  const src = new Int32Array(outLength * K);
  for (let t = 0; t < outLength; t++) {
    for (let k = 0; k < K; k++) src[t * K + k] = paddedSourceIndex(t * stride + k * dilation, padLeft, length, paddingMode);
  }
  return src;
}

/**
 * Scratch arrays reused across calls: each slot grows to the largest size asked for and is never
 * shrunk, so a training loop allocates only while sizes still grow.
 */
export class ConvScratch {
  private readonly slots: Float32Array[] = [];
  private acc = new Float64Array(0);

  /** A buffer of at least `size` floats for `slot` (contents unspecified). */
  take(slot: number, size: number): Float32Array {
    const cur = this.slots[slot];
    if (cur !== undefined && cur.length >= size) return cur;
    const next = new Float32Array(Math.max(size, cur === undefined ? 0 : cur.length * 2));
    this.slots[slot] = next;
    return next;
  }

  /** A float64 buffer of at least `size` values, zero-filled over `[0, size)`. */
  accumulator(size: number): Float64Array {
    if (this.acc.length < size) this.acc = new Float64Array(size);
    this.acc.fill(0, 0, size);
    return this.acc;
  }
}

const SLOT_COLS = 0;
const SLOT_DY_T = 1;
const SLOT_GW_T = 2;
const SLOT_W_T = 3;
const SLOT_DY_G = 4;
const SLOT_X_T = 5;

/** Whether every output row reads exactly the input row with its own index (1×1, stride 1, no padding). */
function isPointwise(g: ConvRowsGeometry): boolean {
  if (g.kernelSize !== 1 || g.groups !== 1 || g.outLength !== g.length) return false;
  for (let t = 0; t < g.outLength; t++) if (g.src[t] !== t) return false;
  return true;
}

/**
 * Forward convolution in row layout: `y[(n, t), co] = bias[co] + Σ w[co, ci, k]·x[(n, src(t, k)), ci]`.
 * `packed` holds one matrix per group from `packConvGroups` (tap-major, bias included). Each
 * output equals the one {@link conv1d} computes with the same kernel, bit for bit.
 */
export function convRowsForward(geo: ConvRowsGeometry, x: Float32Array, packed: readonly PackedMatrix[], y: Float32Array, scratch: ConvScratch): void {
  const { batch, length, outLength, inChannels: Cin, outChannels: Cout, kernelSize: K, groups, src } = geo;
  const rowsTotal = batch * outLength;
  if (isPointwise(geo)) {
    (packed[0] as PackedMatrix).run(rowsTotal, x, 0, y, 0, Cout);
    return;
  }
  const cinG = Cin / groups;
  const coutG = Cout / groups;
  const kd = cinG * K;
  const block = Math.min(ROW_BLOCK, Math.max(rowsTotal, 1));
  const cols = scratch.take(SLOT_COLS, block * kd);
  for (let g = 0; g < groups; g++) {
    const mat = packed[g] as PackedMatrix;
    for (let r0 = 0; r0 < rowsTotal; r0 += block) {
      const m = Math.min(block, rowsTotal - r0);
      for (let r = 0; r < m; r++) {
        const row = r0 + r;
        const n = Math.floor(row / outLength);
        const t = row - n * outLength;
        const xBase = n * length * Cin + g * cinG;
        for (let k = 0; k < K; k++) {
          const s = src[t * K + k];
          const dst = r * kd + k * cinG;
          if (s < 0) {
            cols.fill(0, dst, dst + cinG);
          } else {
            const from = xBase + s * Cin;
            for (let ci = 0; ci < cinG; ci++) cols[dst + ci] = x[from + ci];
          }
        }
      }
      mat.run(m, cols, 0, y, r0 * Cout + g * coutG, Cout);
    }
  }
}

/** Where {@link convRowsBackward} writes. */
export interface ConvRowsGradients {
  /** Row-layout input gradient, **added into** (the caller zeroes it first), or null to skip. */
  readonly gradX: Float32Array | null;
  /** `[Cout, Cin/groups, K]`, overwritten. */
  readonly gradW: Float32Array;
  /** `[Cout]`, overwritten, or null to skip. */
  readonly gradB: Float32Array | null;
}

/**
 * Backward of {@link convRowsForward} for an upstream gradient `dy` (row layout, `[(n, t), Cout]`):
 *
 * - `gradW[co, kd] = Σ_(n,t) dy[(n,t), co]·cols[(n,t), kd]`: one product per group through the
 *   kernel (`dyᵀ` packed, `colsᵀ` as the rows), summed over all `N·Lout` positions at once;
 * - `gradCols[(n,t), kd] = Σ_co dy[(n,t), co]·w[co, kd]` (`wᵀ` packed), then scatter-added
 *   (col2im) into `gradX` at the source columns, so padded positions of the reflect, replicate
 *   and circular modes send their gradient back to the column they copied;
 * - `gradB[co] = Σ_(n,t) dy[(n,t), co]`, summed in float64.
 *
 * `weight` is `[Cout, Cin/groups, K]` (PyTorch layout). Scratch grows to `K·Cin/groups × N·Lout`
 * floats per call (the transposed im2col matrix).
 */
export function convRowsBackward(
  geo: ConvRowsGeometry,
  x: Float32Array,
  dy: Float32Array,
  weight: Float32Array,
  kernel: GemmKernel,
  out: ConvRowsGradients,
  scratch: ConvScratch,
): void {
  const { batch, length, outLength, inChannels: Cin, outChannels: Cout, kernelSize: K, groups, src } = geo;
  const cinG = Cin / groups;
  const coutG = Cout / groups;
  const kd = cinG * K;
  const M = batch * outLength;

  if (out.gradB !== null) {
    // Per channel a float64 sum over rows in row order (row-major traversal, same order).
    const acc = scratch.accumulator(Cout);
    for (let r = 0; r < M; r++) {
      const base = r * Cout;
      for (let co = 0; co < Cout; co++) acc[co] += dy[base + co];
    }
    const gb = out.gradB;
    for (let co = 0; co < Cout; co++) gb[co] = acc[co];
  }
  if (M === 0) {
    out.gradW.fill(0);
    return;
  }

  for (let g = 0; g < groups; g++) {
    // ---- gradW: [kd, coutG] = colsᵀ [kd, M] · (dyᵀ [coutG, M])ᵀ
    const dyT = scratch.take(SLOT_DY_T, coutG * M);
    for (let r = 0; r < M; r++) {
      const from = r * Cout + g * coutG;
      for (let co = 0; co < coutG; co++) dyT[co * M + r] = dy[from + co];
    }
    // The group's input channel-major, xT[ci, (n, s)], so that each im2col row reads contiguously.
    const rowsIn = batch * length;
    const xT = scratch.take(SLOT_X_T, cinG * rowsIn);
    for (let r = 0; r < rowsIn; r++) {
      const from = r * Cin + g * cinG;
      for (let ci = 0; ci < cinG; ci++) xT[ci * rowsIn + r] = x[from + ci];
    }
    const colsT = scratch.take(SLOT_COLS, kd * M);
    for (let k = 0; k < K; k++) {
      for (let ci = 0; ci < cinG; ci++) {
        const rowBase = (k * cinG + ci) * M;
        for (let n = 0; n < batch; n++) {
          const xBase = ci * rowsIn + n * length;
          const dst = rowBase + n * outLength;
          for (let t = 0; t < outLength; t++) {
            const s = src[t * K + k];
            colsT[dst + t] = s < 0 ? 0 : xT[xBase + s];
          }
        }
      }
    }
    const gwT = scratch.take(SLOT_GW_T, kd * coutG);
    const packedDyT = kernel.pack(dyT, coutG, M, null);
    packedDyT.run(kd, colsT, 0, gwT, 0, coutG);
    packedDyT.dispose?.();
    const gw = out.gradW;
    for (let co = 0; co < coutG; co++) {
      const wBase = (g * coutG + co) * kd;
      for (let ci = 0; ci < cinG; ci++) {
        for (let k = 0; k < K; k++) gw[wBase + ci * K + k] = gwT[(k * cinG + ci) * coutG + co];
      }
    }

    // ---- gradX: gradCols [M, kd] = dy_g [M, coutG] · wᵀ, then col2im.
    const gx = out.gradX;
    if (gx === null) continue;
    const wT = scratch.take(SLOT_W_T, kd * coutG);
    for (let co = 0; co < coutG; co++) {
      const wBase = (g * coutG + co) * kd;
      for (let ci = 0; ci < cinG; ci++) {
        for (let k = 0; k < K; k++) wT[(k * cinG + ci) * coutG + co] = weight[wBase + ci * K + k];
      }
    }
    const packedWT = kernel.pack(wT, kd, coutG, null);
    let a = dy;
    if (groups > 1) {
      a = scratch.take(SLOT_DY_G, M * coutG);
      for (let r = 0; r < M; r++) for (let co = 0; co < coutG; co++) a[r * coutG + co] = dy[r * Cout + g * coutG + co];
    }
    const block = Math.min(ROW_BLOCK, M);
    const gcols = scratch.take(SLOT_GW_T, Math.max(block * kd, kd * coutG));
    for (let r0 = 0; r0 < M; r0 += block) {
      const m = Math.min(block, M - r0);
      packedWT.run(m, a, r0 * coutG, gcols, 0, kd);
      for (let r = 0; r < m; r++) {
        const row = r0 + r;
        const n = Math.floor(row / outLength);
        const t = row - n * outLength;
        const xBase = n * length * Cin + g * cinG;
        for (let k = 0; k < K; k++) {
          const s = src[t * K + k];
          if (s < 0) continue;
          const to = xBase + s * Cin;
          const from = r * kd + k * cinG;
          for (let ci = 0; ci < cinG; ci++) gx[to + ci] += gcols[from + ci];
        }
      }
    }
    packedWT.dispose?.();
  }
}

/** `[N, C, L]` (PyTorch layout) → row layout `[(n, l), C]`, as a new array. */
export function toRowLayout(data: Float32Array, n: number, c: number, l: number): Float32Array {
  const out = new Float32Array(n * c * l);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const from = (b * c + ch) * l;
      for (let i = 0; i < l; i++) out[(b * l + i) * c + ch] = data[from + i];
    }
  }
  return out;
}

/** Row layout `[(n, l), C]` → `[N, C, L]` (PyTorch layout), as a new array. */
export function fromRowLayout(rows: Float32Array, n: number, c: number, l: number): Float32Array {
  const out = new Float32Array(n * c * l);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const to = (b * c + ch) * l;
      for (let i = 0; i < l; i++) out[to + i] = rows[(b * l + i) * c + ch];
    }
  }
  return out;
}

/**
 * Gradients of `conv1d(input, weight, bias, options)` given `gradOutput = ∂loss/∂output`, with
 * PyTorch's semantics for every stride, dilation, groups, padding (number, 'same', 'valid') and
 * padding mode. Validation is {@link planConv1d}'s, so the same calls are accepted and rejected
 * with the same messages as the forward. The products go through `kernel`, so a faster kernel
 * speeds the backward too.
 *
 * @param input `[N, Cin, L]` (or unbatched `[Cin, L]`).
 * @param weight `[Cout, Cin/groups, K]`.
 * @param gradOutput `[N, Cout, Lout]` (`[Cout, Lout]` if the input is unbatched).
 * @throws Error for every option combination conv1d rejects, and when `gradOutput` does not have
 *   the output's shape.
 */
export function conv1dBackward(
  input: Tensor,
  weight: Tensor,
  gradOutput: Tensor,
  options: Conv1dOptions = {},
  kernel: GemmKernel = jsGemmKernel,
): Conv1dGradients {
  const plan = planConv1d(input, weight, null, options);
  const { batch, inChannels, length, outChannels, outLength } = plan;
  const outShape = plan.unbatched ? [outChannels, outLength] : [batch, outChannels, outLength];
  if (gradOutput.shape.length !== outShape.length || gradOutput.shape.some((s, i) => s !== outShape[i]) || gradOutput.data.length !== batch * outChannels * outLength) {
    throw new Error(`conv1dBackward: gradOutput must have the output's shape ${formatShape(outShape)}, got ${formatShape(gradOutput.shape)}`);
  }
  const geo: ConvRowsGeometry = {
    batch,
    length,
    outLength,
    inChannels,
    outChannels,
    kernelSize: plan.kernelSize,
    groups: plan.groups,
    src: convSourceTable(plan),
  };
  const xRows = toRowLayout(input.data, batch, inChannels, length);
  const dyRows = toRowLayout(gradOutput.data, batch, outChannels, outLength);
  const gradX = new Float32Array(batch * inChannels * length);
  const gradW = new Float32Array(weight.data.length);
  const gradB = new Float32Array(outChannels);
  convRowsBackward(geo, xRows, dyRows, weight.data, kernel, { gradX, gradW, gradB }, new ConvScratch());
  return {
    gradInput: { shape: [...input.shape], data: fromRowLayout(gradX, batch, inChannels, length) },
    gradWeight: { shape: [...weight.shape], data: gradW },
    gradBias: { shape: [outChannels], data: gradB },
  };
}
