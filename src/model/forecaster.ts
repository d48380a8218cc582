import type { GemmKernel } from '../nn/gemm.js';
import { jsGemmKernel } from '../nn/gemm.js';
import type { Tcn } from '../nn/tcn.js';
import type { TcnBatchStream, TcnStreamSnapshot } from '../nn/tcn-stream.js';
import { normalizeReading, type Normalization } from './normalization.js';

/** What the TCN's output at t stands for. */
export type ForecastKind =
  /** The normalised reading at t + 1 itself: `x̂[t+1] = y[t]`. */
  | 'level'
  /** The change from the reading at t: `x̂[t+1] = x[t] + y[t]` (persistence is the starting point). */
  | 'delta';

/** Every {@link ForecastKind}, in the order they were introduced. */
export const FORECAST_KINDS: readonly ForecastKind[] = ['level', 'delta'];

/** What a model forecasts when nothing says otherwise (model files written before the option). */
export const DEFAULT_FORECAST_KIND: ForecastKind = 'level';

/**
 * A next-reading forecaster: normalisation followed by a TCN whose output at t gives the forecast
 * of the normalised reading at t + 1, either directly (`'level'`) or as the change from the
 * reading at t (`'delta'`). It serves every door (offline commands, live service, replay) through
 * {@link ForecastBatch}.
 */
export class Forecaster {
  readonly channels: readonly string[];
  readonly receptiveField: number;

  /** @throws Error when the TCN, the normalisation and the channel names disagree, or `forecast` is unknown. */
  constructor(
    channels: readonly string[],
    readonly normalization: Normalization,
    readonly tcn: Tcn,
    readonly forecast: ForecastKind = DEFAULT_FORECAST_KIND,
  ) {
    if (!FORECAST_KINDS.includes(forecast)) throw new Error(`Forecaster: forecast must be one of ${FORECAST_KINDS.join(', ')}, got '${String(forecast)}'`);
    const C = channels.length;
    const a = tcn.architecture;
    if (a.inChannels !== C || a.outChannels !== C) {
      throw new Error(`Forecaster: the TCN maps ${a.inChannels} → ${a.outChannels} channels but the model has ${C} channel names`);
    }
    if (normalization.mean.length !== C || normalization.std.length !== C) {
      throw new Error(`Forecaster: normalisation has ${normalization.mean.length} means and ${normalization.std.length} stds for ${C} channels`);
    }
    this.channels = [...channels];
    this.receptiveField = tcn.receptiveField;
  }

  /** `capacity` independent forecast streams (devices). */
  createBatch(capacity: number, kernel: GemmKernel = jsGemmKernel): ForecastBatch {
    return new ForecastBatch(this, capacity, kernel);
  }
}

/** The state of one forecast stream: the TCN's histories and its pending forecast. */
export interface ForecastSnapshot {
  readonly tcn: TcnStreamSnapshot;
  /** `[C]` normalised forecast of the next reading (meaningful when `tcn.seen ≥ receptiveField`). */
  readonly forecast: Float32Array;
}

/**
 * Many forecast streams advanced together. For each observed reading it yields the residual
 * `normalised reading − forecast made at the previous reading` and then advances the TCN, so the
 * forecast of the next reading is ready (the TCN output, plus the normalised reading just
 * observed for a `'delta'` model). A residual is valid once the stream had seen a full
 * receptive field before the reading (`ready`).
 */
export class ForecastBatch {
  readonly channels: number;
  readonly capacity: number;
  readonly receptiveField: number;
  private readonly stream: TcnBatchStream;
  private readonly norm: Normalization;
  private readonly delta: boolean;
  /** `[capacity, C]` pending forecasts. */
  private readonly forecasts: Float32Array;
  private xs = new Float32Array(0);
  private ys = new Float32Array(0);

  constructor(model: Forecaster, capacity: number, kernel: GemmKernel) {
    this.channels = model.channels.length;
    this.capacity = capacity;
    this.receptiveField = model.receptiveField;
    this.norm = model.normalization;
    this.delta = model.forecast === 'delta';
    this.stream = model.tcn.createBatchStream(capacity, kernel);
    this.forecasts = new Float32Array(capacity * this.channels);
  }

  /** Whether the next reading of `slot` will get a valid residual. */
  isReady(slot: number): boolean {
    return this.stream.isReady(slot);
  }

  /** Readings slot `slot` has observed. */
  samplesSeen(slot: number): number {
    return this.stream.samplesSeen(slot);
  }

  /**
   * Observes one raw reading for each of `count` distinct slots.
   * @param readings `[count, C]` raw (unnormalised) values.
   * @param residuals receives `[count, C]` normalised residuals; row i is meaningful when `ready[i]` is 1.
   * @param ready receives `[count]` 1 where the residual is valid.
   */
  observe(slots: Int32Array, count: number, readings: Float32Array, residuals: Float32Array, ready: Uint8Array): void {
    const C = this.channels;
    if (this.xs.length < count * C) {
      this.xs = new Float32Array(Math.max(count, 1) * C * 2);
      this.ys = new Float32Array(Math.max(count, 1) * C * 2);
    }
    const xs = this.xs;
    for (let i = 0; i < count; i++) {
      const slot = slots[i] as number;
      normalizeReading(readings, this.norm, xs, i * C, i * C);
      const ok = this.stream.isReady(slot);
      ready[i] = ok ? 1 : 0;
      for (let c = 0; c < C; c++) residuals[i * C + c] = ok ? (xs[i * C + c] as number) - (this.forecasts[slot * C + c] as number) : 0;
    }
    const ys = this.ys;
    this.stream.stepSlots(slots, count, xs, ys);
    if (this.delta) for (let i = 0; i < count * C; i++) ys[i] = (ys[i] as number) + (xs[i] as number);
    const forecasts = this.forecasts;
    for (let i = 0; i < count; i++) {
      const to = (slots[i] as number) * C;
      for (let c = 0; c < C; c++) forecasts[to + c] = ys[i * C + c] as number;
    }
  }

  /** The pending normalised forecast of slot `slot`'s next reading, `[C]` (a view; copy to keep). */
  forecastOf(slot: number): Float32Array {
    return this.forecasts.subarray(slot * this.channels, (slot + 1) * this.channels);
  }

  resetSlot(slot: number): void {
    this.stream.resetSlot(slot);
    this.forecasts.fill(0, slot * this.channels, (slot + 1) * this.channels);
  }

  snapshotSlot(slot: number): ForecastSnapshot {
    return { tcn: this.stream.snapshotSlot(slot), forecast: this.forecastOf(slot).slice() };
  }

  /** @throws Error if the snapshot does not fit this model. */
  restoreSlot(slot: number, snapshot: ForecastSnapshot): void {
    if (snapshot.forecast.length !== this.channels) {
      throw new Error(`forecast restore: snapshot forecast has ${snapshot.forecast.length} channels, the model has ${this.channels}`);
    }
    this.stream.restoreSlot(slot, snapshot.tcn);
    this.forecasts.set(snapshot.forecast, slot * this.channels);
  }
}
