/**
 * Per-stream anomaly event state machine with hysteresis: a run of `openAfter` consecutive
 * readings with score > threshold opens an event; `closeAfter` consecutive readings with
 * score ≤ threshold close it. One instance per stream (device).
 *
 * ```
 *            exceed × openAfter                    quiet × closeAfter
 *   idle ──▶ pending ─────────────▶ open (emit start) ─────────────────▶ idle (emit end)
 *     ▲         │ quiet                 │ exceed: the quiet count restarts
 *     └─────────┘
 * ```
 */

/** Default {@link HysteresisOptions.openAfter}: the first exceedance opens an event. */
export const DEFAULT_OPEN_AFTER = 1;
/** Default {@link HysteresisOptions.closeAfter}: three quiet readings in a row close it. */
export const DEFAULT_CLOSE_AFTER = 3;
/** Default {@link HysteresisOptions.topK}. */
export const DEFAULT_TOP_K = 3;

/** Options of {@link Hysteresis}. */
export interface HysteresisOptions {
  /** Consecutive readings above the threshold that open an event; integer ≥ 1, default 1. */
  readonly openAfter?: number;
  /** Consecutive readings at or below the threshold that close it; integer ≥ 1, default 3. */
  readonly closeAfter?: number;
  /** Number of channels C of the attribution vectors; 0 (default) means no attribution. */
  readonly channels?: number;
  /** How many channels `topChannels` lists (at most C); integer ≥ 1, default 3. */
  readonly topK?: number;
  /**
   * How channels are ranked: 'mean' (default) by their mean attribution share over the
   * event's readings above the threshold; 'peak' by their share at the highest-scoring reading.
   */
  readonly rankChannelsBy?: 'mean' | 'peak';
}

/** One channel's attribution share in an event. */
export interface ChannelShare {
  /** Channel index in [0, C). */
  readonly index: number;
  /** Share in [0, 1] (mean or peak share, as configured). */
  readonly share: number;
}

/** An anomaly event boundary, emitted once when an event opens and once when it closes. */
export interface AnomalyEvent {
  readonly kind: 'start' | 'end';
  /** Time of the first reading above the threshold of the run that opened the event, ms. */
  readonly startMs: number;
  /**
   * `end` only: time of the event's last reading above the threshold, ms. The end is emitted
   * `closeAfter` readings later (at the reading that confirms it).
   */
  readonly endMs?: number;
  /** Highest score of the event so far (at `start`: of the opening run). */
  readonly peakScore: number;
  /** Time of that highest score, ms. */
  readonly peakMs: number;
  /** Readings from `startMs` through the last reading above the threshold, inclusive. */
  readonly readings: number;
  /** How many of those readings were above the threshold. */
  readonly exceedances: number;
  /** Top channels by attribution, highest first (ties: lower index first); [] without attribution. */
  readonly topChannels: ChannelShare[];
}

/**
 * What {@link Hysteresis.update} reports for one reading. The same object is reused by every
 * call (no allocation per reading): read it before the next update, copy what you keep.
 */
export interface HysteresisStep {
  /**
   * Event state after this reading: 1 while an event is open, from the reading that opens it up
   * to (not including) the reading that closes it; so the quiet readings that wait for the
   * close are flagged too. This is the flag alerting and dashboards want.
   */
  anomaly: 0 | 1;
  /** Raw exceedance of this reading: 1 when score > threshold. */
  exceeded: 0 | 1;
  /** The event that started or ended at this reading, else null. */
  event: AnomalyEvent | null;
}

/** Phase of the state machine. */
export type HysteresisPhase = 'idle' | 'pending' | 'open';

/** State of a {@link Hysteresis} as plain JSON (checkpoints). */
export interface HysteresisSnapshot {
  readonly version: 1;
  readonly channels: number;
  readonly phase: HysteresisPhase;
  readonly startMs: number;
  readonly lastExceedMs: number;
  readonly peakScore: number;
  readonly peakMs: number;
  /** Readings since startMs, including trailing quiet ones. */
  readonly readingsSinceStart: number;
  readonly spanReadings: number;
  readonly exceedances: number;
  readonly quietRun: number;
  /** Exceeding readings whose attribution was given. */
  readonly contribCount: number;
  readonly sumShares: number[];
  readonly peakShares: number[];
}

const PHASES: readonly HysteresisPhase[] = ['idle', 'pending', 'open'];

