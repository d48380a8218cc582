import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { pointMetrics, ratioOrNull, checkBinarySeries } from '../../src/detect/point-metrics.js';

describe('pointMetrics', () => {
  // row:        0  1  2  3  4  5  6  7
  const labels = [1, 1, 0, 0, 1, 0, 0, 1];
  const pred = [1, 0, 1, 0, 1, 0, 0, 0];
  // tp = rows 0,4 → 2; fn = rows 1,7 → 2; fp = row 2 → 1; tn = rows 3,5,6 → 3

  it('counts and ratios on a hand-checked example', () => {
    const m = pointMetrics(labels, pred);
    expect([m.tp, m.fp, m.fn, m.tn]).toEqual([2, 1, 2, 3]);
    expect(m.precision).toBeCloseTo(2 / 3, 15); // 2 / (2 + 1)
    expect(m.recall).toBe(0.5); // 2 / (2 + 2)
    expect(m.f1).toBeCloseTo(4 / 7, 15); // 2·2 / (2·2 + 1 + 2)
    expect(m.falseAlarmRate).toBe(0.25); // 1 / (1 + 3)
    expect(m.missedAlarmRate).toBe(0.5); // 2 / (2 + 2)
  });

  it('counts only the rows of the mask', () => {
    // mask drops row 1 (an fn) and row 2 (the fp): tp 2, fn 1, fp 0, tn 3
    const m = pointMetrics(labels, pred, [1, 0, 0, 1, 1, 1, 1, 1]);
    expect([m.tp, m.fp, m.fn, m.tn]).toEqual([2, 0, 1, 3]);
    expect(m.precision).toBe(1);
    expect(m.recall).toBeCloseTo(2 / 3, 15);
    expect(m.f1).toBeCloseTo(0.8, 15); // 4 / (4 + 0 + 1)
    expect(m.falseAlarmRate).toBe(0);
    expect(m.missedAlarmRate).toBeCloseTo(1 / 3, 15);
  });

  it('reports null, never NaN, for empty denominators', () => {
    const allNormal = pointMetrics([0, 0, 0], [0, 0, 0]);
    expect(allNormal).toEqual({
      tp: 0, fp: 0, fn: 0, tn: 3,
      precision: null, recall: null, f1: null, falseAlarmRate: 0, missedAlarmRate: null,
    });
    expect(JSON.stringify(allNormal)).not.toContain('NaN');

    const nothingPredicted = pointMetrics([1, 0, 1], [0, 0, 0]);
    expect(nothingPredicted.precision).toBeNull();
    expect(nothingPredicted.recall).toBe(0);
    expect(nothingPredicted.f1).toBe(0); // 0 / (0 + 0 + 2)
    expect(nothingPredicted.missedAlarmRate).toBe(1);

    const allAnomalous = pointMetrics([1, 1], [1, 0]);
    expect(allAnomalous.falseAlarmRate).toBeNull();

    const empty = pointMetrics([], []);
    expect([empty.tp, empty.fp, empty.fn, empty.tn]).toEqual([0, 0, 0, 0]);
    expect(empty.precision).toBeNull();
    expect(empty.f1).toBeNull();
    expect(pointMetrics([1, 1], [1, 1], [0, 0]).recall).toBeNull();
  });

  it('accepts typed arrays', () => {
    const m = pointMetrics(Uint8Array.from(labels), Float64Array.from(pred), new Int32Array(8).fill(1));
    expect([m.tp, m.fp, m.fn, m.tn]).toEqual([2, 1, 2, 3]);
  });

  it('rejects mismatched lengths and non-binary values with named errors', () => {
    expect(() => pointMetrics([0, 1], [0])).toThrow(/labels and predicted must have the same length, got 2 and 1/);
    expect(() => pointMetrics([0, 2], [0, 1])).toThrow(/labels\[1\] must be 0 or 1, got 2/);
    expect(() => pointMetrics([0, 1], [0.5, 1])).toThrow(/predicted\[0\] must be 0 or 1, got 0.5/);
    expect(() => pointMetrics([0, 1], [0, Number.NaN])).toThrow(/predicted\[1\] must be 0 or 1, got NaN/);
    expect(() => pointMetrics([0, 1], [0, 1], [1])).toThrow(/labels and mask must have the same length/);
    expect(() => pointMetrics([0, 1], [0, 1], [1, -1])).toThrow(/mask\[1\] must be 0 or 1, got -1/);
    expect(() => pointMetrics([0, 1], [0, 1], [1, -1])).toThrow(RangeError);
  });

  it('agrees with a direct per-row reference on random series (fast-check, seed 20240611)', () => {
    const series = fc
      .integer({ min: 0, max: 60 })
      .chain((n) =>
        fc.tuple(
          fc.array(fc.constantFrom(0, 1), { minLength: n, maxLength: n }),
          fc.array(fc.constantFrom(0, 1), { minLength: n, maxLength: n }),
          fc.array(fc.constantFrom(0, 1), { minLength: n, maxLength: n }),
        ),
      );
    fc.assert(
      fc.property(series, ([l, p, mask]) => {
        // reference: products of indicator series, then the textbook formulas
        let tp = 0, fp = 0, fn = 0, tn = 0;
        l.forEach((li, i) => {
          tp += mask[i] * li * p[i];
          fp += mask[i] * (1 - li) * p[i];
          fn += mask[i] * li * (1 - p[i]);
          tn += mask[i] * (1 - li) * (1 - p[i]);
        });
        const m = pointMetrics(l, p, mask);
        expect([m.tp, m.fp, m.fn, m.tn]).toEqual([tp, fp, fn, tn]);
        expect(m.precision).toBe(tp + fp === 0 ? null : tp / (tp + fp));
        expect(m.recall).toBe(tp + fn === 0 ? null : tp / (tp + fn));
        if (m.precision !== null && m.recall !== null && m.precision + m.recall > 0) {
          const harmonic = (2 * m.precision * m.recall) / (m.precision + m.recall);
          expect(m.f1).toBeCloseTo(harmonic, 12);
        }
        if (m.recall !== null) expect(m.missedAlarmRate).toBeCloseTo(1 - m.recall, 12);
      }),
      { seed: 20240611, numRuns: 300 },
    );
  });
});

describe('ratioOrNull / checkBinarySeries', () => {
  it('divides or gives null', () => {
    expect(ratioOrNull(3, 4)).toBe(0.75);
    expect(ratioOrNull(0, 0)).toBeNull();
  });
  it('names the argument in its error', () => {
    expect(() => checkBinarySeries('alarms', [1, 0, 3])).toThrow('alarms[2] must be 0 or 1, got 3');
    expect(() => checkBinarySeries('alarms', [1, 0, 1])).not.toThrow();
  });
});
