import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/nn/random.js';
import { calibrateThreshold, parseThresholdCalibration, type ThresholdOptions } from '../../src/detect/threshold.js';

/** GPD(γ, σ) draws by the inverse CDF (γ = 0: exponential). */
function sampleGpd(rng: Rng, n: number, gamma: number, sigma: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let u = rng.uniform();
    while (u === 0) u = rng.uniform();
    out[i] = gamma === 0 ? -sigma * Math.log(u) : (sigma / gamma) * (u ** -gamma - 1);
  }
  return out;
}

function exceedanceRate(xs: Float64Array, threshold: number): number {
  let k = 0;
  for (const x of xs) if (x > threshold) k++;
  return k / xs.length;
}

describe('quantile method', () => {
  it('is exact on small arrays (numpy linear interpolation, times the margin)', () => {
    const scores = [7, 3, 10, 1, 5, 2, 9, 4, 8, 6]; // sorted 1..10
    // h = 9·0.9 = 8.1 → 9 + 0.1·(10 − 9) = 9.1
    const a = calibrateThreshold(scores, { method: 'quantile', q: 0.9 });
    expect(a.method).toBe('quantile');
    expect(a.value).toBeCloseTo(9.1, 12);
    expect(a.params).toEqual({ q: 0.9, margin: 1, quantile: a.value, n: 10 });
    const b = calibrateThreshold(scores, { method: 'quantile', q: 0.9, margin: 1.5 });
    expect(b.value).toBeCloseTo(13.65, 12);
    // h = 9·0.5 = 4.5 → 5.5
    expect(calibrateThreshold(scores, { method: 'quantile', q: 0.5 }).value).toBe(5.5);
  });

  it('defaults to q = 0.999 and margin 1', () => {
    const scores = Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1..1000, shuffled order irrelevant
    // h = 999·0.999 = 998.001 → 999 + 0.001 = 999.001
    const c = calibrateThreshold(scores);
    expect(c.method).toBe('quantile');
    expect(c.value).toBeCloseTo(999.001, 9);
    expect(c.params).toMatchObject({ q: 0.999, margin: 1, n: 1000 });
  });

  it('refuses samples too small to contain the q-quantile', () => {
    expect(() => calibrateThreshold([1, 2, 3], { method: 'quantile', q: 0.9 })).toThrow(/q = 0.9 needs at least 10 scores, got 3/);
    expect(() => calibrateThreshold(new Float64Array(999), { method: 'quantile' })).toThrow(/needs at least 1000 scores, got 999/);
    expect(() => calibrateThreshold([1], { method: 'quantile', q: 0.1 })).toThrow(/needs at least 2 scores, got 1/);
  });
});

