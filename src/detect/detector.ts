import { Forecaster, type ForecastSnapshot, type ForecastBatch } from '../model/forecaster.js';
import type { ModelManifest } from '../model/model-manifest.js';
import type { Tcn } from '../nn/tcn.js';
import { jsGemmKernel, type GemmKernel } from '../nn/gemm.js';
import { Hysteresis, type AnomalyEvent, type HysteresisSnapshot } from './hysteresis.js';
import { residualStatsFromJSON, scoreReading, type ResidualStats } from './residual-scorer.js';
import { parseThresholdCalibration, type ThresholdCalibration } from './threshold.js';

/** How anomaly events open and close; see {@link Hysteresis}. */
export interface EventPolicy {
  /** Consecutive readings above the threshold that open an event (≥ 1). */
  readonly openAfter: number;
  /** Consecutive readings at or below it that close the event (≥ 1). */
  readonly closeAfter: number;
  /** Channels listed in an event's `topChannels`. Default 3. */
  readonly topK?: number;
}

/** Everything a detector needs; what a model directory holds. */
export interface DetectorParts {
  /** The model.json this detector was built from (or will be saved as); the weights' hash is the writer's business. */
  readonly manifest: Omit<ModelManifest, 'weights'>;
  readonly name: string;
  readonly forecaster: Forecaster;
  readonly residualStats: ResidualStats;
  readonly threshold: ThresholdCalibration;
  readonly events: EventPolicy;
}

/**
 * Builds a detector from a validated manifest and the TCN holding its weights.
 * @throws Error when the score or threshold sections are inconsistent (names the field).
 */
export function detectorFromManifest(manifest: ModelManifest, tcn: Tcn): Detector {
  const normalization = { mean: Float32Array.from(manifest.normalization.mean), std: Float32Array.from(manifest.normalization.std) };
  const forecaster = new Forecaster(manifest.channels, normalization, tcn, manifest.architecture.forecast);
  return new Detector({
    manifest,
    name: manifest.name,
    forecaster,
    residualStats: residualStatsFromJSON({ center: manifest.score.center, scale: manifest.score.scale }),
    threshold: parseThresholdCalibration(manifest.threshold),
    events: manifest.events,
  });
}

/** The per-slot state of a detector stream, for checkpoints. */
export interface DetectorSnapshot {
  readonly forecast: ForecastSnapshot;
  readonly events: HysteresisSnapshot;
  /** Latest reading time seen, ms (−Infinity before the first reading). */
  readonly lastTimeMs: number;
}

/**
 * A trained anomaly detector: forecaster + residual scoring + calibrated threshold + event
 * hysteresis. The one object behind every door (offline `score`/`eval`, the live service, replay):
 * they all call {@link DetectorBatch.observe} reading by reading, so their scores are identical.
 */
export class Detector {
  readonly manifest: Omit<ModelManifest, 'weights'>;
  readonly name: string;
  readonly forecaster: Forecaster;
  readonly residualStats: ResidualStats;
  readonly threshold: ThresholdCalibration;
  readonly events: Required<EventPolicy>;

  /** @throws Error when the parts disagree on the channel count. */
  constructor(parts: DetectorParts) {
    const C = parts.forecaster.channels.length;
    if (parts.residualStats.center.length !== C || parts.residualStats.scale.length !== C) {
      throw new Error(`Detector: residual statistics cover ${parts.residualStats.center.length} channels, the forecaster ${C}`);
    }
    if (!(parts.threshold.value > 0) || !Number.isFinite(parts.threshold.value)) {
      throw new Error(`Detector: threshold must be a finite positive number, got ${parts.threshold.value}`);
    }
    this.manifest = parts.manifest;
    this.name = parts.name;
    this.forecaster = parts.forecaster;
    this.residualStats = parts.residualStats;
    this.threshold = parts.threshold;
    this.events = { openAfter: parts.events.openAfter, closeAfter: parts.events.closeAfter, topK: Math.min(parts.events.topK ?? 3, C) };
  }

  get channels(): readonly string[] {
    return this.forecaster.channels;
  }

