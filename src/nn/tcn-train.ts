import { createActivationGrad, type ActivationGrad } from './activation-grad.js';
import type { Activation } from './activations.js';
import { packConvGroups } from './conv-packing.js';
import { convRowsBackward, convRowsForward, ConvScratch, fromRowLayout, toRowLayout, type ConvRowsGeometry } from './conv1d-backward.js';
import type { Conv1d } from './conv1d-layer.js';
import { jsGemmKernel, type GemmKernel, type PackedMatrix } from './gemm.js';
import { paddedSourceIndex } from './padding.js';
import type { Rng } from './random.js';
import type { Tcn } from './tcn.js';
import { formatShape, type Tensor } from './tensor.js';

/** Options of a training-mode forward pass. */
export interface TcnTrainForwardOptions {
  /** Dropout probability in [0, 1) after each activation inside the blocks (inverted dropout); 0 = off. */
  dropout: number;
  /** Source of the dropout masks (one `uniform()` per activation value when dropout > 0; none otherwise). */
  rng: Rng;
  /** Matrix kernel of the products, forward and backward. Default the plain TypeScript kernel. */
  kernel?: GemmKernel;
}

/** What a training-mode forward keeps for its backward pass (opaque; see {@link TcnTrainWorkspace}). */
export interface TcnTrainCache {
  readonly tcn: Tcn;
  /** Sequences `N` and positions `L` of the last forward pass; 0 before any. */
  readonly batch: number;
  readonly length: number;
}

/** One causal conv of the network with the names its parameters have in `stateDict()`. */
interface LayerRef {
  readonly conv: Conv1d;
  readonly weightName: string;
  readonly biasName: string | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  /** Causal source table for `maxLength` positions: valid as a prefix for any shorter length. */
  readonly src: Int32Array;
}

/** Forward values of one residual block, row layout `[(n, t), C]`, capacity `maxBatch·maxLength` rows. */
interface BlockState {
  readonly conv1: LayerRef;
  readonly conv2: LayerRef;
  readonly downsample: LayerRef | null;
  readonly channels: number;
  /** Pre-activations of conv1 and conv2. */
  readonly z1: Float32Array;
  readonly z2: Float32Array;
  /** act(z1) after dropout: the input of conv2. */
  readonly d1: Float32Array;
  /** act(z2) after dropout + residual: the pre-activation of the block output. */
  readonly s: Float32Array;
  readonly out: Float32Array;
  /** Output of the 1×1 downsample, if any. */
  readonly res: Float32Array | null;
  /** Dropout multipliers (0 or 1/(1−p)); allocated on first use of dropout. */
  mask1: Float32Array | null;
  mask2: Float32Array | null;
}

function causalSourceTable(maxLength: number, kernelSize: number, dilation: number): Int32Array {
  const padLeft = (kernelSize - 1) * dilation;
  const src = new Int32Array(maxLength * kernelSize);
  for (let t = 0; t < maxLength; t++) {
    for (let k = 0; k < kernelSize; k++) src[t * kernelSize + k] = paddedSourceIndex(t + k * dilation, padLeft, maxLength, 'zeros');
  }
  return src;
}

/**
 * Preallocated training state of one {@link Tcn} for up to `maxBatch` sequences of up to
 * `maxLength` positions: a training-mode forward that keeps what the backward needs, and the
 * backward. Activations live in row layout `[(n, t), C]`, the layout of a `[T, C]` series, so a
 * window of a series is its input as is. Buffers are reused across calls; the only allocations
 * per call are the packed weight matrices the {@link GemmKernel} API returns.
 *
 * The weights are read from the live `tcn` at each call: do not change them between a forward
 * and its backward.
 */
