import { createActivation, type Activation, type ActivationName, type ActivationSpec } from './activations.js';
import { causalConv1d } from './causal-conv1d.js';
import { Conv1d } from './conv1d-layer.js';
import { jsGemmKernel, type GemmKernel } from './gemm.js';
import type { Rng } from './random.js';
import { formatShape, type Tensor } from './tensor.js';
import { TcnBatchStream, TcnStream } from './tcn-stream.js';

/** Architecture of a residual temporal convolutional network (Bai et al., 2018). */
export interface TcnConfig {
  /** Channels of the input `[N, inChannels, L]`. */
  inChannels: number;
  /** Channels the 1×1 head produces. */
  outChannels: number;
  /** Width of every block, or one width per block. */
  hiddenChannels: number | readonly number[];
  /** Taps of every causal conv (≥ 1). */
  kernelSize: number;
  /** One dilation per residual block, e.g. `[1, 2, 4, 8, 16]`. */
  dilations: readonly number[];
  /** Default `'relu'`. */
  activation?: ActivationName | ActivationSpec;
}

/** The resolved form of a {@link TcnConfig}. */
export interface TcnArchitecture {
  readonly inChannels: number;
  readonly outChannels: number;
  /** Width of each block. */
  readonly blockChannels: readonly number[];
  readonly kernelSize: number;
  readonly dilations: readonly number[];
  readonly activation: Required<ActivationSpec>;
}

/** One residual block: two causal convs with an activation each, and a 1×1 conv on the residual path if widths differ. */
export interface TcnBlock {
  readonly conv1: Conv1d;
  readonly conv2: Conv1d;
  readonly downsample: Conv1d | null;
  readonly dilation: number;
}

/** Model sizes above these are refused as absurd (protects against corrupt model files). */
export const TCN_LIMITS = { maxChannels: 4096, maxKernelSize: 64, maxDilation: 65536, maxBlocks: 64, maxReceptiveField: 1_000_000 } as const;

/**
 * Checks and resolves a TCN configuration.
 * @throws Error naming the field and the bad value.
 */
export function resolveTcnConfig(config: TcnConfig): TcnArchitecture {
  const int = (name: string, v: unknown, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw new Error(`TCN config: ${name} must be an integer in [1, ${max}], got ${String(v)}`);
    }
    return v;
  };
  const inChannels = int('inChannels', config.inChannels, TCN_LIMITS.maxChannels);
  const outChannels = int('outChannels', config.outChannels, TCN_LIMITS.maxChannels);
  const kernelSize = int('kernelSize', config.kernelSize, TCN_LIMITS.maxKernelSize);
  if (!Array.isArray(config.dilations) || config.dilations.length < 1 || config.dilations.length > TCN_LIMITS.maxBlocks) {
    throw new Error(`TCN config: dilations must list 1 to ${TCN_LIMITS.maxBlocks} blocks, got ${JSON.stringify(config.dilations)}`);
  }
  const dilations = config.dilations.map((d, i) => int(`dilations[${i}]`, d, TCN_LIMITS.maxDilation));
  const hidden = config.hiddenChannels;
  const blockChannels =
    typeof hidden === 'number'
      ? dilations.map(() => int('hiddenChannels', hidden, TCN_LIMITS.maxChannels))
      : hidden.map((h, i) => int(`hiddenChannels[${i}]`, h, TCN_LIMITS.maxChannels));
  if (blockChannels.length !== dilations.length) {
    throw new Error(`TCN config: hiddenChannels lists ${blockChannels.length} widths but dilations lists ${dilations.length} blocks`);
  }
  const activation = createActivation(config.activation ?? 'relu').spec;
  const arch = { inChannels, outChannels, blockChannels, kernelSize, dilations, activation };
  const rf = receptiveFieldOf(arch);
  if (rf > TCN_LIMITS.maxReceptiveField) throw new Error(`TCN config: receptive field ${rf} exceeds ${TCN_LIMITS.maxReceptiveField}`);
  return arch;
}

/** `1 + Σ_blocks 2·(K−1)·d`: how many inputs one output depends on. */
export function receptiveFieldOf(arch: Pick<TcnArchitecture, 'kernelSize' | 'dilations'>): number {
  let rf = 1;
  for (const d of arch.dilations) rf += 2 * (arch.kernelSize - 1) * d;
  return rf;
}

/**
 * A residual TCN stack ending in a 1×1 head, runnable offline on whole tensors
 * ({@link forward}) and as streams ({@link createStream}, {@link createBatchStream}) that give the
 * same numbers bit for bit. Parameter names follow the PyTorch module documented in
 * docs/pytorch.md (`blocks.{i}.conv1.weight`, …, `head.bias`).
 */
export class Tcn {
  readonly architecture: TcnArchitecture;
  readonly blocks: readonly TcnBlock[];
  readonly head: Conv1d;
  /** Inputs one output depends on, `1 + Σ 2·(K−1)·d`. */
  readonly receptiveField: number;
  readonly activation: Activation;

  private constructor(arch: TcnArchitecture, blocks: TcnBlock[], head: Conv1d) {
    this.architecture = arch;
    this.blocks = blocks;
    this.head = head;
    this.receptiveField = receptiveFieldOf(arch);
    this.activation = createActivation(arch.activation);
  }

  /** A TCN with PyTorch's default initialisation drawn from `rng` (in state_dict order). */
  static create(config: TcnConfig, rng: Rng): Tcn {
    return Tcn.build(resolveTcnConfig(config), (_name, options) => new Conv1d(options, rng));
  }

