import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ANOMALY_KINDS, type AnomalySpec } from '../../src/sim/anomaly-kinds.js';
import type { ChannelSpec } from '../../src/sim/channel-spec.js';
import { createSimulator, simulate, type SimulatedDevice, type SimulatedRecording } from '../../src/sim/sensor-simulator.js';
import type { SimulatorConfig } from '../../src/sim/simulator-config.js';
import { column, pearson } from './signal-stats.js';

const FC_SEED = 20_240_501;

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

function device(rec: SimulatedRecording, id: string): SimulatedDevice {
  const d = rec.devices.find((x) => x.id === id);
  if (d === undefined) throw new Error(`no device ${id}`);
  return d;
}

/** Labels rebuilt from the anomaly list, independently of the simulator's own labelling. */
function labelsFrom(anomalies: readonly AnomalySpec[], rows: number): Uint8Array {
  const out = new Uint8Array(rows);
  for (const a of anomalies) for (let r = a.startRow; r < a.startRow + a.lengthRows; r++) out[r] = 1;
  return out;
}

/** Whether the value at (row, channel) is covered by one of the anomalies. */
function covered(anomalies: readonly AnomalySpec[], channels: readonly string[], row: number, c: number): boolean {
  return anomalies.some((a) => row >= a.startRow && row < a.startRow + a.lengthRows && a.channels.includes(channels[c] as string));
}

function expectEqualOutsideAnomalies(rec: SimulatedRecording, clean: SimulatedRecording): number {
  const C = rec.channels.length;
  let inside = 0;
  rec.devices.forEach((d, i) => {
    const ref = clean.devices[i] as SimulatedDevice;
    for (let r = 0; r < rec.rows; r++) {
      for (let c = 0; c < C; c++) {
        if (covered(d.anomalies, rec.channels, r, c)) {
          inside++;
          continue;
        }
        if (!Object.is(d.values[r * C + c], ref.values[r * C + c])) {
          throw new Error(`${d.id} row ${r} channel ${rec.channels[c]}: ${d.values[r * C + c]} ≠ clean ${ref.values[r * C + c]}`);
        }
      }
    }
  });
  return inside;
}

const RANDOM: SimulatorConfig = {
  devices: 3,
  rows: 4000,
  anomalies: 'random',
  randomAnomalies: { cleanPrefixRows: 300, meanGapRows: 250, minGapRows: 50 },
};

describe('simulate: shape and time', () => {
  it('returns [rows, C] values, times from startMs every periodMs, and the default channels', () => {
    const rec = simulate({ devices: 2, rows: 5, periodMs: 250, startMs: 1000 }, 1);
    expect(rec.channels).toEqual([
      'temperature_c', 'pressure_bar', 'flow_m3h', 'vibration_rms_mm_s',
      'motor_current_a', 'speed_rpm', 'power_kw', 'bearing_temp_c',
    ]);
    expect(rec.devices.map((d) => d.id)).toEqual(['device-0', 'device-1']);
    for (const d of rec.devices) {
      expect(d.values.length).toBe(5 * 8);
      expect([...d.timesMs]).toEqual([1000, 1250, 1500, 1750, 2000]);
      expect([...d.labels]).toEqual([0, 0, 0, 0, 0]);
      expect(d.anomalies).toEqual([]);
      expect(d.values.every(Number.isFinite)).toBe(true);
    }
  });

  it('produces an empty recording for rows = 0', () => {
    const rec = simulate({ devices: 1, rows: 0, anomalies: 'random' }, 1);
    expect(rec.devices[0]!.values.length).toBe(0);
    expect(rec.devices[0]!.anomalies).toEqual([]);
  });

  it('puts each channel near its nominal level', () => {
    const rec = simulate({ devices: 1, rows: 3000 }, 4);
    const levels = [62, 6.0, 42, 2.2, 18, 1450, 9.5, 48];
    const d = rec.devices[0]!;
    levels.forEach((level, c) => {
      const x = column(d.values, 8, c);
      const m = x.reduce((s, v) => s + v, 0) / x.length;
      expect(Math.abs(m - level)).toBeLessThan(2 * rec.scales[c]!);
    });
  });
});

