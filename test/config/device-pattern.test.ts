import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileDevicePattern, createDeviceSelector, devicePatternProblem } from '../../src/config/device-pattern.js';

const FC_SEED = 20261202;

/** Reference: the pattern as an anchored regular expression (test-side, independent of the matcher). */
function referenceMatches(pattern: string, device: string): boolean {
  const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 'su').test(device);
}

describe('device patterns', () => {
  it.each([
    ['pump-*', 'pump-7', true],
    ['pump-*', 'pump-', true],
    ['pump-*', 'pumps-1', false],
    ['*', '', true],
    ['*', 'anything.at(all)', true],
    ['?', 'a', true],
    ['?', 'ab', false],
    ['dev.?', 'dev.1', true],
    ['dev.?', 'devX1', false],
    ['*-line-?', 'north-line-3', true],
    ['*-line-?', 'north-line-', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['exact', 'exact', true],
    ['exact', 'Exact', false],
    ['€?', '€😀', true],
  ])('%j matches %j: %s', (pattern, device, expected) => {
    expect(compileDevicePattern(pattern)(device)).toBe(expected);
  });

  it.each([
    ['', 'non-empty'],
    ['pump-[12]', '"["'],
    ['pump-{a,b}', '"{"'],
    ['a\\*', '"\\\\"'],
    ['site/pump', '"/"'],
    ['pump+', '"+"'],
    ['#', '"#"'],
  ])('refuses %j', (pattern, named) => {
    expect(devicePatternProblem(pattern)).toContain(named);
    expect(() => compileDevicePattern(pattern)).toThrow(`device pattern ${JSON.stringify(pattern)}`);
  });

  it('agrees with a regular-expression reference on random patterns and ids', () => {
    const char = fc.constantFrom('a', 'b', '-', '.', '(', '$', 'é', '😀');
    const patternChar = fc.oneof(char, fc.constantFrom('*', '?'));
    fc.assert(
      fc.property(fc.array(patternChar, { minLength: 1, maxLength: 8 }), fc.array(char, { maxLength: 10 }), (p, d) => {
        const pattern = p.join('');
        const device = d.join('');
        expect(compileDevicePattern(pattern)(device)).toBe(referenceMatches(pattern, device));
      }),
      { seed: FC_SEED, numRuns: 2000 },
    );
  });

  it('is fast on patterns that make naive backtracking explode', () => {
    const pattern = '*a*a*a*a*a*a*a*a*a*a*b';
    const device = 'a'.repeat(5_000);
    const t0 = performance.now();
    expect(compileDevicePattern(pattern)(device)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});

describe('createDeviceSelector', () => {
  it('picks the first model whose patterns match', () => {
    const select = createDeviceSelector([
      { devices: ['pump-1?'], value: 'special' },
      { devices: ['pump-*', 'compressor-*'], value: 'pumps' },
      { devices: ['*'], value: 'generic' },
    ]);
    expect(select('pump-12')).toBe('special');
    expect(select('pump-2')).toBe('pumps');
    expect(select('compressor-a')).toBe('pumps');
    expect(select('fan')).toBe('generic');
  });

  it('answers null when nothing matches', () => {
    expect(createDeviceSelector([{ devices: ['pump-*'], value: 1 }])('fan-1')).toBeNull();
  });
});
