import { describe, expect, it } from 'vitest';
import { evaluate, eventStarts, windowsToRows } from '../../src/detect/evaluate.js';
import { labelsFromWindows } from '../../src/io/nab-windows.js';

const u8 = (xs: number[]): Uint8Array => Uint8Array.from(xs);

describe('evaluate', () => {
  it('counts only rows from fromRow on, and point metrics only over scored rows (hand-checked)', () => {
    // rows:      0  1  2  3  4  5  6  7
    // labels:    1  0  0  1  1  0  0  0
    // predicted: 1  0  0  0  1  1  0  0
    // ready:     1  1  0  1  1  1  1  1
    const e = evaluate({ timesMs: null, labels: u8([1, 0, 0, 1, 1, 0, 0, 0]), predicted: u8([1, 0, 0, 0, 1, 1, 0, 0]), ready: u8([1, 1, 0, 1, 1, 1, 1, 1]) }, 2, null);
    // Rows 2..7; row 2 is unscored. Scored: 3(l1,p0)=fn, 4(l1,p1)=tp, 5(l0,p1)=fp, 6,7 = tn.
    expect(e.point).toMatchObject({ tp: 1, fp: 1, fn: 1, tn: 2 });
    expect(e.rows).toBe(6);
    expect(e.unscoredRows).toBe(1);
    // One labelled event (rows 3-4) detected at row 4: delay 1 row; one predicted event (4-5) overlapping it.
    expect(e.event).toMatchObject({ labelledEvents: 1, detectedEvents: 1, predictedEvents: 1, meanDelayRows: 1 });
    expect(e.nab).toBeNull();
  });

  it('gives delays in ms with a clock that never steps back, and in rows only otherwise', () => {
    const base = { labels: u8([0, 1, 1, 0]), predicted: u8([0, 0, 1, 0]), ready: u8([1, 1, 1, 1]) };
    expect(evaluate({ ...base, timesMs: Float64Array.from([0, 1000, 2000, 3000]) }, 0, null).event.meanDelayMs).toBe(1000);
    const back = evaluate({ ...base, timesMs: Float64Array.from([0, 1000, 500, 3000]) }, 0, null).event;
    expect(back.meanDelayMs).toBeNull();
    expect(back.meanDelayRows).toBe(1);
  });

  it('rejects arrays of different lengths and an out-of-range fromRow', () => {
    expect(() => evaluate({ timesMs: null, labels: u8([0, 1]), predicted: u8([0]), ready: u8([1, 1]) }, 0, null)).toThrow(/must all have 2 rows/);
    expect(() => evaluate({ timesMs: null, labels: u8([0, 1]), predicted: u8([0, 1]), ready: u8([1, 1]) }, 2, null)).toThrow(/fromRow 2 is outside \[0, 2\)/);
  });
});

describe('NAB plumbing', () => {
  it('alarms are event starts', () => {
    expect(Array.from(eventStarts(u8([0, 1, 1, 0, 1, 0, 0, 1])))).toEqual([0, 1, 0, 0, 1, 0, 0, 1]);
  });

  it('maps time windows to row ranges even when the clock repeats or steps back', () => {
    const times = Float64Array.from([0, 10, 20, 20, 15, 30, 40]);
    // [12, 25] holds rows 2, 3, 4 (times 20, 20, 15); [100, 200] holds none and is skipped.
    expect(windowsToRows(times, [[12, 25], [100, 200], [30, 40]])).toEqual([[2, 4], [5, 6]]);
  });

  it('labels rows inside windows, limits included', () => {
    expect(Array.from(labelsFromWindows(Float64Array.from([0, 10, 20, 30]), [[10, 20]]))).toEqual([0, 1, 1, 0]);
  });

  it('scores a detection at the window start as A_TP, with no false positive for the open event', () => {
    const times = Float64Array.from({ length: 100 }, (_, i) => i * 60_000);
    const labels = labelsFromWindows(times, [[50 * 60_000, 59 * 60_000]]);
    const predicted = new Uint8Array(100);
    predicted.fill(1, 50, 60);
    const e = evaluate({ timesMs: times, labels, predicted, ready: new Uint8Array(100).fill(1) }, 15, [[50 * 60_000, 59 * 60_000]]);
    const standard = e.nab!['standard']!;
    expect(standard.detectedWindows).toBe(1);
    expect(standard.fp).toBe(0);
    // NAB (sweeper.py) rewards a detection at a window's first row with exactly A_TP (= 1 in the
    // standard profile); see the hand-worked cases in nab-score.test.ts.
    expect(standard.score).toBeCloseTo(1, 9);
  });
});
