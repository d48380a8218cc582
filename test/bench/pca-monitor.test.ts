import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { controlLimit, fitPcaMonitor, pcaStatistics, symmetricEigen } from '../../bench/eval/pca-monitor.js';

/** `a·v` for a row-major `[n, n]` matrix. */
function matVec(a: ArrayLike<number>, v: ArrayLike<number>, n: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += a[i * n + k] * v[k];
    return s;
  });
}

function row(m: Float64Array, r: number, n: number): Float64Array {
  return m.subarray(r * n, (r + 1) * n);
}

/** Eigenvectors are defined up to sign: compare v with ±expected. */
function expectSameDirection(v: ArrayLike<number>, expected: readonly number[], digits: number): void {
  const sign = Math.sign(expected.reduce((s, e, i) => s + e * v[i], 0)) || 1;
  expected.forEach((e, i) => expect(sign * v[i]).toBeCloseTo(e, digits));
}

describe('symmetricEigen', () => {
  it('2×2 [[2, 1], [1, 2]]: eigenvalues 3 and 1, vectors (1, 1)/√2 and (1, −1)/√2 (by hand)', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(values[0]).toBeCloseTo(3, 14);
    expect(values[1]).toBeCloseTo(1, 14);
    expectSameDirection(row(vectors, 0, 2), [Math.SQRT1_2, Math.SQRT1_2], 14);
    expectSameDirection(row(vectors, 1, 2), [Math.SQRT1_2, -Math.SQRT1_2], 14);
  });

  it('tridiagonal Toeplitz 3×3 (4 on, 1 off the diagonal): 4 + √2, 4, 4 − √2 (closed form 4 + 2cos(kπ/4))', () => {
    const a = Float64Array.from([4, 1, 0, 1, 4, 1, 0, 1, 4]);
    const { values, vectors } = symmetricEigen(a, 3);
    expect(Array.from(values)).toEqual([expect.closeTo(4 + Math.SQRT2, 13), expect.closeTo(4, 13), expect.closeTo(4 - Math.SQRT2, 13)]);
    // Closed-form eigenvectors sin(jkπ/4): (1/2, √2/2, 1/2), (√2/2, 0, −√2/2), (1/2, −√2/2, 1/2).
    expectSameDirection(row(vectors, 0, 3), [0.5, Math.SQRT1_2, 0.5], 13);
    expectSameDirection(row(vectors, 1, 3), [Math.SQRT1_2, 0, -Math.SQRT1_2], 13);
    expectSameDirection(row(vectors, 2, 3), [0.5, -Math.SQRT1_2, 0.5], 13);
  });

  it('Hilbert 4×4 agrees with numpy.linalg.eigh (fixture; small eigenvalues to relative 1e-9)', () => {
    const n = 4;
    const h = Float64Array.from({ length: n * n }, (_, k) => 1 / (Math.floor(k / n) + (k % n) + 1));
    const { values, vectors } = symmetricEigen(h, n);
    // numpy 2.4.6: np.linalg.eigh(H), reversed to descending order.
    const expectedValues = [1.5002142800592426, 0.16914122022145001, 6.7382736057606226e-3, 9.670230402260849e-5];
    const expectedVectors = [
      [-0.7926082911637637, -0.4519231209015997, -0.3224163985818249, -0.2521611696882419],
      [-0.5820756994972376, 0.37050218506709276, 0.5095786345017999, 0.5140482722221646],
      [-0.17918629053545487, 0.7419177906284524, -0.10022813694718946, -0.6382825281936161],
      [-0.02919332316478669, 0.3287120557631914, -0.7914111458331267, 0.5145527499971508],
    ];
    expectedValues.forEach((e, i) => expect(Math.abs(values[i] - e) / e).toBeLessThan(1e-9));
    expectedVectors.forEach((e, r) => expectSameDirection(row(vectors, r, n), e, 9));
  });

  it('a diagonal matrix comes back sorted descending with unit vectors', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([1, 0, 0, 0, 5, 0, 0, 0, 3]), 3);
    expect(Array.from(values)).toEqual([5, 3, 1]);
    expect(Array.from(vectors).map(Math.abs)).toEqual([0, 1, 0, 0, 0, 1, 1, 0, 0]);
  });

  it('Q·diag(λ)·Qᵀ with a Householder Q: recovers the chosen λ and A·v = λ·v, V orthonormal (property, seed 7)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 5, maxLength: 5 }).filter((u) => u.reduce((s, x) => s + x * x, 0) > 0.1),
        fc.uniqueArray(fc.integer({ min: -40, max: 40 }), { minLength: 5, maxLength: 5 }),
        (u, lambdaTimes4) => {
          const n = 5;
          const lambda = lambdaTimes4.map((x) => x / 4);
          const uu = u.reduce((s, x) => s + x * x, 0);
          // Householder reflection Q = I − 2uuᵀ/uᵀu is orthogonal and symmetric.
          const q = (i: number, j: number): number => (i === j ? 1 : 0) - (2 * u[i] * u[j]) / uu;
          const a = new Float64Array(n * n);
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += q(i, k) * lambda[k] * q(j, k);
          const { values, vectors } = symmetricEigen(a, n);
          const sorted = [...lambda].sort((x, y) => y - x);
          sorted.forEach((e, i) => expect(values[i]).toBeCloseTo(e, 10));
          for (let r = 0; r < n; r++) {
            const v = row(vectors, r, n);
            matVec(a, v, n).forEach((x, i) => expect(x).toBeCloseTo(values[r] * v[i], 10));
            for (let s = 0; s < n; s++) {
              const dot = row(vectors, s, n).reduce((acc, x, i) => acc + x * v[i], 0);
              expect(dot).toBeCloseTo(r === s ? 1 : 0, 10);
            }
          }
        },
      ),
      { seed: 7, numRuns: 100 },
    );
  });

  it('rejects a matrix whose size does not match n', () => {
    expect(() => symmetricEigen(Float64Array.from([1, 2, 3]), 2)).toThrow(/4 entries.*3/);
  });
});

