import { describe, it, expect } from 'vitest';
import type { AnomalySpecInput } from '../../src/sim/anomaly-kinds.js';
import type { ChannelSpec } from '../../src/sim/channel-spec.js';
import { simulate, type SimulatedDevice } from '../../src/sim/sensor-simulator.js';
import type { SimulatorConfig } from '../../src/sim/simulator-config.js';
import { column, dominantPeriod, mean, pearson, secondDifferences, std } from './signal-stats.js';

// A channel whose nominal scale is sqrt(0.6² + 0.8²) = 1 exactly, so magnitudes read directly.
const UNIT_SCALE: ChannelSpec = {
  name: 'a', unit: 'u', base: 10, latentGain: 0.6, latentLagRows: 0, dailyAmplitude: 0,
  processAmplitude: 0, processPhaseRad: 0, noiseStd: 0.8, driftBound: 0, driftStepStd: 0,
};
// Same shape, scale given explicitly as 2.5.
const SCALED: ChannelSpec = { ...UNIT_SCALE, name: 'b', base: -3, scale: 2.5 };

// Default channel columns used below.
const FLOW = 2;
const CURRENT = 4;
const POWER = 6;

function pair(config: SimulatorConfig, seed: number): { anomalous: SimulatedDevice; clean: SimulatedDevice; channels: number } {
  const anomalous = simulate(config, seed);
  const clean = simulate({ ...config, anomalies: 'none' }, seed);
  return { anomalous: anomalous.devices[0] as SimulatedDevice, clean: clean.devices[0] as SimulatedDevice, channels: anomalous.channels.length };
}

function one(anomaly: Omit<AnomalySpecInput, 'device'>, extra: Partial<SimulatorConfig> = {}): SimulatorConfig {
  return { devices: ['d'], rows: 600, ...extra, anomalies: [{ ...anomaly, device: 'd' }] };
}

