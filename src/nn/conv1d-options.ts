import { formatShape, type Tensor } from './tensor.js';

/** How a convolution fills the positions outside the input (nn.Conv1d's `padding_mode`). */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** Padding as nn.Conv1d takes it: a count per side, `'same'` or `'valid'` (= 0). */
export type Padding = number | 'same' | 'valid';

/** Options of {@link conv1d}, with PyTorch's defaults. */
export interface Conv1dOptions {
  /** Step between output positions, ≥ 1. Default 1. */
  stride?: number;
  /** Zero (or `paddingMode`) columns added on each side; `'same'` keeps the length (stride 1 only). Default 0. */
  padding?: Padding;
  /** Spacing between kernel taps, ≥ 1. Default 1. */
  dilation?: number;
  /** Channel groups; input and output channels must both be divisible by it. Default 1. */
  groups?: number;
  /** What padded positions hold. Default `'zeros'`. */
  paddingMode?: PaddingMode;
}

/** Default option values, the same as torch.nn.Conv1d's. */
export const CONV1D_DEFAULTS = {
  stride: 1,
  padding: 0,
  dilation: 1,
  groups: 1,
  paddingMode: 'zeros',
} as const satisfies Required<Conv1dOptions>;

const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

/**
 * Everything a conv1d kernel needs, validated once. Kernels do arithmetic only on a plan.
 * Sizes are in elements; `padLeft`/`padRight` are columns added before/after the input.
 */
