import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../../src/nn/random.js';
import {
  DEFAULT_MIN_SCALE,
  fitResidualStats,
  residualStatsFromJSON,
  residualStatsToJSON,
  scoreBatch,
  scoreReading,
  type ResidualStats,
} from '../../src/detect/residual-scorer.js';

const MAD_K = 1.482602218505602; // 1/Φ⁻¹(3/4)

/** Hand-made stats: center [1, 0, −2], scale [2, 0.5, 4] (all exact in float32). */
const HAND: ResidualStats = { center: Float32Array.from([1, 0, -2]), scale: Float32Array.from([2, 0.5, 4]) };

describe('fitResidualStats', () => {
  // [T = 5, C = 3] row-major. Columns:
  //   ch0 = [1, 2, 3, 4, 100]  median 3, |dev| = [2, 1, 0, 1, 97] → MAD 1;  std = √1522 ≈ 39.0128
  //   ch1 = [0, 0, 0, 0, 0]    constant: MAD 0, std 0
  //   ch2 = [-2, 2, 0, 4, -4]  median 0, |dev| = [2, 2, 0, 4, 4] → MAD 2;   std = √8 ≈ 2.8284
  const residuals = Float32Array.from([1, 0, -2, 2, 0, 2, 3, 0, 0, 4, 0, 4, 100, 0, -4]);

  it('takes the median as center and 1.4826·MAD as scale (std floor off)', () => {
    const s = fitResidualStats(residuals, 3, { minScaleStdRatio: 0 });
    expect(Array.from(s.center)).toEqual([3, 0, 0]);
    expect(s.scale[0]).toBeCloseTo(MAD_K * 1, 6);
    expect(s.scale[1]).toBeCloseTo(DEFAULT_MIN_SCALE, 9); // constant channel: the absolute floor
    expect(s.scale[2]).toBeCloseTo(MAD_K * 2, 6);
  });

  it('applies the default std floor 0.5·std where the MAD is small relative to the spread', () => {
    const s = fitResidualStats(residuals, 3);
    expect(s.scale[0]).toBeCloseTo(0.5 * Math.sqrt(1522), 4); // 19.506 > 1.48
    expect(s.scale[1]).toBeCloseTo(1e-3, 9);
    expect(s.scale[2]).toBeCloseTo(MAD_K * 2, 6); // 2.965 > 0.5·2.828
  });

  it('honours a custom absolute floor and does not modify its input', () => {
    const copy = Float32Array.from(residuals);
    const s = fitResidualStats(residuals, 3, { minScale: 0.25 });
    expect(s.scale[1]).toBe(0.25);
    expect(Array.from(residuals)).toEqual(Array.from(copy));
  });

  it('rejects bad shapes, values and options with clear messages', () => {
    expect(() => fitResidualStats(residuals, 4)).toThrow(/15 values, which is not a non-zero multiple of channels \(4\)/);
    expect(() => fitResidualStats(new Float32Array(0), 3)).toThrow(/not a non-zero multiple/);
    expect(() => fitResidualStats(residuals, 0)).toThrow(/channels must be a positive integer, got 0/);
    expect(() => fitResidualStats(Float32Array.from([1, Number.NaN]), 1)).toThrow(/index 1 is NaN/);
    expect(() => fitResidualStats(residuals, 3, { minScale: 0 })).toThrow(/minScale must be finite and > 0, got 0/);
    expect(() => fitResidualStats(residuals, 3, { minScaleStdRatio: -1 })).toThrow(/minScaleStdRatio must be in \[0, 10\], got -1/);
  });

  it('makes normal data score ≈ 1 on average, whatever the channel count', () => {
    for (const channels of [1, 8]) {
      const rng = new Rng(100 + channels);
      const sigma = Array.from({ length: channels }, (_, c) => 0.2 + 0.7 * c);
      const draw = (t: number): Float32Array => {
        const out = new Float32Array(t * channels);
        for (let i = 0; i < t; i++) for (let c = 0; c < channels; c++) out[i * channels + c] = 0.3 + sigma[c]! * rng.normal();
        return out;
      };
      const stats = fitResidualStats(draw(20000), channels);
      const { scores } = scoreBatch(draw(20000), stats);
      const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
      // E[score] = mean_c σ_c²/scale_c²; scale_c estimates σ_c within ~1.5 % here, and the
      // average of 20000 χ²-type scores has a standard error ≤ 1 %.
      expect(mean).toBeGreaterThan(0.94);
      expect(mean).toBeLessThan(1.06);
    }
  });
});

