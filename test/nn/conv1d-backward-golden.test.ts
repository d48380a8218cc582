import { describe, it, expect } from 'vitest';
import { conv1dBackward } from '../../src/nn/conv1d-backward.js';
import { createWasmGemmKernel } from '../../src/nn/wasm-gemm.js';
import type { Tensor } from '../../src/nn/tensor.js';
import { expectClose, loadConv1dBackward, type GoldenConv1dOptions } from '../support/golden.js';

// Autograd gradients from PyTorch 1.13 (scripts/golden/conv1d_goldens.py).
const golden = loadConv1dBackward();

/** Output length by the formula in ARCHITECTURE.md, written out independently of src/nn. */
function expectedOutLength(length: number, kernel: number, o: GoldenConv1dOptions): number {
  if (o.padding === 'same') return length;
  const p = o.padding === 'valid' ? 0 : o.padding;
  return Math.floor((length + 2 * p - o.dilation * (kernel - 1) - 1) / o.stride) + 1;
}

describe('conv1d backward golden fixture', () => {
  it('was written by the documented generator and covers every padding kind and mode', () => {
    expect(golden.generator).toBe('scripts/golden/conv1d_goldens.py');
    expect(golden.cases.length).toBeGreaterThanOrEqual(40);
    const opts = golden.cases.map((c) => c.options);
    for (const m of ['zeros', 'reflect', 'replicate', 'circular'] as const) {
      expect(opts.some((o) => o.paddingMode === m), `mode ${m}`).toBe(true);
      expect(opts.some((o) => o.paddingMode === m && o.padding === 'same'), `'same' with ${m}`).toBe(true);
    }
    for (const s of [1, 2, 3]) expect(opts.some((o) => o.stride === s), `stride ${s}`).toBe(true);
    expect(opts.some((o) => o.padding === 'valid')).toBe(true);
    expect(opts.some((o) => o.dilation > 1)).toBe(true);
    expect(opts.some((o) => o.groups > 1)).toBe(true);
    expect(golden.cases.some((c) => c.bias === null)).toBe(true);
  });

  for (const c of golden.cases) {
    it(`${c.name}: decodes with consistent shapes`, () => {
      const [n, cin, len] = c.input.shape as [number, number, number];
      const [cout, cinG, k] = c.weight.shape as [number, number, number];
      expect(c.input.shape).toHaveLength(3);
      expect(cinG * c.options.groups).toBe(cin);
      expect(c.output.shape).toEqual([n, cout, expectedOutLength(len, k, c.options)]);
      expect(c.gradOutput.shape).toEqual(c.output.shape);
      expect(c.gradInput.shape).toEqual(c.input.shape);
      expect(c.gradWeight.shape).toEqual(c.weight.shape);
      if (c.bias === null) {
        expect(c.gradBias).toBeNull();
      } else {
        expect(c.bias.shape).toEqual([cout]);
        expect(c.gradBias?.shape).toEqual([cout]);
      }
    });

    if (c.gradBias !== null) {
      const gradBias = c.gradBias;
      it(`${c.name}: gradBias is gradOutput summed over batch and length (fixture sanity)`, () => {
        expectClose(gradBias.data, sumOverBatchAndLength(c.gradOutput), 1e-5, 1e-5, `${c.name} gradBias`);
      });
    }
  }
});

function sumOverBatchAndLength(t: Tensor): Float32Array {
  const [n, ch, len] = t.shape as [number, number, number];
  const out = new Float64Array(ch);
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < ch; c++) {
      for (let i = 0; i < len; i++) out[c] = (out[c] as number) + (t.data[(b * ch + c) * len + i] as number);
    }
  }
  return Float32Array.from(out);
}

// conv1dBackward matches PyTorch autograd. Tolerances atol 1e-5 + rtol 1e-5·|expected| for every
// gradient: gradWeight sums N·Lout products (≤ 60 here), well inside float32 at that bound.
describe('conv1dBackward matches PyTorch autograd', () => {
  for (const c of golden.cases) {
    it(`${c.name}: gradients are finite and not all zero (fixture guard)`, () => {
      for (const [label, t] of [
        ['gradInput', c.gradInput],
        ['gradWeight', c.gradWeight],
      ] as const) {
        expect(t.data.every(Number.isFinite), `${c.name} ${label} finite`).toBe(true);
        expect(t.data.some((v) => v !== 0), `${c.name} ${label} not all zero`).toBe(true);
      }
    });

    it(`${c.name}: gradInput, gradWeight, gradBias equal torch's`, () => {
      const g = conv1dBackward(c.input, c.weight, c.gradOutput, c.options);
      expect(g.gradInput.shape).toEqual(c.gradInput.shape);
      expect(g.gradWeight.shape).toEqual(c.gradWeight.shape);
      expectClose(g.gradInput.data, c.gradInput.data, 1e-5, 1e-5, `${c.name} gradInput`);
      expectClose(g.gradWeight.data, c.gradWeight.data, 1e-5, 1e-5, `${c.name} gradWeight`);
      // conv1dBackward always returns the bias gradient; torch has one only when the layer has a bias.
      if (c.gradBias !== null) expectClose(g.gradBias.data, c.gradBias.data, 1e-5, 1e-5, `${c.name} gradBias`);
    });
  }
});

// The same comparison with the WebAssembly SIMD kernel, which accumulates in float32 (the JS
// kernel in float64): bound atol 2e-5 + rtol 2e-5·|expected|, twice the JS bound, still far below
// any gradient error that matters (sums here have ≤ 60 products).
describe('conv1dBackward with the wasm-simd kernel matches PyTorch autograd', () => {
  const kernel = createWasmGemmKernel();
  for (const c of golden.cases) {
    it(`${c.name} (wasm-simd)`, () => {
      const g = conv1dBackward(c.input, c.weight, c.gradOutput, c.options, kernel);
      expectClose(g.gradInput.data, c.gradInput.data, 2e-5, 2e-5, `${c.name} gradInput`);
      expectClose(g.gradWeight.data, c.gradWeight.data, 2e-5, 2e-5, `${c.name} gradWeight`);
      if (c.gradBias !== null) expectClose(g.gradBias.data, c.gradBias.data, 2e-5, 2e-5, `${c.name} gradBias`);
    });
  }
});

describe('expectClose (golden comparison helper)', () => {
  it('accepts values within atol + rtol·|expected|', () => {
    expect(() => expectClose(Float32Array.of(1, 100, -3), Float32Array.of(1.000005, 100.0005, -3))).not.toThrow();
  });

  it('rejects a value just past the bound and names index, values and the largest error', () => {
    expect(() => expectClose(Float32Array.of(0, 1, 2), Float32Array.of(0, 1.001, 2.5), 1e-5, 1e-5, 'probe')).toThrow(
      /probe: 2 of 3 elements differ.*first at index 1.*max \|error\| 0\.5 at index 2/,
    );
  });

  it('rejects a length mismatch and NaN against a number, accepts NaN against NaN', () => {
    expect(() => expectClose(new Float32Array(2), new Float32Array(3))).toThrow(/length 2, expected 3/);
    expect(() => expectClose(Float32Array.of(Number.NaN), Float32Array.of(0))).toThrow(/1 of 1/);
    expect(() => expectClose(Float32Array.of(Number.NaN), Float32Array.of(Number.NaN))).not.toThrow();
  });
});
