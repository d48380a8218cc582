import {
  ANOMALY_KIND_DEFAULTS,
  ANOMALY_KINDS,
  incompatibility,
  isAnomalyKind,
  magnitudeProblem,
  type AnomalyKind,
  type AnomalySpec,
  type AnomalySpecInput,
} from './anomaly-kinds.js';
import { channelScale, DEFAULT_CHANNEL_COUNT, defaultChannels, type ChannelSpec } from './channel-spec.js';
import { SimulatorConfigError } from './simulator-config-error.js';

/** Options of the random anomaly planner (`anomalies: 'random'`). */
export interface RandomAnomalyOptions {
  /** No anomaly starts before this row. Default {@link DEFAULT_CLEAN_PREFIX_ROWS}. */
  readonly cleanPrefixRows?: number;
  /** Mean number of normal rows between two anomalies of a device. Default {@link DEFAULT_MEAN_GAP_ROWS}. */
  readonly meanGapRows?: number;
  /** Fewest normal rows between two anomalies of a device (≤ meanGapRows). Default {@link DEFAULT_MIN_GAP_ROWS}. */
  readonly minGapRows?: number;
  /** Kinds to cycle through, each device starting at its own point of the cycle. Default: all. */
  readonly kinds?: readonly AnomalyKind[];
}

/** What to simulate. Only `devices` and `rows` are required. */
export interface SimulatorConfig {
  /** A device count (ids `device-0`, `device-1`, …) or the device ids themselves (unique, non-empty). */
  readonly devices: number | readonly string[];
  /**
   * Rows (readings) per device; an integer ≥ 0. `createSimulator` also takes `Infinity` for an
   * endless stream; `simulate` needs a finite count.
   */
  readonly rows: number;
  /** Time between rows in ms (> 0). Default {@link DEFAULT_PERIOD_MS}. */
  readonly periodMs?: number;
  /** Timestamp of row 0 in ms since the Unix epoch. Default {@link DEFAULT_START_MS}. */
  readonly startMs?: number;
  /** A channel count (the first of the default channels) or custom channel specs. Default 8. */
  readonly channels?: number | readonly ChannelSpec[];
  /** Period of the slow, daily-like cycle, in rows (> 0). Default {@link DEFAULT_DAILY_PERIOD_ROWS}. */
  readonly dailyPeriodRows?: number;
  /**
   * Nominal period of the fast process cycle, in rows (≥ 2). Each device runs at its own period,
   * within ±15 % of this. Default {@link DEFAULT_PROCESS_PERIOD_ROWS}.
   */
  readonly processPeriodRows?: number;
  /** `'none'` (default), `'random'` (see {@link RandomAnomalyOptions}) or an explicit list. */
  readonly anomalies?: 'none' | 'random' | readonly AnomalySpecInput[];
  /** Options of the random planner; read only when `anomalies` is `'random'`. */
  readonly randomAnomalies?: RandomAnomalyOptions;
}

/** Default time between rows: one reading per second. */
export const DEFAULT_PERIOD_MS = 1000;
/** Default timestamp of row 0: 2024-01-01T00:00:00Z. */
export const DEFAULT_START_MS = 1_704_067_200_000;
/** Default daily-like cycle: 1440 rows (one day at one row per minute). */
export const DEFAULT_DAILY_PERIOD_ROWS = 1440;
/** Default process cycle: 60 rows. */
export const DEFAULT_PROCESS_PERIOD_ROWS = 60;
/** Default clean prefix of the random planner, in rows. */
export const DEFAULT_CLEAN_PREFIX_ROWS = 500;
/** Default mean gap between random anomalies, in rows. */
export const DEFAULT_MEAN_GAP_ROWS = 600;
/** Default minimum gap between random anomalies, in rows. */
export const DEFAULT_MIN_GAP_ROWS = 100;
/** Largest latent lag a channel may declare, in rows: the load process always runs this many rows before row 0, so a channel's data never depends on the other channels' lags. */
export const MAX_LATENT_LAG_ROWS = 1000;
/** Largest `rows × channels` one device of a batch recording may hold. */
export const MAX_BATCH_VALUES_PER_DEVICE = 2 ** 28;

/** How anomalies are chosen, after validation. */
export type ResolvedAnomalies =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'random';
      readonly cleanPrefixRows: number;
      readonly meanGapRows: number;
      readonly minGapRows: number;
      readonly kinds: readonly AnomalyKind[];
    }
  | { readonly mode: 'list'; readonly byDevice: ReadonlyMap<string, readonly AnomalySpec[]> };