function positiveInt(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`Hysteresis: ${name} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

/**
 * Event state machine of one stream. Create once per stream, call {@link update} for each
 * scored reading in time order. Besides the events it emits, it allocates nothing per reading.
 */
export class Hysteresis {
  readonly openAfter: number;
  readonly closeAfter: number;
  readonly channels: number;
  readonly topK: number;
  readonly rankChannelsBy: 'mean' | 'peak';

  private readonly step: HysteresisStep = { anomaly: 0, exceeded: 0, event: null };
  private readonly sumShares: Float64Array;
  private readonly peakShares: Float64Array;
  private phaseNow: HysteresisPhase = 'idle';
  private startMs = 0;
  private lastExceedMs = 0;
  private peakScore = 0;
  private peakMs = 0;
  private readingsSinceStart = 0;
  private spanReadings = 0;
  private exceedances = 0;
  private quietRun = 0;
  private contribCount = 0;

  /** @throws Error when an option is out of range (named with its value). */
  constructor(options: HysteresisOptions = {}) {
    this.openAfter = positiveInt(options.openAfter ?? DEFAULT_OPEN_AFTER, 'openAfter', 1);
    this.closeAfter = positiveInt(options.closeAfter ?? DEFAULT_CLOSE_AFTER, 'closeAfter', 1);
    this.channels = positiveInt(options.channels ?? 0, 'channels', 0);
    this.topK = positiveInt(options.topK ?? DEFAULT_TOP_K, 'topK', 1);
    const rank = options.rankChannelsBy ?? 'mean';
    if (rank !== 'mean' && rank !== 'peak') throw new Error(`Hysteresis: rankChannelsBy must be 'mean' or 'peak', got '${String(rank)}'`);
    this.rankChannelsBy = rank;
    this.sumShares = new Float64Array(this.channels);
    this.peakShares = new Float64Array(this.channels);
  }

  /** Current phase. */
  get phase(): HysteresisPhase {
    return this.phaseNow;
  }

  /** 1 while an event is open. */
  get anomaly(): 0 | 1 {
    return this.phaseNow === 'open' ? 1 : 0;
  }

  /**
   * Advances by one reading.
   *
   * A NaN score or threshold is skipped: the state does not change and no event is emitted (a
   * missing score is no evidence either way). An infinite score exceeds any finite threshold.
   *
   * @param score the reading's anomaly score.
   * @param threshold the calibrated threshold (score units).
   * @param timeMs the reading's timestamp, ms (non-decreasing in a stream).
   * @param contrib optional `[C]` attribution shares of the reading (C = `channels`).
   * @returns the reused {@link HysteresisStep}.
   * @throws Error when `timeMs` is not finite or `contrib` does not have `channels` values.
   */
  update(score: number, threshold: number, timeMs: number, contrib?: ArrayLike<number>): HysteresisStep {
    if (!Number.isFinite(timeMs)) throw new Error(`Hysteresis.update: timeMs must be finite, got ${timeMs}`);
    if (contrib !== undefined && contrib.length !== this.channels) {
      throw new Error(`Hysteresis.update: contrib has ${contrib.length} values, expected channels = ${this.channels}`);
    }
    const step = this.step;
    step.event = null;
    if (Number.isNaN(score) || Number.isNaN(threshold)) {
      step.exceeded = 0;
      step.anomaly = this.anomaly;
      return step;
    }
    if (score > threshold) {
      step.exceeded = 1;
      if (this.phaseNow === 'idle') {
        this.begin(timeMs);
        this.phaseNow = 'pending';
      }
      this.absorb(score, timeMs, contrib);
      if (this.phaseNow === 'pending' && this.exceedances >= this.openAfter) {
        this.phaseNow = 'open';
        step.event = this.makeEvent('start');
      }
    } else {
      step.exceeded = 0;
      if (this.phaseNow === 'pending') {
        this.phaseNow = 'idle';
      } else if (this.phaseNow === 'open') {
        this.readingsSinceStart++;
        this.quietRun++;
        if (this.quietRun >= this.closeAfter) {
          step.event = this.makeEvent('end');
          this.phaseNow = 'idle';
        }
      }
    }
    step.anomaly = this.anomaly;
    return step;
  }

  /** Forgets any pending or open event (no event is emitted). */
  reset(): void {
    this.phaseNow = 'idle';
    this.begin(0);
  }

  /** The full state as plain JSON; {@link restore} on an equally configured instance resumes it exactly. */
  snapshot(): HysteresisSnapshot {
    return {
      version: 1,
      channels: this.channels,
      phase: this.phaseNow,
      startMs: this.startMs,
      lastExceedMs: this.lastExceedMs,
      peakScore: this.peakScore,
      peakMs: this.peakMs,
      readingsSinceStart: this.readingsSinceStart,
      spanReadings: this.spanReadings,
      exceedances: this.exceedances,
      quietRun: this.quietRun,
      contribCount: this.contribCount,
      sumShares: Array.from(this.sumShares),
      peakShares: Array.from(this.peakShares),
    };
  }

  /**
   * Replaces the state with a snapshot (e.g. parsed from a checkpoint file). The snapshot is
   * checked completely before anything changes. openAfter/closeAfter/topK may differ from the
   * instance that took it; the channel count may not.
   * @throws Error naming the bad field when the snapshot is malformed or its channel count differs.
   */
  restore(snapshot: unknown): void {
    if (typeof snapshot !== 'object' || snapshot === null) throw new Error('Hysteresis.restore: snapshot must be an object');
    const s = snapshot as Record<string, unknown>;
    if (s.version !== 1) throw new Error(`Hysteresis.restore: unsupported snapshot version ${JSON.stringify(s.version)}, expected 1`);
    if (s.channels !== this.channels) {
      throw new Error(`Hysteresis.restore: snapshot has channels = ${JSON.stringify(s.channels)}, this instance has ${this.channels}`);
    }
    const phase = s.phase;
    if (typeof phase !== 'string' || !PHASES.includes(phase as HysteresisPhase)) {
      throw new Error(`Hysteresis.restore: phase must be one of ${PHASES.join(', ')}, got ${JSON.stringify(phase)}`);
    }
    const num = (field: string): number => {
      const v = s[field];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`Hysteresis.restore: ${field} must be a finite number, got ${JSON.stringify(v)}`);
      return v;
    };
    const count = (field: string): number => {
      const v = num(field);
      if (!Number.isInteger(v) || v < 0) throw new Error(`Hysteresis.restore: ${field} must be a non-negative integer, got ${v}`);
      return v;
    };
    const shares = (field: string): number[] => {
      const v = s[field];
      if (!Array.isArray(v) || v.length !== this.channels || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new Error(`Hysteresis.restore: ${field} must be an array of ${this.channels} finite numbers`);
      }
      return v as number[];
    };
    const values = {
      startMs: num('startMs'),
      lastExceedMs: num('lastExceedMs'),
      peakScore: num('peakScore'),
      peakMs: num('peakMs'),
      readingsSinceStart: count('readingsSinceStart'),
      spanReadings: count('spanReadings'),
      exceedances: count('exceedances'),
      quietRun: count('quietRun'),
      contribCount: count('contribCount'),
      sumShares: shares('sumShares'),
      peakShares: shares('peakShares'),
    };
    this.phaseNow = phase as HysteresisPhase;
    this.startMs = values.startMs;
    this.lastExceedMs = values.lastExceedMs;
    this.peakScore = values.peakScore;
    this.peakMs = values.peakMs;
    this.readingsSinceStart = values.readingsSinceStart;
    this.spanReadings = values.spanReadings;
    this.exceedances = values.exceedances;
    this.quietRun = values.quietRun;
    this.contribCount = values.contribCount;
    this.sumShares.set(values.sumShares);
    this.peakShares.set(values.peakShares);
  }

  /** Clears the accumulators for a candidate event starting at `timeMs` (the phase is the caller's). */
  private begin(timeMs: number): void {
    this.startMs = timeMs;
    this.lastExceedMs = timeMs;
    this.peakScore = 0;
    this.peakMs = timeMs;
    this.readingsSinceStart = 0;
    this.spanReadings = 0;
    this.exceedances = 0;
    this.quietRun = 0;
    this.contribCount = 0;
    this.sumShares.fill(0);
    this.peakShares.fill(0);
  }

  /** Adds one reading above the threshold to the current event. */
  private absorb(score: number, timeMs: number, contrib: ArrayLike<number> | undefined): void {
    this.readingsSinceStart++;
    this.spanReadings = this.readingsSinceStart;
    this.exceedances++;
    this.quietRun = 0;
    this.lastExceedMs = timeMs;
    const isPeak = this.exceedances === 1 || score > this.peakScore;
    if (isPeak) {
      this.peakScore = score;
      this.peakMs = timeMs;
    }
    if (contrib !== undefined && this.channels > 0) {
      this.contribCount++;
      for (let c = 0; c < this.channels; c++) this.sumShares[c] += contrib[c] as number;
      if (isPeak) for (let c = 0; c < this.channels; c++) this.peakShares[c] = contrib[c] as number;
    } else if (isPeak) {
      // A peak without attribution: keeping the previous peak's shares would misattribute it.
      this.peakShares.fill(0);
    }
  }

  private makeEvent(kind: 'start' | 'end'): AnomalyEvent {
    const base = {
      kind,
      startMs: this.startMs,
      peakScore: this.peakScore,
      peakMs: this.peakMs,
      readings: this.spanReadings,
      exceedances: this.exceedances,
      topChannels: this.topChannels(),
    };
    return kind === 'end' ? { ...base, endMs: this.lastExceedMs } : base;
  }

  private topChannels(): ChannelShare[] {
    if (this.channels === 0 || this.contribCount === 0) return [];
    const byMean = this.rankChannelsBy === 'mean';
    const all: ChannelShare[] = [];
    for (let c = 0; c < this.channels; c++) {
      all.push({ index: c, share: byMean ? (this.sumShares[c] as number) / this.contribCount : (this.peakShares[c] as number) });
    }
    all.sort((a, b) => b.share - a.share || a.index - b.index);
    return all.slice(0, Math.min(this.topK, this.channels));
  }
}
