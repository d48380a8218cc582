import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../../src/nn/random.js';
import { MAD_NORMAL_SCALE, mad, meanStd, median, quantile, quantiles, sortedCopy, Welford } from '../../src/detect/robust-stats.js';

// Reference values computed once with numpy 1.24.2 (np.median, np.quantile with the default
// method='linear', np.std with ddof 0 and 1) and pasted here:
//   a = np.array([3.5, -1.25, 7.0, 2.0, 2.0, 10.5, -4.0, 0.75, 6.25])
//   b = np.array([4.0, 1.0, 9.0, 16.0, 2.5, 0.5])
const A = [3.5, -1.25, 7.0, 2.0, 2.0, 10.5, -4.0, 0.75, 6.25];
const B = [4.0, 1.0, 9.0, 16.0, 2.5, 0.5];
const NUMPY_QUANTILES_A: [number, number][] = [
  [0, -4.0],
  [0.1, -1.7999999999999998],
  [0.25, 0.75],
  [0.33, 1.5500000000000003],
  [0.5, 2.0],
  [0.9, 7.700000000000001],
  [0.95, 9.099999999999998],
  [0.999, 10.472],
  [1, 10.5],
];

describe('median', () => {
  it('matches numpy for odd and even counts', () => {
    expect(median(A)).toBe(2.0);
    expect(median(B)).toBe(3.25); // mean of 2.5 and 4.0
  });

  it('works on typed arrays and a single value', () => {
    expect(median(Float32Array.from(B))).toBe(3.25);
    expect(median(Float64Array.from([7]))).toBe(7);
  });

  it('does not mutate its input', () => {
    const input = Float32Array.from(A);
    const before = Array.from(input);
    median(input);
    mad(input);
    quantile(input, 0.3);
    meanStd(input);
    expect(Array.from(input)).toEqual(before);
  });

  it('rejects empty and non-finite input, naming the index', () => {
    expect(() => median([])).toThrow(/empty/);
    expect(() => median([1, Number.NaN, 2])).toThrow(/index 1 is NaN/);
    expect(() => median(Float64Array.from([1, 2, Infinity]))).toThrow(/index 2 is Infinity/);
  });
});

describe('mad', () => {
  it('matches numpy: raw median(|x − median|) and the normal-scaled value', () => {
    expect(mad(A, { scale: 'raw' })).toBe(3.25);
    expect(mad(A)).toBeCloseTo(4.818457210143206, 12);
    expect(mad(B, { scale: 'raw' })).toBe(2.5);
  });

  it('uses 1/Φ⁻¹(3/4) as the normal scale', () => {
    // Φ(0.6744897501960817) = 0.75 (scipy.stats.norm.ppf(0.75)).
    expect(MAD_NORMAL_SCALE).toBeCloseTo(1 / 0.6744897501960817, 12);
  });

  it('accepts an explicit center', () => {
    // |A − 0| sorted: 0.75 1.25 2 2 3.5 4 6.25 7 10.5 → median 3.5
    expect(mad(A, { center: 0, scale: 'raw' })).toBe(3.5);
  });

  it('is 0 for a constant array and rejects a bad center or scale', () => {
    expect(mad([4, 4, 4])).toBe(0);
    expect(() => mad(A, { center: Number.NaN })).toThrow(/center must be finite/);
    expect(() => mad(A, { scale: 'sigma' as 'raw' })).toThrow(/scale must be 'normal' or 'raw'/);
  });

  it('estimates σ of normal data', () => {
    const rng = new Rng(11);
    const xs = new Float64Array(20000);
    for (let i = 0; i < xs.length; i++) xs[i] = 3 + 2 * rng.normal();
    // Standard error of the scaled MAD for n = 20000 is ≈ 1.65·σ/√n ≈ 0.023.
    expect(mad(xs)).toBeGreaterThan(2 - 0.1);
    expect(mad(xs)).toBeLessThan(2 + 0.1);
  });
});

