import { planConv1d, type Conv1dOptions, type PaddingMode, type Padding } from './conv1d-options.js';
import { conv1d } from './conv1d.js';
import { jsGemmKernel, type GemmKernel } from './gemm.js';
import type { Rng } from './random.js';
import { tensor, type Tensor } from './tensor.js';

/** Hyper-parameters of a {@link Conv1d} layer, named as in torch.nn.Conv1d. */
export interface Conv1dLayerOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  /** Default 1. */
  stride?: number;
  /** Default 0. */
  padding?: Padding;
  /** Default 1. */
  dilation?: number;
  /** Default 1. */
  groups?: number;
  /** Whether the layer has a bias. Default true. */
  bias?: boolean;
  /** Default 'zeros'. */
  paddingMode?: PaddingMode;
}

/**
 * A 1-D convolution layer holding its weight `[Cout, Cin/groups, K]` and bias `[Cout]`, with the
 * options and the default initialisation of torch.nn.Conv1d: weight and bias uniform in
 * `±1/√(Cin/groups · K)` (kaiming_uniform with a = √5), drawn from the given generator.
 */
export class Conv1d {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly options: Required<Omit<Conv1dLayerOptions, 'bias'>> & { bias: boolean };

  /**
   * @param options layer hyper-parameters (validated as nn.Conv1d would).
   * @param init an `Rng` for PyTorch's default initialisation, or explicit `{ weight, bias }`.
   * @throws Error for invalid hyper-parameters or initial tensors of the wrong shape.
   */
  constructor(options: Conv1dLayerOptions, init: Rng | { weight: Tensor; bias: Tensor | null }) {
    const o = {
      inChannels: options.inChannels,
      outChannels: options.outChannels,
      kernelSize: options.kernelSize,
      stride: options.stride ?? 1,
      padding: options.padding ?? 0,
      dilation: options.dilation ?? 1,
      groups: options.groups ?? 1,
      bias: options.bias ?? true,
      paddingMode: options.paddingMode ?? 'zeros',
    };
    for (const key of ['inChannels', 'outChannels', 'kernelSize'] as const) {
      if (!Number.isInteger(o[key]) || o[key] < 1) throw new Error(`Conv1d: ${key} must be a positive integer, got ${o[key]}`);
    }
    if (!Number.isInteger(o.groups) || o.groups < 1 || o.inChannels % o.groups !== 0 || o.outChannels % o.groups !== 0) {
      throw new Error(`Conv1d: groups ${o.groups} must be a positive integer dividing inChannels ${o.inChannels} and outChannels ${o.outChannels}`);
    }
    this.options = o;
    const wShape = [o.outChannels, o.inChannels / o.groups, o.kernelSize];
    if ('weight' in init) {
      if (init.weight.shape.join() !== wShape.join()) {
        throw new Error(`Conv1d: weight must have shape [${wShape.join(', ')}], got [${init.weight.shape.join(', ')}]`);
      }
      this.weight = tensor(wShape, init.weight.data);
      if (o.bias !== (init.bias !== null)) throw new Error(`Conv1d: bias=${o.bias} but ${init.bias === null ? 'no' : 'a'} bias tensor was given`);
      this.bias = init.bias === null ? null : tensor([o.outChannels], init.bias.data);
    } else {
      const bound = 1 / Math.sqrt((o.inChannels / o.groups) * o.kernelSize);
      this.weight = tensor(wShape);
      init.fillUniform(this.weight.data as Float32Array, -bound, bound);
      this.bias = o.bias ? tensor([o.outChannels]) : null;
      if (this.bias !== null) init.fillUniform(this.bias.data as Float32Array, -bound, bound);
    }
    // Checks the options combination (e.g. 'same' with stride > 1) up front, as nn.Conv1d does.
    const probeLength = Math.max(o.dilation * (o.kernelSize - 1) + 1, 2);
    planConv1d(tensor([1, o.inChannels, probeLength]), this.weight, this.bias, this.convOptions());
  }

  /** The functional options this layer applies. */
  convOptions(): Conv1dOptions {
    const { stride, padding, dilation, groups, paddingMode } = this.options;
    return { stride, padding, dilation, groups, paddingMode };
  }

  /** `[N, Cin, L]` → `[N, Cout, Lout]`, exactly nn.Conv1d.forward. */
  forward(input: Tensor, kernel: GemmKernel = jsGemmKernel): Tensor {
    return conv1d(input, this.weight, this.bias, this.convOptions(), kernel);
  }

  /** Number of trainable values. */
  get parameterCount(): number {
    return this.weight.data.length + (this.bias === null ? 0 : this.bias.data.length);
  }
}
