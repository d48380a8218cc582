import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Hysteresis, type AnomalyEvent, type HysteresisOptions } from '../../src/detect/hysteresis.js';

interface Row {
  anomaly: 0 | 1;
  exceeded: 0 | 1;
  event: AnomalyEvent | null;
}

/** Runs scores (threshold 1, reading i at time 1000·i) and copies every step. */
function run(h: Hysteresis, scores: readonly number[], contribs?: readonly (readonly number[])[], offset = 0): Row[] {
  return scores.map((s, j) => {
    const i = offset + j;
    const step = h.update(s, 1, 1000 * i, contribs?.[j]);
    return { anomaly: step.anomaly, exceeded: step.exceeded, event: step.event };
  });
}

describe('Hysteresis with defaults (openAfter 1, closeAfter 3)', () => {
  const scores = [0.5, 2, 0.5, 0.5, 3, 0.5, 0.5, 0.5, 0.5];

  it('flags the event state and emits start and end once each', () => {
    const rows = run(new Hysteresis(), scores);
    expect(rows.map((r) => r.anomaly)).toEqual([0, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect(rows.map((r) => r.exceeded)).toEqual([0, 1, 0, 0, 1, 0, 0, 0, 0]);
    const events = rows.flatMap((r, i) => (r.event ? [[i, r.event] as const] : []));
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual([1, { kind: 'start', startMs: 1000, peakScore: 2, peakMs: 1000, readings: 1, exceedances: 1, topChannels: [] }]);
    // The end is confirmed at reading 7 (third quiet reading); the event spans readings 1..4.
    expect(events[1]).toEqual([
      7,
      { kind: 'end', startMs: 1000, endMs: 4000, peakScore: 3, peakMs: 4000, readings: 4, exceedances: 2, topChannels: [] },
    ]);
  });

  it('treats a score equal to the threshold as quiet', () => {
    const rows = run(new Hysteresis({ closeAfter: 1 }), [2, 1, 1]);
    expect(rows.map((r) => r.exceeded)).toEqual([1, 0, 0]);
    expect(rows[1]!.event?.kind).toBe('end');
  });
});

describe('Hysteresis with openAfter 3, closeAfter 1', () => {
  it('needs three consecutive exceedances; a quiet reading resets the count', () => {
    const rows = run(new Hysteresis({ openAfter: 3, closeAfter: 1 }), [2, 2, 0.5, 2, 2, 2, 4, 0.5, 0.5]);
    expect(rows.map((r) => r.anomaly)).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0]);
    expect(rows[5]!.event).toEqual({ kind: 'start', startMs: 3000, peakScore: 2, peakMs: 3000, readings: 3, exceedances: 3, topChannels: [] });
    expect(rows[7]!.event).toEqual({ kind: 'end', startMs: 3000, endMs: 6000, peakScore: 4, peakMs: 6000, readings: 4, exceedances: 4, topChannels: [] });
    expect(rows.filter((r) => r.event !== null)).toHaveLength(2);
  });
});

describe('attribution', () => {
  const contribs = [
    [0.6, 0.3, 0.1], // score 2
    [0.1, 0.2, 0.7], // score 5 (peak)
    [1, 0, 0], // quiet: not counted
    [1, 0, 0], // quiet: closes
  ];
  const scores = [2, 5, 0.5, 0.5];

  it('ranks channels by mean share over the exceeding readings', () => {
    const rows = run(new Hysteresis({ channels: 3, topK: 2, closeAfter: 2 }), scores, contribs);
    expect(rows[0]!.event?.topChannels).toEqual([
      { index: 0, share: 0.6 },
      { index: 1, share: 0.3 },
    ]);
    const end = rows[3]!.event;
    expect(end?.kind).toBe('end');
    // means: [0.35, 0.25, 0.4]
    expect(end?.topChannels.map((c) => c.index)).toEqual([2, 0]);
    expect(end?.topChannels[0]!.share).toBeCloseTo(0.4, 12);
    expect(end?.topChannels[1]!.share).toBeCloseTo(0.35, 12);
  });

  it('ranks channels by their share at the peak reading', () => {
    const rows = run(new Hysteresis({ channels: 3, topK: 2, closeAfter: 2, rankChannelsBy: 'peak' }), scores, contribs);
    expect(rows[3]!.event?.topChannels).toEqual([
      { index: 2, share: 0.7 },
      { index: 1, share: 0.2 },
    ]);
  });

  it('lists at most C channels, ties by lower index', () => {
    const rows = run(new Hysteresis({ channels: 2, topK: 5 }), [2], [[0.5, 0.5]]);
    expect(rows[0]!.event?.topChannels).toEqual([
      { index: 0, share: 0.5 },
      { index: 1, share: 0.5 },
    ]);
  });
});

