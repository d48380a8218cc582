import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { binaryRuns, eventMetrics } from '../../src/detect/event-metrics.js';

describe('binaryRuns', () => {
  it('finds maximal runs of 1 with inclusive ends', () => {
    expect(binaryRuns([1, 1, 0, 1])).toEqual([{ start: 0, end: 1 }, { start: 3, end: 3 }]);
    expect(binaryRuns([0, 0, 0])).toEqual([]);
    expect(binaryRuns([])).toEqual([]);
    expect(binaryRuns(new Uint8Array([1, 1, 1]))).toEqual([{ start: 0, end: 2 }]);
  });
  it('rejects non-binary values', () => {
    expect(() => binaryRuns([0, 1, 7])).toThrow('values[2] must be 0 or 1, got 7');
  });
});

describe('eventMetrics', () => {
  // row:        0  1  2  3  4  5  6  7  8  9 10 11
  const labels = [0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1];
  const pred = [0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 1];
  const timesMs = [0, 10, 20, 35, 50, 60, 70, 80, 90, 100, 110, 130];
  // labelled events: [1,3] first hit row 2 (delay 1 row, 20 − 10 = 10 ms); [6,7] missed;
  //                  [11,11] hit at row 11 (delay 0)
  // predicted events: [2,3] overlaps, [5,5] no, [9,9] no, [11,11] overlaps
  // recall 2/3, precision 2/4, F1 = 2·(1/2)·(2/3) / (1/2 + 2/3) = (2/3)/(7/6) = 4/7

  it('scores events and delays on a hand-checked example', () => {
    const m = eventMetrics(labels, pred, { timesMs });
    expect(m.labelledEvents).toBe(3);
    expect(m.predictedEvents).toBe(4);
    expect(m.detectedEvents).toBe(2);
    expect(m.matchedPredictedEvents).toBe(2);
    expect(m.recall).toBeCloseTo(2 / 3, 15);
    expect(m.precision).toBe(0.5);
    expect(m.f1).toBeCloseTo(4 / 7, 15);
    expect(m.meanDelayRows).toBe(0.5); // (1 + 0) / 2
    expect(m.medianDelayRows).toBe(0.5);
    expect(m.meanDelayMs).toBe(5); // (10 + 0) / 2
    expect(m.medianDelayMs).toBe(5);
    expect(m.labelled).toEqual([
      { start: 1, end: 3, lengthRows: 3, detected: true, firstDetection: 2, delayRows: 1, delayMs: 10 },
      { start: 6, end: 7, lengthRows: 2, detected: false, firstDetection: null, delayRows: null, delayMs: null },
      { start: 11, end: 11, lengthRows: 1, detected: true, firstDetection: 11, delayRows: 0, delayMs: 0 },
    ]);
    expect(m.predicted.map((e) => e.overlapsLabel)).toEqual([true, false, false, true]);
    expect(m.predicted[0]).toEqual({ start: 2, end: 3, lengthRows: 2, overlapsLabel: true });
  });

  it('reports delays in rows only when no times are given', () => {
    const m = eventMetrics(labels, pred);
    expect(m.meanDelayRows).toBe(0.5);
    expect(m.meanDelayMs).toBeNull();
    expect(m.medianDelayMs).toBeNull();
    expect(m.labelled[0].delayMs).toBeNull();
  });

  it('lets one predicted event detect two labelled events', () => {
    // labels [1,1,0,1,1], pred [0,1,1,1,0]: one predicted run [1,3] touching both labelled runs
    const m = eventMetrics([1, 1, 0, 1, 1], [0, 1, 1, 1, 0]);
    expect(m.predictedEvents).toBe(1);
    expect(m.precision).toBe(1);
    expect(m.recall).toBe(1);
    expect(m.labelled.map((e) => e.delayRows)).toEqual([1, 0]);
  });

  it('gives delay 0 to an alarm already raised before the event starts', () => {
    // the first predicted-1 row inside [2,4] is row 2, the event's start
    const m = eventMetrics([0, 0, 1, 1, 1], [1, 1, 1, 0, 0]);
    expect(m.labelled[0].firstDetection).toBe(2);
    expect(m.labelled[0].delayRows).toBe(0);
    expect(m.precision).toBe(1);
  });

  it('takes the median of an odd number of delays and the mean of the two middle ones otherwise', () => {
    // events [0,5], [7,12], [14,19]; first hits at 0, 12 (delay 5), 15 (delay 1)
    const l = Array.from({ length: 20 }, (_, i) => (i === 6 || i === 13 ? 0 : 1));
    const p = new Array<number>(20).fill(0);
    p[0] = 1; p[12] = 1; p[15] = 1;
    const m = eventMetrics(l, p);
    expect(m.labelled.map((e) => e.delayRows)).toEqual([0, 5, 1]);
    expect(m.medianDelayRows).toBe(1);
    expect(m.meanDelayRows).toBe(2);
  });

  it('uses null for empty denominators and F1 0 when both ratios are 0', () => {
    const none = eventMetrics([0, 0, 0], [0, 0, 0]);
    expect([none.precision, none.recall, none.f1, none.meanDelayRows, none.medianDelayRows]).toEqual([
      null, null, null, null, null,
    ]);
    const missed = eventMetrics([1, 1, 0, 0], [0, 0, 0, 1]);
    expect(missed.precision).toBe(0);
    expect(missed.recall).toBe(0);
    expect(missed.f1).toBe(0);
    const silent = eventMetrics([1, 0], [0, 0]);
    expect(silent.precision).toBeNull();
    expect(silent.f1).toBeNull();
  });

  it('validates its inputs', () => {
    expect(() => eventMetrics([0, 1], [0, 1, 0])).toThrow(/labels and predicted must have the same length/);
    expect(() => eventMetrics([0, 3], [0, 1])).toThrow(/labels\[1\] must be 0 or 1, got 3/);
    expect(() => eventMetrics([0, 1], [0, 1], { timesMs: [0] })).toThrow(/labels and timesMs must have the same length/);
    expect(() => eventMetrics([0, 1], [0, 1], { timesMs: [5, 4] })).toThrow(/timesMs must be non-decreasing/);
    expect(() => eventMetrics([0, 1], [0, 1], { timesMs: [0, Number.POSITIVE_INFINITY] })).toThrow(
      /timesMs\[1\] must be a finite number/,
    );
  });

  it('agrees with an independent transition-based reference (fast-check, seed 424242)', () => {
    const pair = fc
      .integer({ min: 0, max: 50 })
      .chain((n) =>
        fc.tuple(
          fc.array(fc.constantFrom(0, 1), { minLength: n, maxLength: n }),
          fc.array(fc.constantFrom(0, 1), { minLength: n, maxLength: n }),
        ),
      );
    fc.assert(
      fc.property(pair, ([l, p]) => {
        // reference: an event starts where a 1 follows a 0 (or the series start)
        const starts = (xs: number[]) => xs.flatMap((x, i) => (x === 1 && (i === 0 || xs[i - 1] === 0) ? [i] : []));
        const endOf = (xs: number[], s: number) => {
          let e = s;
          while (e + 1 < xs.length && xs[e + 1] === 1) e++;
          return e;
        };
        const lStarts = starts(l);
        const pStarts = starts(p);
        const detected = lStarts.filter((s) => p.slice(s, endOf(l, s) + 1).includes(1)).length;
        const matched = pStarts.filter((s) => l.slice(s, endOf(p, s) + 1).includes(1)).length;
        const m = eventMetrics(l, p);
        expect(m.labelledEvents).toBe(lStarts.length);
        expect(m.predictedEvents).toBe(pStarts.length);
        expect(m.detectedEvents).toBe(detected);
        expect(m.matchedPredictedEvents).toBe(matched);
        for (const e of m.labelled) {
          if (e.firstDetection !== null) {
            expect(p[e.firstDetection]).toBe(1);
            expect(p.slice(e.start, e.firstDetection)).not.toContain(1);
          }
        }
      }),
      { seed: 424242, numRuns: 300 },
    );
  });
});