describe('simulate: determinism', () => {
  it('gives identical bits for the same config and seed', () => {
    const a = simulate(RANDOM, 77);
    const b = simulate(RANDOM, 77);
    a.devices.forEach((d, i) => {
      const e = b.devices[i]!;
      expect(sameBits(d.values, e.values)).toBe(true);
      expect(d.labels).toEqual(e.labels);
      expect(d.anomalies).toEqual(e.anomalies);
    });
  });

  it('gives different data and anomaly plans for different seeds', () => {
    const a = simulate(RANDOM, 77);
    const b = simulate(RANDOM, 78);
    expect(sameBits(a.devices[0]!.values, b.devices[0]!.values)).toBe(false);
    expect(a.devices[0]!.anomalies).not.toEqual(b.devices[0]!.anomalies);
  });

  it('gives each device its own data', () => {
    const rec = simulate({ devices: 3, rows: 200 }, 5);
    expect(sameBits(rec.devices[0]!.values, rec.devices[1]!.values)).toBe(false);
    expect(sameBits(rec.devices[1]!.values, rec.devices[2]!.values)).toBe(false);
  });
});

describe('simulate: independence and prefixes', () => {
  it('keeps a device’s data and anomalies when other devices are added, removed or reordered', () => {
    const base = { rows: 3000, anomalies: 'random' as const };
    const small = simulate({ ...base, devices: ['pump-a', 'pump-b'] }, 9);
    const large = simulate({ ...base, devices: ['pump-c', 'pump-b', 'pump-a', 'pump-d'] }, 9);
    for (const id of ['pump-a', 'pump-b']) {
      expect(sameBits(device(small, id).values, device(large, id).values)).toBe(true);
      expect(device(small, id).labels).toEqual(device(large, id).labels);
      expect(device(small, id).anomalies).toEqual(device(large, id).anomalies);
    }
  });

  it('keeps a channel’s clean data when other channels are added', () => {
    const four = simulate({ devices: 2, rows: 500, channels: 4 }, 12);
    const twelve = simulate({ devices: 2, rows: 500, channels: 12 }, 12);
    expect(twelve.channels.slice(8)).toEqual(['temperature_c_2', 'pressure_bar_2', 'flow_m3h_2', 'vibration_rms_mm_s_2']);
    for (let d = 0; d < 2; d++) {
      for (let c = 0; c < 4; c++) {
        expect(column(four.devices[d]!.values, 4, c)).toEqual(column(twelve.devices[d]!.values, 12, c));
      }
    }
  });

  it('makes a shorter recording a prefix of a longer one, anomalies included', () => {
    const short = simulate({ ...RANDOM, rows: 1700 }, 31);
    const long = simulate(RANDOM, 31);
    short.devices.forEach((d, i) => {
      const l = long.devices[i]!;
      expect(sameBits(d.values, l.values.subarray(0, 1700 * 8))).toBe(true);
      expect(d.labels).toEqual(l.labels.subarray(0, 1700));
    });
  });
});

