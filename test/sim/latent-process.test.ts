import { describe, it, expect } from 'vitest';
import { Rng } from '../../src/nn/random.js';
import { LatentProcess } from '../../src/sim/latent-process.js';
import { mean, pearson, std } from './signal-stats.js';

describe('LatentProcess', () => {
  it('starts in its stationary law: zero mean and unit variance across independent starts', () => {
    const first: number[] = [];
    const tenth: number[] = [];
    for (let s = 0; s < 4000; s++) {
      const p = new LatentProcess(new Rng(s));
      first.push(p.value);
      for (let i = 0; i < 9; i++) p.step();
      tenth.push(p.value);
    }
    // Standard error of the mean ≈ 1/√4000 ≈ 0.016, of the std ≈ 0.011.
    for (const x of [first, tenth]) {
      expect(Math.abs(mean(x))).toBeLessThan(0.06);
      expect(Math.abs(std(x) - 1)).toBeLessThan(0.05);
    }
  });

  it('is smooth (neighbours nearly equal) and forgets slowly (about 100 rows)', () => {
    const p = new LatentProcess(new Rng(3));
    const x = Array.from({ length: 200_000 }, () => p.step());
    expect(Math.abs(mean(x))).toBeLessThan(0.1);
    expect(Math.abs(std(x) - 1)).toBeLessThan(0.08);
    const lagged = (k: number): number => pearson(x.slice(0, x.length - k), x.slice(k));
    expect(lagged(1)).toBeGreaterThan(0.99);
    // An AR(1) with coefficient 0.99 keeps 0.99^100 ≈ 0.37 after 100 rows; the smoothing stage adds a little.
    expect(lagged(100)).toBeGreaterThan(0.3);
    expect(lagged(100)).toBeLessThan(0.5);
    expect(Math.abs(lagged(1000))).toBeLessThan(0.1);
  });

  it('rejects coefficients outside [0, 1)', () => {
    expect(() => new LatentProcess(new Rng(1), 1)).toThrow(/slowCoef must be in \[0, 1\), got 1/);
    expect(() => new LatentProcess(new Rng(1), 0.5, -0.1)).toThrow(/smoothCoef/);
  });
});
