import { describe, it, expect } from 'vitest';
import type { AnomalySpecInput } from '../../src/sim/anomaly-kinds.js';
import { DEFAULT_CHANNELS, type ChannelSpec } from '../../src/sim/channel-spec.js';
import { createSimulator, simulate } from '../../src/sim/sensor-simulator.js';
import { SimulatorConfigError } from '../../src/sim/simulator-config-error.js';
import { resolveSimulatorConfig, type SimulatorConfig } from '../../src/sim/simulator-config.js';

function errorOf(run: () => unknown): SimulatorConfigError {
  try {
    run();
  } catch (e) {
    if (e instanceof SimulatorConfigError) return e;
    throw e;
  }
  throw new Error('expected a SimulatorConfigError, nothing was thrown');
}

const base: SimulatorConfig = { devices: ['d'], rows: 100 };
const anomaly = (over: Partial<AnomalySpecInput>): SimulatorConfig => ({
  ...base,
  anomalies: [{ kind: 'spike', device: 'd', channels: ['flow_m3h'], startRow: 10, lengthRows: 2, ...over } as AnomalySpecInput],
});

describe('resolveSimulatorConfig', () => {
  it('fills in the documented defaults', () => {
    const r = resolveSimulatorConfig({ devices: 2, rows: 10 }, false);
    expect(r.deviceIds).toEqual(['device-0', 'device-1']);
    expect(r.periodMs).toBe(1000);
    expect(r.startMs).toBe(Date.UTC(2024, 0, 1));
    expect(r.channels.map((c) => c.name)).toEqual(DEFAULT_CHANNELS.map((c) => c.name));
    expect(r.dailyPeriodRows).toBe(1440);
    expect(r.processPeriodRows).toBe(60);
    expect(r.anomalies).toEqual({ mode: 'none' });
    const random = resolveSimulatorConfig({ devices: 1, rows: 10, anomalies: 'random' }, false).anomalies;
    expect(random).toMatchObject({ mode: 'random', cleanPrefixRows: 500, meanGapRows: 600, minGapRows: 100 });
  });

  it('derives each channel scale as sqrt(gain² + daily²/2 + process²/2 + noise² + drift²/3)', () => {
    const spec: ChannelSpec = {
      name: 'x', unit: 'u', base: 0, latentGain: 2, latentLagRows: 0, dailyAmplitude: 2,
      processAmplitude: 2, processPhaseRad: 0, noiseStd: 1, driftBound: 3, driftStepStd: 0.1,
    };
    // 4 + 2 + 2 + 1 + 3 = 12
    expect(resolveSimulatorConfig({ ...base, channels: [spec] }, false).scales[0]).toBeCloseTo(Math.sqrt(12), 12);
    expect(resolveSimulatorConfig({ ...base, channels: [{ ...spec, scale: 0.25 }] }, false).scales[0]).toBe(0.25);
  });
});

