/**
 * What one simulated channel measures and how its signal is built. Every channel of a device
 * is, per row t:
 *
 * ```
 * value(t) = base + drift(t)
 *          + latentGain · z(t − latentLagRows)                      shared load process
 *          + dailyAmplitude · sin(2π t / dailyPeriod + φ_day)      slow, "daily" cycle
 *          + processAmplitude · sin(2π t / processPeriod + φ_proc + processPhaseRad)
 *          + noiseStd · ε(t)                                        white Gaussian noise
 * ```
 *
 * where `z` is the device's load: a smooth, zero-mean, unit-variance latent process shared by
 * all channels; `drift` a bounded random walk (normal behaviour, never labelled).
 */
export interface ChannelSpec {
  /** Channel name as it appears in recordings and anomaly specs; unique within a config. */
  readonly name: string;
  /** Physical unit, for display only (e.g. `'°C'`). */
  readonly unit: string;
  /** Mean level, in the channel's unit. */
  readonly base: number;
  /** Coefficient on the unit-variance load process, in the channel's unit (0: not coupled). */
  readonly latentGain: number;
  /** How many rows the channel lags behind the load process; integer ≥ 0. */
  readonly latentLagRows: number;
  /** Amplitude of the daily-like cycle, in the channel's unit (≥ 0). */
  readonly dailyAmplitude: number;
  /** Amplitude of the faster process cycle, in the channel's unit (≥ 0). */
  readonly processAmplitude: number;
  /** Phase of this channel's process cycle relative to the device's, in radians. */
  readonly processPhaseRad: number;
  /** Standard deviation of the white measurement noise, in the channel's unit (≥ 0). */
  readonly noiseStd: number;
  /** The drift random walk stays within ±driftBound of `base` (≥ 0; 0 disables drift). */
  readonly driftBound: number;
  /** Standard deviation of one drift step per row, in the channel's unit (≥ 0). */
  readonly driftStepStd: number;
  /**
   * Unit of anomaly magnitudes for `spike` and `level-shift`, in the channel's unit (> 0).
   * Default: the nominal standard deviation of normal variation, see {@link channelScale}.
   */
  readonly scale?: number;
}

/**
 * The default channels of a small machine (a pump driven by an electric motor). Motor current,
 * speed and power follow the load directly, flow and pressure one or two rows later, and both
 * temperatures are slow, lagged functions of the load plus a daily ambient cycle.
 */
export const DEFAULT_CHANNELS: readonly ChannelSpec[] = Object.freeze([
  ch('temperature_c', '°C', 62, 2.0, 15, 3.0, 0.3, 0.0, 0.15, 1.5, 0.02),
  ch('pressure_bar', 'bar', 6.0, 0.35, 2, 0.05, 0.25, 0.4, 0.04, 0.2, 0.003),
  ch('flow_m3h', 'm³/h', 42, 5.0, 1, 0.5, 2.0, 0.9, 0.5, 2.0, 0.03),
  ch('vibration_rms_mm_s', 'mm/s', 2.2, 0.25, 0, 0, 0.15, 1.6, 0.12, 0.3, 0.004),
  ch('motor_current_a', 'A', 18, 3.0, 0, 0, 0.4, 2.1, 0.25, 0.5, 0.006),
  ch('speed_rpm', 'rpm', 1450, 25, 0, 0, 6, 2.1, 3, 10, 0.1),
  ch('power_kw', 'kW', 9.5, 1.6, 0, 0, 0.2, 2.3, 0.12, 0.3, 0.004),
  ch('bearing_temp_c', '°C', 48, 2.5, 30, 1.5, 0, 0, 0.1, 1.0, 0.015),
]);

/** Number of channels a config gets when it names none. */
export const DEFAULT_CHANNEL_COUNT = 8;

/**
 * The nominal standard deviation of a channel's normal variation:
 * `sqrt(latentGain² + dailyAmplitude²/2 + processAmplitude²/2 + noiseStd² + driftBound²/3)`
 * (the last term is the variance of a drift spread evenly over its bounds), or `spec.scale`
 * when given. Spike and level-shift magnitudes are in this unit.
 */
export function channelScale(spec: ChannelSpec): number {
  if (spec.scale !== undefined) return spec.scale;
  const g = spec.latentGain;
  const d = spec.dailyAmplitude;
  const p = spec.processAmplitude;
  const n = spec.noiseStd;
  const b = spec.driftBound;
  return Math.sqrt(g * g + (d * d) / 2 + (p * p) / 2 + n * n + (b * b) / 3);
}

/**
 * The first `count` default channels. Beyond the eight defaults the list repeats them with a
 * suffix (`temperature_c_2`, …) and a shifted process phase, so every copy is a distinct
 * channel coupled to the same load.
 * @throws Error when `count` is not a positive integer.
 */
export function defaultChannels(count: number): ChannelSpec[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`channel count must be a positive integer, got ${count}`);
  }
  const out: ChannelSpec[] = [];
  for (let i = 0; i < count; i++) {
    const template = DEFAULT_CHANNELS[i % DEFAULT_CHANNELS.length] as ChannelSpec;
    const copy = Math.floor(i / DEFAULT_CHANNELS.length);
    out.push(
      copy === 0
        ? template
        : { ...template, name: `${template.name}_${copy + 1}`, processPhaseRad: template.processPhaseRad + 0.7 * copy },
    );
  }
  return out;
}

function ch(
  name: string,
  unit: string,
  base: number,
  latentGain: number,
  latentLagRows: number,
  dailyAmplitude: number,
  processAmplitude: number,
  processPhaseRad: number,
  noiseStd: number,
  driftBound: number,
  driftStepStd: number,
): ChannelSpec {
  return Object.freeze({
    name, unit, base, latentGain, latentLagRows, dailyAmplitude, processAmplitude, processPhaseRad,
    noiseStd, driftBound, driftStepStd,
  });
}