export interface Conv1dPlan {
  readonly batch: number;
  /** Whether the caller gave an unbatched `[C, L]` input (the output drops the batch axis too). */
  readonly unbatched: boolean;
  readonly inChannels: number;
  readonly length: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly dilation: number;
  readonly groups: number;
  readonly padLeft: number;
  readonly padRight: number;
  readonly paddingMode: PaddingMode;
  /** `floor((L + padLeft + padRight − d(K−1) − 1) / s) + 1`. */
  readonly outLength: number;
  readonly hasBias: boolean;
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new Error(`conv1d: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** Checks an activation/weight shape is made of non-negative integers. */
function checkShape(what: string, shape: readonly number[], data: Float32Array): void {
  let n = 1;
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new Error(`conv1d: ${what} shape ${formatShape(shape)} has an invalid size ${s}`);
    n *= s;
  }
  if (n !== data.length) {
    throw new Error(`conv1d: ${what} shape ${formatShape(shape)} needs ${n} elements but its data has ${data.length}`);
  }
}

/**
 * Validates a conv1d call the way torch.nn.Conv1d / F.conv1d do and resolves padding.
 * @throws Error naming the option or shape and the numbers involved, for every combination
 *   PyTorch rejects (and for malformed tensors).
 */
export function planConv1d(input: Tensor, weight: Tensor, bias: Tensor | null, options: Conv1dOptions = {}): Conv1dPlan {
  checkShape('input', input.shape, input.data);
  checkShape('weight', weight.shape, weight.data);
  if (input.shape.length !== 3 && input.shape.length !== 2) {
    throw new Error(`conv1d: input must be 3-D [N, C, L] (or unbatched 2-D [C, L]), got ${input.shape.length}-D shape ${formatShape(input.shape)}`);
  }
  if (weight.shape.length !== 3) {
    throw new Error(`conv1d: weight must be 3-D [out_channels, in_channels/groups, kernel_size], got shape ${formatShape(weight.shape)}`);
  }
  const unbatched = input.shape.length === 2;
  const [batch, inChannels, length] = (unbatched ? [1, input.shape[0], input.shape[1]] : input.shape) as [number, number, number];
  const [outChannels, inPerGroup, kernelSize] = weight.shape as [number, number, number];

  const stride = positiveInt('stride', options.stride ?? CONV1D_DEFAULTS.stride);
  const dilation = positiveInt('dilation', options.dilation ?? CONV1D_DEFAULTS.dilation);
  const groups = positiveInt('groups', options.groups ?? CONV1D_DEFAULTS.groups);
  const paddingMode = options.paddingMode ?? CONV1D_DEFAULTS.paddingMode;
  if (!PADDING_MODES.includes(paddingMode)) {
    throw new Error(`conv1d: paddingMode must be one of ${PADDING_MODES.join(', ')}, got '${String(paddingMode)}'`);
  }

  if (outChannels < 1 || inPerGroup < 1 || kernelSize < 1) {
    throw new Error(`conv1d: weight ${formatShape(weight.shape)} has a zero size; out_channels, in_channels/groups and kernel_size must be ≥ 1`);
  }
  if (inChannels < 1) throw new Error(`conv1d: input ${formatShape(input.shape)} has no channels`);
  if (length < 1) {
    throw new Error(`conv1d: input ${formatShape(input.shape)} has length 0; conv1d needs at least one column (PyTorch rejects empty-length inputs too)`);
  }
  if (outChannels % groups !== 0) {
    throw new Error(`conv1d: out_channels ${outChannels} (weight ${formatShape(weight.shape)}) must be divisible by groups ${groups}`);
  }
  if (inChannels % groups !== 0) {
    throw new Error(`conv1d: in_channels ${inChannels} (input ${formatShape(input.shape)}) must be divisible by groups ${groups}`);
  }
  if (inPerGroup * groups !== inChannels) {
    throw new Error(
      `conv1d: weight ${formatShape(weight.shape)} with groups=${groups} expects input with ${inPerGroup * groups} channels, ` +
        `but input ${formatShape(input.shape)} has ${inChannels}`,
    );
  }
  if (bias !== null) {
    checkShape('bias', bias.shape, bias.data);
    if (bias.shape.length !== 1 || bias.shape[0] !== outChannels) {
      throw new Error(`conv1d: bias must have shape [${outChannels}] (out_channels), got ${formatShape(bias.shape)}`);
    }
  }

  const span = dilation * (kernelSize - 1); // columns covered by the kernel beyond its first tap
  let padLeft: number;
  let padRight: number;
  const padding = options.padding ?? CONV1D_DEFAULTS.padding;
  if (padding === 'valid') {
    padLeft = padRight = 0;
  } else if (padding === 'same') {
    if (stride !== 1) {
      throw new Error(`conv1d: padding='same' is not supported for strided convolutions (stride=${stride}); use a number`);
    }
    // PyTorch puts the odd extra column on the right.
    padLeft = Math.floor(span / 2);
    padRight = span - padLeft;
  } else if (typeof padding === 'number') {
    if (!Number.isInteger(padding) || padding < 0) {
      throw new Error(`conv1d: padding must be a non-negative integer, 'same' or 'valid', got ${padding}`);
    }
    padLeft = padRight = padding;
  } else {
    throw new Error(`conv1d: padding must be a non-negative integer, 'same' or 'valid', got '${String(padding)}'`);
  }

  if (paddingMode !== 'zeros' && (padLeft > 0 || padRight > 0)) {
    const maxPad = Math.max(padLeft, padRight);
    if (length === 0) {
      throw new Error(`conv1d: paddingMode '${paddingMode}' needs a non-empty input, got length 0 (input ${formatShape(input.shape)})`);
    }
    if (paddingMode === 'reflect' && maxPad >= length) {
      throw new Error(
        `conv1d: reflect padding (${padLeft}, ${padRight}) must be less than the input length ${length} (input ${formatShape(input.shape)})`,
      );
    }
    if (paddingMode === 'circular' && maxPad > length) {
      throw new Error(
        `conv1d: circular padding (${padLeft}, ${padRight}) must not exceed the input length ${length}; it would wrap around more than once`,
      );
    }
  }

  const padded = length + padLeft + padRight;
  if (padded < span + 1) {
    throw new Error(
      `conv1d: padded input length ${padded} (length ${length} + padding ${padLeft}+${padRight}) is smaller than the ` +
        `dilated kernel size ${span + 1} (kernel_size ${kernelSize}, dilation ${dilation})`,
    );
  }
  const outLength = Math.floor((padded - span - 1) / stride) + 1;

  return {
    batch,
    unbatched,
    inChannels,
    length,
    outChannels,
    kernelSize,
    stride,
    dilation,
    groups,
    padLeft,
    padRight,
    paddingMode,
    outLength,
    hasBias: bias !== null,
  };
}