export class TcnTrainWorkspace implements TcnTrainCache {
  /** The model whose live weights every pass reads. */
  readonly tcn: Tcn;
  /** Capacity: sequences per pass, and positions per sequence. */
  readonly maxBatch: number;
  readonly maxLength: number;
  private readonly act: Activation;
  private readonly actGrad: ActivationGrad;
  private readonly blocks: BlockState[];
  private readonly head: LayerRef;
  private readonly y: Float32Array;
  /** Backward buffers, `maxBatch·maxLength × max channels`. */
  private readonly gA: Float32Array;
  private readonly gB: Float32Array;
  private readonly gT1: Float32Array;
  private readonly gT2: Float32Array;
  private readonly scratch = new ConvScratch();
  private x: Float32Array = new Float32Array(0);
  private kernel: GemmKernel = jsGemmKernel;
  private dropout = 0;
  private rowsBatch = 0;
  private rowsLength = 0;

  /** Sequences of the last forward pass (0 before any). */
  get batch(): number {
    return this.rowsBatch;
  }

  /** Positions per sequence of the last forward pass (0 before any). */
  get length(): number {
    return this.rowsLength;
  }

  /** @throws Error if `maxBatch` or `maxLength` is not a positive integer. */
  constructor(tcn: Tcn, maxBatch: number, maxLength: number) {
    for (const [name, v] of [
      ['maxBatch', maxBatch],
      ['maxLength', maxLength],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`TcnTrainWorkspace: ${name} must be a positive integer, got ${v}`);
    }
    this.tcn = tcn;
    this.maxBatch = maxBatch;
    this.maxLength = maxLength;
    this.act = tcn.activation;
    this.actGrad = createActivationGrad(tcn.architecture.activation);
    const rows = maxBatch * maxLength;
    const ref = (name: string, conv: Conv1d, dilation: number): LayerRef => ({
      conv,
      weightName: `${name}.weight`,
      biasName: conv.bias === null ? null : `${name}.bias`,
      inChannels: conv.options.inChannels,
      outChannels: conv.options.outChannels,
      kernelSize: conv.options.kernelSize,
      src: causalSourceTable(maxLength, conv.options.kernelSize, dilation),
    });
    let widest = tcn.architecture.inChannels;
    this.blocks = tcn.blocks.map((b, i) => {
      const c = b.conv1.options.outChannels;
      widest = Math.max(widest, c);
      const buf = (): Float32Array => new Float32Array(rows * c);
      return {
        conv1: ref(`blocks.${i}.conv1`, b.conv1, b.dilation),
        conv2: ref(`blocks.${i}.conv2`, b.conv2, b.dilation),
        downsample: b.downsample === null ? null : ref(`blocks.${i}.downsample`, b.downsample, 1),
        channels: c,
        z1: buf(),
        z2: buf(),
        d1: buf(),
        s: buf(),
        out: buf(),
        res: b.downsample === null ? null : buf(),
        mask1: null,
        mask2: null,
      };
    });
    this.head = ref('head', tcn.head, 1);
    this.y = new Float32Array(rows * tcn.architecture.outChannels);
    this.gA = new Float32Array(rows * widest);
    this.gB = new Float32Array(rows * widest);
    this.gT1 = new Float32Array(rows * widest);
    this.gT2 = new Float32Array(rows * widest);
  }

  /** Zeroed gradient arrays with the names and sizes of `tcn.stateDict()`. */
  createGradients(): Map<string, Float32Array> {
    const m = new Map<string, Float32Array>();
    for (const [name, t] of this.tcn.stateDict()) m.set(name, new Float32Array(t.data.length));
    return m;
  }

  private geometry(layer: LayerRef): ConvRowsGeometry {
    return {
      batch: this.batch,
      length: this.length,
      outLength: this.length,
      inChannels: layer.inChannels,
      outChannels: layer.outChannels,
      kernelSize: layer.kernelSize,
      groups: 1,
      src: layer.src,
    };
  }

  private pack(layer: LayerRef): PackedMatrix[] {
    const c = layer.conv;
    return packConvGroups(c.weight.data, c.bias === null ? null : c.bias.data, layer.outChannels, layer.inChannels, layer.kernelSize, 1, this.kernel);
  }

  private applyDropout(data: Float32Array, mask: Float32Array, count: number, p: number, rng: Rng): void {
    const scale = 1 / (1 - p);
    for (let i = 0; i < count; i++) {
      const m = rng.uniform() < p ? 0 : scale;
      mask[i] = m;
      data[i] = data[i] * m;
    }
  }

