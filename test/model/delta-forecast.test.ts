import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Forecaster } from '../../src/model/forecaster.js';
import { ModelFileError, parseModelManifest } from '../../src/model/model-manifest.js';
import { fitNormalization, normalizeSeries } from '../../src/model/normalization.js';
import { maskedForecastLoss, trainTcn } from '../../src/model/train-tcn.js';
import { readFileSync } from 'node:fs';
import { Rng } from '../../src/nn/random.js';
import { Tcn, type TcnConfig } from '../../src/nn/tcn.js';
import { tensor } from '../../src/nn/tensor.js';

const FC_SEED = 20261122;

/** `[rows, C]` row-major → the TCN's offline output `[rows, C]` (the whole series in one pass). */
function offlineOutput(tcn: Tcn, series: Float32Array, C: number): Float32Array {
  const rows = series.length / C;
  const x = tensor([1, C, rows]);
  for (let t = 0; t < rows; t++) for (let c = 0; c < C; c++) x.data[c * rows + t] = series[t * C + c]!;
  const y = tcn.forward(x).data;
  const out = new Float32Array(rows * C);
  for (let t = 0; t < rows; t++) for (let c = 0; c < C; c++) out[t * C + c] = y[c * rows + t]!;
  return out;
}

/** Residuals and readiness of every row, streamed one reading at a time through one slot. */
function streamResiduals(f: Forecaster, values: Float32Array): { residuals: Float32Array; ready: Uint8Array } {
  const C = f.channels.length;
  const rows = values.length / C;
  const batch = f.createBatch(1);
  const residuals = new Float32Array(rows * C);
  const ready = new Uint8Array(rows);
  const r = new Float32Array(C);
  const ok = new Uint8Array(1);
  for (let t = 0; t < rows; t++) {
    batch.observe(Int32Array.of(0), 1, values.subarray(t * C, (t + 1) * C), r, ok);
    residuals.set(r, t * C);
    ready[t] = ok[0]!;
  }
  return { residuals, ready };
}

