import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  nabDetections,
  nabFileScore,
  nabProbationaryRows,
  nabScaledSigmoid,
  type NabFileInput,
} from '../../src/detect/nab-score.js';
import { nabCorpusScore } from '../../src/detect/nab-corpus-score.js';
import {
  NAB_PROFILES,
  NAB_REWARD_LOW_FN_RATE,
  NAB_REWARD_LOW_FP_RATE,
  NAB_STANDARD,
} from '../../src/detect/nab-profiles.js';

const MINUTE_MS = 60_000;

/** A file of `rows` rows one minute apart, with windows given as inclusive row ranges. */
function file(rows: number, windowRows: Array<[number, number]>, alarmRows: number[], name?: string): NabFileInput {
  const timestamps = Array.from({ length: rows }, (_, i) => 1_400_000_000_000 + i * MINUTE_MS);
  const detections = new Uint8Array(rows);
  for (const r of alarmRows) detections[r] = 1;
  const windows = windowRows.map(([a, b]) => [timestamps[a], timestamps[b]] as [number, number]);
  return name === undefined ? { timestamps, detections, windows } : { name, timestamps, detections, windows };
}

// Reference numbers below come from σ(x) = 2/(1 + e^(5x)) − 1 evaluated by hand / calculator:
//   σ(−1)   = 2/(1 + e^−5)   − 1 = 2/1.006737947 − 1 = 0.986614298
//   σ(−0.5) = 2/(1 + e^−2.5) − 1 = 2/1.082084999 − 1 = 0.848283640
//   σ(−0.25)= 2/(1 + e^−1.25)− 1 = 2/1.286504800 − 1 = 0.554600…  (→ /σ(−1) = 0.562124149)
//   σ(1/3)  = 2/(1 + e^(5/3))− 1 = 2/6.294490050 − 1 = −0.682261790
//   σ(0.5)  = −σ(−0.5) = −0.848283640
const S_M1 = 0.9866142981514305;
const S_M05 = 0.8482836399575131;

describe('NAB profiles', () => {
  it('carry the weights of NAB config/profiles.json', () => {
    expect(NAB_STANDARD).toEqual({ name: 'standard', tpWeight: 1, fpWeight: 0.11, fnWeight: 1 });
    expect(NAB_REWARD_LOW_FP_RATE).toEqual({ name: 'reward_low_FP_rate', tpWeight: 1, fpWeight: 0.22, fnWeight: 1 });
    expect(NAB_REWARD_LOW_FN_RATE).toEqual({ name: 'reward_low_FN_rate', tpWeight: 1, fpWeight: 0.11, fnWeight: 2 });
    expect(NAB_PROFILES.map((p) => p.name)).toEqual(['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']);
    expect(Object.isFrozen(NAB_STANDARD)).toBe(true);
  });
});