/** A validated config with every default filled in. */
export interface ResolvedSimulatorConfig {
  readonly deviceIds: readonly string[];
  /** Rows per device; `Infinity` for an endless stream. */
  readonly rows: number;
  readonly periodMs: number;
  readonly startMs: number;
  readonly channels: readonly ChannelSpec[];
  /** Per channel, the unit of spike and level-shift magnitudes ({@link channelScale}). */
  readonly scales: readonly number[];
  readonly dailyPeriodRows: number;
  readonly processPeriodRows: number;
  readonly anomalies: ResolvedAnomalies;
}

/**
 * Checks a config and fills in its defaults.
 * @param allowEndless whether `rows` may be `Infinity` (the incremental simulator).
 * @throws SimulatorConfigError naming the first bad option and its value.
 */
export function resolveSimulatorConfig(config: SimulatorConfig, allowEndless: boolean): ResolvedSimulatorConfig {
  if (typeof config !== 'object' || config === null) throw new SimulatorConfigError('(config)', config, 'must be an object');
  const deviceIds = resolveDevices(config.devices);
  const rows = config.rows;
  if (!(Number.isInteger(rows) && rows >= 0) && !(allowEndless && rows === Infinity)) {
    throw new SimulatorConfigError('rows', rows, allowEndless ? 'must be an integer ≥ 0 or Infinity' : 'must be an integer ≥ 0');
  }
  const periodMs = config.periodMs ?? DEFAULT_PERIOD_MS;
  if (!(Number.isFinite(periodMs) && periodMs > 0)) throw new SimulatorConfigError('periodMs', periodMs, 'must be a finite number > 0');
  const startMs = config.startMs ?? DEFAULT_START_MS;
  if (!Number.isFinite(startMs)) throw new SimulatorConfigError('startMs', startMs, 'must be a finite number');
  const channels = resolveChannels(config.channels);
  if (!allowEndless && rows * channels.length > MAX_BATCH_VALUES_PER_DEVICE) {
    throw new SimulatorConfigError('rows', rows, `times ${channels.length} channels must not exceed ${MAX_BATCH_VALUES_PER_DEVICE} values per device`);
  }
  const dailyPeriodRows = config.dailyPeriodRows ?? DEFAULT_DAILY_PERIOD_ROWS;
  if (!(Number.isFinite(dailyPeriodRows) && dailyPeriodRows > 0)) {
    throw new SimulatorConfigError('dailyPeriodRows', dailyPeriodRows, 'must be a finite number > 0');
  }
  const processPeriodRows = config.processPeriodRows ?? DEFAULT_PROCESS_PERIOD_ROWS;
  if (!(Number.isFinite(processPeriodRows) && processPeriodRows >= 2)) {
    throw new SimulatorConfigError('processPeriodRows', processPeriodRows, 'must be a finite number ≥ 2');
  }
  const scales = channels.map(channelScale);
  const anomalies = resolveAnomalies(config, deviceIds, rows, channels);
  return { deviceIds, rows, periodMs, startMs, channels, scales, dailyPeriodRows, processPeriodRows, anomalies };
}

function resolveDevices(devices: SimulatorConfig['devices']): string[] {
  if (typeof devices === 'number') {
    if (!(Number.isInteger(devices) && devices >= 1)) throw new SimulatorConfigError('devices', devices, 'must be a positive integer or a list of ids');
    return Array.from({ length: devices }, (_, i) => `device-${i}`);
  }
  if (!Array.isArray(devices) || devices.length === 0) {
    throw new SimulatorConfigError('devices', devices, 'must be a positive integer or a non-empty list of ids');
  }
  const seen = new Set<string>();
  devices.forEach((id: unknown, i) => {
    if (typeof id !== 'string' || id.length === 0) throw new SimulatorConfigError(`devices[${i}]`, id, 'must be a non-empty string');
    if (seen.has(id)) throw new SimulatorConfigError(`devices[${i}]`, id, 'must be unique (it repeats an earlier id)');
    seen.add(id);
  });
  return [...(devices as readonly string[])];
}