describe('edge cases and errors', () => {
  it('reuses one step object (no allocation per reading)', () => {
    const h = new Hysteresis();
    expect(h.update(0.1, 1, 0)).toBe(h.update(0.2, 1, 1000));
  });

  it('skips NaN scores and thresholds without changing state', () => {
    const h = new Hysteresis({ closeAfter: 2 });
    h.update(2, 1, 0);
    expect(h.update(0.5, 1, 1000).anomaly).toBe(1);
    const skipped = h.update(Number.NaN, 1, 2000);
    expect(skipped).toMatchObject({ anomaly: 1, exceeded: 0, event: null });
    expect(h.update(0.5, Number.NaN, 3000).event).toBeNull();
    expect(h.update(0.5, 1, 4000).event?.kind).toBe('end'); // the second real quiet reading
  });

  it('lets an infinite score exceed', () => {
    expect(new Hysteresis().update(Infinity, 1e30, 0).event?.kind).toBe('start');
  });

  it('reset() drops an open event silently', () => {
    const h = new Hysteresis({ closeAfter: 1 });
    h.update(2, 1, 0);
    h.reset();
    expect(h.phase).toBe('idle');
    expect(h.update(0.5, 1, 1000).event).toBeNull();
  });

  it('rejects bad options and inputs with clear messages', () => {
    expect(() => new Hysteresis({ openAfter: 0 })).toThrow(/openAfter must be an integer ≥ 1, got 0/);
    expect(() => new Hysteresis({ closeAfter: 1.5 })).toThrow(/closeAfter must be an integer ≥ 1, got 1.5/);
    expect(() => new Hysteresis({ channels: -1 })).toThrow(/channels must be an integer ≥ 0, got -1/);
    expect(() => new Hysteresis({ topK: 0 })).toThrow(/topK must be an integer ≥ 1, got 0/);
    expect(() => new Hysteresis({ rankChannelsBy: 'max' as 'peak' })).toThrow(/rankChannelsBy must be 'mean' or 'peak', got 'max'/);
    const h = new Hysteresis({ channels: 2 });
    expect(() => h.update(1, 1, Number.NaN)).toThrow(/timeMs must be finite, got NaN/);
    expect(() => h.update(1, 1, 0, [1, 2, 3])).toThrow(/contrib has 3 values, expected channels = 2/);
  });

  it('restore() validates the snapshot before changing anything', () => {
    const h = new Hysteresis({ channels: 2 });
    h.update(2, 1, 0, [0.5, 0.5]);
    const good = h.snapshot();
    const other = new Hysteresis({ channels: 3 });
    expect(() => other.restore(good)).toThrow(/snapshot has channels = 2, this instance has 3/);
    const fresh = new Hysteresis({ channels: 2 });
    expect(() => fresh.restore({ ...good, version: 2 })).toThrow(/unsupported snapshot version 2/);
    expect(() => fresh.restore({ ...good, phase: 'closing' })).toThrow(/phase must be one of idle, pending, open, got "closing"/);
    expect(() => fresh.restore({ ...good, quietRun: -1 })).toThrow(/quietRun must be a non-negative integer, got -1/);
    expect(() => fresh.restore({ ...good, sumShares: [1] })).toThrow(/sumShares must be an array of 2 finite numbers/);
    expect(() => fresh.restore({ ...good, peakScore: null })).toThrow(/peakScore must be a finite number, got null/);
    expect(() => fresh.restore('x')).toThrow(/snapshot must be an object/);
    expect(fresh.phase).toBe('idle');
    fresh.restore(good);
    expect(fresh.phase).toBe('open');
  });
});