describe('fitPcaMonitor / pcaStatistics', () => {
  // 6 rows × 3 channels; T² and Q of three test rows computed independently with numpy
  // (standardise with ddof 1, eigh of the correlation matrix, 2 components for 90 % variance).
  const train = Float32Array.from([1, 2, 0.5, 2, 1, 1.5, 3, 5, 2.0, 4, 3, 3.5, 5, 4, 3.0, 6, 7, 5.5]);
  const tests = Float32Array.from([3.5, 4, 2.5, 8, 1, 6, 0, 0, 0]);

  it('keeps the fewest components reaching 90 % of the variance and matches numpy T² and Q', () => {
    const m = fitPcaMonitor(train, 3, 0.9);
    expect(m.components).toBe(2); // cumulative shares 0.8946, 0.9821, 1
    expect(m.eigenvalues[0]).toBeCloseTo(2.6837891143236545, 10);
    expect(m.eigenvalues[1]).toBeCloseTo(0.2625349708970358, 10);
    const { t2, q } = pcaStatistics(m, tests);
    // float32 inputs: agreement to ~1e-6 relative.
    [0.10682441, 29.11379021, 3.25180117].forEach((e, i) => expect(t2[i]).toBeCloseTo(e, 5));
    [0.00405742, 0.16873955, 0.05798454].forEach((e, i) => expect(q[i]).toBeCloseTo(e, 5));
  });

  it('two perfectly correlated channels: one component, T² = (z1 + z2)²/4 and Q = (z1 − z2)²/2 (by hand)', () => {
    const data = Float32Array.from([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    const m = fitPcaMonitor(data, 2, 0.9);
    expect(m.components).toBe(1);
    expect(m.eigenvalues[0]).toBeCloseTo(2, 6);
    const sd = Math.sqrt(2.5); // sample std of 1..5
    // z = (1, 0): score (z1 + z2)/√2 = 1/√2, T² = score²/λ = 0.25; residual (½, −½), Q = 0.5.
    const { t2, q } = pcaStatistics(m, Float32Array.from([3 + sd, 3]));
    expect(t2[0]).toBeCloseTo(0.25, 5);
    expect(q[0]).toBeCloseTo(0.5, 5);
  });

  it('a constant channel does not divide by zero', () => {
    const data = Float32Array.from([1, 7, 2, 7, 3, 7, 4, 7]);
    const m = fitPcaMonitor(data, 2, 0.9);
    const { t2, q } = pcaStatistics(m, Float32Array.from([2.5, 7]));
    expect(Number.isFinite(t2[0])).toBe(true);
    expect(Number.isFinite(q[0])).toBe(true);
  });

  it('rejects ragged data, too few rows and a variance share outside (0, 1)', () => {
    expect(() => fitPcaMonitor(Float32Array.from([1, 2, 3]), 2)).toThrow(/3 values.*2 channels/);
    expect(() => fitPcaMonitor(Float32Array.from([1, 2]), 2)).toThrow(/at least 2 rows/);
    expect(() => fitPcaMonitor(train, 3, 1)).toThrow(/varianceKept.*1/);
    expect(() => fitPcaMonitor(train, 3, 0)).toThrow(/varianceKept.*0/);
    const m = fitPcaMonitor(train, 3);
    expect(() => pcaStatistics(m, Float32Array.from([1, 2]))).toThrow(/2 values.*3 channels/);
  });
});

describe('controlLimit', () => {
  it('is the numpy-linear quantile (hand-checked)', () => {
    // sorted 1..10, q = 0.99: h = 9·0.99 = 8.91 → 9 + 0.91·1 = 9.91.
    expect(controlLimit(Float64Array.from([7, 3, 10, 1, 5, 2, 9, 4, 8, 6]), 0.99)).toBeCloseTo(9.91, 12);
  });
  it('rejects q outside (0, 1)', () => {
    expect(() => controlLimit(Float64Array.from([1, 2]), 1)).toThrow(/q must be in \(0, 1\), got 1/);
  });
});
