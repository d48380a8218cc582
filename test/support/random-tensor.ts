import fc from 'fast-check';
import type { Conv1dOptions, PaddingMode } from '../../src/nn/conv1d-options.js';
import { Rng } from '../../src/nn/random.js';
import { tensor, type Tensor } from '../../src/nn/tensor.js';

/** A tensor of standard-normal draws from a seeded generator. */
export function randn(rng: Rng, shape: number[]): Tensor {
  const t = tensor(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal();
  return t;
}

/** Splits `total` into random chunk lengths (zeros included) that sum to it. */
export function randomChunking(rng: Rng, total: number, maxChunk: number): number[] {
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const n = Math.min(left, rng.int(maxChunk + 1));
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

/** Columns `[from, to)` of a `[1, C, L]` tensor, as a new `[1, C, to − from]` tensor. */
export function sliceColumns(x: Tensor, from: number, to: number): Tensor {
  const [, c, l] = x.shape as [number, number, number];
  const out = tensor([1, c, to - from]);
  for (let ch = 0; ch < c; ch++) out.data.set(x.data.subarray(ch * l + from, ch * l + to), ch * (to - from));
  return out;
}

/** Concatenates `[1, C, Li]` tensors along the length axis. */
export function concatColumns(parts: Tensor[], channels: number): Tensor {
  const total = parts.reduce((s, p) => s + (p.shape[2] as number), 0);
  const out = tensor([1, channels, total]);
  let at = 0;
  for (const p of parts) {
    const l = p.shape[2] as number;
    for (let ch = 0; ch < channels; ch++) out.data.set(p.data.subarray(ch * l, (ch + 1) * l), ch * total + at);
    at += l;
  }
  return out;
}

/** Exact equality of two float arrays (±0 equal), with the first differing index in the message. */
export function expectBitwiseEqual(actual: Float32Array, expected: Float32Array): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) throw new Error(`element ${i}: ${actual[i]} ≠ expected ${expected[i]}`);
  }
}

/** A random Conv1d configuration drawn by {@link conv1dConfigs}. */
export interface Conv1dConfig {
  batch: number;
  groups: number;
  cinG: number;
  coutG: number;
  kernelSize: number;
  stride: number;
  dilation: number;
  length: number;
  padding: number | 'same' | 'valid';
  paddingMode: PaddingMode;
  bias: boolean;
  seed: number;
}

/** Random Conv1d configurations, every option; some combinations are invalid on purpose. */
export function conv1dConfigs(limits: { maxCinG: number; maxCoutG: number; maxLength: number }): fc.Arbitrary<Conv1dConfig> {
  return fc.record({
    batch: fc.integer({ min: 1, max: 3 }),
    groups: fc.integer({ min: 1, max: 3 }),
    cinG: fc.integer({ min: 1, max: limits.maxCinG }),
    coutG: fc.integer({ min: 1, max: limits.maxCoutG }),
    kernelSize: fc.integer({ min: 1, max: 5 }),
    stride: fc.integer({ min: 1, max: 3 }),
    dilation: fc.integer({ min: 1, max: 3 }),
    length: fc.integer({ min: 1, max: limits.maxLength }),
    padding: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant('same' as const), fc.constant('valid' as const)),
    paddingMode: fc.constantFrom<PaddingMode>('zeros', 'reflect', 'replicate', 'circular'),
    bias: fc.boolean(),
    seed: fc.integer(),
  });
}

/** The input, weight, bias and options of a configuration (stride 1 with 'same', as PyTorch requires). */
export function conv1dCase(c: Conv1dConfig): { x: Tensor; w: Tensor; b: Tensor | null; opts: Conv1dOptions } {
  const rng = new Rng(c.seed);
  const cout = c.coutG * c.groups;
  const x = randn(rng, [c.batch, c.cinG * c.groups, c.length]);
  const w = randn(rng, [cout, c.cinG, c.kernelSize]);
  const b = c.bias ? randn(rng, [cout]) : null;
  const opts: Conv1dOptions = { stride: c.padding === 'same' ? 1 : c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, paddingMode: c.paddingMode };
  return { x, w, b, opts };
}