function resolveChannels(channels: SimulatorConfig['channels']): ChannelSpec[] {
  if (channels === undefined) return defaultChannels(DEFAULT_CHANNEL_COUNT);
  if (typeof channels === 'number') {
    if (!(Number.isInteger(channels) && channels >= 1 && channels <= 4096)) {
      throw new SimulatorConfigError('channels', channels, 'must be an integer in [1, 4096] or a list of channel specs');
    }
    return defaultChannels(channels);
  }
  if (!Array.isArray(channels) || channels.length === 0) {
    throw new SimulatorConfigError('channels', channels, 'must be a channel count or a non-empty list of channel specs');
  }
  const seen = new Set<string>();
  return channels.map((spec: ChannelSpec, i) => {
    const at = `channels[${i}]`;
    if (typeof spec !== 'object' || spec === null) throw new SimulatorConfigError(at, spec, 'must be a channel spec object');
    if (typeof spec.name !== 'string' || spec.name.length === 0) throw new SimulatorConfigError(`${at}.name`, spec.name, 'must be a non-empty string');
    if (seen.has(spec.name)) throw new SimulatorConfigError(`${at}.name`, spec.name, 'must be unique (it repeats an earlier channel)');
    seen.add(spec.name);
    if (typeof spec.unit !== 'string') throw new SimulatorConfigError(`${at}.unit`, spec.unit, 'must be a string');
    for (const key of ['base', 'latentGain', 'processPhaseRad'] as const) {
      if (!Number.isFinite(spec[key])) throw new SimulatorConfigError(`${at}.${key}`, spec[key], 'must be a finite number');
    }
    for (const key of ['dailyAmplitude', 'processAmplitude', 'noiseStd', 'driftBound', 'driftStepStd'] as const) {
      if (!(Number.isFinite(spec[key]) && spec[key] >= 0)) throw new SimulatorConfigError(`${at}.${key}`, spec[key], 'must be a finite number ≥ 0');
    }
    const lag = spec.latentLagRows;
    if (!(Number.isInteger(lag) && lag >= 0 && lag <= MAX_LATENT_LAG_ROWS)) {
      throw new SimulatorConfigError(`${at}.latentLagRows`, lag, `must be an integer in [0, ${MAX_LATENT_LAG_ROWS}]`);
    }
    if (spec.scale !== undefined && !(Number.isFinite(spec.scale) && spec.scale > 0)) {
      throw new SimulatorConfigError(`${at}.scale`, spec.scale, 'must be a finite number > 0 when given');
    }
    if (spec.scale === undefined && !(channelScale(spec) > 0)) {
      throw new SimulatorConfigError(`${at}.scale`, spec.scale, 'must be given when the channel has no variation to derive it from');
    }
    return { ...spec };
  });
}