describe('argument checks', () => {
  const ok = Array.from({ length: 2000 }, (_, i) => i / 100);
  it.each<[ThresholdOptions, RegExp]>([
    [{ method: 'quantile', q: 0 }, /q must be in \(0, 1\), got 0/],
    [{ method: 'quantile', q: 1 }, /q must be in \(0, 1\), got 1/],
    [{ method: 'quantile', q: 1.2 }, /q must be in \(0, 1\), got 1.2/],
    [{ method: 'quantile', q: 0.5, margin: 0 }, /margin must be finite and > 0, got 0/],
    [{ method: 'pot', riskLevel: 0 }, /riskLevel must be in \(0, 1\), got 0/],
    [{ method: 'pot', initialQuantile: 1 }, /initialQuantile must be in \(0, 1\), got 1/],
    [{ method: 'pot', riskLevel: 0.05 }, /riskLevel 0.05 must be below the fraction of scores above the initial threshold \(40\/2000 = 0.02\)/],
    [{ method: 'zscore' } as unknown as ThresholdOptions, /method must be 'quantile' or 'pot', got 'zscore'/],
  ])('%j is rejected', (options, message) => {
    expect(() => calibrateThreshold(ok, options)).toThrow(message);
  });

  it('rejects empty input and non-finite scores, naming the index', () => {
    expect(() => calibrateThreshold([], { method: 'quantile', q: 0.5 })).toThrow(/no scores/);
    expect(() => calibrateThreshold([1, 2, Number.NaN, 4], { method: 'quantile', q: 0.5 })).toThrow(/score at index 2 is NaN/);
    expect(() => calibrateThreshold(Float32Array.from([1, Infinity]), { method: 'pot' })).toThrow(/score at index 1 is Infinity/);
  });

  it('pot refuses too few peaks and tied peaks', () => {
    const few = Array.from({ length: 300 }, (_, i) => i); // 0.98 → 6 peaks
    expect(() => calibrateThreshold(few, { method: 'pot', riskLevel: 1e-3 })).toThrow(/at least 10 scores above the initial threshold, got 6 \(n = 300/);
    // 950 zeros and 50 fives: t = 5 at q = 0.98, so nothing is strictly above it.
    const quantised = [...new Array<number>(950).fill(0), ...new Array<number>(50).fill(5)];
    expect(() => calibrateThreshold(quantised, { method: 'pot', riskLevel: 1e-3 })).toThrow(/got 0/);
    // 900 zeros, 50 ones, 50 fives at initialQuantile 0.93: h = 999·0.93 = 929.07 → t = 1, and
    // the 50 peaks all exceed it by exactly 4.
    const ties = [...new Array<number>(900).fill(0), ...new Array<number>(50).fill(1), ...new Array<number>(50).fill(5)];
    expect(() => calibrateThreshold(ties, { method: 'pot', riskLevel: 1e-3, initialQuantile: 0.93 })).toThrow(/all 50 excesses equal 4/);
  });
});

describe('pot method', () => {
  it('records its parameters, and the value follows the POT formula from them', () => {
    const scores = sampleGpd(new Rng(1), 10000, 0.1, 1);
    const c = calibrateThreshold(scores, { method: 'pot' });
    if (c.method !== 'pot') throw new Error('expected pot');
    const p = c.params;
    expect(p.riskLevel).toBe(1e-4);
    expect(p.initialQuantile).toBe(0.98);
    expect(p.n).toBe(10000);
    // h = 9999·0.98 = 9799.02 lies between the 9800th and 9801st smallest: 200 scores are above t.
    expect(p.Nt).toBe(200);
    const sorted = Float64Array.from(scores).sort();
    expect(p.t).toBeCloseTo(sorted[9799]! + 0.02 * (sorted[9800]! - sorted[9799]!), 9);
    const r = (p.riskLevel * p.n) / p.Nt;
    expect(c.value).toBeCloseTo(p.t + (p.sigma / p.gamma) * (r ** -p.gamma - 1), 9);
  });

  // Bounds: with 10,000 calibration scores the extrapolated threshold's spread is what limits
  // these checks (over 30 seeds of this very set-up the ratio value/truth stayed within
  // 0.84–1.12 for the exponential tail and 0.70–1.26 for γ = 0.2 at risk 1e-4). A fresh sample of
  // 100,000 has ≈ 10 expected exceedances at risk 1e-4 (Poisson: ±6 at 2σ) and ≈ 100 at 1e-3
  // (±20 at 2σ), so the rate bounds are [0.2, 5]·risk and [0.5, 2]·risk respectively.
  it.each([
    [0, 1e-4, 0.15, 0.2, 5],
    [0, 1e-3, 0.08, 0.5, 2],
    [0.2, 1e-4, 0.3, 0.2, 5],
    [0.2, 1e-3, 0.12, 0.5, 2],
    [-0.2, 1e-4, 0.08, 0.2, 5],
  ])('γ = %s, risk %s: threshold near the true quantile and fresh exceedance rate near the risk', (gamma, risk, relTol, rateLo, rateHi) => {
    const rng = new Rng(2024);
    const c = calibrateThreshold(sampleGpd(rng, 10000, gamma, 1), { method: 'pot', riskLevel: risk });
    const truth = gamma === 0 ? -Math.log(risk) : (risk ** -gamma - 1) / gamma;
    expect(Math.abs(c.value / truth - 1)).toBeLessThan(relTol);
    const rate = exceedanceRate(sampleGpd(rng, 100000, gamma, 1), c.value);
    expect(rate).toBeGreaterThanOrEqual(rateLo * risk);
    expect(rate).toBeLessThanOrEqual(rateHi * risk);
  });

  it('calibrates realistic scores (mean of 4 squared normals) near their exact tail quantile', () => {
    // score = χ²₄/4, whose survival function is e^(−2s)(1 + 2s); solve it = 1e-4 by bisection.
    const survival = (s: number): number => Math.exp(-2 * s) * (1 + 2 * s);
    let lo = 0;
    let hi = 50;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (survival(mid) > 1e-4) lo = mid;
      else hi = mid;
    }
    const truth = lo; // ≈ 5.878
    const rng = new Rng(3);
    const scores = new Float64Array(10000);
    for (let i = 0; i < scores.length; i++) {
      let s = 0;
      for (let c = 0; c < 4; c++) s += rng.normal() ** 2;
      scores[i] = s / 4;
    }
    const c = calibrateThreshold(scores, { method: 'pot', riskLevel: 1e-4 });
    // Over 20 seeds the ratio stayed within 0.87–1.14; the 0.999 empirical quantile is ≈ 4.62.
    expect(Math.abs(c.value / truth - 1)).toBeLessThan(0.18);
    expect(c.value).toBeGreaterThan(calibrateThreshold(scores, { method: 'quantile', q: 0.999 }).value);
  });
});

describe('parseThresholdCalibration', () => {
  it('round-trips both methods through JSON text', () => {
    const scores = sampleGpd(new Rng(4), 5000, 0, 1);
    for (const options of [{ method: 'quantile' as const, q: 0.99 }, { method: 'pot' as const, riskLevel: 1e-3 }]) {
      const c = calibrateThreshold(scores, options);
      expect(parseThresholdCalibration(JSON.parse(JSON.stringify(c)))).toEqual(c);
    }
  });

  it('names the bad field', () => {
    expect(() => parseThresholdCalibration({ method: 'quantile', value: 'x', params: {} })).toThrow(/threshold.value must be a finite number, got "x"/);
    expect(() => parseThresholdCalibration({ method: 'pot', value: 1, params: { fit: 'moments' } })).toThrow(/threshold.params.fit must be 'grimshaw' or 'exponential'/);
    expect(() => parseThresholdCalibration({ method: 'quantile', value: 1, params: { q: 0.9, margin: 1, quantile: 1 } })).toThrow(/threshold.params.n must be a finite number, got undefined/);
    expect(() => parseThresholdCalibration({ method: 'evt', value: 1, params: {} })).toThrow(/threshold.method must be 'quantile' or 'pot', got "evt"/);
    expect(() => parseThresholdCalibration([])).toThrow(/threshold must be an object/);
  });
});