describe('scoreReading', () => {
  it('computes z, score = mean z², and shares on hand-made numbers', () => {
    const out = new Float32Array(3);
    // z = [(5−1)/2, (0−0)/0.5, (−2+2)/4] = [2, 0, 0] → score 4/3, shares [1, 0, 0]
    expect(scoreReading(Float32Array.from([5, 0, -2]), HAND, out)).toBeCloseTo(4 / 3, 12);
    expect(Array.from(out)).toEqual([1, 0, 0]);
    // z = [1, 2, 1] → Σz² = 6, score 2, shares [1/6, 4/6, 1/6]
    expect(scoreReading([3, 1, 2], HAND, out)).toBe(2);
    expect(out[0]).toBeCloseTo(1 / 6, 7);
    expect(out[1]).toBeCloseTo(4 / 6, 7);
    expect(out[2]).toBeCloseTo(1 / 6, 7);
  });

  it('gives equal shares and score 0 when every z is 0', () => {
    const out = new Float64Array(3);
    expect(scoreReading([1, 0, -2], HAND, out)).toBe(0);
    expect(Array.from(out)).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('never divides by zero for a channel that was constant in the held-out data', () => {
    const stats = fitResidualStats(Float32Array.from([0.5, 7, 0.5, -3, 0.5, 2, 0.5, 1]), 2);
    expect(stats.scale[0]).toBeGreaterThan(0);
    const out = new Float32Array(2);
    const atCenter = scoreReading([0.5, 1.5], stats, out);
    expect(atCenter).toBe(0); // both z are 0, no 0/0
    expect(Array.from(out)).toEqual([0.5, 0.5]);
    // A deviation of 0.01 on the constant channel is finite and dominates: (0.01/1e-3)² = 100.
    const moved = scoreReading([0.51, 1.5], stats, out);
    expect(Number.isFinite(moved)).toBe(true);
    expect(moved).toBeGreaterThan(40);
    expect(out[0]).toBeGreaterThan(0.99);
  });

  it('propagates non-finite residuals predictably', () => {
    const out = new Float32Array(3);
    expect(scoreReading([Number.NaN, 0, 0], HAND, out)).toBeNaN();
    expect(Array.from(out).every(Number.isNaN)).toBe(true);
    expect(scoreReading([Infinity, 0, 0], HAND, out)).toBe(Infinity);
    expect(Array.from(out)).toEqual([1, 0, 0]);
  });

  it('checks lengths', () => {
    expect(() => scoreReading([1, 2], HAND, new Float32Array(3))).toThrow(/residual has 2 values and outContrib 3, but the stats have 3 channels/);
    expect(() => scoreReading([1, 2, 3], HAND, new Float32Array(2))).toThrow(/outContrib 2/);
    const bad = { center: new Float32Array(2), scale: new Float32Array(3) };
    expect(() => scoreReading([1, 2], bad, new Float32Array(2))).toThrow(/center has 2 channels but stats.scale has 3/);
  });

  it('score and shares agree with an independent formula on random inputs (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }).chain((c) =>
          fc.tuple(
            fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: c, maxLength: c }),
            fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: c, maxLength: c }),
            fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: c, maxLength: c }),
          ),
        ),
        ([r, center, scale]) => {
          const stats = { center: Float32Array.from(center), scale: Float32Array.from(scale) };
          const out = new Float64Array(r.length);
          const score = scoreReading(r, stats, out);
          const z2 = r.map((v, c) => ((v - stats.center[c]!) / stats.scale[c]!) ** 2);
          const sum = z2.reduce((a, b) => a + b, 0);
          expect(score).toBeCloseTo(sum / r.length, 6);
          expect(Array.from(out).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
          if (sum > 0) out.forEach((s, c) => expect(s).toBeCloseTo(z2[c]! / sum, 9));
        },
      ),
      { seed: 424242, numRuns: 300 },
    );
  });
});

describe('scoreBatch', () => {
  it('equals scoreReading row by row, into given or allocated outputs', () => {
    const rng = new Rng(5);
    const rows = 50;
    const residuals = new Float32Array(rows * 3);
    for (let i = 0; i < residuals.length; i++) residuals[i] = 3 * rng.normal();
    const { scores, contrib } = scoreBatch(residuals, HAND);
    const one = new Float32Array(3);
    for (let t = 0; t < rows; t++) {
      const s = scoreReading(residuals.subarray(t * 3, t * 3 + 3), HAND, one);
      expect(scores[t]).toBe(Math.fround(s));
      expect(Array.from(contrib.subarray(t * 3, t * 3 + 3))).toEqual(Array.from(one));
    }
    const given = { scores: new Float32Array(rows), contrib: new Float32Array(rows * 3) };
    const r2 = scoreBatch(residuals, HAND, given);
    expect(r2.scores).toBe(given.scores);
    expect(Array.from(r2.scores)).toEqual(Array.from(scores));
  });

  it('checks the [T, C] shape and output lengths', () => {
    expect(() => scoreBatch(new Float32Array(7), HAND)).toThrow(/7 values, not a multiple of the 3 channels/);
    expect(() => scoreBatch(new Float32Array(6), HAND, { scores: new Float32Array(3) })).toThrow(/out.scores has length 3, expected T = 2/);
    expect(() => scoreBatch(new Float32Array(6), HAND, { contrib: new Float32Array(5) })).toThrow(/out.contrib has length 5, expected T·C = 6/);
  });
});

describe('residual stats JSON', () => {
  it('round-trips exactly through JSON text', () => {
    const stats = fitResidualStats(Float32Array.from([0.1, 0.2, 0.35, -0.7, 1.3, 0.01]), 2);
    const back = residualStatsFromJSON(JSON.parse(JSON.stringify(residualStatsToJSON(stats))));
    expect(Array.from(back.center)).toEqual(Array.from(stats.center));
    expect(Array.from(back.scale)).toEqual(Array.from(stats.scale));
    expect(Array.isArray(residualStatsToJSON(stats).center)).toBe(true);
  });

  it('rejects malformed input naming the field', () => {
    expect(() => residualStatsFromJSON(null)).toThrow(/expected an object, got null/);
    expect(() => residualStatsFromJSON({ center: [0], scale: 'x' })).toThrow(/scale must be an array/);
    expect(() => residualStatsFromJSON({ center: [0, 1], scale: [1] })).toThrow(/center has 2 values and scale 1/);
    expect(() => residualStatsFromJSON({ center: [0], scale: [0] })).toThrow(/scale\[0\] must be > 0, got 0/);
    expect(() => residualStatsFromJSON({ center: ['a'], scale: [1] })).toThrow(/center\[0\] must be a number finite in float32, got a/);
    expect(() => residualStatsFromJSON({ center: [1e39], scale: [1] })).toThrow(/center\[0\]/);
  });
});