describe("Forecaster with forecast 'delta'", () => {
  // Receptive field 1 + 2·(2 − 1)·(1 + 2) = 7.
  const config: TcnConfig = { inChannels: 2, outChannels: 2, hiddenChannels: 3, kernelSize: 2, dilations: [1, 2] };
  const identity = { mean: Float32Array.of(0, 0), std: Float32Array.of(1, 1) };

  it('forecasts the last reading plus the TCN output (hand-built TCN: zero weights, head bias 0.5 / −0.25)', () => {
    const tcn = Tcn.create(config, new Rng(1));
    for (const t of tcn.stateDict().values()) t.data.fill(0);
    tcn.stateDict().get('head.bias')!.data.set([0.5, -0.25]);
    const f = new Forecaster(['a', 'b'], { mean: Float32Array.of(10, 0), std: Float32Array.of(2, 1) }, tcn, 'delta');
    const raw = new Float32Array(20);
    for (let t = 0; t < 10; t++) {
      raw[2 * t] = 10 + 2 * t; // normalised: t
      raw[2 * t + 1] = t * t; // normalised: t²
    }
    const { residuals, ready } = streamResiduals(f, raw);
    // Ready from row 7 (a full receptive field seen before it). Forecast of row t: x[t−1] + bias.
    expect(Array.from(ready)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    for (let t = 7; t < 10; t++) {
      expect(residuals[2 * t]).toBe(t - (t - 1 + 0.5)); // 0.5
      expect(residuals[2 * t + 1]).toBe(t * t - ((t - 1) * (t - 1) - 0.25)); // 2t − 0.75
    }
    const batch = f.createBatch(1);
    batch.observe(Int32Array.of(0), 1, Float32Array.of(16, 3), new Float32Array(2), new Uint8Array(1));
    expect(Array.from(batch.forecastOf(0))).toEqual([3.5, 2.75]);
  });

  it("equals the normalised reading plus the offline TCN output at every step; 'level' is the output alone", () => {
    const tcn = Tcn.create(config, new Rng(3));
    const rng = new Rng(4);
    const rows = 60;
    const z = new Float32Array(rows * 2);
    for (let i = 0; i < z.length; i++) z[i] = rng.normal();
    const y = offlineOutput(tcn, z, 2);
    const delta = streamResiduals(new Forecaster(['a', 'b'], identity, tcn, 'delta'), z);
    const level = streamResiduals(new Forecaster(['a', 'b'], identity, tcn), z);
    for (let t = 7; t < rows; t++) {
      for (let c = 0; c < 2; c++) {
        const i = t * 2 + c;
        const j = (t - 1) * 2 + c;
        expect(delta.residuals[i]).toBeCloseTo(z[i]! - Math.fround(z[j]! + y[j]!), 5);
        expect(level.residuals[i]).toBeCloseTo(z[i]! - y[j]!, 5);
      }
    }
  });

  it('snapshot/restore of a delta stream continues exactly like the uninterrupted stream', () => {
    const tcn = Tcn.create(config, new Rng(5));
    const f = new Forecaster(['a', 'b'], identity, tcn, 'delta');
    const rng = new Rng(6);
    const z = new Float32Array(40 * 2);
    for (let i = 0; i < z.length; i++) z[i] = rng.normal();
    const whole = streamResiduals(f, z);
    const a = f.createBatch(1);
    const r = new Float32Array(2);
    const ok = new Uint8Array(1);
    for (let t = 0; t < 20; t++) a.observe(Int32Array.of(0), 1, z.subarray(2 * t, 2 * t + 2), r, ok);
    const b = f.createBatch(3);
    b.restoreSlot(2, a.snapshotSlot(0));
    for (let t = 20; t < 40; t++) {
      b.observe(Int32Array.of(2), 1, z.subarray(2 * t, 2 * t + 2), r, ok);
      expect(ok[0]).toBe(1);
      expect(Array.from(r)).toEqual(Array.from(whole.residuals.subarray(2 * t, 2 * t + 2)));
    }
  });

  it('rejects an unknown forecast kind, naming it', () => {
    const tcn = Tcn.create(config, new Rng(1));
    expect(() => new Forecaster(['a', 'b'], identity, tcn, 'trend' as 'level')).toThrow(/forecast must be one of level, delta, got 'trend'/);
  });
});

describe("maskedForecastLoss with target 'delta'", () => {
  // The fixture of the 'level' test: two windows of length 5, one channel; ranges [2, 4) and [1, 3).
  const forecast = Float32Array.of(9, 9, 1, 2, 9, /* */ 9, 3, 4, 9, 9);
  const input = Float32Array.of(0, 0, 0, 1.5, 1, /* */ 0, 0, 2, 5, 0);
  const from = Int32Array.of(2, 1);
  const to = Int32Array.of(4, 3);

  it('sums squared errors of output[t] against input[t + 1] − input[t] inside the ranges only (hand-checked)', () => {
    // window 0: t=2: target 1.5 − 0 = 1.5, (1 − 1.5)² = 0.25; t=3: target 1 − 1.5 = −0.5, (2 + 0.5)² = 6.25
    // window 1: t=1: target 2 − 0 = 2, (3 − 2)² = 1; t=2: target 5 − 2 = 3, (4 − 3)² = 1
    const grad = new Float32Array(10).fill(7);
    expect(maskedForecastLoss(forecast, input, 2, 5, 1, from, to, grad, 0.5, 'delta')).toBe(8.5);
    expect(Array.from(grad)).toEqual([0, 0, -0.5, 2.5, 0, /* */ 0, 1, 1, 0, 0]);
  });

  it('ignores outputs and inputs that no included position uses', () => {
    const f2 = Float32Array.from(forecast);
    const i2 = Float32Array.from(input);
    for (const i of [0, 1, 4, 5, 8, 9]) f2[i] = -100;
    for (const i of [0, 1, 5, 9]) i2[i] = 100; // neither an included position's input nor its successor
    expect(maskedForecastLoss(f2, i2, 2, 5, 1, from, to, null, 1, 'delta')).toBe(8.5);
    i2[2] = 2; // the current reading of window 0, t = 2: target −0.5, error 1.5
    expect(maskedForecastLoss(f2, i2, 2, 5, 1, from, to, null, 1, 'delta')).not.toBe(8.5);
  });

  it("equals the 'level' loss of output + input (the served forecast), exactly on dyadic values", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: -64, max: 64 }), { minLength: 2 * 3 * 8 * 3, maxLength: 2 * 3 * 8 * 3 }),
        (batch, length, channels, ints) => {
          const n = batch * length * channels;
          const y = Float32Array.from(ints.slice(0, n), (v) => v / 4);
          const x = Float32Array.from(ints.slice(n, 2 * n), (v) => v / 8);
          const shifted = Float32Array.from(y, (v, i) => v + x[i]!);
          const a = Int32Array.from({ length: batch }, (_, k) => k % (length - 1));
          const b = Int32Array.from({ length: batch }, () => length - 1);
          const gd = new Float32Array(n);
          const gl = new Float32Array(n);
          const d = maskedForecastLoss(y, x, batch, length, channels, a, b, gd, 0.25, 'delta');
          const l = maskedForecastLoss(shifted, x, batch, length, channels, a, b, gl, 0.25, 'level');
          expect(d).toBe(l);
          expect(Array.from(gd)).toEqual(Array.from(gl));
        },
      ),
      { seed: FC_SEED, numRuns: 200 },
    );
  });
});