  /**
   * A TCN whose parameters come from a `state_dict`-named map (e.g. a safetensors file).
   * @throws Error naming the missing, unexpected or mis-shaped tensor.
   */
  static fromStateDict(config: TcnConfig, tensors: ReadonlyMap<string, Tensor>): Tcn {
    const arch = resolveTcnConfig(config);
    const used = new Set<string>();
    const take = (name: string, shape: number[]): Tensor => {
      const t = tensors.get(name);
      if (t === undefined) throw new Error(`TCN weights: missing tensor '${name}' (expected shape ${formatShape(shape)})`);
      if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
        throw new Error(`TCN weights: tensor '${name}' has shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`);
      }
      used.add(name);
      return t;
    };
    const tcn = Tcn.build(arch, (name, o) => {
      const weight = take(`${name}.weight`, [o.outChannels, o.inChannels, o.kernelSize]);
      const bias = take(`${name}.bias`, [o.outChannels]);
      return new Conv1d(o, { weight, bias });
    });
    const extra = [...tensors.keys()].filter((k) => !used.has(k));
    if (extra.length > 0) throw new Error(`TCN weights: unexpected tensor(s) ${extra.map((k) => `'${k}'`).join(', ')} for this architecture`);
    return tcn;
  }

  private static build(arch: TcnArchitecture, make: (name: string, o: { inChannels: number; outChannels: number; kernelSize: number; dilation: number }) => Conv1d): Tcn {
    const blocks: TcnBlock[] = [];
    let cin = arch.inChannels;
    arch.blockChannels.forEach((cout, i) => {
      const d = arch.dilations[i] as number;
      const conv1 = make(`blocks.${i}.conv1`, { inChannels: cin, outChannels: cout, kernelSize: arch.kernelSize, dilation: d });
      const conv2 = make(`blocks.${i}.conv2`, { inChannels: cout, outChannels: cout, kernelSize: arch.kernelSize, dilation: d });
      const downsample = cin !== cout ? make(`blocks.${i}.downsample`, { inChannels: cin, outChannels: cout, kernelSize: 1, dilation: 1 }) : null;
      blocks.push({ conv1, conv2, downsample, dilation: d });
      cin = cout;
    });
    const head = make('head', { inChannels: cin, outChannels: arch.outChannels, kernelSize: 1, dilation: 1 });
    return new Tcn(arch, blocks, head);
  }

  /** Parameters by PyTorch `state_dict` name, in registration order. The tensors are the live ones. */
  stateDict(): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    const add = (name: string, c: Conv1d): void => {
      m.set(`${name}.weight`, c.weight);
      if (c.bias !== null) m.set(`${name}.bias`, c.bias);
    };
    this.blocks.forEach((b, i) => {
      add(`blocks.${i}.conv1`, b.conv1);
      add(`blocks.${i}.conv2`, b.conv2);
      if (b.downsample !== null) add(`blocks.${i}.downsample`, b.downsample);
    });
    add('head', this.head);
    return m;
  }

  /** Number of trainable values. */
  get parameterCount(): number {
    let n = 0;
    for (const t of this.stateDict().values()) n += t.data.length;
    return n;
  }

  /** Multiply-adds one streaming step costs (one new column through every layer). */
  get macsPerStep(): number {
    let n = 0;
    for (const t of this.stateDict().values()) if (t.shape.length === 3) n += t.data.length;
    return n;
  }

  /**
   * Offline forward over whole sequences: `[N, inChannels, L]` → `[N, outChannels, L]`, every
   * conv causal (left zero padding). Output at t sees inputs ≤ t only.
   * @throws Error if the input is not `[N, inChannels, L]`.
   */
  forward(input: Tensor, kernel: GemmKernel = jsGemmKernel): Tensor {
    if (input.shape.length !== 3 || input.shape[1] !== this.architecture.inChannels) {
      throw new Error(`Tcn.forward: input must be [N, ${this.architecture.inChannels}, L], got ${formatShape(input.shape)}`);
    }
    const act = this.activation;
    let x = input;
    for (const b of this.blocks) {
      const h1 = causalConv1d(x, b.conv1.weight, b.conv1.bias, { dilation: b.dilation }, kernel);
      act.applyInPlace(h1.data, 0, h1.data.length);
      const h2 = causalConv1d(h1, b.conv2.weight, b.conv2.bias, { dilation: b.dilation }, kernel);
      act.applyInPlace(h2.data, 0, h2.data.length);
      const res = b.downsample === null ? x : causalConv1d(x, b.downsample.weight, b.downsample.bias, {}, kernel);
      const out = h2.data;
      for (let i = 0; i < out.length; i++) out[i] = out[i] + res.data[i];
      act.applyInPlace(out, 0, out.length);
      x = h2;
    }
    return causalConv1d(x, this.head.weight, this.head.bias, {}, kernel);
  }

  /** A single stream (one device) that takes chunks `[1, C, L]` of any length. Weights are packed now: later edits to this model are not seen. */
  createStream(kernel: GemmKernel = jsGemmKernel): TcnStream {
    return new TcnStream(this, kernel);
  }

  /** `capacity` independent streams advanced together, one column each per step. */
  createBatchStream(capacity: number, kernel: GemmKernel = jsGemmKernel): TcnBatchStream {
    return new TcnBatchStream(this, capacity, kernel);
  }
}
