import { describe, it, expect } from 'vitest';
import { deriveSeed } from '../../src/sim/derive-seed.js';

describe('deriveSeed', () => {
  it('is a pure function of seed and names, returning an unsigned 32-bit integer', () => {
    const s = deriveSeed(42, 'device-0', 'noise');
    expect(deriveSeed(42, 'device-0', 'noise')).toBe(s);
    expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
  });

  it('separates seeds, names, name boundaries and the high word of large seeds', () => {
    const seeds = [
      deriveSeed(42),
      deriveSeed(43),
      deriveSeed(-42),
      deriveSeed(42 + 2 ** 32),
      deriveSeed(42, 'a'),
      deriveSeed(42, 'b'),
      deriveSeed(42, 'ab', 'c'),
      deriveSeed(42, 'a', 'bc'),
      deriveSeed(42, 'abc'),
      deriveSeed(42, ''),
      deriveSeed(42, '', ''),
    ];
    expect(new Set(seeds).size).toBe(seeds.length);
  });

  it('spreads consecutive device names over the whole 32-bit range', () => {
    const values = Array.from({ length: 4000 }, (_, i) => deriveSeed(7, `device-${i}`));
    expect(new Set(values).size).toBe(values.length);
    // Each of 8 equal ranges gets about 500 of the 4000 values.
    const bins = new Array<number>(8).fill(0);
    for (const v of values) bins[Math.floor(v / 2 ** 29)]!++;
    for (const b of bins) expect(Math.abs(b - 500)).toBeLessThan(100);
  });

  it('throws on a seed that is not a safe integer', () => {
    expect(() => deriveSeed(1.5)).toThrow(/seed must be a safe integer, got 1.5/);
    expect(() => deriveSeed(2 ** 60)).toThrow(/safe integer/);
  });
});
