import { Rng } from '../nn/random.js';
import { AnomalyInjector, listAnomalySource, type AnomalySource } from './anomaly-injector.js';
import type { AnomalySpec } from './anomaly-kinds.js';
import { deriveSeed } from './derive-seed.js';
import { DeviceGenerator } from './device-generator.js';
import { RandomAnomalyPlanner } from './random-anomaly-planner.js';
import { SimulatorConfigError } from './simulator-config-error.js';
import { resolveSimulatorConfig, type ResolvedSimulatorConfig, type SimulatorConfig } from './simulator-config.js';

/** One device of a {@link SimulatedRecording}. */
export interface SimulatedDevice {
  readonly id: string;
  /** Timestamp of each row in ms since the Unix epoch: `startMs + row · periodMs`. [rows] */
  readonly timesMs: Float64Array;
  /** Readings, row-major: `values[row · C + c]`. [rows, C] */
  readonly values: Float32Array;
  /** 1 where an anomaly covers the row, else 0. [rows] */
  readonly labels: Uint8Array;
  /** The injected anomalies, by start row; segments reaching past the end are clipped. */
  readonly anomalies: readonly AnomalySpec[];
}

/** A batch recording: every device over the same rows. */
export interface SimulatedRecording {
  /** Channel names, in column order. [C] */
  readonly channels: readonly string[];
  /** Channel units, in column order. [C] */
  readonly units: readonly string[];
  /** Per channel, the unit of `spike` and `level-shift` magnitudes (see `channelScale`). [C] */
  readonly scales: readonly number[];
  readonly periodMs: number;
  readonly startMs: number;
  readonly rows: number;
  readonly devices: readonly SimulatedDevice[];
}

/** One device's reading at one row of an incremental {@link Simulator}. */
export interface DeviceReading {
  readonly deviceId: string;
  /** The reading, a fresh array the caller may keep. [C] */
  readonly values: Float32Array;
  /** 1 when an anomaly covers this row, else 0. */
  readonly label: 0 | 1;
  /** The anomalies covering this row (empty when `label` is 0). */
  readonly anomalies: readonly AnomalySpec[];
}

/** One row of every device. */
export interface SimulatorTick {
  readonly row: number;
  /** `startMs + row · periodMs`. */
  readonly timeMs: number;
  /** One reading per device, in the config's device order. */
  readonly readings: readonly DeviceReading[];
}

/**
 * An incremental simulator: each {@link next} call produces the next row of every device,
 * equal bit for bit to the same row of {@link simulate} with the same config and seed.
 */
export interface Simulator {
  readonly channels: readonly string[];
  readonly units: readonly string[];
  readonly deviceIds: readonly string[];
  readonly periodMs: number;
  readonly startMs: number;
  /** Total rows per device; `Infinity` for an endless stream. */
  readonly rows: number;
  /** Rows produced so far, i.e. the row index the next call to {@link next} produces. */
  readonly row: number;
  /** Whether {@link next} may be called again (`row < rows`). */
  hasNext(): boolean;
  /**
   * The next row of every device.
   * @throws RangeError when all `rows` rows have been produced.
   */
  next(): SimulatorTick;
}

/**
 * Simulates a whole recording at once.
 * Same config and seed give the same recording bit for bit; a device's data depends only on the
 * seed, its id and the channel specs (adding or removing devices never changes the others);
 * a recording with anomalies equals the one with `anomalies: 'none'` outside the anomalies'
 * segments and channels.
 * @param seed a safe integer.
 * @throws SimulatorConfigError when the config is invalid (the error names the option and value),
 *   or when `rows` is `Infinity`.
 */
export function simulate(config: SimulatorConfig, seed: number): SimulatedRecording {
  checkSeed(seed);
  const resolved = resolveSimulatorConfig(config, false);
  const { rows, periodMs, startMs } = resolved;
  const c = resolved.channels.length;
  const timesMs = new Float64Array(rows);
  for (let r = 0; r < rows; r++) timesMs[r] = startMs + r * periodMs;
  const devices = resolved.deviceIds.map((id): SimulatedDevice => {
    const anomalies: AnomalySpec[] = [];
    const generator = createDeviceGenerator(resolved, seed, id, (spec) => anomalies.push(spec));
    const values = new Float32Array(rows * c);
    const labels = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) labels[r] = generator.step(values, r * c);
    return { id, timesMs: timesMs.slice(), values, labels, anomalies };
  });
  return {
    channels: resolved.channels.map((s) => s.name),
    units: resolved.channels.map((s) => s.unit),
    scales: [...resolved.scales],
    periodMs,
    startMs,
    rows,
    devices,
  };
}

/**
 * Creates an incremental simulator (for live demos): `next()` yields one reading per device.
 * `config.rows` may be `Infinity` for an endless stream (random anomalies then keep coming).
 * @param seed a safe integer.
 * @throws SimulatorConfigError when the config is invalid.
 */
export function createSimulator(config: SimulatorConfig, seed: number): Simulator {
  checkSeed(seed);
  const resolved = resolveSimulatorConfig(config, true);
  const c = resolved.channels.length;
  const generators = resolved.deviceIds.map((id) => ({ id, generator: createDeviceGenerator(resolved, seed, id) }));
  let row = 0;
  return {
    channels: resolved.channels.map((s) => s.name),
    units: resolved.channels.map((s) => s.unit),
    deviceIds: [...resolved.deviceIds],
    periodMs: resolved.periodMs,
    startMs: resolved.startMs,
    rows: resolved.rows,
    get row() {
      return row;
    },
    hasNext: () => row < resolved.rows,
    next(): SimulatorTick {
      if (row >= resolved.rows) throw new RangeError(`simulator has produced all ${resolved.rows} rows`);
      const readings = generators.map(({ id, generator }): DeviceReading => {
        const values = new Float32Array(c);
        const label = generator.step(values, 0);
        return { deviceId: id, values, label, anomalies: generator.activeAnomalies };
      });
      const tick = { row, timeMs: resolved.startMs + row * resolved.periodMs, readings };
      row++;
      return tick;
    },
  };
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new SimulatorConfigError('seed', seed, 'must be a safe integer');
}

function createDeviceGenerator(
  config: ResolvedSimulatorConfig,
  seed: number,
  deviceId: string,
  onStart?: (spec: AnomalySpec) => void,
): DeviceGenerator {
  const injector = new AnomalyInjector(
    anomalySource(config, seed, deviceId),
    config.channels,
    config.scales,
    seed,
    deviceId,
    config.rows,
    onStart,
  );
  return new DeviceGenerator(
    {
      seed,
      deviceId,
      channels: config.channels,
      dailyPeriodRows: config.dailyPeriodRows,
      processPeriodRows: config.processPeriodRows,
    },
    injector,
  );
}

function anomalySource(config: ResolvedSimulatorConfig, seed: number, deviceId: string): AnomalySource {
  const anomalies = config.anomalies;
  switch (anomalies.mode) {
    case 'none':
      return listAnomalySource([]);
    case 'list':
      return listAnomalySource(anomalies.byDevice.get(deviceId) ?? []);
    case 'random': {
      const planner = new RandomAnomalyPlanner(new Rng(deriveSeed(seed, deviceId, 'anomalies')), anomalies, deviceId, config.channels);
      return { next: () => planner.next() };
    }
  }
}