  /**
   * Training-mode forward over `batch` sequences of `length` positions.
   * @param x input rows `[(n, t), inChannels]` (`x[(n·length + t)·Cin + c]`); kept by reference for
   *   the backward, so leave it unchanged until then.
   * @returns the forecast rows `[(n, t), outChannels]`, a view of an internal buffer valid until
   *   the next forward. With dropout 0 it equals `tcn.forward` bit for bit (same kernel).
   * @throws Error for sizes beyond the capacity, a short `x` or a dropout outside [0, 1).
   */
  forwardRows(x: Float32Array, batch: number, length: number, options: TcnTrainForwardOptions): Float32Array {
    const { inChannels, outChannels } = this.tcn.architecture;
    if (!Number.isInteger(batch) || batch < 1 || batch > this.maxBatch) throw new Error(`TcnTrainWorkspace: batch must be an integer in [1, ${this.maxBatch}], got ${batch}`);
    if (!Number.isInteger(length) || length < 1 || length > this.maxLength) throw new Error(`TcnTrainWorkspace: length must be an integer in [1, ${this.maxLength}], got ${length}`);
    if (x.length < batch * length * inChannels) throw new Error(`TcnTrainWorkspace: input holds ${x.length} values, needs ${batch}×${length}×${inChannels}`);
    const p = options.dropout;
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new Error(`dropout must be a number in [0, 1), got ${String(p)}`);
    this.x = x;
    this.rowsBatch = batch;
    this.rowsLength = length;
    this.kernel = options.kernel ?? jsGemmKernel;
    this.dropout = p;
    const rows = batch * length;
    const act = this.act;
    let cur = x;
    for (const b of this.blocks) {
      const n = rows * b.channels;
      convRowsForward(this.geometry(b.conv1), cur, this.pack(b.conv1), b.z1, this.scratch);
      b.d1.set(b.z1.subarray(0, n));
      act.applyInPlace(b.d1, 0, n);
      if (p > 0) this.applyDropout(b.d1, (b.mask1 ??= new Float32Array(b.z1.length)), n, p, options.rng);
      convRowsForward(this.geometry(b.conv2), b.d1, this.pack(b.conv2), b.z2, this.scratch);
      const s = b.s;
      s.set(b.z2.subarray(0, n));
      act.applyInPlace(s, 0, n);
      if (p > 0) this.applyDropout(s, (b.mask2 ??= new Float32Array(b.z2.length)), n, p, options.rng);
      let res = cur;
      if (b.downsample !== null && b.res !== null) {
        convRowsForward(this.geometry(b.downsample), cur, this.pack(b.downsample), b.res, this.scratch);
        res = b.res;
      }
      for (let i = 0; i < n; i++) s[i] = s[i] + res[i];
      b.out.set(s.subarray(0, n));
      act.applyInPlace(b.out, 0, n);
      cur = b.out;
    }
    convRowsForward(this.geometry(this.head), cur, this.pack(this.head), this.y, this.scratch);
    return this.y.subarray(0, rows * outChannels);
  }

  private gradsOf(grads: Map<string, Float32Array>, layer: LayerRef): { gradW: Float32Array; gradB: Float32Array | null } {
    const gradW = grads.get(layer.weightName);
    if (gradW === undefined || gradW.length !== layer.conv.weight.data.length) {
      throw new Error(`tcnBackward: gradient map needs '${layer.weightName}' with ${layer.conv.weight.data.length} values (use createGradients())`);
    }
    if (layer.biasName === null) return { gradW, gradB: null };
    const gradB = grads.get(layer.biasName);
    if (gradB === undefined || gradB.length !== layer.outChannels) {
      throw new Error(`tcnBackward: gradient map needs '${layer.biasName}' with ${layer.outChannels} values (use createGradients())`);
    }
    return { gradW, gradB };
  }

