import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { chunk } from '../../src/stream/chunk.js';
import type { InboundMessage, Reading, ReadingChunk } from '../../src/stream/types.js';
import { message, testScheduler } from './stream-fixtures.js';

function reading(device: string, timeMs: number, values: number[], model = 'm'): Reading {
  return { device, model, tags: { d: device }, timeMs, values: Float32Array.from(values), sources: [message(`t/${device}`, String(timeMs), timeMs)] };
}

function chunkOf(readings: Reading[]): ReadingChunk {
  const first = readings[0] as Reading;
  return {
    device: first.device,
    model: first.model,
    tags: first.tags,
    timesMs: Float64Array.from(readings.map((r) => r.timeMs)),
    values: Float32Array.from(readings.flatMap((r) => [...r.values])),
    sources: readings.map((r) => r.sources),
  };
}

describe('chunk', () => {
  it('empty: completes with nothing', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold<Reading>('|').pipe(chunk({ length: 3, maxWaitMs: 5, scheduler: ts }))).toBe('|');
    });
  });

  it('one value: a partial chunk leaves maxWaitMs after its first reading', () => {
    const ts = testScheduler();
    const a = reading('d1', 10, [1, 2]);
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('-a 10ms |', { a }).pipe(chunk({ length: 3, maxWaitMs: 5, scheduler: ts }))).toBe('------x 5ms |', { x: chunkOf([a]) });
    });
  });

  it('many values: full chunks per device leave with their last reading, devices interleaved', () => {
    const ts = testScheduler();
    const [a1, a2, a3, a4] = [1, 2, 3, 4].map((t) => reading('d1', t, [t, -t]));
    const [b1, b2] = [1, 2].map((t) => reading('d2', t, [10 * t, 0]));
    ts.run(({ cold, expectObservable }) => {
      const src = cold('abcdef|', { a: a1, b: b1, c: a2, d: b2, e: a3, f: a4 });
      expectObservable(src.pipe(chunk({ length: 2, maxWaitMs: 100, scheduler: ts }))).toBe('--xy-z|', {
        x: chunkOf([a1 as Reading, a2 as Reading]),
        y: chunkOf([b1 as Reading, b2 as Reading]),
        z: chunkOf([a3 as Reading, a4 as Reading]),
      });
    });
    // The [L, C] layout is time-major: reading t at values[t·C .. (t+1)·C).
    expect([...chunkOf([a1 as Reading, a2 as Reading]).values]).toEqual([1, -1, 2, -2]);
  });

  it('length 1: every reading is a chunk at once, no timers', () => {
    const ts = testScheduler();
    const a = reading('d1', 1, [5]);
    const b = reading('d1', 2, [6]);
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('ab', { a, b }).pipe(chunk({ length: 1, maxWaitMs: 5, scheduler: ts }))).toBe('xy', { x: chunkOf([a]), y: chunkOf([b]) });
    });
    expect(ts.actions).toEqual([]);
  });

  it('a change of model or channel count closes the chunk before the reading', () => {
    const ts = testScheduler();
    const a = reading('d1', 1, [1, 2]);
    const b = reading('d1', 2, [3, 4], 'other');
    const c = reading('d1', 3, [5, 6, 7], 'other');
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('abc|', { a, b, c }).pipe(chunk({ length: 4, maxWaitMs: 50, scheduler: ts }))).toBe('-xy(z|)', { x: chunkOf([a]), y: chunkOf([b]), z: chunkOf([c]) });
    });
  });

  it('completion flushes every partial chunk in order of their first readings', () => {
    const ts = testScheduler();
    const b1 = reading('d2', 1, [1]);
    const a1 = reading('d1', 1, [2]);
    const b2 = reading('d2', 2, [3]);
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('bac|', { b: b1, a: a1, c: b2 }).pipe(chunk({ length: 3, maxWaitMs: 50, scheduler: ts }))).toBe('---(xy|)', { x: chunkOf([b1, b2]), y: chunkOf([a1]) });
    });
    expect(ts.actions).toEqual([]);
  });

  it('error: discards partial chunks and passes the error', () => {
    const ts = testScheduler();
    const a = reading('d1', 1, [1]);
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('a#', { a }).pipe(chunk({ length: 3, maxWaitMs: 50, scheduler: ts }))).toBe('-#');
    });
    expect(ts.actions).toEqual([]);
  });

  it('never ending: the time bound keeps flushing', () => {
    const ts = testScheduler();
    const a = reading('d1', 1, [1]);
    const b = reading('d1', 2, [2]);
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('a 9ms b', { a, b }).pipe(chunk({ length: 3, maxWaitMs: 3, scheduler: ts }))).toBe('---x 6ms ---y', { x: chunkOf([a]), y: chunkOf([b]) });
    });
  });

  it('early unsubscribe: unsubscribes the source and clears every timer', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a---|', { a: reading('d1', 1, [1]) });
      expectObservable(source.pipe(chunk({ length: 3, maxWaitMs: 10, scheduler: ts })), '^-!').toBe('---');
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
    const scheduler = testScheduler();
    const input = new Subject<Reading>();
    const got: ReadingChunk[] = [];
    const subscription = input.pipe(chunk({ length: 3, maxWaitMs: 10, scheduler })).subscribe((c) => got.push(c));
    input.next(reading('d1', 1, [1]));
    input.next(reading('d2', 1, [1]));
    expect(scheduler.actions.length).toBe(2);
    subscription.unsubscribe();
    expect(scheduler.actions).toEqual([]);
    scheduler.flush();
    expect(got).toEqual([]);
  });

  it('checks its options once, naming the bad one', () => {
    expect(() => chunk({ length: 0 })).toThrow('chunk: length must be a positive integer, got 0');
    expect(() => chunk({ length: 2.5 })).toThrow('chunk: length must be a positive integer, got 2.5');
    expect(() => chunk({ length: 2, maxWaitMs: -1 })).toThrow('chunk: maxWaitMs must be a number ≥ 0 (or Infinity), got -1');
  });

  it('property: never loses or duplicates a reading, keeps per-device order, respects L and maxWaitMs', () => {
    const arrivals = fc.array(fc.record({ device: fc.integer({ min: 0, max: 3 }), gapMs: fc.integer({ min: 0, max: 7 }) }), { maxLength: 60 });
    fc.assert(
      fc.property(arrivals, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 20 }), fc.boolean(), (input, L, maxWaitMs, completes) => {
        const scheduler = testScheduler();
        const source = new Subject<Reading>();
        const emitted: { chunk: ReadingChunk; atMs: number }[] = [];
        source.pipe(chunk({ length: L, maxWaitMs, scheduler })).subscribe((c) => emitted.push({ chunk: c, atMs: scheduler.now() }));
        const arrivedAt = new Map<InboundMessage, number>();
        const byDevice = new Map<string, Reading[]>();
        let at = 0;
        input.forEach(({ device, gapMs }, i) => {
          at += gapMs;
          const r = reading(`d${device}`, i, [i, device]);
          arrivedAt.set(r.sources[0] as InboundMessage, at);
          byDevice.set(r.device, [...(byDevice.get(r.device) ?? []), r]);
          scheduler.schedule(() => source.next(r), at);
        });
        if (completes) scheduler.schedule(() => source.complete(), at);
        scheduler.flush();
        const out = new Map<string, number[]>();
        for (const { chunk: c, atMs } of emitted) {
          const n = c.timesMs.length;
          expect(n).toBeGreaterThanOrEqual(1);
          expect(n).toBeLessThanOrEqual(L);
          expect(c.values.length).toBe(2 * n);
          expect(c.sources.length).toBe(n);
          const firstArrival = arrivedAt.get(c.sources[0]?.[0] as InboundMessage) as number;
          if (n < L && atMs < at) expect(atMs - firstArrival).toBe(maxWaitMs);
          expect(atMs - firstArrival).toBeLessThanOrEqual(maxWaitMs);
          for (let k = 0; k < n; k++) {
            expect(c.values[2 * k]).toBe(c.timesMs[k]);
            out.set(c.device, [...(out.get(c.device) ?? []), c.timesMs[k] as number]);
          }
        }
        // Every reading exactly once, per device in arrival order (times are arrival indices).
        for (const [device, readings] of byDevice) {
          const got = out.get(device) ?? [];
          expect(got).toEqual(readings.map((r) => r.timeMs));
        }
        expect([...out.keys()].every((d) => byDevice.has(d))).toBe(true);
        expect(scheduler.actions).toEqual([]);
      }),
      { seed: 4242, numRuns: 300 },
    );
  });
});
