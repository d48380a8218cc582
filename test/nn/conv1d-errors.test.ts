import { describe, expect, it } from 'vitest';
import { conv1d } from '../../src/nn/conv1d.js';
import type { Conv1dOptions } from '../../src/nn/conv1d-options.js';
import { conv1dReference } from '../../src/nn/conv1d-reference.js';
import { Conv1d } from '../../src/nn/conv1d-layer.js';
import { Rng } from '../../src/nn/random.js';
import { tensor } from '../../src/nn/tensor.js';
import { loadConv1dErrors } from '../support/golden.js';

/**
 * What our message must say for each combination PyTorch 1.13 rejects (the torch message is in
 * the fixture). Each pattern names the problem and the numbers involved.
 */
const EXPECTED: Record<string, RegExp> = {
  'kernel-larger-than-input': /padded input length 2 .*dilated kernel size 3/,
  'dilated-kernel-larger-than-input': /padded input length 5 .*dilated kernel size 7 \(kernel_size 3, dilation 3\)/,
  'kernel-larger-than-padded-input': /padded input length 4 \(length 2 \+ padding 1\+1\).*dilated kernel size 6/,
  'kernel-larger-than-padded-input-reflect': /padded input length 8 .*dilated kernel size 9/,
  'empty-length-input': /input \[1, 4, 0\] has length 0/,
  'empty-length-input-same': /input \[1, 4, 0\] has length 0/,
  'empty-length-input-padded-past-kernel': /input \[1, 4, 0\] has length 0/,
  'reflect-padding-equals-length': /reflect padding \(5, 5\) must be less than the input length 5/,
  'reflect-padding-exceeds-length': /reflect padding \(7, 7\) must be less than the input length 5/,
  'reflect-L1-padding1': /reflect padding \(1, 1\) must be less than the input length 1/,
  'reflect-same-even-kernel-right-pad-equals-length': /reflect padding \(2, 3\) must be less than the input length 3/,
  'circular-padding-exceeds-length': /circular padding \(3, 3\) must not exceed the input length 2/,
  'replicate-empty-length-input': /has length 0/,
  'same-with-stride2': /padding='same' is not supported for strided convolutions \(stride=2\)/,
  'same-with-stride2-module': /padding='same' is not supported for strided convolutions \(stride=2\)/,
  'same-with-stride3-reflect': /padding='same' is not supported for strided convolutions \(stride=3\)/,
  'input-channels-not-divisible-by-groups': /in_channels 3 .* must be divisible by groups 2/,
  'out-channels-not-divisible-by-groups': /out_channels 3 .* must be divisible by groups 2/,
  'input-channel-mismatch': /weight \[2, 4, 3\] with groups=1 expects input with 4 channels, but input \[1, 3, 5\] has 3/,
  'input-channel-mismatch-groups2': /groups=2 expects input with 8 channels, but input \[1, 4, 5\] has 4/,
  'input-channel-mismatch-groups3': /groups=3 expects input with 9 channels, but input \[1, 6, 5\] has 6/,
  'groups-exceed-input-channels': /in_channels 4 .* must be divisible by groups 8/,
  'bias-wrong-length': /bias must have shape \[2\] \(out_channels\), got \[3\]/,
  'bias-wrong-length-groups2': /bias must have shape \[4\] \(out_channels\), got \[2\]/,
  'bias-2d': /bias must have shape \[2\] \(out_channels\), got \[1, 2\]/,
  'stride-zero': /stride must be a positive integer, got 0/,
  'stride-negative': /stride must be a positive integer, got -1/,
  'stride-fractional': /stride must be a positive integer, got 1.5/,
  'dilation-zero': /dilation must be a positive integer, got 0/,
  'dilation-negative': /dilation must be a positive integer, got -1/,
  'dilation-fractional': /dilation must be a positive integer, got 1.5/,
  'padding-negative': /padding must be a non-negative integer, 'same' or 'valid', got -1/,
  'padding-fractional': /padding must be a non-negative integer, 'same' or 'valid', got 1.5/,
  'groups-zero': /groups must be a positive integer, got 0/,
  'groups-negative': /groups must be a positive integer, got -1/,
  'groups-fractional': /groups must be a positive integer, got 1.5/,
  'padding-unknown-string': /got 'full'/,
  'padding-string-is-case-sensitive': /got 'SAME'/,
  'padding-mode-unknown': /paddingMode must be one of zeros, reflect, replicate, circular, got 'mirror'/,
  'input-1d': /input must be 3-D .* got 1-D shape \[5\]/,
  'input-4d': /input must be 3-D .* got 4-D shape \[1, 1, 4, 5\]/,
  'weight-2d': /weight must be 3-D .* got shape \[2, 4\]/,
  'weight-4d': /weight must be 3-D .* got shape \[2, 4, 3, 1\]/,
  'weight-kernel-zero': /weight \[2, 4, 0\] has a zero size/,
  'weight-out-channels-zero': /weight \[0, 4, 3\] has a zero size/,
};

describe('conv1d rejects what PyTorch rejects, with a message naming the numbers', () => {
  const cases = loadConv1dErrors().cases;

  it('has an expectation for every recorded PyTorch rejection', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const c of cases) {
    it(`${c.name} (torch: ${c.torchError.split('\n')[0]!.slice(0, 80)})`, () => {
      const x = tensor(c.inputShape);
      const w = tensor(c.weightShape);
      const b = c.biasShape === null ? null : tensor(c.biasShape);
      const opts = c.options as Conv1dOptions;
      const pattern = EXPECTED[c.name]!;
      expect(() => conv1d(x, w, b, opts)).toThrow(pattern);
      expect(() => conv1dReference(x, w, b, opts)).toThrow(pattern);
    });
  }

  it('the Conv1d layer rejects invalid hyper-parameters at construction, as nn.Conv1d does', () => {
    const rng = new Rng(1);
    expect(() => new Conv1d({ inChannels: 4, outChannels: 4, kernelSize: 3, stride: 2, padding: 'same' }, rng)).toThrow(/padding='same' is not supported/);
    expect(() => new Conv1d({ inChannels: 3, outChannels: 4, kernelSize: 3, groups: 2 }, rng)).toThrow(/groups 2 must be a positive integer dividing inChannels 3/);
    expect(() => new Conv1d({ inChannels: 0, outChannels: 4, kernelSize: 3 }, rng)).toThrow(/inChannels must be a positive integer, got 0/);
  });

  it('the Conv1d layer initialises like nn.Conv1d: uniform in ±1/√(fan_in), seeded', () => {
    const a = new Conv1d({ inChannels: 6, outChannels: 4, kernelSize: 3, groups: 2 }, new Rng(7));
    const b = new Conv1d({ inChannels: 6, outChannels: 4, kernelSize: 3, groups: 2 }, new Rng(7));
    const bound = 1 / Math.sqrt(3 * 3); // fan_in = Cin/groups · K = 9
    expect(a.weight.shape).toEqual([4, 3, 3]);
    expect(Array.from(a.weight.data)).toEqual(Array.from(b.weight.data));
    const all = [...a.weight.data, ...a.bias!.data];
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(bound * 0.6); // spread over the range, not stuck near 0
  });
});
