import { describe, expect, it } from 'vitest';
import { maskedForecastLoss, trainTcn, type TrainEpochReport, type TrainTcnOptions } from '../../src/model/train-tcn.js';
import { Rng } from '../../src/nn/random.js';
import { Tcn, type TcnConfig } from '../../src/nn/tcn.js';
import { tensor } from '../../src/nn/tensor.js';
import { createWasmGemmKernel } from '../../src/nn/wasm-gemm.js';

const C = 2;
// Receptive field 1 + 2·(3 − 1)·(1 + 2 + 4) = 29.
const config: TcnConfig = { inChannels: C, outChannels: C, hiddenChannels: 8, kernelSize: 3, dilations: [1, 2, 4], activation: 'gelu' };

/** Two sines (periods 16 and 23 samples) plus N(0, 0.02²) noise, `[T, 2]` row-major. */
function sines(rows: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const s = new Float32Array(rows * C);
  for (let t = 0; t < rows; t++) {
    s[t * C] = Math.sin((2 * Math.PI * t) / 16) + 0.02 * rng.normal();
    s[t * C + 1] = Math.sin((2 * Math.PI * t) / 23 + 1) + 0.02 * rng.normal();
  }
  return s;
}

/**
 * Independent evaluation: the model run once over the whole series (the streamed function), MSE
 * of forecasts at positions p ∈ [first, last] against the reading at p + 1.
 */
function wholeSeriesMse(tcn: Tcn, series: Float32Array, first: number, last: number): number {
  const rows = series.length / C;
  const x = tensor([1, C, rows]);
  for (let t = 0; t < rows; t++) for (let c = 0; c < C; c++) x.data[c * rows + t] = series[t * C + c]!;
  const y = tcn.forward(x).data;
  let sum = 0;
  for (let p = first; p <= last; p++) for (let c = 0; c < C; c++) sum += (y[c * rows + p]! - series[(p + 1) * C + c]!) ** 2;
  return sum / ((last - first + 1) * C);
}

function persistenceMse(series: Float32Array, first: number, last: number): number {
  let sum = 0;
  for (let p = first; p <= last; p++) for (let c = 0; c < C; c++) sum += (series[p * C + c]! - series[(p + 1) * C + c]!) ** 2;
  return sum / ((last - first + 1) * C);
}

function weights(tcn: Tcn): Float32Array[] {
  return [...tcn.stateDict().values()].map((t) => Float32Array.from(t.data));
}