  /**
   * Backward of the last {@link forwardRows}: overwrites every entry of `grads` (names of
   * `stateDict()`, see {@link createGradients}) with ∂loss/∂parameter, and, if `gradInput` is
   * given, writes ∂loss/∂x there (rows `[(n, t), inChannels]`).
   * @param gradOutput ∂loss/∂forecast, rows `[(n, t), outChannels]`.
   * @throws Error before any forward, for a short `gradOutput`/`gradInput`, or a gradient map
   *   missing a parameter.
   */
  backwardRows(gradOutput: Float32Array, grads: Map<string, Float32Array>, gradInput: Float32Array | null = null): void {
    const { inChannels, outChannels } = this.tcn.architecture;
    const rows = this.batch * this.length;
    if (rows === 0) throw new Error('tcnBackward: no forward pass to differentiate (call forwardRows first)');
    if (gradOutput.length < rows * outChannels) throw new Error(`tcnBackward: gradOutput holds ${gradOutput.length} values, needs ${this.batch}×${this.length}×${outChannels}`);
    if (gradInput !== null && gradInput.length < rows * inChannels) throw new Error(`tcnBackward: gradInput holds ${gradInput.length} values, needs ${this.batch}×${this.length}×${inChannels}`);
    const p = this.dropout;
    const last = this.blocks[this.blocks.length - 1] as BlockState;
    let gA = this.gA;
    let gB = this.gB;
    gA.fill(0, 0, rows * last.channels);
    convRowsBackward(this.geometry(this.head), last.out, gradOutput, this.head.conv.weight.data, this.kernel, { gradX: gA, ...this.gradsOf(grads, this.head) }, this.scratch);
    for (let i = this.blocks.length - 1; i >= 0; i--) {
      const b = this.blocks[i] as BlockState;
      const n = rows * b.channels;
      const xin = i === 0 ? this.x : (this.blocks[i - 1] as BlockState).out;
      const nIn = rows * b.conv1.inChannels;
      // gA: ∂/∂out → ∂/∂s, which is also ∂/∂(dropped act(z2)) and ∂/∂residual.
      this.actGrad.backwardInPlace(gA, b.s, 0, n);
      const gZ2 = this.gT1;
      if (p > 0 && b.mask2 !== null) {
        const m = b.mask2;
        for (let j = 0; j < n; j++) gZ2[j] = gA[j] * m[j];
      } else {
        gZ2.set(gA.subarray(0, n));
      }
      this.actGrad.backwardInPlace(gZ2, b.z2, 0, n);
      const gZ1 = this.gT2;
      gZ1.fill(0, 0, n);
      convRowsBackward(this.geometry(b.conv2), b.d1, gZ2, b.conv2.conv.weight.data, this.kernel, { gradX: gZ1, ...this.gradsOf(grads, b.conv2) }, this.scratch);
      if (p > 0 && b.mask1 !== null) {
        const m = b.mask1;
        for (let j = 0; j < n; j++) gZ1[j] = gZ1[j] * m[j];
      }
      this.actGrad.backwardInPlace(gZ1, b.z1, 0, n);
      const gIn = i === 0 ? gradInput : gB;
      if (gIn !== null) gIn.fill(0, 0, nIn);
      convRowsBackward(this.geometry(b.conv1), xin, gZ1, b.conv1.conv.weight.data, this.kernel, { gradX: gIn, ...this.gradsOf(grads, b.conv1) }, this.scratch);
      if (b.downsample !== null) {
        convRowsBackward(this.geometry(b.downsample), xin, gA, b.downsample.conv.weight.data, this.kernel, { gradX: gIn, ...this.gradsOf(grads, b.downsample) }, this.scratch);
      } else if (gIn !== null) {
        for (let j = 0; j < n; j++) gIn[j] = gIn[j] + gA[j];
      }
      const t = gA;
      gA = gB;
      gB = t;
    }
  }
}

/** A training-mode forward pass and what its backward needs. */
export interface TcnTrainForwardResult {
  /** `[N, outChannels, L]`. */
  readonly output: Tensor;
  readonly cache: TcnTrainCache;
}