  /** Readings a new stream needs before it scores: the receptive field. */
  get warmupReadings(): number {
    return this.forecaster.receptiveField;
  }

  /** `capacity` independent device streams, advanced together where they have readings. */
  createBatch(capacity: number, kernel: GemmKernel = jsGemmKernel): DetectorBatch {
    return new DetectorBatch(this, capacity, kernel);
  }

  /** One device stream. */
  createStream(kernel: GemmKernel = jsGemmKernel): DetectorStream {
    return new DetectorStream(this.createBatch(1, kernel));
  }
}

/** Results of one {@link DetectorBatch.observe} call, row i for the i-th slot given. Reused between calls. */
export interface ScoredBatch {
  /** 1 where the reading was scored (its stream had warmed up). */
  readonly ready: Uint8Array;
  /** Score per reading (NaN where not ready). */
  readonly scores: Float64Array;
  /** Event state after the reading (see {@link Hysteresis}); 0 where not ready. */
  readonly anomaly: Uint8Array;
  /** 1 where score > threshold. */
  readonly exceeded: Uint8Array;
  /** `[count, C]` attribution shares (zeros where not ready). */
  readonly contrib: Float32Array;
  /** The event a reading started or ended, else null. */
  readonly events: (AnomalyEvent | null)[];
}

/**
 * Device streams of one {@link Detector}. Per-slot state: forecaster histories, pending forecast,
 * event hysteresis. Allocation on the steady path only when an event is emitted.
 */
export class DetectorBatch {
  readonly capacity: number;
  readonly channels: number;
  readonly threshold: number;
  private readonly forecast: ForecastBatch;
  private readonly hysteresis: Hysteresis[];
  private readonly stats: ResidualStats;
  /** Per slot, the latest time seen: event times never step back even if readings do. */
  private readonly lastTimeMs: Float64Array;
  private rows = 0;
  private residuals = new Float32Array(0);
  private out: ScoredBatch = emptyBatch(0, 0);

  constructor(
    readonly detector: Detector,
    capacity: number,
    kernel: GemmKernel,
  ) {
    this.capacity = capacity;
    this.channels = detector.channels.length;
    this.threshold = detector.threshold.value;
    this.stats = detector.residualStats;
    this.forecast = detector.forecaster.createBatch(capacity, kernel);
    this.lastTimeMs = new Float64Array(capacity).fill(Number.NEGATIVE_INFINITY);
    const ev = detector.events;
    this.hysteresis = Array.from({ length: capacity }, () => new Hysteresis({ openAfter: ev.openAfter, closeAfter: ev.closeAfter, channels: this.channels, topK: ev.topK }));
  }

  /** Whether slot `slot`'s next reading will be scored. */
  isReady(slot: number): boolean {
    return this.forecast.isReady(slot);
  }

  /**
   * Scores one raw reading for each of `count` distinct slots, in order of arrival.
   * @param readings `[count, C]` raw values in the model's channel order.
   * @param timesMs `[count]` reading timestamps, ms since the epoch.
   * @returns results for rows `0..count)`; the object and its arrays are reused by the next call.
   * @throws Error on a repeated or out-of-range slot, or a non-finite time.
   */
  observe(slots: Int32Array, count: number, readings: Float32Array, timesMs: Float64Array): ScoredBatch {
    const C = this.channels;
    if (count > this.rows) {
      this.rows = Math.max(count, this.rows * 2, 1);
      this.residuals = new Float32Array(this.rows * C);
      this.out = emptyBatch(this.rows, C);
    }
    const out = this.out;
    this.forecast.observe(slots, count, readings, this.residuals, out.ready);
    for (let i = 0; i < count; i++) {
      const contrib = out.contrib.subarray(i * C, (i + 1) * C);
      const slot = slots[i] as number;
      const time = Math.max(timesMs[i] as number, this.lastTimeMs[slot] as number);
      this.lastTimeMs[slot] = time;
      if (out.ready[i] === 1) {
        const score = scoreReading(this.residuals.subarray(i * C, (i + 1) * C), this.stats, contrib);
        const step = (this.hysteresis[slot] as Hysteresis).update(score, this.threshold, time, contrib);
        out.scores[i] = score;
        out.anomaly[i] = step.anomaly;
        out.exceeded[i] = step.exceeded;
        out.events[i] = step.event;
      } else {
        out.scores[i] = Number.NaN;
        out.anomaly[i] = 0;
        out.exceeded[i] = 0;
        out.events[i] = null;
        contrib.fill(0);
      }
    }
    return out;
  }