describe('nabScaledSigmoid', () => {
  it('matches the values documented by NAB', () => {
    expect(nabScaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(nabScaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(nabScaledSigmoid(0)).toBe(0);
    expect(nabScaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(nabScaledSigmoid(3)).toBeCloseTo(-0.9999993882, 10); // 2/(1 + e^15) − 1
    expect(nabScaledSigmoid(3.0001)).toBe(-1);
    expect(nabScaledSigmoid(Number.POSITIVE_INFINITY)).toBe(-1);
  });
});

describe('nabProbationaryRows', () => {
  it('is min(floor(0.15·rows), 0.15·5000) by default', () => {
    expect(nabProbationaryRows(20)).toBe(3); // floor(3.0)
    expect(nabProbationaryRows(1127)).toBe(169); // floor(169.05)
    expect(nabProbationaryRows(6)).toBe(0); // floor(0.9)
    expect(nabProbationaryRows(4032)).toBe(604); // floor(604.8)
    expect(nabProbationaryRows(22695)).toBe(750); // capped: 0.15·5000
    expect(nabProbationaryRows(100, 0)).toBe(0);
    // a fractional cap 0.1501·5000 = 750.5 excludes rows 0..750, i.e. 751 rows
    expect(nabProbationaryRows(100_000, 0.1501)).toBe(751);
  });
  it('rejects bad arguments', () => {
    expect(() => nabProbationaryRows(-1)).toThrow(/rows must be an integer >= 0, got -1/);
    expect(() => nabProbationaryRows(10, 1.5)).toThrow(/probationaryFraction must be a number in \[0, 1\], got 1.5/);
  });
});

describe('nabDetections', () => {
  it('alarms where score >= threshold', () => {
    expect(Array.from(nabDetections([0.1, 0.5, 0.9, Number.NaN], 0.5))).toEqual([0, 1, 1, 0]);
    expect(() => nabDetections([0.1], Number.NaN)).toThrow(/threshold must be a finite number/);
  });
});

// 20 rows one minute apart; probationary rows 0..2 (floor(0.15·20) = 3); window rows 8..11 (4 rows)
describe('nabFileScore on a 20-row file with one window at rows 8..11', () => {
  const score = (alarms: number[], profile = NAB_STANDARD) =>
    nabFileScore({ ...file(20, [[8, 11]], alarms), profile });

  it('rewards a detection at the window start with exactly A_TP', () => {
    // position −(11 − 8 + 1)/4 = −1 → σ(−1)·A_TP/σ(−1) = 1
    const r = score([8]);
    expect(r.score).toBe(1);
    expect(r.tpScore).toBe(1);
    expect([r.tp, r.fp, r.fn, r.tn]).toEqual([1, 0, 3, 13]); // 17 scored rows
    expect(r.probationaryRows).toBe(3);
    expect(r.windows[0]).toMatchObject({ startRow: 8, endRow: 11, lengthRows: 4, scored: true, detectionRow: 8, score: 1 });
    expect(r.nullScore).toBe(-1);
    expect(r.perfectScore).toBe(1);
  });

  it('rewards a later detection less', () => {
    // row 10: position −(11 − 10 + 1)/4 = −0.5 → 0.848283640 / 0.986614298 = 0.859792567
    expect(score([10]).score).toBeCloseTo(0.859792567, 9);
    expect(score([10]).score).toBeCloseTo(S_M05 / S_M1, 15);
    // row 11 (last row): position −1/4 → σ(−0.25)/σ(−1) = 0.562124149
    expect(score([11]).score).toBeCloseTo(0.562124149, 9);
    expect(score([9]).score).toBeGreaterThan(score([10]).score);
  });

  it('counts only the first detection of a window', () => {
    const r = score([8, 9, 10]);
    expect(r.score).toBe(1);
    expect(r.tp).toBe(3); // NAB still counts every alarmed window row
    expect(r.detectedWindows).toBe(1);
    expect(score([10, 11]).score).toBeCloseTo(S_M05 / S_M1, 15);
  });

  it('costs A_FN for a missed window, per profile', () => {
    expect(score([]).score).toBe(-1);
    expect(score([], NAB_REWARD_LOW_FN_RATE).score).toBe(-2);
    expect(score([]).fnScore).toBe(-1);
  });

  it('ignores detections in the probationary period', () => {
    const r = score([0, 1, 2]);
    expect(r.score).toBe(-1); // the window is still missed; no FP is charged
    expect([r.tp, r.fp, r.fn, r.tn]).toEqual([0, 0, 4, 13]);
  });

  it('charges A_FP for a false positive with no preceding window', () => {
    // row 4: no window ends before it → −1·0.11
    const r = score([4, 8]);
    expect(r.fpScore).toBeCloseTo(-0.11, 15);
    expect(r.score).toBeCloseTo(0.89, 15);
    expect(score([4], NAB_REWARD_LOW_FP_RATE).score).toBeCloseTo(-1.22, 15); // −1 − 0.22
  });

  it('weights a false positive after a window by its distance to that window', () => {
    // row 12: (12 − 11)/(4 − 1) = 1/3 → σ(1/3)·0.11 = −0.682261790·0.11 = −0.075048797
    expect(score([12]).fpScore).toBeCloseTo(-0.075048797, 9);
    // row 19: (19 − 11)/3 = 8/3 → σ(8/3) = 2/(1 + e^13.33) − 1 = −0.999996761 → ·0.11 = −0.109999644
    expect(score([19]).fpScore).toBeCloseTo(-0.109999644, 9);
    expect(score([12]).fpScore).toBeGreaterThan(score([13]).fpScore);
  });

  it('scores a detector that fires everywhere below the null detector', () => {
    // rows 3..7: 5 FPs at −0.11 = −0.55; window reward 1; rows 12..19: Σ_{k=1..8} σ(k/3) = −7.596851856
    // score = 1 − 0.55 + 0.11·(−7.596851856) = −0.385653704
    const all = Array.from({ length: 20 }, (_, i) => i);
    const r = score(all);
    expect(r.score).toBeCloseTo(-0.385653704, 9);
    expect([r.tp, r.fp, r.fn, r.tn]).toEqual([4, 13, 0, 0]);
  });
});

describe('nabFileScore windows and probation', () => {
  it('scores a window that straddles the probationary period from its first scored row', () => {
    // window rows 1..4; row 2 is probationary (ignored); row 3 → −(4 − 3 + 1)/4 = −0.5 → 0.859792567
    const r = nabFileScore({ ...file(20, [[1, 4]], [2, 3]), profile: NAB_STANDARD });
    expect(r.score).toBeCloseTo(S_M05 / S_M1, 15);
    expect(r.windows[0].detectionRow).toBe(3);
    expect(r.tp).toBe(1); // row 3 is the only scored alarm in the window
    expect(r.fn).toBe(1); // row 4 is a scored window row without alarm
  });

  it('leaves a window inside the probationary period unscored, yet still uses it to weight later FPs', () => {
    // window rows 0..2 (3 rows) ends before row 3; FP at row 3: (3 − 2)/(3 − 1) = 0.5 → σ(0.5)·0.11
    const r = nabFileScore({ ...file(20, [[0, 2]], [3]), profile: NAB_STANDARD });
    expect(r.windows[0].scored).toBe(false);
    expect(r.windows[0].score).toBe(0);
    expect(r.scoredWindows).toBe(0);
    expect(r.nullScore).toBe(0);
    expect(r.perfectScore).toBe(1); // NAB counts every window in the perfect score
    expect(r.score).toBeCloseTo(-0.848283640 * 0.11, 9);
  });

  it('gives the full FP penalty after a one-row window (NAB would divide by zero)', () => {
    const r = nabFileScore({ ...file(20, [[5, 5]], [5, 6]), profile: NAB_STANDARD });
    expect(r.windows[0].score).toBe(1); // a one-row window detected at its only row: −1/1 = −1
    expect(r.fpScore).toBeCloseTo(-0.11, 15);
  });

  it("maps windows by exact timestamps by default and by containment with windowBounds 'contained'", () => {
    const f = file(20, [[8, 11]], [8]);
    const t0 = f.timestamps[0];
    const loose: Array<[number, number]> = [[t0 + 7.5 * MINUTE_MS, t0 + 11.5 * MINUTE_MS]];
    expect(() => nabFileScore({ ...f, windows: loose, profile: NAB_STANDARD })).toThrow(
      /windows\[0\] start .* is not a timestamp of the file \(windowBounds 'exact'\)/,
    );
    const r = nabFileScore({ ...f, windows: loose, profile: NAB_STANDARD, windowBounds: 'contained' });
    expect([r.windows[0].startRow, r.windows[0].endRow]).toEqual([8, 11]);
    expect(r.score).toBe(1);
    const empty: Array<[number, number]> = [[t0 + 7.2 * MINUTE_MS, t0 + 7.8 * MINUTE_MS]];
    expect(() => nabFileScore({ ...f, windows: empty, profile: NAB_STANDARD, windowBounds: 'contained' })).toThrow(
      /contains no row/,
    );
  });

  it('honours a custom probationary fraction', () => {
    // fraction 0.5 → rows 0..9 ignored; the row-8 alarm no longer counts, row 10 does
    const r = nabFileScore({ ...file(20, [[8, 11]], [8, 10]), profile: NAB_STANDARD, probationaryFraction: 0.5 });
    expect(r.probationaryRows).toBe(10);
    expect(r.windows[0].detectionRow).toBe(10);
    expect(r.score).toBeCloseTo(S_M05 / S_M1, 15);
  });

  it('validates its inputs with named errors', () => {
    const f = file(20, [[8, 11]], [8]);
    const t = f.timestamps;
    const p = { profile: NAB_STANDARD };
    expect(() => nabFileScore({ ...f, ...p, detections: [1, 0] })).toThrow(/timestamps and detections must have the same length/);
    expect(() => nabFileScore({ ...f, ...p, detections: new Array(20).fill(0.5) })).toThrow(/detections\[0\] must be 0 or 1/);
    expect(() => nabFileScore({ ...f, ...p, timestamps: Array.from(t).reverse() })).toThrow(/timestamps must be strictly increasing/);
    expect(() => nabFileScore({ ...f, ...p, windows: [[t[9], t[8]]] })).toThrow(/windows\[0\] must be \[startMs, endMs\] with finite start <= end/);
    expect(() => nabFileScore({ ...f, ...p, windows: [[t[8], t[11]], [t[11], t[12]]] })).toThrow(/windows must be sorted and not overlap/);
    expect(() => nabFileScore({ ...f, ...p, windows: [[t[12], t[13]], [t[2], t[3]]] })).toThrow(/windows must be sorted/);
    expect(() => nabFileScore({ ...f, profile: { ...NAB_STANDARD, fpWeight: -1 } })).toThrow(/profile.fpWeight must be a finite number >= 0, got -1/);
    expect(() => nabFileScore({ ...f, profile: { ...NAB_STANDARD, tpWeight: 0 } })).toThrow(/profile.tpWeight/);
    expect(() => nabFileScore({ ...f, ...p, probationaryFraction: -0.1 })).toThrow(/probationaryFraction/);
  });
});

describe('nabCorpusScore', () => {
  it('normalises to 100 for a perfect detector and 0 for the null detector', () => {
    const windows: Array<[number, number]> = [[30, 39], [60, 79]];
    const perfect = nabCorpusScore([file(100, windows, [30, 60]), file(50, [[20, 24]], [20])], NAB_STANDARD);
    expect(perfect.normalizedScore).toBe(100);
    expect(perfect.rawScore).toBe(3);
    expect(perfect.nullScore).toBe(-3);
    expect(perfect.perfectScore).toBe(3);
    const silent = nabCorpusScore([file(100, windows, []), file(50, [[20, 24]], [])], NAB_STANDARD);
    expect(silent.normalizedScore).toBe(0);
  });

  it('normalises a mixed corpus as 100·(raw − null)/(perfect − null)', () => {
    // file a: alarm at window start → 1; file b: alarm at row 10 (0.859792567) and an FP at row 4 (−0.11)
    // raw = 1.749792567, null = −2, perfect = 2 → 100·3.749792567/4 = 93.744814173
    const r = nabCorpusScore(
      [file(20, [[8, 11]], [8], 'a.csv'), file(20, [[8, 11]], [4, 10], 'b.csv')],
      NAB_STANDARD,
    );
    expect(r.rawScore).toBeCloseTo(1.749792567, 9);
    expect(r.normalizedScore).toBeCloseTo(93.744814173, 8);
    expect([r.tp, r.fp, r.fn, r.tn]).toEqual([2, 1, 6, 25]);
    expect(r.files.map((f) => f.name)).toEqual(['a.csv', 'b.csv']);
  });

  it('scores a detector that fires on every row strongly negative', () => {
    // 1000 rows, two 20-row windows: ~960 FPs at ≈ −0.11 each swamp the two rewards
    const all = Array.from({ length: 1000 }, (_, i) => i);
    const r = nabCorpusScore([file(1000, [[300, 319], [700, 719]], all)], NAB_STANDARD);
    expect(r.rawScore).toBeLessThan(-80);
    expect(r.normalizedScore).toBeLessThan(-2000); // 100·(raw + 2)/4
    expect(r.fp).toBe(810); // 850 scored rows − 40 window rows
  });

  it('returns null when the corpus has no window, and names the failing file', () => {
    expect(nabCorpusScore([file(20, [], [5])], NAB_STANDARD).normalizedScore).toBeNull();
    expect(nabCorpusScore([], NAB_STANDARD).normalizedScore).toBeNull();
    const bad = { ...file(20, [[8, 11]], []), name: 'x.csv', detections: [2] };
    expect(() => nabCorpusScore([bad], NAB_STANDARD)).toThrow(/files\[0\] \(x.csv\): timestamps and detections/);
  });

  it('keeps a window in the probationary period in the perfect score, as NAB does', () => {
    // rows 0..2 are probationary: the first window can never be earned, so an at-start detector scores
    // 100·(1 − (−1))/(2 − (−1)) = 66.67 rather than 100
    const r = nabCorpusScore([file(20, [[0, 2], [8, 11]], [0, 8])], NAB_STANDARD);
    expect(r.normalizedScore).toBeCloseTo(200 / 3, 12);
  });

  it('gives 100 / 0 for perfect / null detectors on random corpora (fast-check, seed 7)', () => {
    const corpus = fc.array(
      fc.integer({ min: 40, max: 400 }).chain((rows) => {
        const first = nabProbationaryRows(rows);
        return fc
          .uniqueArray(fc.integer({ min: first, max: rows - 1 }), { minLength: 2, maxLength: 8 })
          .map((cuts) => {
            const sorted = [...cuts].sort((a, b) => a - b);
            const windows: Array<[number, number]> = [];
            // consecutive pairs with a gap of at least one row between windows
            for (let k = 0; k + 1 < sorted.length; k += 2) {
              if (windows.length === 0 || sorted[k] > windows[windows.length - 1][1]) windows.push([sorted[k], sorted[k + 1]]);
            }
            return { rows, windows };
          });
      }),
      { minLength: 1, maxLength: 4 },
    );
    fc.assert(
      fc.property(corpus, fc.constantFrom(...NAB_PROFILES), (specs, profile) => {
        const atStart = specs.map((s) => file(s.rows, s.windows, s.windows.map((w) => w[0])));
        const silent = specs.map((s) => file(s.rows, s.windows, []));
        expect(nabCorpusScore(atStart, profile).normalizedScore).toBeCloseTo(100, 10);
        expect(nabCorpusScore(silent, profile).normalizedScore).toBeCloseTo(0, 10);
      }),
      { seed: 7, numRuns: 150 },
    );
  });
});
