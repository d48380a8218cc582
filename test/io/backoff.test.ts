import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffBoundMs, backoffDelayMs, DEFAULT_BACKOFF, parseRetryAfterMs, resolveBackoffOptions, retryDelayMs } from '../../src/io/backoff.js';

const FC_SEED = 424242;

describe('backoffBoundMs', () => {
  it('doubles from initialDelayMs and stops at maxDelayMs (defaults 500 ms, ×2, 30 s)', () => {
    const bounds = [1, 2, 3, 4, 5, 6, 7, 8, 1000].map((attempt) => backoffBoundMs(attempt, DEFAULT_BACKOFF));
    expect(bounds).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('stays finite for huge attempts and a zero initial delay', () => {
    expect(backoffBoundMs(1_000_000, { ...DEFAULT_BACKOFF, multiplier: 10 })).toBe(30_000);
    expect(backoffBoundMs(50, { ...DEFAULT_BACKOFF, initialDelayMs: 0 })).toBe(0);
  });

  it('refuses attempts that are not integers ≥ 1', () => {
    for (const attempt of [0, -1, 1.5, NaN]) expect(() => backoffBoundMs(attempt, DEFAULT_BACKOFF)).toThrow(RangeError);
  });
});

describe('backoffDelayMs', () => {
  it('is the bound at random 0 and bound·(1 − jitter) as random approaches 1', () => {
    expect(backoffDelayMs(3, DEFAULT_BACKOFF, () => 0)).toBe(2000);
    expect(backoffDelayMs(3, DEFAULT_BACKOFF, () => 0.5)).toBe(1500);
    expect(backoffDelayMs(3, { ...DEFAULT_BACKOFF, jitter: 0 }, () => 0.9)).toBe(2000);
    expect(backoffDelayMs(3, { ...DEFAULT_BACKOFF, jitter: 1 }, () => 0.75)).toBe(500);
  });

  it('stays within [bound·(1 − jitter), bound] for every attempt, jitter and random value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 0, max: 10_000 }),
        (attempt, jitter, r, initialDelayMs) => {
          const options = { ...DEFAULT_BACKOFF, jitter, initialDelayMs, maxDelayMs: initialDelayMs * 60 };
          const bound = Math.min(initialDelayMs * 60, initialDelayMs * 2 ** (attempt - 1));
          const delay = backoffDelayMs(attempt, options, () => r);
          expect(delay).toBeLessThanOrEqual(bound);
          expect(delay).toBeGreaterThanOrEqual(bound * (1 - jitter) - 1e-9);
        },
      ),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.UTC(2015, 9, 21, 7, 27, 30);

  it('reads whole seconds', () => {
    expect(parseRetryAfterMs('120', now)).toBe(120_000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date relative to now; a past date gives 0', () => {
    expect(parseRetryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Wed, 21 Oct 2015 07:00:00 GMT', now)).toBe(0);
  });

  it('returns null when absent or unreadable', () => {
    for (const header of [null, undefined, '', '1.5', '-3', 'soon', 'Wed, 99 Foo']) expect(parseRetryAfterMs(header, now), String(header)).toBeNull();
  });
});

describe('retryDelayMs', () => {
  it('uses Retry-After when given (even below the backoff), capped at maxRetryAfterMs', () => {
    expect(retryDelayMs(5, 1000, DEFAULT_BACKOFF, () => 0)).toBe(1000);
    expect(retryDelayMs(1, 3_600_000, DEFAULT_BACKOFF, () => 0)).toBe(300_000);
  });

  it('falls back to the jittered backoff without Retry-After', () => {
    expect(retryDelayMs(2, null, DEFAULT_BACKOFF, () => 0.5)).toBe(750);
  });
});

describe('resolveBackoffOptions', () => {
  it('fills in defaults', () => {
    expect(resolveBackoffOptions()).toEqual(DEFAULT_BACKOFF);
    expect(resolveBackoffOptions({ jitter: 0 }).jitter).toBe(0);
  });

  it('names the bad option and value', () => {
    expect(() => resolveBackoffOptions({ multiplier: 0.5 }, 'influx.backoff')).toThrow('influx.backoff.multiplier must be a finite number ≥ 1, got 0.5');
    expect(() => resolveBackoffOptions({ jitter: 1.5 })).toThrow(/backoff.jitter must be in \[0, 1\], got 1.5/);
    expect(() => resolveBackoffOptions({ initialDelayMs: 100, maxDelayMs: 50 })).toThrow(/maxDelayMs/);
    expect(() => resolveBackoffOptions({ initialDelayMs: -1 })).toThrow(/initialDelayMs/);
    expect(() => resolveBackoffOptions({ maxRetryAfterMs: NaN })).toThrow(/maxRetryAfterMs/);
  });
});