describe('quantile (numpy linear)', () => {
  it.each(NUMPY_QUANTILES_A)('q = %s matches numpy', (q, expected) => {
    expect(quantile(A, q)).toBeCloseTo(expected, 12);
  });

  it('matches numpy on the even-length array', () => {
    expect(quantile(B, 0.2)).toBeCloseTo(1.0, 12);
    expect(quantile(B, 0.7)).toBeCloseTo(6.5, 12);
    expect(quantile(B, 0.999)).toBeCloseTo(15.965, 12);
    expect(quantiles(B, [0.2, 0.7])).toEqual([quantile(B, 0.2), quantile(B, 0.7)]);
  });

  it('hand-checked interpolation: [10, 20, 30, 40] at q = 0.5 and 0.9', () => {
    // h = 3·0.5 = 1.5 → 20 + 0.5·10 = 25;  h = 3·0.9 = 2.7 → 30 + 0.7·10 = 37
    expect(quantile([40, 10, 30, 20], 0.5)).toBe(25);
    expect(quantile([40, 10, 30, 20], 0.9)).toBeCloseTo(37, 12);
  });

  it('rejects q outside [0, 1]', () => {
    expect(() => quantile(A, 1.5)).toThrow(/q must be in \[0, 1\], got 1.5/);
    expect(() => quantile(A, Number.NaN)).toThrow(/got NaN/);
    expect(() => quantiles(A, [0.5, -0.1])).toThrow(/got -0.1/);
  });

  it('agrees with a plain reference implementation on random data (property)', () => {
    // Reference: the textbook definition with an index walk, no sharing of code.
    const reference = (xs: number[], q: number): number => {
      const s = [...xs].sort((x, y) => x - y);
      const pos = (s.length - 1) * q;
      const i = Math.floor(pos);
      const j = Math.min(i + 1, s.length - 1);
      return s[i]! * (1 - (pos - i)) + s[j]! * (pos - i);
    };
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xs, q) => {
          const got = quantile(xs, q);
          const want = reference(xs, q);
          expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(want)));
        },
      ),
      { seed: 20240601, numRuns: 300 },
    );
  });
});

describe('sortedCopy', () => {
  it('sorts numerically (not as strings) into a new Float64Array', () => {
    const input = [10, 9, -1, 100];
    const s = sortedCopy(input);
    expect(Array.from(s)).toEqual([-1, 9, 10, 100]);
    expect(input).toEqual([10, 9, -1, 100]);
  });
});

describe('meanStd / Welford', () => {
  it('matches numpy mean and std (ddof 0 and 1)', () => {
    const p = meanStd(A);
    expect(p.count).toBe(9);
    expect(p.mean).toBeCloseTo(2.9722222222222223, 13);
    expect(p.std).toBeCloseTo(4.179055655628375, 12);
    expect(meanStd(A, 1).std).toBeCloseTo(4.432557889576225, 12);
  });

  it('is stable for a large offset (where the naive Σx² formula loses every digit)', () => {
    // Values 1e9 + {4, 7, 13, 16}: mean 1e9 + 10, population variance (36 + 9 + 9 + 36)/4 = 22.5.
    const r = meanStd(Float64Array.from([4, 7, 13, 16].map((d) => 1e9 + d)));
    expect(r.mean).toBe(1e9 + 10);
    expect(r.variance).toBeCloseTo(22.5, 6);
  });

  it('Welford reports NaN before enough values and rejects non-finite pushes', () => {
    const w = new Welford();
    expect(w.mean).toBeNaN();
    w.push(5);
    expect(w.variance(1)).toBeNaN();
    expect(w.variance(0)).toBe(0);
    expect(() => w.push(Infinity)).toThrow(/finite/);
    expect(() => meanStd([1], 1)).toThrow(/ddof 1 needs more than 1/);
  });
});