/** Asserts that only rows [start, end) of columns `cols` differ from the clean recording. */
function expectCleanOutside(a: SimulatedDevice, b: SimulatedDevice, channels: number, start: number, end: number, cols: readonly number[]): void {
  let checked = 0;
  for (let r = 0; r < a.labels.length; r++) {
    for (let c = 0; c < channels; c++) {
      if (r >= start && r < end && cols.includes(c)) continue;
      if (a.values[r * channels + c] !== b.values[r * channels + c]) {
        throw new Error(`row ${r} channel ${c} differs from the clean recording: ${a.values[r * channels + c]} vs ${b.values[r * channels + c]}`);
      }
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(0);
}

describe('spike', () => {
  it('adds magnitude × scale at exactly the spike rows of the named channels', () => {
    const config = one({ kind: 'spike', channels: ['a', 'b'], startRow: 300, lengthRows: 2, magnitude: -7 }, { channels: [UNIT_SCALE, SCALED] });
    const { anomalous, clean } = pair(config, 11);
    for (const r of [300, 301]) {
      expect(anomalous.values[r * 2]! - clean.values[r * 2]!).toBeCloseTo(-7, 4); // scale 1
      expect(anomalous.values[r * 2 + 1]! - clean.values[r * 2 + 1]!).toBeCloseTo(-17.5, 4); // scale 2.5
    }
    expectCleanOutside(anomalous, clean, 2, 300, 302, [0, 1]);
    expect([...anomalous.labels.keys()].filter((r) => anomalous.labels[r] === 1)).toEqual([300, 301]);
  });

  it('stands far out of the normal variation of a default channel', () => {
    const config = one({ kind: 'spike', channels: ['motor_current_a'], startRow: 400, lengthRows: 1, magnitude: 8 });
    const { anomalous, clean, channels } = pair(config, 3);
    const x = column(anomalous.values, channels, CURRENT);
    const normal = column(clean.values, channels, CURRENT);
    expect(x[400]! - normal[400]!).toBeGreaterThan(8 * 2.9); // scale ≈ 3.02 A
    expect(Math.abs(x[400]! - mean(normal)) / std(normal)).toBeGreaterThan(4);
  });
});

describe('level-shift', () => {
  it('moves the segment mean by magnitude × scale and nothing else', () => {
    const config = one({ kind: 'level-shift', channels: ['b'], startRow: 100, lengthRows: 250, magnitude: 3 }, { channels: [UNIT_SCALE, SCALED] });
    const { anomalous, clean } = pair(config, 5);
    const shifted = column(anomalous.values, 2, 1, 100, 350);
    const normal = column(clean.values, 2, 1, 100, 350);
    const diffs = shifted.map((v, i) => v - normal[i]!);
    expect(Math.min(...diffs)).toBeCloseTo(7.5, 4);
    expect(Math.max(...diffs)).toBeCloseTo(7.5, 4);
    expect(mean(shifted) - mean(normal)).toBeCloseTo(7.5, 4);
    expectCleanOutside(anomalous, clean, 2, 100, 350, [1]);
  });

  it('defaults the magnitude to 3 scales when omitted', () => {
    const config = one({ kind: 'level-shift', channels: ['a'], startRow: 10, lengthRows: 5 }, { channels: [UNIT_SCALE] });
    const { anomalous, clean } = pair(config, 5);
    expect(anomalous.anomalies[0]!.magnitude).toBe(3);
    expect(anomalous.values[12]! - clean.values[12]!).toBeCloseTo(3, 4);
  });
});

describe('stuck', () => {
  it('freezes the sensor at the last value it reported before the segment', () => {
    const config = one({ kind: 'stuck', channels: ['flow_m3h', 'power_kw'], startRow: 200, lengthRows: 120 });
    const { anomalous, clean, channels } = pair(config, 8);
    for (const c of [FLOW, POWER]) {
      const frozen = column(anomalous.values, channels, c, 200, 320);
      expect(std(frozen)).toBe(0);
      expect(frozen[0]).toBe(clean.values[199 * channels + c]);
      // The clean signal does move over the same rows.
      expect(std(column(clean.values, channels, c, 200, 320))).toBeGreaterThan(0.05);
    }
    expectCleanOutside(anomalous, clean, channels, 200, 320, [FLOW, POWER]);
  });

  it('holds the first value when the segment starts at row 0', () => {
    const config = one({ kind: 'stuck', channels: ['a'], startRow: 0, lengthRows: 30 }, { channels: [UNIT_SCALE] });
    const { anomalous, clean } = pair(config, 9);
    expect(anomalous.values[0]).toBe(clean.values[0]);
    expect(new Set(anomalous.values.subarray(0, 30)).size).toBe(1);
    expectCleanOutside(anomalous, clean, 1, 0, 30, [0]);
  });
});

describe('variance', () => {
  it.each([4, 0.5])('scales the noise by the factor %s (second-difference std inside vs outside the segment)', (factor) => {
    const config = one({ kind: 'variance', channels: ['flow_m3h'], startRow: 2000, lengthRows: 1000, magnitude: factor }, { rows: 5000 });
    const { anomalous, clean, channels } = pair(config, 21);
    const x = column(anomalous.values, channels, FLOW);
    const inside = std(secondDifferences(x.slice(2000, 3000)));
    const outside = std([...secondDifferences(x.slice(0, 2000)), ...secondDifferences(x.slice(3000))]);
    expect(inside / outside).toBeGreaterThan(factor * 0.9);
    expect(inside / outside).toBeLessThan(factor * 1.1);
    // The excess over the clean signal is pure noise: (factor − 1) · noiseStd, noiseStd = 0.5 m³/h.
    const excess = x.slice(2000, 3000).map((v, i) => v - clean.values[(2000 + i) * channels + FLOW]!);
    expect(std(excess)).toBeGreaterThan(Math.abs(factor - 1) * 0.5 * 0.9);
    expect(std(excess)).toBeLessThan(Math.abs(factor - 1) * 0.5 * 1.1);
    expectCleanOutside(anomalous, clean, channels, 2000, 3000, [FLOW]);
  });
});

describe('frequency', () => {
  it.each([2, 0.5])('changes the dominant period of the process cycle by the factor %s', (factor) => {
    const config = one({ kind: 'frequency', channels: ['flow_m3h'], startRow: 1000, lengthRows: 2400, magnitude: factor }, { rows: 4000 });
    for (const seed of [1, 2, 3]) {
      const { anomalous, clean, channels } = pair(config, seed);
      const normalPeriod = dominantPeriod(column(clean.values, channels, FLOW, 1000, 3400), 15, 160);
      const anomalousPeriod = dominantPeriod(column(anomalous.values, channels, FLOW, 1000, 3400), 15, 160);
      // Devices run their process cycle within ±15 % of the nominal 60 rows.
      expect(normalPeriod).toBeGreaterThan(60 * 0.85 - 1);
      expect(normalPeriod).toBeLessThan(60 * 1.15 + 1);
      expect(anomalousPeriod / normalPeriod).toBeGreaterThan((1 / factor) * 0.97);
      expect(anomalousPeriod / normalPeriod).toBeLessThan((1 / factor) * 1.03);
      expectCleanOutside(anomalous, clean, channels, 1000, 3400, [FLOW]);
    }
  });
});

describe('correlation', () => {
  it('decouples the channel from its load-driven sibling', () => {
    const config = one({ kind: 'correlation', channels: ['power_kw'], startRow: 500, lengthRows: 2000 }, { rows: 3000 });
    const broken: number[] = [];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const { anomalous, clean, channels } = pair(config, seed);
      const current = column(clean.values, channels, CURRENT, 500, 2500);
      expect(pearson(current, column(clean.values, channels, POWER, 500, 2500))).toBeGreaterThan(0.8);
      const r = pearson(current, column(anomalous.values, channels, POWER, 500, 2500));
      broken.push(Math.abs(r));
      // The decoupled channel keeps its level and spread: only the coupling is gone.
      const decoupled = column(anomalous.values, channels, POWER, 500, 2500);
      expect(Math.abs(mean(decoupled) - 9.5)).toBeLessThan(1.6);
      expect(std(decoupled)).toBeGreaterThan(0.3);
      expectCleanOutside(anomalous, clean, channels, 500, 2500, [POWER]);
    }
    expect(mean(broken)).toBeLessThan(0.35);
  });

  it('keeps part of the coupling with a magnitude below 1', () => {
    const half = one({ kind: 'correlation', channels: ['power_kw'], startRow: 500, lengthRows: 2000, magnitude: 0.6 }, { rows: 3000 });
    const full = one({ kind: 'correlation', channels: ['power_kw'], startRow: 500, lengthRows: 2000, magnitude: 1 }, { rows: 3000 });
    let halfSum = 0;
    let fullSum = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const h = pair(half, seed);
      const f = pair(full, seed);
      const current = column(h.clean.values, h.channels, CURRENT, 500, 2500);
      halfSum += pearson(current, column(h.anomalous.values, h.channels, POWER, 500, 2500));
      fullSum += Math.abs(pearson(current, column(f.anomalous.values, f.channels, POWER, 500, 2500)));
    }
    // With m = 0.6 the load weight is √(1 − 0.36) = 0.8: still clearly coupled, less than normal.
    expect(halfSum / 6).toBeGreaterThan(0.5);
    expect(halfSum / 6).toBeLessThan(0.95);
    expect(halfSum / 6).toBeGreaterThan(fullSum / 6 + 0.2);
  });
});