describe('simulate: labels and anomalies', () => {
  it('labels exactly the rows of the reported segments and leaves every other value clean', () => {
    const rec = simulate(RANDOM, 123);
    const clean = simulate({ ...RANDOM, anomalies: 'none' }, 123);
    for (const d of rec.devices) {
      expect(d.anomalies.length).toBeGreaterThan(5);
      expect(d.labels).toEqual(labelsFrom(d.anomalies, rec.rows));
    }
    expect(expectEqualOutsideAnomalies(rec, clean)).toBeGreaterThan(0);
  });

  it('changes the signal inside every segment (the anomaly is really there)', () => {
    const rec = simulate(RANDOM, 123);
    const clean = simulate({ ...RANDOM, anomalies: 'none' }, 123);
    const C = rec.channels.length;
    rec.devices.forEach((d, i) => {
      for (const a of d.anomalies) {
        let changed = 0;
        for (let r = a.startRow; r < a.startRow + a.lengthRows; r++) {
          for (const name of a.channels) {
            const c = rec.channels.indexOf(name);
            if (d.values[r * C + c] !== clean.devices[i]!.values[r * C + c]) changed++;
          }
        }
        // A stuck sensor equals the clean value on its first row; everything else differs on every value.
        expect(changed, `${a.kind} at ${a.startRow}`).toBeGreaterThanOrEqual(a.channels.length * a.lengthRows - a.channels.length);
      }
    });
  });

  it('reports explicit anomalies as given, by start row, with default magnitudes filled in', () => {
    const rec = simulate(
      {
        devices: ['x', 'y'],
        rows: 100,
        anomalies: [
          { kind: 'variance', device: 'y', channels: ['flow_m3h'], startRow: 50, lengthRows: 10, magnitude: 2 },
          { kind: 'stuck', device: 'y', channels: ['speed_rpm', 'flow_m3h'], startRow: 20, lengthRows: 5 },
          { kind: 'spike', device: 'y', channels: ['flow_m3h'], startRow: 25, lengthRows: 1 },
        ],
      },
      1,
    );
    expect(device(rec, 'x').anomalies).toEqual([]);
    expect([...device(rec, 'x').labels].every((v) => v === 0)).toBe(true);
    expect(device(rec, 'y').anomalies).toEqual([
      { kind: 'stuck', device: 'y', channels: ['speed_rpm', 'flow_m3h'], startRow: 20, lengthRows: 5, magnitude: 0 },
      { kind: 'spike', device: 'y', channels: ['flow_m3h'], startRow: 25, lengthRows: 1, magnitude: 8 },
      { kind: 'variance', device: 'y', channels: ['flow_m3h'], startRow: 50, lengthRows: 10, magnitude: 2 },
    ]);
    const ones = [...device(rec, 'y').labels.keys()].filter((r) => device(rec, 'y').labels[r] === 1);
    expect(ones).toEqual([20, 21, 22, 23, 24, 25, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
  });

  it('places random anomalies after the clean prefix, without overlap, cycling through the kinds', () => {
    const rec = simulate({ ...RANDOM, rows: 20_000 }, 7);
    const seenKinds = new Set<string>();
    for (const d of rec.devices) {
      const list = d.anomalies;
      expect(list[0]!.startRow).toBeGreaterThanOrEqual(300);
      for (let i = 1; i < list.length; i++) {
        const prev = list[i - 1]!;
        expect(list[i]!.startRow).toBeGreaterThanOrEqual(prev.startRow + prev.lengthRows + 50);
        const k = ANOMALY_KINDS.indexOf(prev.kind);
        expect(list[i]!.kind).toBe(ANOMALY_KINDS[(k + 1) % ANOMALY_KINDS.length]);
      }
      for (const a of list) {
        seenKinds.add(a.kind);
        expect(a.device).toBe(d.id);
        expect(a.startRow + a.lengthRows).toBeLessThanOrEqual(rec.rows);
        expect(new Set(a.channels).size).toBe(a.channels.length);
        // Channel-specific kinds only hit channels that can show them.
        if (a.kind === 'frequency') expect(a.channels).not.toContain('bearing_temp_c');
        if (a.kind === 'correlation') expect(a.channels.length).toBe(1);
      }
    }
    expect([...seenKinds].sort()).toEqual([...ANOMALY_KINDS].sort());
  });

  it('cycles through the requested kinds only', () => {
    const rec = simulate({ devices: 2, rows: 6000, anomalies: 'random', randomAnomalies: { kinds: ['stuck', 'spike'], cleanPrefixRows: 0 } }, 2);
    for (const d of rec.devices) {
      expect(d.anomalies.length).toBeGreaterThan(3);
      expect(new Set(d.anomalies.map((a) => a.kind))).toEqual(new Set(['stuck', 'spike']));
    }
  });

  it('clips a random anomaly that runs past the last row', () => {
    // The first anomaly starts within [cleanPrefixRows, cleanPrefixRows + 2·(mean − min gap)] = [100, 100].
    const rec = simulate(
      { devices: 1, rows: 120, anomalies: 'random', randomAnomalies: { kinds: ['level-shift'], cleanPrefixRows: 100, meanGapRows: 10, minGapRows: 10 } },
      3,
    );
    expect(rec.devices[0]!.anomalies).toHaveLength(1);
    expect(rec.devices[0]!.anomalies[0]).toMatchObject({ kind: 'level-shift', startRow: 100, lengthRows: 20 });
    expect([...rec.devices[0]!.labels.subarray(100)].every((v) => v === 1)).toBe(true);
  });
});

describe('simulate: designed normal behaviour', () => {
  const rec = simulate({ devices: ['m'], rows: 20_000 }, 2024);
  const d = rec.devices[0]!;
  const col = (name: string): number[] => column(d.values, 8, rec.channels.indexOf(name));

  it('couples current, power, speed and flow through the shared load', () => {
    const current = col('motor_current_a');
    expect(pearson(current, col('power_kw'))).toBeGreaterThan(0.9);
    expect(pearson(current, col('speed_rpm'))).toBeGreaterThan(0.9);
    expect(pearson(current, col('flow_m3h'))).toBeGreaterThan(0.8);
    expect(pearson(current, col('pressure_bar'))).toBeGreaterThan(0.6);
  });

  it('lags the temperatures behind the load by their designed lags (15 and 30 rows)', () => {
    const current = col('motor_current_a');
    const bestLag = (x: number[]): number => {
      let best = 0;
      let bestR = -2;
      for (let lag = 0; lag <= 60; lag++) {
        const r = pearson(current.slice(0, current.length - lag), x.slice(lag));
        if (r > bestR) {
          bestR = r;
          best = lag;
        }
      }
      return best;
    };
    expect(Math.abs(bestLag(col('temperature_c')) - 15)).toBeLessThanOrEqual(3);
    expect(Math.abs(bestLag(col('bearing_temp_c')) - 30)).toBeLessThanOrEqual(3);
  });

  it('keeps drift bounded and unlabelled', () => {
    const driftOnly: ChannelSpec = {
      name: 'drift', unit: 'u', base: 100, latentGain: 0, latentLagRows: 0, dailyAmplitude: 0,
      processAmplitude: 0, processPhaseRad: 0, noiseStd: 0, driftBound: 2, driftStepStd: 0.1,
    };
    const r = simulate({ devices: 3, rows: 20_000, channels: [driftOnly] }, 8);
    for (const dev of r.devices) {
      const x = [...dev.values];
      expect(Math.min(...x)).toBeGreaterThanOrEqual(98 - 1e-4);
      expect(Math.max(...x)).toBeLessThanOrEqual(102 + 1e-4);
      expect(Math.max(...x) - Math.min(...x)).toBeGreaterThan(1);
      expect(dev.labels.every((v) => v === 0)).toBe(true);
    }
  });
});

describe('createSimulator', () => {
  it('yields the batch recording row by row, bit for bit, with labels and active anomalies', () => {
    const batch = simulate(RANDOM, 55);
    const sim = createSimulator(RANDOM, 55);
    expect(sim.channels).toEqual(batch.channels);
    expect(sim.deviceIds).toEqual(['device-0', 'device-1', 'device-2']);
    const C = batch.channels.length;
    while (sim.hasNext()) {
      const tick = sim.next();
      expect(tick.timeMs).toBe(batch.devices[0]!.timesMs[tick.row]);
      tick.readings.forEach((reading, i) => {
        const d = batch.devices[i]!;
        expect(reading.deviceId).toBe(d.id);
        if (!sameBits(reading.values, d.values.subarray(tick.row * C, (tick.row + 1) * C))) {
          throw new Error(`row ${tick.row} of ${d.id} differs from the batch`);
        }
        expect(reading.label).toBe(d.labels[tick.row]);
        const active = d.anomalies.filter((a) => tick.row >= a.startRow && tick.row < a.startRow + a.lengthRows);
        expect(reading.anomalies).toEqual(active);
      });
    }
    expect(sim.row).toBe(4000);
    expect(() => sim.next()).toThrow(RangeError);
  });

  it('runs endlessly with rows = Infinity, matching any finite batch on its rows', () => {
    const sim = createSimulator({ ...RANDOM, rows: Infinity }, 8);
    const batch = simulate({ ...RANDOM, rows: 2500 }, 8);
    for (let r = 0; r < 2500; r++) {
      const tick = sim.next();
      tick.readings.forEach((reading, i) => {
        if (!sameBits(reading.values, batch.devices[i]!.values.subarray(r * 8, (r + 1) * 8))) throw new Error(`row ${r} differs`);
        expect(reading.label).toBe(batch.devices[i]!.labels[r]);
      });
    }
    expect(sim.hasNext()).toBe(true);
    expect(sim.rows).toBe(Infinity);
  });

  it('hands out fresh arrays the caller may keep', () => {
    const sim = createSimulator({ devices: 1, rows: 3 }, 1);
    const first = sim.next().readings[0]!.values;
    const copy = first.slice();
    sim.next();
    expect(first).toEqual(copy);
  });
});

describe('properties', () => {
  it('incremental ≡ batch, labels ≡ segments, and clean outside segments, for any seed and size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 10 }),
        (seed, rows, devices, channels) => {
          const config: SimulatorConfig = {
            devices, rows, channels, anomalies: 'random',
            randomAnomalies: { cleanPrefixRows: 20, meanGapRows: 40, minGapRows: 5 },
          };
          const batch = simulate(config, seed);
          const clean = simulate({ ...config, anomalies: 'none' }, seed);
          expectEqualOutsideAnomalies(batch, clean);
          const sim = createSimulator(config, seed);
          for (let r = 0; r < rows; r++) {
            const tick = sim.next();
            tick.readings.forEach((reading, i) => {
              const d = batch.devices[i]!;
              expect(sameBits(reading.values, d.values.subarray(r * channels, (r + 1) * channels))).toBe(true);
              expect(reading.label).toBe(d.labels[r]);
            });
          }
          expect(sim.hasNext()).toBe(false);
          for (const d of batch.devices) expect(d.labels).toEqual(labelsFrom(d.anomalies, rows));
        },
      ),
      { seed: FC_SEED, numRuns: 30 },
    );
  });
});