describe('trainTcn', () => {
  it('learns two noisy sines: the held-out forecast beats persistence by at least 10× in MSE', () => {
    const series = sines(1500, 1);
    const tcn = Tcn.create(config, new Rng(2));
    const epochs: TrainEpochReport[] = [];
    const result = trainTcn({ tcn, series, seed: 3, epochs: 20, onEpoch: (e) => epochs.push(e) });
    const { trainRows, rows } = result.plan;
    expect(trainRows).toBe(1200);
    const heldOut = wholeSeriesMse(tcn, series, trainRows - 1, rows - 2);
    const persistence = persistenceMse(series, trainRows - 1, rows - 2);
    expect(heldOut).toBeLessThan(persistence / 10); // measured ≈ 44× (seeded)
    // The reported validation loss is exactly this held-out MSE (float64 sums in another order).
    expect(result.valLoss).not.toBeNull();
    expect(Math.abs(result.valLoss! - heldOut)).toBeLessThanOrEqual(1e-9 + 1e-6 * heldOut);
    // Loss decreased.
    expect(epochs[epochs.length - 1]!.trainLoss).toBeLessThan(epochs[0]!.trainLoss / 4);
  });

  it('counts only unmasked positions: with learning rate 0 the losses equal the whole-series MSE over t ≥ receptiveField − 1', () => {
    const series = sines(700, 4);
    const tcn = Tcn.create(config, new Rng(5));
    const before = weights(tcn);
    const result = trainTcn({ tcn, series, seed: 6, epochs: 2, learningRate: 0, batchSize: 3, windowLength: 60 });
    weights(tcn).forEach((w, i) => expect(w).toEqual(before[i]));
    const { trainRows, rows, receptiveField } = result.plan;
    expect(receptiveField).toBe(29);
    const train = wholeSeriesMse(tcn, series, receptiveField - 1, trainRows - 2);
    const val = wholeSeriesMse(tcn, series, trainRows - 1, rows - 2);
    for (const e of result.history) {
      expect(Math.abs(e.trainLoss - train)).toBeLessThanOrEqual(1e-6 * train);
      expect(Math.abs(e.valLoss! - val)).toBeLessThanOrEqual(1e-6 * val);
    }
    // Had the warm-up positions been included the loss would differ: the windowed forecasts there
    // see zero padding. (Shows the check above can fail.)
    expect(Math.abs(wholeSeriesMse(tcn, series, 0, trainRows - 2) - train)).toBeGreaterThan(1e-3 * train);
  });

  it('reports the plan: rows split, window length, windows, steps and positions per epoch (hand-computed)', () => {
    const tcn = Tcn.create(config, new Rng(7));
    const result = trainTcn({ tcn, series: sines(1000, 8), seed: 9, epochs: 1 });
    // 200 validation rows; 800 training rows → 771 positions; window positions clamp(⌊771/8⌋ = 96, 64, 384) = 96.
    expect(result.plan).toEqual({
      rows: 1000,
      channels: 2,
      receptiveField: 29,
      trainRows: 800,
      validationRows: 200,
      windowLength: 125,
      batchSize: 1,
      windowsPerEpoch: 9, // ⌈771 / 96⌉
      stepsPerEpoch: 9,
      positionsPerEpoch: 771,
      validationWindows: 3, // ⌈200 / 96⌉
    });
    expect(result.optimizerSteps).toBe(9);
  });

  it('takes a batch larger than an epoch as one step over all windows', () => {
    const tcn = Tcn.create(config, new Rng(7));
    const result = trainTcn({ tcn, series: sines(1000, 8), seed: 9, epochs: 2, batchSize: 10_000 });
    expect(result.plan.stepsPerEpoch).toBe(1);
    expect(result.optimizerSteps).toBe(2);
  });

  it('is deterministic: same seed → bit-identical weights and losses; another seed → different weights', () => {
    const run = (seed: number): { w: Float32Array[]; h: readonly TrainEpochReport[] } => {
      const tcn = Tcn.create(config, new Rng(10));
      const r = trainTcn({ tcn, series: sines(600, 11), seed, epochs: 3, dropout: 0.1, batchSize: 2 });
      return { w: weights(tcn), h: r.history };
    };
    const a = run(12);
    const b = run(12);
    const c = run(13);
    a.w.forEach((w, i) => expect(b.w[i]).toEqual(w));
    expect(b.h).toEqual(a.h);
    expect(c.w.some((w, i) => w.some((v, j) => v !== a.w[i]![j]))).toBe(true);
  });

  it('with a wasm-simd kernel factory: deterministic, one kernel per step and per validation pass, same losses as JS to float32 accuracy', () => {
    let made = 0;
    const factory = (): ReturnType<typeof createWasmGemmKernel> => {
      made++;
      return createWasmGemmKernel();
    };
    const run = (kernel?: () => ReturnType<typeof createWasmGemmKernel>): { w: Float32Array[]; h: readonly TrainEpochReport[]; steps: number } => {
      const tcn = Tcn.create(config, new Rng(30));
      const r = trainTcn({ tcn, series: sines(600, 31), seed: 32, epochs: 2, ...(kernel === undefined ? {} : { kernel }) });
      return { w: weights(tcn), h: r.history, steps: r.optimizerSteps };
    };
    const a = run(factory);
    expect(made).toBe(a.steps + 2);
    const b = run(factory);
    a.w.forEach((w, i) => expect(b.w[i]).toEqual(w));
    const js = run();
    js.h.forEach((e, i) => {
      expect(Math.abs(a.h[i]!.trainLoss - e.trainLoss)).toBeLessThanOrEqual(1e-4 * e.trainLoss);
      expect(Math.abs(a.h[i]!.valLoss! - e.valLoss!)).toBeLessThanOrEqual(1e-4 * e.valLoss!);
    });
  });

  it('stops early after `patience` epochs without improvement and restores the best epoch', () => {
    const series = sines(600, 14);
    const tcn = Tcn.create(config, new Rng(15));
    const snapshots: Float32Array[][] = [];
    // minDelta so large that only the first epoch counts as an improvement.
    const result = trainTcn({ tcn, series, seed: 16, epochs: 10, patience: 2, minDelta: 1e9, onEpoch: () => snapshots.push(weights(tcn)) });
    expect(result.epochsRun).toBe(3);
    expect(result.stoppedEarly).toBe(true);
    expect(result.weightsEpoch).toBe(1);
    expect(result.history.map((e) => e.improved)).toEqual([true, false, false]);
    weights(tcn).forEach((w, i) => expect(w).toEqual(snapshots[0]![i]));
    expect(snapshots[2]!.some((w, i) => w.some((v, j) => v !== snapshots[0]![i]![j]))).toBe(true);
    expect(result.valLoss).toBe(result.history[0]!.valLoss);
    const { trainRows, rows } = result.plan;
    expect(Math.abs(wholeSeriesMse(tcn, series, trainRows - 1, rows - 2) - result.valLoss!)).toBeLessThanOrEqual(1e-6 * result.valLoss!);

    const last = Tcn.create(config, new Rng(15));
    const kept: Float32Array[][] = [];
    const r2 = trainTcn({ tcn: last, series, seed: 16, epochs: 10, patience: 2, minDelta: 1e9, restore: 'last', onEpoch: () => kept.push(weights(last)) });
    expect(r2.weightsEpoch).toBe(3);
    weights(last).forEach((w, i) => expect(w).toEqual(kept[2]![i]));
  });

  it('runs every epoch without validation, and calls onBatch once per step with the injected clock in onEpoch', () => {
    const tcn = Tcn.create(config, new Rng(17));
    let now = 1000;
    const batches: number[] = [];
    const epochs: TrainEpochReport[] = [];
    const result = trainTcn({
      tcn,
      series: sines(400, 18),
      seed: 19,
      epochs: 3,
      validationFraction: 0,
      clock: () => (now += 5),
      onBatch: (b) => batches.push(b.batch),
      onEpoch: (e) => epochs.push(e),
    });
    expect(result.plan.validationRows).toBe(0);
    expect(result.epochsRun).toBe(3);
    expect(result.valLoss).toBeNull();
    expect(epochs.map((e) => e.valLoss)).toEqual([null, null, null]);
    expect(epochs.map((e) => e.epochs)).toEqual([3, 3, 3]);
    const steps = result.plan.stepsPerEpoch;
    expect(batches).toEqual([1, 2, 3].flatMap(() => Array.from({ length: steps }, (_, i) => i + 1)));
    expect(epochs.map((e) => e.elapsedMs)).toEqual([5, 10, 15]);
  });

  it('reports elapsedMs as null without a clock', () => {
    const tcn = Tcn.create(config, new Rng(20));
    const r = trainTcn({ tcn, series: sines(200, 21), seed: 1, epochs: 1 });
    expect(r.history[0]!.elapsedMs).toBeNull();
  });

  it('rejects bad data and options with messages naming them', () => {
    const tcn = Tcn.create(config, new Rng(22));
    const ok: TrainTcnOptions = { tcn, series: sines(300, 23), seed: 1, epochs: 1 };
    // 300 rows, 60 validation → 240 ≥ 30; 30 rows is too short.
    expect(() => trainTcn({ ...ok, series: sines(30, 1) })).toThrow(/series of 30 rows is too short: training needs at least receptiveField \+ 1 = 30 rows before the validation tail of 6 rows/);
    const nan = sines(300, 1);
    nan[2 * 57 + 1] = Number.NaN;
    expect(() => trainTcn({ ...ok, series: nan })).toThrow(/series value at row 57, channel 1 is NaN/);
    expect(() => trainTcn({ ...ok, series: new Float32Array(301) })).toThrow(/301 values, not a whole number of rows of 2 channels/);
    expect(() => trainTcn({ ...ok, tcn: Tcn.create({ ...config, outChannels: 1 }, new Rng(1)) })).toThrow(/outChannels \(1\) must equal inChannels \(2\)/);
    expect(() => trainTcn({ ...ok, windowLength: 29 })).toThrow(/windowLength must be an integer in \[30, 240\], got 29/);
    expect(() => trainTcn({ ...ok, windowLength: 241 })).toThrow(/windowLength must be an integer in \[30, 240\], got 241/);
    expect(() => trainTcn({ ...ok, batchSize: 0 })).toThrow(/batchSize must be an integer in \[1, ∞\], got 0/);
    expect(() => trainTcn({ ...ok, epochs: 1.5 })).toThrow(/epochs must be an integer/);
    expect(() => trainTcn({ ...ok, validationFraction: 1 })).toThrow(/validationFraction must be in \[0, 1\), got 1/);
    expect(() => trainTcn({ ...ok, dropout: 1 })).toThrow(/dropout must be in \[0, 1\), got 1/);
    expect(() => trainTcn({ ...ok, learningRate: Number.NaN })).toThrow(/learningRate must be a finite number ≥ 0, got NaN/);
    expect(() => trainTcn({ ...ok, clipNorm: 0 })).toThrow(/clipNorm must be a finite number > 0 or null, got 0/);
    expect(() => trainTcn({ ...ok, patience: 0 })).toThrow(/patience must be an integer in \[1, ∞\], got 0/);
    expect(() => trainTcn({ ...ok, restore: 'first' as 'best' })).toThrow(/restore must be 'best' or 'last', got 'first'/);
  });

  it('reports divergence instead of writing NaN weights', () => {
    const tcn = Tcn.create(config, new Rng(24));
    const huge = sines(300, 25).map((v) => v * 1e30);
    expect(() => trainTcn({ tcn, series: huge, seed: 1, epochs: 2, clipNorm: null })).toThrow(/(loss became|gradient norm is) (Infinity|NaN)/);
  });
});

