import { Rng } from '../nn/random.js';
import type { AnomalySpec } from './anomaly-kinds.js';
import type { ChannelSpec } from './channel-spec.js';
import { deriveSeed } from './derive-seed.js';
import { LatentProcess } from './latent-process.js';

/** Where a device's anomalies come from, in increasing `startRow` order; `null` when there are no more. */
export interface AnomalySource {
  next(): AnomalySpec | null;
}

/** An {@link AnomalySource} over a fixed list, already sorted by `startRow`. */
export function listAnomalySource(specs: readonly AnomalySpec[]): AnomalySource {
  let i = 0;
  return { next: () => (i < specs.length ? (specs[i++] as AnomalySpec) : null) };
}

interface ActiveAnomaly {
  readonly spec: AnomalySpec;
  readonly endRow: number;
  readonly channelIdx: readonly number[];
  /** Per entry of `channelIdx`, the independent load of a `correlation` anomaly. */
  readonly latents: readonly LatentProcess[];
}

/**
 * Keeps one device's active anomalies and exposes, per channel, the parameters the signal
 * generator folds into its formula. Inactive channels see neutral values (offset 0, factors 1,
 * no decoupling, not stuck), which leave the clean value bit for bit unchanged.
 * Call {@link beginRow} once per row, in order, before reading the per-channel arrays.
 */
export class AnomalyInjector {
  /** Per channel: added to the value (`spike`, `level-shift`), in the channel's unit. */
  readonly offset: Float64Array;
  /** Per channel: multiplies the noise term (`variance`). */
  readonly noiseFactor: Float64Array;
  /** Per channel: speed-up of the process cycle (`frequency`). */
  readonly frequencyFactor: Float64Array;
  /** Per channel: first row of the current `frequency` anomaly (its phase is continuous there). */
  readonly frequencyStartRow: Float64Array;
  /** Per channel: weight `m` of the independent load (`correlation`); 0 when coupled. */
  readonly decoupleWeight: Float64Array;
  /** Per channel: the independent load's current value while decoupled. */
  readonly decoupledLatent: Float64Array;
  /** Per channel: 1 while frozen (`stuck`). */
  readonly stuck: Uint8Array;
  /** Per channel: the frozen value; NaN until known (a `stuck` anomaly starting at row 0). */
  readonly held: Float32Array;

  private readonly active: ActiveAnomaly[] = [];
  private pending: AnomalySpec | null;
  private ordinal = 0;

  /**
   * @param rows rows of the recording (`Infinity` when endless); anomalies reaching past it are clipped.
   * @param onStart told of each anomaly as it starts (clipped to `rows`).
   */
  constructor(
    private readonly source: AnomalySource,
    private readonly channels: readonly ChannelSpec[],
    private readonly scales: readonly number[],
    private readonly seed: number,
    private readonly deviceId: string,
    private readonly rows: number,
    private readonly onStart?: (spec: AnomalySpec) => void,
  ) {
    const n = channels.length;
    this.offset = new Float64Array(n);
    this.noiseFactor = new Float64Array(n).fill(1);
    this.frequencyFactor = new Float64Array(n).fill(1);
    this.frequencyStartRow = new Float64Array(n);
    this.decoupleWeight = new Float64Array(n);
    this.decoupledLatent = new Float64Array(n);
    this.stuck = new Uint8Array(n);
    this.held = new Float32Array(n).fill(Number.NaN);
    this.pending = source.next();
  }

  /** Anomalies covering the current row (after {@link beginRow}). */
  get activeSpecs(): readonly AnomalySpec[] {
    return this.active.map((a) => a.spec);
  }

  /** Whether any anomaly covers the current row (after {@link beginRow}). */
  get anomalous(): boolean {
    return this.active.length > 0;
  }

  /**
   * Moves to `row` (`row < rows`): ends anomalies whose segment is over, starts those beginning here, and
   * advances the independent loads of ongoing `correlation` anomalies.
   * @param lastValues the values the device reported at `row − 1` ([C]); a `stuck` sensor holds them.
   */
  beginRow(row: number, lastValues: Float32Array): void {
    for (let i = this.active.length - 1; i >= 0; i--) {
      const a = this.active[i] as ActiveAnomaly;
      if (row < a.endRow) continue;
      for (const c of a.channelIdx) this.reset(c);
      this.active.splice(i, 1);
    }
    for (const a of this.active) {
      if (a.spec.kind !== 'correlation') continue;
      a.channelIdx.forEach((c, j) => {
        this.decoupledLatent[c] = (a.latents[j] as LatentProcess).step();
      });
    }
    while (this.pending !== null && this.pending.startRow === row) {
      this.start(this.pending, row, lastValues);
      this.pending = this.source.next();
    }
    if (this.pending !== null && this.pending.startRow < row) {
      throw new Error(`anomaly source for device ${this.deviceId} went back to row ${this.pending.startRow} at row ${row}`);
    }
  }

  private start(input: AnomalySpec, row: number, lastValues: Float32Array): void {
    const spec: AnomalySpec =
      row + input.lengthRows > this.rows ? { ...input, channels: [...input.channels], lengthRows: this.rows - row } : input;
    const channelIdx = spec.channels.map((name) => this.channels.findIndex((c) => c.name === name));
    const latents: LatentProcess[] = [];
    const m = spec.magnitude;
    for (const c of channelIdx) {
      if (c < 0) throw new Error(`anomaly on device ${this.deviceId} names an unknown channel`);
      switch (spec.kind) {
        case 'spike':
        case 'level-shift':
          this.offset[c] = m * (this.scales[c] as number);
          break;
        case 'variance':
          this.noiseFactor[c] = m;
          break;
        case 'frequency':
          this.frequencyFactor[c] = m;
          this.frequencyStartRow[c] = row;
          break;
        case 'correlation': {
          const name = (this.channels[c] as ChannelSpec).name;
          const latent = new LatentProcess(new Rng(deriveSeed(this.seed, this.deviceId, 'anomaly', String(this.ordinal), name)));
          latents.push(latent);
          this.decoupleWeight[c] = m;
          this.decoupledLatent[c] = latent.value;
          break;
        }
        case 'stuck':
          this.stuck[c] = 1;
          this.held[c] = row > 0 ? (lastValues[c] as number) : Number.NaN;
          break;
      }
    }
    this.ordinal++;
    this.active.push({ spec, endRow: row + spec.lengthRows, channelIdx, latents });
    this.onStart?.(spec);
  }

  private reset(c: number): void {
    this.offset[c] = 0;
    this.noiseFactor[c] = 1;
    this.frequencyFactor[c] = 1;
    this.frequencyStartRow[c] = 0;
    this.decoupleWeight[c] = 0;
    this.decoupledLatent[c] = 0;
    this.stuck[c] = 0;
    this.held[c] = Number.NaN;
  }
}
