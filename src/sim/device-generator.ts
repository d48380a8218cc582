import { Rng } from '../nn/random.js';
import type { AnomalyInjector } from './anomaly-injector.js';
import type { AnomalySpec } from './anomaly-kinds.js';
import type { ChannelSpec } from './channel-spec.js';
import { deriveSeed } from './derive-seed.js';
import { LatentProcess } from './latent-process.js';
import { MAX_LATENT_LAG_ROWS } from './simulator-config.js';

const TWO_PI = 2 * Math.PI;

/** Shared settings of every device of a recording. */
export interface DeviceGeneratorOptions {
  readonly seed: number;
  readonly deviceId: string;
  readonly channels: readonly ChannelSpec[];
  readonly dailyPeriodRows: number;
  readonly processPeriodRows: number;
}

/**
 * Produces one device's rows, one at a time, in order. All randomness comes from generators
 * seeded by `(seed, deviceId, stream)`: the device parameters, the load process, and per channel
 * its parameters, noise and drift. So a device's clean signal depends on nothing but the seed,
 * its id and its own channel specs, and anomalies (applied through the injector, with their own
 * generators) never change a draw of the clean signal.
 */
export class DeviceGenerator {
  private nextRow = 0;
  /** The values of the last row produced ([C]). */
  readonly lastValues: Float32Array;

  private readonly channels: readonly ChannelSpec[];
  private readonly channelRngs: readonly Rng[];
  private readonly latent: LatentProcess;
  /** Ring buffer of the load process: the current row and the MAX_LATENT_LAG_ROWS before it. */
  private readonly history = new Float64Array(MAX_LATENT_LAG_ROWS + 1);
  private historyPos: number;
  private readonly drift: Float64Array;
  private readonly dailyAmplitude: Float64Array;
  private readonly processAmplitude: Float64Array;
  private readonly dailyPeriodRows: number;
  private readonly dailyPhaseRad: number;
  /** This device's process period, in rows. */
  readonly processPeriodRows: number;
  private readonly processPhaseRad: number;

  /** @param injector this device's anomalies; used only by this generator. */
  constructor(options: DeviceGeneratorOptions, private readonly injector: AnomalyInjector) {
    const { seed, deviceId, channels } = options;
    this.channels = channels;
    const deviceRng = new Rng(deriveSeed(seed, deviceId, 'device'));
    this.dailyPeriodRows = options.dailyPeriodRows;
    this.dailyPhaseRad = TWO_PI * deviceRng.uniform();
    this.processPeriodRows = options.processPeriodRows * deviceRng.uniformRange(0.85, 1.15);
    this.processPhaseRad = TWO_PI * deviceRng.uniform();

    const n = channels.length;
    this.drift = new Float64Array(n);
    this.dailyAmplitude = new Float64Array(n);
    this.processAmplitude = new Float64Array(n);
    this.lastValues = new Float32Array(n);
    this.channelRngs = channels.map((spec, c) => {
      const rng = new Rng(deriveSeed(seed, deviceId, 'channel', spec.name));
      this.dailyAmplitude[c] = spec.dailyAmplitude * rng.uniformRange(0.8, 1.2);
      this.processAmplitude[c] = spec.processAmplitude * rng.uniformRange(0.8, 1.2);
      this.drift[c] = spec.driftBound * rng.uniformRange(-0.5, 0.5);
      return rng;
    });

    // The load runs MAX_LATENT_LAG_ROWS rows ahead of row 0, whatever the channels' lags, so
    // lagged channels see a stationary past and no channel's data depends on another's lag.
    this.latent = new LatentProcess(new Rng(deriveSeed(seed, deviceId, 'latent')));
    this.history[0] = this.latent.value;
    for (let i = 1; i < MAX_LATENT_LAG_ROWS; i++) this.history[i] = this.latent.step();
    this.historyPos = MAX_LATENT_LAG_ROWS - 1;
  }

  /** Rows produced so far (the index of the next row). */
  get row(): number {
    return this.nextRow;
  }

  /** The anomalies covering the row produced last. */
  get activeAnomalies(): readonly AnomalySpec[] {
    return this.injector.activeSpecs;
  }

  /**
   * Writes the next row's values ([C]) to `out[offset … offset + C − 1]` and advances.
   * @returns 1 when an anomaly covers the row, else 0.
   */
  step(out: Float32Array, offset: number): 0 | 1 {
    const t = this.nextRow;
    const inj = this.injector;
    inj.beginRow(t, this.lastValues);

    const size = this.history.length;
    this.historyPos = (this.historyPos + 1) % size;
    this.history[this.historyPos] = this.latent.step();

    const daily = Math.sin((TWO_PI * t) / this.dailyPeriodRows + this.dailyPhaseRad);
    for (let c = 0; c < this.channels.length; c++) {
      const spec = this.channels[c] as ChannelSpec;
      const rng = this.channelRngs[c] as Rng;
      const eps = rng.normal();
      const driftStep = rng.normal();

      let load = this.history[(this.historyPos - spec.latentLagRows + size) % size] as number;
      const m = inj.decoupleWeight[c] as number;
      if (m > 0) load = Math.sqrt(1 - m * m) * load + m * (inj.decoupledLatent[c] as number);

      const f = inj.frequencyFactor[c] as number;
      const start = inj.frequencyStartRow[c] as number;
      const processT = f === 1 ? t : start + f * (t - start);
      const process = Math.sin((TWO_PI * processT) / this.processPeriodRows + this.processPhaseRad + spec.processPhaseRad);

      const value =
        spec.base +
        (this.drift[c] as number) +
        spec.latentGain * load +
        (this.dailyAmplitude[c] as number) * daily +
        (this.processAmplitude[c] as number) * process +
        spec.noiseStd * (inj.noiseFactor[c] as number) * eps +
        (inj.offset[c] as number);

      if (inj.stuck[c] === 1) {
        if (Number.isNaN(inj.held[c])) inj.held[c] = value;
        out[offset + c] = inj.held[c] as number;
      } else {
        out[offset + c] = value;
      }
      this.lastValues[c] = out[offset + c] as number;
      this.drift[c] = reflectedStep(this.drift[c] as number, spec.driftStepStd * driftStep, spec.driftBound);
    }
    this.nextRow = t + 1;
    return inj.anomalous ? 1 : 0;
  }
}

/** One step of a random walk kept inside [−bound, bound] by reflection at the walls. */
function reflectedStep(x: number, step: number, bound: number): number {
  if (bound === 0) return 0;
  let y = x + step;
  if (y > bound) y = 2 * bound - y;
  if (y < -bound) y = -2 * bound - y;
  return Math.min(bound, Math.max(-bound, y));
}