function resolveAnomalies(
  config: SimulatorConfig,
  deviceIds: readonly string[],
  rows: number,
  channels: readonly ChannelSpec[],
): ResolvedAnomalies {
  const anomalies = config.anomalies ?? 'none';
  if (anomalies === 'none') return { mode: 'none' };
  if (anomalies === 'random') return resolveRandom(config.randomAnomalies ?? {}, channels);
  if (!Array.isArray(anomalies)) {
    throw new SimulatorConfigError('anomalies', anomalies, "must be 'none', 'random' or a list of anomaly specs");
  }
  const byDevice = new Map<string, AnomalySpec[]>(deviceIds.map((id) => [id, []]));
  const channelIndex = new Map(channels.map((c, i) => [c.name, i]));
  // For overlap checks: per device and channel, the [start, end) ranges taken so far.
  const taken = new Map<string, Array<{ start: number; end: number; index: number }>>();
  (anomalies as readonly AnomalySpecInput[]).forEach((input, i) => {
    const at = `anomalies[${i}]`;
    if (typeof input !== 'object' || input === null) throw new SimulatorConfigError(at, input, 'must be an anomaly spec object');
    if (!isAnomalyKind(input.kind)) throw new SimulatorConfigError(`${at}.kind`, input.kind, `must be one of ${ANOMALY_KINDS.join(', ')}`);
    const list = byDevice.get(input.device);
    if (list === undefined) throw new SimulatorConfigError(`${at}.device`, input.device, `must be one of the device ids (${deviceIds.join(', ')})`);
    if (!Array.isArray(input.channels) || input.channels.length === 0) {
      throw new SimulatorConfigError(`${at}.channels`, input.channels, 'must be a non-empty list of channel names');
    }
    const seen = new Set<string>();
    input.channels.forEach((name: string, j) => {
      const c = channelIndex.get(name);
      if (c === undefined) throw new SimulatorConfigError(`${at}.channels[${j}]`, name, `must be one of the channel names (${channels.map((s) => s.name).join(', ')})`);
      if (seen.has(name)) throw new SimulatorConfigError(`${at}.channels[${j}]`, name, 'must not repeat a channel');
      seen.add(name);
      const why = incompatibility(input.kind, channels[c] as ChannelSpec);
      if (why !== null) throw new SimulatorConfigError(`${at}.channels[${j}]`, name, `cannot take a ${input.kind} anomaly: ${why}`);
    });
    const { startRow, lengthRows } = input;
    if (!(Number.isInteger(startRow) && startRow >= 0 && startRow < rows)) {
      throw new SimulatorConfigError(`${at}.startRow`, startRow, `must be an integer in [0, rows = ${rows})`);
    }
    if (!(Number.isInteger(lengthRows) && lengthRows >= 1 && startRow + lengthRows <= rows)) {
      throw new SimulatorConfigError(`${at}.lengthRows`, lengthRows, `must be an integer ≥ 1 with startRow + lengthRows ≤ rows = ${rows}`);
    }
    const magnitude = input.magnitude ?? ANOMALY_KIND_DEFAULTS[input.kind].magnitude;
    const problem = magnitudeProblem(input.kind, magnitude);
    if (problem !== null) throw new SimulatorConfigError(`${at}.magnitude`, magnitude, `${problem} for a ${input.kind} anomaly`);
    for (const name of input.channels) {
      const key = `${input.device}\u0000${name}`;
      const ranges = taken.get(key) ?? [];
      const clash = ranges.find((r) => startRow < r.end && r.start < startRow + lengthRows);
      if (clash !== undefined) {
        throw new SimulatorConfigError(at, { device: input.device, channel: name, startRow, lengthRows }, `must not overlap anomalies[${clash.index}] on the same device and channel`);
      }
      ranges.push({ start: startRow, end: startRow + lengthRows, index: i });
      taken.set(key, ranges);
    }
    list.push({ kind: input.kind, device: input.device, channels: [...input.channels], startRow, lengthRows, magnitude });
  });
  for (const list of byDevice.values()) list.sort((a, b) => a.startRow - b.startRow);
  return { mode: 'list', byDevice };
}

function resolveRandom(options: RandomAnomalyOptions, channels: readonly ChannelSpec[]): ResolvedAnomalies {
  if (typeof options !== 'object' || options === null) throw new SimulatorConfigError('randomAnomalies', options, 'must be an object');
  const cleanPrefixRows = options.cleanPrefixRows ?? DEFAULT_CLEAN_PREFIX_ROWS;
  if (!(Number.isInteger(cleanPrefixRows) && cleanPrefixRows >= 0)) {
    throw new SimulatorConfigError('randomAnomalies.cleanPrefixRows', cleanPrefixRows, 'must be an integer ≥ 0');
  }
  const minGapRows = options.minGapRows ?? DEFAULT_MIN_GAP_ROWS;
  if (!(Number.isInteger(minGapRows) && minGapRows >= 1)) {
    throw new SimulatorConfigError('randomAnomalies.minGapRows', minGapRows, 'must be an integer ≥ 1');
  }
  const meanGapRows = options.meanGapRows ?? Math.max(DEFAULT_MEAN_GAP_ROWS, minGapRows);
  if (!(Number.isFinite(meanGapRows) && meanGapRows >= minGapRows)) {
    throw new SimulatorConfigError('randomAnomalies.meanGapRows', meanGapRows, `must be a finite number ≥ minGapRows = ${minGapRows}`);
  }
  const kinds = options.kinds ?? ANOMALY_KINDS;
  if (!Array.isArray(kinds) || kinds.length === 0) {
    throw new SimulatorConfigError('randomAnomalies.kinds', kinds, 'must be a non-empty list of anomaly kinds');
  }
  kinds.forEach((kind: unknown, i) => {
    if (!isAnomalyKind(kind)) throw new SimulatorConfigError(`randomAnomalies.kinds[${i}]`, kind, `must be one of ${ANOMALY_KINDS.join(', ')}`);
    if (channels.every((c) => incompatibility(kind, c) !== null)) {
      throw new SimulatorConfigError(`randomAnomalies.kinds[${i}]`, kind, 'must fit at least one channel (no channel can take it)');
    }
  });
  return { mode: 'random', cleanPrefixRows, meanGapRows, minGapRows, kinds: [...kinds] };
}
