import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatCsvNumber } from '../../src/io/csv-number.js';

interface Fixture {
  generator: string;
  cases: [number, string][];
}
// Random float32 values with numpy's shortest round-trip text; see make-float32-shortest.py.
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/csv/float32-shortest.json', import.meta.url), 'utf8'),
) as Fixture;

const fromBits = (bits: number): number => new Float32Array(Uint32Array.of(bits).buffer)[0];

/** Significant digits of a decimal text: `-0.00120e5` → 2. */
function significantDigits(text: string): number {
  const mantissa = text.toLowerCase().split('e')[0].replace(/[-+.]/g, '');
  return mantissa.replace(/^0+/, '').replace(/0+$/, '').length;
}

describe('formatCsvNumber', () => {
  it('writes float32 values as short as numpy does, and at least as close to the value', () => {
    expect(fixture.cases.length).toBeGreaterThan(900);
    let compared = 0;
    for (const [bits, numpyText] of fixture.cases) {
      const x = fromBits(bits);
      const ours = formatCsvNumber(x);
      expect(Math.fround(Number(ours)), `${bits}: ${ours}`).toBe(x);
      // Integers are written in full rather than in numpy's exponent form: not comparable.
      if (Number.isInteger(x) && Math.abs(x) < 1e21) continue;
      compared++;
      expect(significantDigits(ours), `${bits}: ${ours} vs ${numpyText}`).toBe(significantDigits(numpyText));
      // On an exact tie (3389899.25 → 3389899.2 or .3) numpy and toPrecision round differently.
      expect(Math.abs(Number(ours) - x)).toBeLessThanOrEqual(Math.abs(Number(numpyText) - x));
    }
    expect(compared).toBeGreaterThan(500);
  });

  it.each([
    [Math.fround(0.1), '0.1'],
    [Math.fround(1 / 3), '0.33333334'],
    [Math.fround(123456.789), '123456.79'],
    [Math.fround(2.5e-7), '2.5e-7'],
    [Math.fround(3.4028234663852886e38), '3.4028235e+38'],
    [1.401298464324817e-45, '1e-45'],
    [16777216, '16777216'],
    [1000, '1000'],
    [-0, '-0'],
    [0, '0'],
  ])('float32 %d → %s', (x, text) => {
    expect(formatCsvNumber(x)).toBe(text);
  });

  it('writes values that are not float32 in full float64 form', () => {
    expect(formatCsvNumber(0.1)).toBe('0.1');
    expect(formatCsvNumber(1 / 3)).toBe('0.3333333333333333');
    expect(formatCsvNumber(1_709_210_096_123.456)).toBe('1709210096123.456');
    expect(formatCsvNumber(Math.fround(0.1), 'float64')).toBe('0.10000000149011612');
  });

  it('writes NaN empty and infinities as inf', () => {
    expect([NaN, Infinity, -Infinity].map((x) => formatCsvNumber(x))).toEqual(['', 'inf', '-inf']);
  });
});