  resetSlot(slot: number): void {
    this.forecast.resetSlot(slot);
    this.lastTimeMs[slot] = Number.NEGATIVE_INFINITY;
    (this.hysteresis[slot] as Hysteresis).reset();
  }

  snapshotSlot(slot: number): DetectorSnapshot {
    return { forecast: this.forecast.snapshotSlot(slot), events: (this.hysteresis[slot] as Hysteresis).snapshot(), lastTimeMs: this.lastTimeMs[slot] as number };
  }

  /** @throws Error if the snapshot does not fit this detector. */
  restoreSlot(slot: number, snapshot: DetectorSnapshot): void {
    if (typeof snapshot.lastTimeMs !== 'number' || Number.isNaN(snapshot.lastTimeMs)) throw new Error(`detector restore: lastTimeMs must be a number, got ${String(snapshot.lastTimeMs)}`);
    this.forecast.restoreSlot(slot, snapshot.forecast);
    (this.hysteresis[slot] as Hysteresis).restore(snapshot.events);
    this.lastTimeMs[slot] = snapshot.lastTimeMs;
  }
}

function emptyBatch(rows: number, channels: number): ScoredBatch {
  return {
    ready: new Uint8Array(rows),
    scores: new Float64Array(rows),
    anomaly: new Uint8Array(rows),
    exceeded: new Uint8Array(rows),
    contrib: new Float32Array(rows * channels),
    events: new Array<AnomalyEvent | null>(rows).fill(null),
  };
}

/** One scored reading (reused by the next push of the same stream). */
export interface ScoredReading {
  ready: boolean;
  score: number;
  threshold: number;
  anomaly: 0 | 1;
  exceeded: 0 | 1;
  /** `[C]` attribution shares. */
  contrib: Float32Array;
  event: AnomalyEvent | null;
}

/** A single device's detector stream: push readings one at a time. */
export class DetectorStream {
  private readonly slot0 = new Int32Array(1);
  private readonly time = new Float64Array(1);
  private readonly reading: Float32Array;
  private readonly result: ScoredReading;

  constructor(private readonly batch: DetectorBatch) {
    this.reading = new Float32Array(batch.channels);
    this.result = { ready: false, score: Number.NaN, threshold: batch.threshold, anomaly: 0, exceeded: 0, contrib: new Float32Array(batch.channels), event: null };
  }

  /** Whether the next reading will be scored. */
  get ready(): boolean {
    return this.batch.isReady(0);
  }

  /**
   * Scores one raw reading `[C]` taken at `timeMs`.
   * @throws Error when the reading has the wrong length.
   */
  push(reading: ArrayLike<number>, timeMs: number): ScoredReading {
    if (reading.length !== this.batch.channels) throw new Error(`DetectorStream.push: reading has ${reading.length} values, the model has ${this.batch.channels} channels`);
    for (let c = 0; c < reading.length; c++) this.reading[c] = reading[c] as number;
    this.time[0] = timeMs;
    const b = this.batch.observe(this.slot0, 1, this.reading, this.time);
    const r = this.result;
    r.ready = b.ready[0] === 1;
    r.score = b.scores[0] as number;
    r.anomaly = b.anomaly[0] as 0 | 1;
    r.exceeded = b.exceeded[0] as 0 | 1;
    r.contrib.set(b.contrib.subarray(0, this.batch.channels));
    r.event = b.events[0] ?? null;
    return r;
  }

  reset(): void {
    this.batch.resetSlot(0);
  }

  snapshot(): DetectorSnapshot {
    return this.batch.snapshotSlot(0);
  }

  restore(snapshot: DetectorSnapshot): void {
    this.batch.restoreSlot(0, snapshot);
  }
}
