import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/nn/random.js';
import { fitGpd, gpdLogLikelihood, gpdTailQuantile } from '../../src/detect/gpd-fit.js';

/** GPD(γ, σ) draws by the inverse CDF: Y = σ/γ·(U^(−γ) − 1), or −σ·log U for γ = 0. */
function sampleGpd(rng: Rng, n: number, gamma: number, sigma: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let u = rng.uniform();
    while (u === 0) u = rng.uniform();
    out[i] = gamma === 0 ? -sigma * Math.log(u) : (sigma / gamma) * (u ** -gamma - 1);
  }
  return out;
}

/** Independent log-likelihood, written from the density f(y) = (1/σ)(1 + γy/σ)^(−1/γ − 1). */
function refLogLik(ys: ArrayLike<number>, gamma: number, sigma: number): number {
  let ll = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i]!;
    if (Math.abs(gamma) < 1e-12) {
      ll += -Math.log(sigma) - y / sigma;
    } else {
      const a = 1 + (gamma * y) / sigma;
      if (a <= 0) return -Infinity;
      ll += -Math.log(sigma) - (1 / gamma + 1) * Math.log(a);
    }
  }
  return ll;
}

/**
 * Brute-force maximum likelihood: a γ grid (coarse, then fine around the best), and for each γ a
 * golden-section search over log σ. Shares no code with the implementation under test.
 */
function bruteForceMle(ys: Float64Array): { gamma: number; sigma: number; ll: number } {
  let yMax = 0;
  let sum = 0;
  for (const y of ys) {
    yMax = Math.max(yMax, y);
    sum += y;
  }
  const mean = sum / ys.length;
  const bestSigma = (gamma: number): { sigma: number; ll: number } => {
    // For γ < 0 the support needs σ > −γ·y_max.
    let lo = Math.log(gamma < 0 ? -gamma * yMax * (1 + 1e-9) : mean * 1e-3);
    let hi = Math.log(mean * 1e3);
    const g = (Math.sqrt(5) - 1) / 2;
    for (let i = 0; i < 90; i++) {
      const a = hi - g * (hi - lo);
      const b = lo + g * (hi - lo);
      if (refLogLik(ys, gamma, Math.exp(a)) < refLogLik(ys, gamma, Math.exp(b))) lo = a;
      else hi = b;
    }
    const sigma = Math.exp((lo + hi) / 2);
    return { sigma, ll: refLogLik(ys, gamma, sigma) };
  };
  let best = { gamma: 0, ...bestSigma(0) };
  const scan = (from: number, to: number, step: number): void => {
    for (let gamma = from; gamma <= to + 1e-12; gamma += step) {
      const r = bestSigma(gamma);
      if (r.ll > best.ll) best = { gamma, ...r };
    }
  };
  scan(-0.9, 1.5, 0.02);
  const centre = best.gamma;
  scan(centre - 0.02, centre + 0.02, 0.0002);
  return best;
}

describe('gpdLogLikelihood', () => {
  it('matches hand-computed values', () => {
    // γ = 0.5, σ = 1, y = [1, 2]: −(1/0.5 + 1)·(log 1.5 + log 2) = −3·log 3
    expect(gpdLogLikelihood([1, 2], 0.5, 1)).toBeCloseTo(-3 * Math.log(3), 12);
    // γ = 0, σ = 2: −2·log 2 − (1 + 2)/2
    expect(gpdLogLikelihood([1, 2], 0, 2)).toBeCloseTo(-2 * Math.log(2) - 1.5, 12);
    // γ = −0.5, σ = 1: support ends at 2, so y = 2 is outside
    expect(gpdLogLikelihood([1, 2], -0.5, 1)).toBe(-Infinity);
    expect(gpdLogLikelihood([1, 2], 0.1, 0)).toBe(-Infinity);
  });
});

