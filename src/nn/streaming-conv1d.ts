import { CausalConvRing } from './causal-conv-ring.js';
import { planConv1d } from './conv1d-options.js';
import { packConvGroups } from './conv-packing.js';
import { jsGemmKernel, type GemmKernel, type PackedMatrix } from './gemm.js';
import { formatShape, type Tensor } from './tensor.js';

/** Construction options of {@link StreamingConv1d}. */
export interface StreamingConv1dOptions {
  /** `[Cout, Cin/groups, K]`. Copied at construction. */
  weight: Tensor;
  /** `[Cout]` or `null`. */
  bias: Tensor | null;
  /** ≥ 1, default 1. */
  stride?: number;
  /** ≥ 1, default 1. */
  dilation?: number;
  /** Divides Cin and Cout, default 1. */
  groups?: number;
  /** Matrix-product kernel; the plain TypeScript one by default. */
  kernel?: GemmKernel;
}

/** The state of a {@link StreamingConv1d}: plain data, safe to serialise. */
export interface StreamingConv1dSnapshot {
  /** The last `(K−1)·d` input columns, oldest first, `[H, Cin]` time-major. */
  readonly history: Float32Array;
  /** Inputs seen modulo the stride. */
  readonly phase: number;
}

/**
 * Causal 1-D convolution over an unbounded stream, one incremental step per new column.
 *
 * It keeps a ring buffer of the last `(K−1)·d` input columns and the stride phase, so that the
 * concatenated outputs of successive {@link push} calls, over any chunking, equal
 * `conv1d(x left-padded with (K−1)·d zeros, weight, bias, { stride, dilation, groups })` over the
 * whole stream — bitwise, since both use the same gather order and matrix kernel.
 * Output `j` is emitted when input column `j·stride` arrives.
 */
export class StreamingConv1d {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly dilation: number;
  readonly groups: number;
  /** Input columns remembered between pushes: `(K−1)·d`. */
  readonly historyLength: number;
  private readonly ring: CausalConvRing;
  private readonly packed: PackedMatrix[];
  private phase = 0;
  // Scratch reused across pushes; grows to the largest chunk seen.
  private timeMajor = new Float32Array(0);
  private cols = new Float32Array(0);
  private y = new Float32Array(0);

  /** @throws Error for invalid shapes or options, as conv1d would. */
  constructor(options: StreamingConv1dOptions) {
    const { weight, bias } = options;
    if (weight.shape.length !== 3) {
      throw new Error(`StreamingConv1d: weight must be 3-D [out_channels, in_channels/groups, kernel_size], got ${formatShape(weight.shape)}`);
    }
    const groups = options.groups ?? 1;
    const [, inPerGroup = 0, kernelSize = 0] = weight.shape;
    // Validate through the offline planner on a one-column probe: same rules, same messages.
    const inChannels = inPerGroup * (Number.isInteger(groups) && groups > 0 ? groups : 1);
    const probeLength = (kernelSize - 1) * (options.dilation ?? 1) + 1;
    const plan = planConv1d(
      { shape: [1, inChannels, Math.max(probeLength, 1)], data: new Float32Array(inChannels * Math.max(probeLength, 1)) },
      weight,
      bias,
      { stride: options.stride ?? 1, dilation: options.dilation ?? 1, groups },
    );
    this.inChannels = plan.inChannels;
    this.outChannels = plan.outChannels;
    this.kernelSize = plan.kernelSize;
    this.stride = plan.stride;
    this.dilation = plan.dilation;
    this.groups = plan.groups;
    this.historyLength = (plan.kernelSize - 1) * plan.dilation;
    this.ring = new CausalConvRing(1, plan.inChannels, plan.kernelSize, plan.dilation);
    this.packed = packConvGroups(
      weight.data,
      bias === null ? null : bias.data,
      plan.outChannels,
      plan.inChannels / plan.groups,
      plan.kernelSize,
      plan.groups,
      options.kernel ?? jsGemmKernel,
    );
  }

  /** How many outputs a push of `length` columns will return from the current phase. */
  outputsFor(length: number): number {
    const first = (this.stride - this.phase) % this.stride;
    return length > first ? Math.floor((length - 1 - first) / this.stride) + 1 : 0;
  }