/**
 * Independent offline reference written from the definition with windows instead of counters:
 * an event opens at i when it is closed and the last `openAfter` readings all exceeded; it closes
 * at i when it is open and the last `closeAfter` readings were all quiet.
 */
function reference(exceeded: readonly boolean[], openAfter: number, closeAfter: number): { flags: number[]; events: [number, string, number, number?][] } {
  const flags: number[] = [];
  const events: [number, string, number, number?][] = [];
  let open = false;
  let startIndex = -1;
  for (let i = 0; i < exceeded.length; i++) {
    const last = (k: number): boolean[] => (i + 1 >= k ? exceeded.slice(i + 1 - k, i + 1) : []);
    if (!open) {
      const w = last(openAfter);
      if (w.length === openAfter && w.every((e) => e)) {
        open = true;
        startIndex = i + 1 - openAfter;
        events.push([i, 'start', startIndex]);
      }
    } else {
      const w = last(closeAfter);
      if (w.length === closeAfter && w.every((e) => !e)) {
        open = false;
        events.push([i, 'end', startIndex, i - closeAfter]);
      }
    }
    flags.push(open ? 1 : 0);
  }
  return { flags, events };
}

describe('properties', () => {
  const scoresArb = fc.array(fc.constantFrom(0.2, 0.9, 1, 1.5, 3, 8), { minLength: 0, maxLength: 120 });
  const optsArb = fc.record({ openAfter: fc.integer({ min: 1, max: 4 }), closeAfter: fc.integer({ min: 1, max: 4 }) });

  it('matches the window-based reference: flags, event order, start and end times', () => {
    fc.assert(
      fc.property(scoresArb, optsArb, (scores, opts) => {
        const rows = run(new Hysteresis(opts), scores);
        const ref = reference(
          scores.map((s) => s > 1),
          opts.openAfter,
          opts.closeAfter,
        );
        expect(rows.map((r) => r.anomaly)).toEqual(ref.flags);
        const got = rows.flatMap((r, i) =>
          r.event ? [r.event.kind === 'end' ? [i, r.event.kind, r.event.startMs / 1000, r.event.endMs! / 1000] : [i, r.event.kind, r.event.startMs / 1000]] : [],
        );
        expect(got).toEqual(ref.events);
      }),
      { seed: 7171, numRuns: 400 },
    );
  });

  it('snapshot → JSON → restore mid-stream equals the uninterrupted run', () => {
    const contribArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0.2, 1, 1.5, 3, 8), contribArb), { minLength: 1, maxLength: 80 }),
        optsArb,
        fc.nat(),
        fc.constantFrom<'mean' | 'peak'>('mean', 'peak'),
        (readings, opts, cut, rankChannelsBy) => {
          const options: HysteresisOptions = { ...opts, channels: 3, topK: 2, rankChannelsBy };
          const scores = readings.map((r) => r[0]);
          const contribs = readings.map((r) => r[1]);
          const whole = run(new Hysteresis(options), scores, contribs);
          const k = cut % (scores.length + 1);
          const first = new Hysteresis(options);
          const before = run(first, scores.slice(0, k), contribs.slice(0, k));
          const second = new Hysteresis(options);
          second.restore(JSON.parse(JSON.stringify(first.snapshot())));
          const after = run(second, scores.slice(k), contribs.slice(k), k);
          expect([...before, ...after]).toEqual(whole);
        },
      ),
      { seed: 31337, numRuns: 300 },
    );
  });
});