describe("trainTcn with target 'delta'", () => {
  const config: TcnConfig = { inChannels: 1, outChannels: 1, hiddenChannels: 8, kernelSize: 3, dilations: [1, 2] };
  const ROWS = 1000;

  /** A Gaussian random walk with unit steps, `[ROWS, 1]`: persistence is its best forecast. */
  function randomWalk(seed: number): Float32Array {
    const rng = new Rng(seed);
    const v = new Float32Array(ROWS);
    let level = 0;
    for (let t = 0; t < ROWS; t++) {
      level += rng.normal();
      v[t] = level;
    }
    return v;
  }

  /** Held-out forecast MSE over targets in rows [trainRows, ROWS), from the offline TCN output. */
  function heldOutMse(tcn: Tcn, z: Float32Array, trainRows: number, kind: 'level' | 'delta'): number {
    const y = offlineOutput(tcn, z, 1);
    let sum = 0;
    for (let t = trainRows; t < ROWS; t++) {
      const forecast = kind === 'delta' ? z[t - 1]! + y[t - 1]! : y[t - 1]!;
      sum += (z[t]! - forecast) ** 2;
    }
    return sum / (ROWS - trainRows);
  }

  function fit(kind: 'level' | 'delta', z: Float32Array): { tcn: Tcn; valLoss: number | null } {
    const tcn = Tcn.create(config, new Rng(11));
    const r = trainTcn({ tcn, series: z, seed: 12, epochs: 12, validationFraction: 0.2, target: kind });
    return { tcn, valLoss: r.valLoss };
  }

  it('beats the level target on held-out rows of a random walk, and its validation loss is that forecast MSE', () => {
    const raw = randomWalk(13);
    const trainRows = ROWS - Math.round(ROWS * 0.2);
    const z = normalizeSeries(raw, fitNormalization(raw.subarray(0, trainRows), 1));
    const level = fit('level', z);
    const delta = fit('delta', z);
    const mseLevel = heldOutMse(level.tcn, z, trainRows, 'level');
    const mseDelta = heldOutMse(delta.tcn, z, trainRows, 'delta');
    // Measured (seeded): level ≈ 0.144, delta ≈ 0.061, persistence ≈ 0.014. The delta model still
    // reads absolute levels, so outside the training range it is not persistence either.
    expect(mseDelta).toBeLessThan(0.75 * mseLevel);
    expect(delta.valLoss!).toBeCloseTo(mseDelta, 4);
    expect(level.valLoss!).toBeCloseTo(mseLevel, 4);
  });

  it('is deterministic: same seed, bit-identical weights', () => {
    const raw = randomWalk(14);
    const z = normalizeSeries(raw, fitNormalization(raw, 1));
    const a = fit('delta', z).tcn.stateDict();
    const b = fit('delta', z).tcn.stateDict();
    for (const [name, t] of a) expect(Array.from(t.data), name).toEqual(Array.from(b.get(name)!.data));
  });

  it('rejects an unknown target, naming the option', () => {
    const tcn = Tcn.create(config, new Rng(1));
    expect(() => trainTcn({ tcn, series: new Float32Array(100), seed: 1, target: 'diff' as 'delta' })).toThrow(/trainTcn: target must be one of level, delta, got 'diff'/);
  });
});

describe('model.json architecture.forecast', () => {
  const fixture = readFileSync(new URL('../fixtures/pytorch-model/model/model.json', import.meta.url), 'utf8');

  it("is 'level' when absent (files written before the option), and reads 'delta' when given", () => {
    const json = JSON.parse(fixture) as { architecture: Record<string, unknown> };
    expect('forecast' in json.architecture).toBe(false);
    expect(parseModelManifest(fixture, 'model.json').architecture.forecast).toBe('level');
    json.architecture.forecast = 'delta';
    expect(parseModelManifest(JSON.stringify(json), 'model.json').architecture.forecast).toBe('delta');
  });

  it('rejects an unknown value, naming the field', () => {
    const json = JSON.parse(fixture) as { architecture: Record<string, unknown> };
    json.architecture.forecast = 'trend';
    expect(() => parseModelManifest(JSON.stringify(json), 'model.json')).toThrow(ModelFileError);
    expect(() => parseModelManifest(JSON.stringify(json), 'model.json')).toThrow(/architecture\.forecast/);
  });
});