describe('maskedForecastLoss', () => {
  // Two windows of length 5, one channel; ranges [2, 4) and [1, 3).
  const forecast = Float32Array.of(9, 9, 1, 2, 9, /* */ 9, 3, 4, 9, 9);
  const input = Float32Array.of(0, 0, 0, 1.5, 1, /* */ 0, 0, 2, 5, 0);
  const from = Int32Array.of(2, 1);
  const to = Int32Array.of(4, 3);

  it('sums squared errors of forecast[t] against input[t + 1] inside the ranges only (hand-checked)', () => {
    // window 0: t=2: (1 − 1.5)² = 0.25, t=3: (2 − 1)² = 1; window 1: t=1: (3 − 2)² = 1, t=2: (4 − 5)² = 1
    const grad = new Float32Array(10).fill(7);
    expect(maskedForecastLoss(forecast, input, 2, 5, 1, from, to, grad, 0.5)).toBe(3.25);
    expect(Array.from(grad)).toEqual([0, 0, -0.5, 1, 0, /* */ 0, 1, -1, 0, 0]);
  });

  it('ignores targets and forecasts in the masked zone', () => {
    const f2 = Float32Array.from(forecast);
    const i2 = Float32Array.from(input);
    for (const i of [0, 1, 4, 5, 8, 9]) f2[i] = -100; // masked forecasts
    for (const i of [0, 1, 2, 5, 6]) i2[i] = 100; // inputs that are no included position's target
    expect(maskedForecastLoss(f2, i2, 2, 5, 1, from, to, null, 1)).toBe(3.25);
    i2[3] = 0; // the target of window 0, t = 2
    expect(maskedForecastLoss(f2, i2, 2, 5, 1, from, to, null, 1)).not.toBe(3.25);
  });

  it('rejects a range reaching the last position (it has no target)', () => {
    expect(() => maskedForecastLoss(forecast, input, 2, 5, 1, Int32Array.of(2, 1), Int32Array.of(5, 3), null, 1)).toThrow(/window 0 range \[2, 5\) must lie in \[0, 4\)/);
  });
});