  /**
   * Advances the stream by a chunk `[1, Cin, L]` (any `L ≥ 0`) and returns `[1, Cout, L']` with
   * `L' = outputsFor(L)`. Allocates the returned tensor; see {@link pushInto} for the
   * allocation-free form.
   * @throws Error if the chunk is not `[1, Cin, L]`.
   */
  push(chunk: Tensor): Tensor {
    const s = chunk.shape;
    if (s.length !== 3 || s[0] !== 1 || s[1] !== this.inChannels) {
      throw new Error(`StreamingConv1d.push: chunk must be [1, ${this.inChannels}, L], got ${formatShape(s)}`);
    }
    const length = s[2] as number;
    if (chunk.data.length !== this.inChannels * length) {
      throw new Error(`StreamingConv1d.push: chunk ${formatShape(s)} needs ${this.inChannels * length} values, has ${chunk.data.length}`);
    }
    const out = new Float32Array(this.outChannels * this.outputsFor(length));
    const n = this.pushInto(chunk.data, length, out);
    return { shape: [1, this.outChannels, n], data: out };
  }

  /**
   * Allocation-free push (after scratch has grown to the largest chunk): `x` holds `length`
   * columns channel-major (`[Cin, length]`), `out` receives `[Cout, L']` channel-major and must
   * hold at least `Cout · outputsFor(length)` values. Returns `L'`.
   */
  pushInto(x: Float32Array, length: number, out: Float32Array): number {
    const { inChannels: C, outChannels, kernelSize: K, groups, stride } = this;
    const count = this.outputsFor(length);
    if (out.length < outChannels * count) {
      throw new Error(`StreamingConv1d.pushInto: out holds ${out.length} values, needs ${outChannels * count}`);
    }
    const cinG = C / groups;
    const coutG = outChannels / groups;
    this.ensureScratch(length, count, K * cinG, coutG);
    const tm = this.timeMajor;
    for (let c = 0; c < C; c++) {
      for (let t = 0; t < length; t++) tm[t * C + c] = x[c * length + t];
    }
    const first = (stride - this.phase) % stride;
    if (count > 0) {
      for (let g = 0; g < groups; g++) {
        const rows = this.ring.gatherChunk(0, length, tm, first, stride, this.cols, g * cinG, cinG);
        (this.packed[g] as PackedMatrix).run(rows, this.cols, 0, this.y, 0, coutG);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < coutG; j++) out[(g * coutG + j) * count + r] = this.y[r * coutG + j];
        }
      }
    }
    this.ring.pushChunk(0, length, tm);
    this.phase = (this.phase + length) % stride;
    return count;
  }

  /**
   * One column in (`[Cin]`), at most one column out (`[Cout]`). Returns whether `out` was written
   * (with stride s, one step in s does). Allocation-free.
   */
  step(column: Float32Array, out: Float32Array): boolean {
    return this.pushInto(column, 1, out) === 1;
  }

  /** Back to the state of a new stream (zero history, phase 0). */
  reset(): void {
    this.ring.resetSlot(0);
    this.phase = 0;
  }

  /** A copy of the state; {@link restore} it into a stream with the same weights and options. */
  snapshot(): StreamingConv1dSnapshot {
    return { history: this.ring.snapshotSlot(0), phase: this.phase };
  }

  /** @throws Error if the snapshot does not fit this layer's history size or stride. */
  restore(snapshot: StreamingConv1dSnapshot): void {
    if (!Number.isInteger(snapshot.phase) || snapshot.phase < 0 || snapshot.phase >= this.stride) {
      throw new Error(`StreamingConv1d.restore: phase ${snapshot.phase} is outside [0, ${this.stride})`);
    }
    this.ring.restoreSlot(0, snapshot.history);
    this.phase = snapshot.phase;
  }

  private ensureScratch(length: number, rows: number, kd: number, coutG: number): void {
    if (this.timeMajor.length < length * this.inChannels) this.timeMajor = new Float32Array(grow(length) * this.inChannels);
    if (this.cols.length < rows * kd) this.cols = new Float32Array(grow(rows) * kd);
    if (this.y.length < rows * coutG) this.y = new Float32Array(grow(rows) * coutG);
  }
}

/** Capacity for `n` items, rounded up to a power of two so scratch regrows rarely. */
function grow(n: number): number {
  let c = 1;
  while (c < n) c *= 2;
  return c;
}