describe('gpdTailQuantile', () => {
  it('matches hand-computed quantiles', () => {
    expect(gpdTailQuantile(0.01, 0, 2)).toBeCloseTo(2 * Math.log(100), 12); // exponential
    expect(gpdTailQuantile(0.01, 0.5, 1)).toBeCloseTo(18, 10); // (0.01^−0.5 − 1)/0.5 = 9/0.5
    expect(gpdTailQuantile(0.01, -0.5, 1)).toBeCloseTo(1.8, 12); // (0.1 − 1)/(−0.5)
    expect(gpdTailQuantile(1, 0.3, 1)).toBe(0);
  });

  it('is continuous at γ = 0', () => {
    expect(gpdTailQuantile(1e-4, 1e-12, 1)).toBeCloseTo(gpdTailQuantile(1e-4, 0, 1), 9);
    expect(gpdTailQuantile(1e-4, -1e-12, 1)).toBeCloseTo(gpdTailQuantile(1e-4, 0, 1), 9);
  });

  it('rejects bad arguments', () => {
    expect(() => gpdTailQuantile(0, 0.1, 1)).toThrow(/p must be in \(0, 1\], got 0/);
    expect(() => gpdTailQuantile(0.5, 0.1, -1)).toThrow(/sigma must be finite and > 0, got -1/);
    expect(() => gpdTailQuantile(0.5, Number.NaN, 1)).toThrow(/gamma must be finite/);
  });
});

describe('fitGpd', () => {
  // 10,000 draws: the MLE's standard errors are ≈ (1 + γ)/√n ≈ 0.010–0.015 for γ and
  // ≈ σ·√(2(1 + γ))/√n ≈ 1.5–2 % for σ. The bounds below are about 4 standard errors.
  it.each([
    [-0.3, 2],
    [0.25, 1],
    [0.5, 0.5],
  ])('recovers γ = %s, σ = %s from 10,000 GPD draws', (gamma, sigma) => {
    const fit = fitGpd(sampleGpd(new Rng(7), 10000, gamma, sigma));
    expect(fit.method).toBe('grimshaw');
    expect(Math.abs(fit.gamma - gamma)).toBeLessThan(0.05);
    expect(Math.abs(fit.sigma / sigma - 1)).toBeLessThan(0.07);
    expect(fit.count).toBe(10000);
  });

  it('recovers an exponential tail (γ = 0, σ = 3) from 10,000 draws', () => {
    const fit = fitGpd(sampleGpd(new Rng(8), 10000, 0, 3));
    expect(Math.abs(fit.gamma)).toBeLessThan(0.04);
    expect(Math.abs(fit.sigma / 3 - 1)).toBeLessThan(0.06);
  });

  it.each([
    [0.2, 11],
    [-0.3, 12],
    [0, 13],
  ])('reaches the brute-force maximum likelihood (γ = %s, seed %s, n = 400)', (gamma, seed) => {
    const ys = sampleGpd(new Rng(seed), 400, gamma, 1);
    const fit = fitGpd(ys);
    const ref = bruteForceMle(ys);
    // The reported log-likelihood is the real one at the reported parameters...
    expect(fit.logLikelihood).toBeCloseTo(refLogLik(ys, fit.gamma, fit.sigma), 8);
    // ...and no grid point beats it (the brute force is exact to its grid, so allow 1e-6).
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(ref.ll - 1e-6);
    expect(Math.abs(fit.gamma - ref.gamma)).toBeLessThan(0.002);
    expect(Math.abs(fit.sigma / ref.sigma - 1)).toBeLessThan(0.005);
  });

  it('never does worse than the exponential fit, even on small heavy-tailed samples', () => {
    for (let seed = 20; seed < 40; seed++) {
      const ys = sampleGpd(new Rng(seed), 15, 0.8, 1);
      const fit = fitGpd(ys);
      const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
      expect(fit.logLikelihood).toBeGreaterThanOrEqual(refLogLik(ys, 0, mean) - 1e-9);
      expect(fit.sigma).toBeGreaterThan(0);
    }
  });

  it('does not modify its input', () => {
    const ys = Float32Array.from([0.5, 0.1, 2.5, 0.9]);
    fitGpd(ys);
    expect(Array.from(ys)).toEqual(Array.from(Float32Array.from([0.5, 0.1, 2.5, 0.9])));
  });

  it('rejects too few, non-positive, non-finite and identical excesses', () => {
    expect(() => fitGpd([1, 2])).toThrow(/at least 3 excesses, got 2/);
    expect(() => fitGpd([1, 0, 2])).toThrow(/excess at index 1 is 0; excesses over the threshold must be > 0/);
    expect(() => fitGpd([1, Infinity, 2])).toThrow(/index 1 is Infinity/);
    expect(() => fitGpd([0.5, 0.5, 0.5, 0.5])).toThrow(/all 4 excesses equal 0.5/);
  });
});
