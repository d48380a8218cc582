import { describe, it, expect } from 'vitest';
import { conv1d } from '../../src/nn/conv1d.js';
import { expectClose, loadConv1dForward } from '../support/golden.js';

// Golden vectors from PyTorch 1.13 (scripts/golden/conv1d_goldens.py); see scripts/golden/README.md.
const golden = loadConv1dForward();

/**
 * The PyTorch Conv1d tutorial examples, with output shapes worked out by hand from
 * Lout = floor((L + 2p − d(K−1) − 1) / s) + 1, so a regenerated fixture can neither drop them
 * nor change what they mean.
 */
const TUTORIAL_SHAPES: Readonly<Record<string, readonly number[]>> = {
  'tutorial-k1-in2x3x4': [2, 2, 4], // (4 − 0 − 1)/1 + 1
  'tutorial-k2-s1-in2x3x4': [2, 2, 3], // (4 − 1 − 1)/1 + 1
  'tutorial-k2-s2-in2x3x4': [2, 2, 2], // floor((4 − 1 − 1)/2) + 1
  'tutorial-k2-p1-in2x3x4': [2, 2, 5], // (4 + 2 − 1 − 1)/1 + 1
  'tutorial-k2-s2-p1-in2x3x4': [2, 2, 3], // floor((4 + 2 − 1 − 1)/2) + 1
  'tutorial-2to16-k3-L64': [1, 16, 62],
  'tutorial-permuted-NLC-239x49x5-k3': [239, 5, 47],
  'tutorial-depthwise-ones-k49-g5': [239, 5, 1],
  'tutorial-100to100-k1-L1': [1, 100, 1],
};

describe('conv1d forward golden fixture', () => {
  it('was written by the documented generator and holds many cases', () => {
    expect(golden.generator).toBe('scripts/golden/conv1d_goldens.py');
    expect(golden.torch).toMatch(/^1\.13\./);
    expect(golden.cases.length).toBeGreaterThanOrEqual(150);
    expect(new Set(golden.cases.map((c) => c.name)).size).toBe(golden.cases.length);
  });

  it('contains every tutorial example with its hand-derived output shape', () => {
    for (const [name, shape] of Object.entries(TUTORIAL_SHAPES)) {
      const c = golden.cases.find((k) => k.name === name);
      expect(c, `tutorial case ${name}`).toBeDefined();
      expect(c?.output.shape, name).toEqual(shape);
    }
  });

  it('covers every option value the brief lists', () => {
    const opts = golden.cases.map((c) => c.options);
    for (const s of [1, 2, 3]) expect(opts.some((o) => o.stride === s), `stride ${s}`).toBe(true);
    for (const p of [0, 1, 2, 3, 'same', 'valid'] as const) {
      expect(opts.some((o) => o.padding === p), `padding ${p}`).toBe(true);
    }
    for (const d of [1, 2, 3, 4]) expect(opts.some((o) => o.dilation === d), `dilation ${d}`).toBe(true);
    for (const m of ['zeros', 'reflect', 'replicate', 'circular'] as const) {
      expect(opts.some((o) => o.paddingMode === m && o.padding !== 0), `mode ${m}`).toBe(true);
    }
    expect(golden.cases.some((c) => c.options.groups > 1 && c.options.groups === c.input.shape[1])).toBe(true);
    expect(golden.cases.some((c) => c.options.groups > 1 && c.weight.shape[0] === 2 * (c.input.shape[1] ?? 0))).toBe(true);
    expect(golden.cases.some((c) => c.bias === null)).toBe(true);
    expect(golden.cases.some((c) => c.input.shape[2] === 1)).toBe(true);
    expect(golden.cases.some((c) => c.options.padding === 'same' && (c.weight.shape[2] ?? 0) % 2 === 0)).toBe(true);
  });

  it('depthwise all-ones tutorial output is the per-channel sum over the window (checks the fixture)', () => {
    const c = golden.cases.find((k) => k.name === 'tutorial-depthwise-ones-k49-g5');
    expect(c).toBeDefined();
    if (c === undefined) return;
    const [n, ch, len] = c.input.shape as [number, number, number];
    const sums = new Float32Array(n * ch);
    for (let i = 0; i < n * ch; i++) {
      let s = 0;
      for (let t = 0; t < len; t++) s += c.input.data[i * len + t] as number;
      sums[i] = s;
    }
    expectClose(c.output.data, sums, 1e-5, 1e-5, 'fixture depthwise sums');
  });
});

describe('conv1d matches PyTorch 1.13 (forward goldens)', () => {
  for (const c of golden.cases) {
    it(c.name, () => {
      const inputCopy = c.input.data.slice();
      const weightCopy = c.weight.data.slice();
      const y = conv1d(c.input, c.weight, c.bias, c.options);
      expect(y.shape).toEqual(c.output.shape);
      expectClose(y.data, c.output.data, 1e-5, 1e-5, c.name);
      // conv1d must not write into its arguments.
      expect(c.input.data).toEqual(inputCopy);
      expect(c.weight.data).toEqual(weightCopy);
    });
  }
});