/**
 * Training-mode forward of a TCN over whole sequences: `[N, inChannels, L]` → `[N, outChannels, L]`,
 * with inverted dropout of probability `options.dropout` after each activation inside the blocks
 * (after conv1's and conv2's activations, not after the block output's, as Bai et al.'s TCN).
 * With dropout 0 the output equals `tcn.forward(x, kernel)` bit for bit. For repeated steps
 * use a {@link TcnTrainWorkspace}, which reuses its buffers.
 * @throws Error if `x` is not `[N, inChannels, L]` with N, L ≥ 1, or dropout is outside [0, 1).
 */
export function tcnForwardTrain(tcn: Tcn, x: Tensor, options: TcnTrainForwardOptions): TcnTrainForwardResult {
  const { inChannels, outChannels } = tcn.architecture;
  const [n, c, l] = x.shape as [number, number, number];
  if (x.shape.length !== 3 || c !== inChannels || n < 1 || l < 1 || x.data.length !== n * c * l) {
    throw new Error(`tcnForwardTrain: input must be [N, ${inChannels}, L] with N, L ≥ 1, got ${formatShape(x.shape)}`);
  }
  const ws = new TcnTrainWorkspace(tcn, n, l);
  const y = ws.forwardRows(toRowLayout(x.data, n, c, l), n, l, options);
  return { output: { shape: [n, outChannels, l], data: fromRowLayout(y, n, outChannels, l) }, cache: ws };
}

/** Gradients of a TCN: parameters by `stateDict()` name, and the input. */
export interface TcnGradients {
  /** Same names and sizes as `tcn.stateDict()`. */
  readonly params: Map<string, Float32Array>;
  /** `[N, inChannels, L]`. */
  readonly input: Tensor;
}

function workspaceOf(tcn: Tcn, cache: TcnTrainCache, gradOutput: Tensor): TcnTrainWorkspace {
  if (!(cache instanceof TcnTrainWorkspace) || cache.tcn !== tcn) throw new Error('tcnBackward: cache does not come from tcnForwardTrain on this Tcn');
  const shape = [cache.batch, tcn.architecture.outChannels, cache.length];
  if (gradOutput.shape.length !== 3 || gradOutput.shape.some((s, i) => s !== shape[i])) {
    throw new Error(`tcnBackward: gradOutput must have the output's shape ${formatShape(shape)}, got ${formatShape(gradOutput.shape)}`);
  }
  return cache;
}

/**
 * Gradients of a loss with respect to every parameter and the input, given
 * `gradOutput = ∂loss/∂output` (`[N, outChannels, L]`) of a {@link tcnForwardTrain} call.
 * @throws Error if the cache is not from this Tcn or gradOutput has the wrong shape.
 */
export function tcnBackwardFull(tcn: Tcn, cache: TcnTrainCache, gradOutput: Tensor): TcnGradients {
  const ws = workspaceOf(tcn, cache, gradOutput);
  const { inChannels, outChannels } = tcn.architecture;
  const { batch, length } = ws;
  const params = ws.createGradients();
  const gradInput = new Float32Array(batch * length * inChannels);
  ws.backwardRows(toRowLayout(gradOutput.data, batch, outChannels, length), params, gradInput);
  return { params, input: { shape: [batch, inChannels, length], data: fromRowLayout(gradInput, batch, inChannels, length) } };
}

/**
 * Parameter gradients (same names and sizes as `tcn.stateDict()`) of a {@link tcnForwardTrain}
 * call, given `gradOutput = ∂loss/∂output` (`[N, outChannels, L]`).
 * @throws Error if the cache is not from this Tcn or gradOutput has the wrong shape.
 */
export function tcnBackward(tcn: Tcn, cache: TcnTrainCache, gradOutput: Tensor): Map<string, Float32Array> {
  const ws = workspaceOf(tcn, cache, gradOutput);
  const params = ws.createGradients();
  ws.backwardRows(toRowLayout(gradOutput.data, ws.batch, tcn.architecture.outChannels, ws.length), params, null);
  return params;
}