describe('config errors name the option and the value', () => {
  const cases: Array<[string, () => unknown, string, unknown]> = [
    ['rows negative', () => simulate({ ...base, rows: -1 }, 1), 'rows', -1],
    ['rows fractional', () => simulate({ ...base, rows: 2.5 }, 1), 'rows', 2.5],
    ['rows endless in batch', () => simulate({ ...base, rows: Infinity }, 1), 'rows', Infinity],
    ['too many values', () => simulate({ ...base, rows: 2 ** 27 }, 1), 'rows', 2 ** 27],
    ['no devices', () => simulate({ ...base, devices: 0 }, 1), 'devices', 0],
    ['empty device list', () => simulate({ ...base, devices: [] }, 1), 'devices', []],
    ['repeated device', () => simulate({ ...base, devices: ['a', 'b', 'a'] }, 1), 'devices[2]', 'a'],
    ['empty device id', () => simulate({ ...base, devices: ['a', ''] }, 1), 'devices[1]', ''],
    ['periodMs 0', () => simulate({ ...base, periodMs: 0 }, 1), 'periodMs', 0],
    ['startMs NaN', () => simulate({ ...base, startMs: Number.NaN }, 1), 'startMs', Number.NaN],
    ['channels 0', () => simulate({ ...base, channels: 0 }, 1), 'channels', 0],
    ['repeated channel', () => simulate({ ...base, channels: [DEFAULT_CHANNELS[0]!, DEFAULT_CHANNELS[0]!] }, 1), 'channels[1].name', 'temperature_c'],
    ['negative noise', () => simulate({ ...base, channels: [{ ...DEFAULT_CHANNELS[0]!, noiseStd: -1 }] }, 1), 'channels[0].noiseStd', -1],
    ['lag too long', () => simulate({ ...base, channels: [{ ...DEFAULT_CHANNELS[0]!, latentLagRows: 1001 }] }, 1), 'channels[0].latentLagRows', 1001],
    ['fractional lag', () => simulate({ ...base, channels: [{ ...DEFAULT_CHANNELS[0]!, latentLagRows: 1.5 }] }, 1), 'channels[0].latentLagRows', 1.5],
    ['zero scale', () => simulate({ ...base, channels: [{ ...DEFAULT_CHANNELS[0]!, scale: 0 }] }, 1), 'channels[0].scale', 0],
    ['processPeriodRows 1', () => simulate({ ...base, processPeriodRows: 1 }, 1), 'processPeriodRows', 1],
    ['dailyPeriodRows negative', () => simulate({ ...base, dailyPeriodRows: -5 }, 1), 'dailyPeriodRows', -5],
    ['anomalies mode', () => simulate({ ...base, anomalies: 'some' as 'none' }, 1), 'anomalies', 'some'],
    ['unknown kind', () => simulate(anomaly({ kind: 'drift' as 'spike' }), 1), 'anomalies[0].kind', 'drift'],
    ['unknown device', () => simulate(anomaly({ device: 'e' }), 1), 'anomalies[0].device', 'e'],
    ['unknown channel', () => simulate(anomaly({ channels: ['flow'] }), 1), 'anomalies[0].channels[0]', 'flow'],
    ['no channels', () => simulate(anomaly({ channels: [] }), 1), 'anomalies[0].channels', []],
    ['repeated channel in anomaly', () => simulate(anomaly({ channels: ['flow_m3h', 'flow_m3h'] }), 1), 'anomalies[0].channels[1]', 'flow_m3h'],
    ['frequency without a cycle', () => simulate(anomaly({ kind: 'frequency', channels: ['bearing_temp_c'] }), 1), 'anomalies[0].channels[0]', 'bearing_temp_c'],
    ['start past the end', () => simulate(anomaly({ startRow: 100 }), 1), 'anomalies[0].startRow', 100],
    ['length past the end', () => simulate(anomaly({ startRow: 95, lengthRows: 6 }), 1), 'anomalies[0].lengthRows', 6],
    ['zero length', () => simulate(anomaly({ lengthRows: 0 }), 1), 'anomalies[0].lengthRows', 0],
    ['zero spike', () => simulate(anomaly({ magnitude: 0 }), 1), 'anomalies[0].magnitude', 0],
    ['variance factor 1', () => simulate(anomaly({ kind: 'variance', magnitude: 1 }), 1), 'anomalies[0].magnitude', 1],
    ['correlation above 1', () => simulate(anomaly({ kind: 'correlation', magnitude: 1.5 }), 1), 'anomalies[0].magnitude', 1.5],
    ['negative frequency factor', () => simulate(anomaly({ kind: 'frequency', magnitude: -2 }), 1), 'anomalies[0].magnitude', -2],
    ['clean prefix negative', () => simulate({ ...base, anomalies: 'random', randomAnomalies: { cleanPrefixRows: -1 } }, 1), 'randomAnomalies.cleanPrefixRows', -1],
    ['mean gap below min', () => simulate({ ...base, anomalies: 'random', randomAnomalies: { meanGapRows: 5, minGapRows: 10 } }, 1), 'randomAnomalies.meanGapRows', 5],
    ['unknown random kind', () => simulate({ ...base, anomalies: 'random', randomAnomalies: { kinds: ['spike', 'x' as 'spike'] } }, 1), 'randomAnomalies.kinds[1]', 'x'],
    ['random kind fits no channel', () => simulate({ ...base, channels: [DEFAULT_CHANNELS[7]!], anomalies: 'random', randomAnomalies: { kinds: ['frequency'] } }, 1), 'randomAnomalies.kinds[0]', 'frequency'],
    ['fractional seed', () => simulate(base, 1.5), 'seed', 1.5],
    ['fractional seed, incremental', () => createSimulator(base, Number.NaN), 'seed', Number.NaN],
    ['negative rows, incremental', () => createSimulator({ ...base, rows: -3 }, 1), 'rows', -3],
  ];

  it.each(cases)('%s', (_label, run, path, value) => {
    const e = errorOf(run);
    expect(e.path).toBe(path);
    expect(e.value).toEqual(value);
    expect(e.message).toContain(path);
    expect(e.message.startsWith('simulator config: ')).toBe(true);
  });

  it('rejects two anomalies on the same device and channel that overlap, naming the first', () => {
    const config: SimulatorConfig = {
      ...base,
      anomalies: [
        { kind: 'level-shift', device: 'd', channels: ['flow_m3h', 'power_kw'], startRow: 10, lengthRows: 20 },
        { kind: 'spike', device: 'd', channels: ['speed_rpm'], startRow: 15, lengthRows: 1 },
        { kind: 'stuck', device: 'd', channels: ['power_kw'], startRow: 29, lengthRows: 5 },
      ],
    };
    const e = errorOf(() => simulate(config, 1));
    expect(e.path).toBe('anomalies[2]');
    expect(e.message).toContain('anomalies[0]');
    expect(e.message).toContain('power_kw');
  });

  it('accepts anomalies that touch end to start on the same channel', () => {
    const config: SimulatorConfig = {
      ...base,
      anomalies: [
        { kind: 'level-shift', device: 'd', channels: ['power_kw'], startRow: 10, lengthRows: 20 },
        { kind: 'stuck', device: 'd', channels: ['power_kw'], startRow: 30, lengthRows: 5 },
      ],
    };
    const rec = simulate(config, 1);
    expect(rec.devices[0]!.labels.slice(10, 35).every((v) => v === 1)).toBe(true);
    expect(rec.devices[0]!.labels[35]).toBe(0);
    // The stuck sensor holds the last (shifted) value it reported.
    expect(rec.devices[0]!.values[30 * 8 + 6]).toBe(rec.devices[0]!.values[29 * 8 + 6]);
  });

  it('accepts endless rows only for the incremental simulator', () => {
    expect(createSimulator({ ...base, rows: Infinity }, 1).rows).toBe(Infinity);
    expect(errorOf(() => resolveSimulatorConfig({ ...base, rows: Infinity }, false)).path).toBe('rows');
  });
});
