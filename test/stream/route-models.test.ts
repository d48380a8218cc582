import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceSlots, globMatches, routeModels } from '../../src/stream/route-models.js';

describe('globMatches', () => {
  it('matches * as any run (also none) and ? as one character, over the whole name', () => {
    const cases: [string, string, boolean][] = [
      ['pump-*', 'pump-1', true],
      ['pump-*', 'pump-', true],
      ['pump-*', 'xpump-1', false],
      ['*-7', 'site/pump-7', true],
      ['pump-?', 'pump-12', false],
      ['pump-??', 'pump-12', true],
      ['*a*b*c', 'xxaYbZZc', true],
      ['*a*b*c', 'xxaYbZZcd', false],
      ['a*b', 'ab', true],
      ['a*b', 'aXbXb', true],
      ['a*b', 'aXbXc', false],
      ['*', '', true],
      ['?', '', false],
      ['exact', 'exact', true],
      ['exact', 'exactly', false],
      ['**?', 'q', true],
    ];
    for (const [pattern, text, want] of cases) expect([pattern, text, globMatches(pattern, text)]).toEqual([pattern, text, want]);
  });

  it('property: agrees with an independent regular-expression reference', () => {
    const alphabet = fc.constantFrom('a', 'b', '-');
    const pattern = fc.array(fc.constantFrom('a', 'b', '-', '*', '?'), { maxLength: 8 }).map((cs) => cs.join(''));
    const text = fc.array(alphabet, { maxLength: 10 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        const re = new RegExp(`^${[...p].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c)).join('')}$`);
        expect(globMatches(p, t)).toBe(re.test(t));
      }),
      { seed: 99, numRuns: 2000 },
    );
  });
});

describe('routeModels', () => {
  it('routes by the first matching pattern, null when none matches', () => {
    const route = routeModels([
      { pattern: 'pump-0*', model: 'pump-legacy' },
      { pattern: 'pump-*', model: 'pump' },
      { pattern: 'fan-??', model: 'fan' },
    ]);
    expect(route('pump-07')).toBe('pump-legacy');
    expect(route('pump-17')).toBe('pump');
    expect(route('fan-01')).toBe('fan');
    expect(route('fan-1')).toBeNull();
    expect(route('')).toBeNull();
    expect(routeModels([])('x')).toBeNull();
  });

  it('names the bad rule', () => {
    expect(() => routeModels([{ pattern: '*', model: 'a' }, { pattern: '', model: 'b' }])).toThrow('routeModels: routes[1].pattern must be a non-empty string, got ""');
    expect(() => routeModels([{ pattern: '*', model: '' }])).toThrow('routeModels: routes[0].model must be a non-empty string, got ""');
  });
});

describe('DeviceSlots', () => {
  it('admits up to maxDevices devices, lowest free slot first, and reuses released slots', () => {
    const slots = new DeviceSlots(3);
    expect(['a', 'b', 'c', 'd'].map((d) => slots.slotOf(d))).toEqual([0, 1, 2, -1]);
    expect(slots.slotOf('b')).toBe(1);
    expect(slots.size).toBe(3);
    expect(slots.release('b')).toBe(1);
    expect(slots.release('b')).toBe(-1);
    expect(slots.peek('d')).toBe(-1);
    expect(slots.release('a')).toBe(0);
    expect(slots.slotOf('d')).toBe(0);
    expect(slots.slotOf('e')).toBe(1);
    expect(slots.slotOf('f')).toBe(-1);
    expect(slots.peek('e')).toBe(1);
  });

  it('property: never gives two admitted devices one slot, never exceeds the cap', () => {
    const ops = fc.array(fc.record({ release: fc.boolean(), device: fc.integer({ min: 0, max: 9 }) }), { maxLength: 80 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), ops, (cap, list) => {
        const slots = new DeviceSlots(cap);
        const model = new Map<number, number>();
        for (const op of list) {
          if (op.release) {
            expect(slots.release(`d${op.device}`)).toBe(model.get(op.device) ?? -1);
            model.delete(op.device);
          } else {
            const s = slots.slotOf(`d${op.device}`);
            const taken = new Set(model.values());
            if (model.has(op.device)) expect(s).toBe(model.get(op.device));
            else if (model.size === cap) expect(s).toBe(-1);
            else {
              // The lowest slot not taken.
              let lowest = 0;
              while (taken.has(lowest)) lowest++;
              expect(s).toBe(lowest);
              model.set(op.device, s);
            }
          }
          expect(slots.size).toBe(model.size);
        }
      }),
      { seed: 5, numRuns: 300 },
    );
  });

  it('names a bad cap', () => {
    expect(() => new DeviceSlots(0)).toThrow('DeviceSlots: maxDevices must be a positive integer, got 0');
  });
});
