import { describe, expect, it } from 'vitest';
import { ANOMALY_KINDS } from '../../src/sim/anomaly-kinds.js';
import { concatenatedValues, everyKindTour, EVERY_KIND_TOUR } from '../../src/sim/scenarios.js';
import { simulate } from '../../src/sim/sensor-simulator.js';

describe('simulator scenarios', () => {
  it('the tour holds every anomaly kind once, spaced by the gap on each device', () => {
    expect(EVERY_KIND_TOUR.map((k) => k.kind).sort()).toEqual([...ANOMALY_KINDS].sort());
    const tour = everyKindTour(['a', 'b'], 100);
    expect(tour).toHaveLength(2 * ANOMALY_KINDS.length);
    const a = tour.filter((t) => t.device === 'a');
    expect(a[0]?.startRow).toBe(100);
    for (let i = 1; i < a.length; i++) expect(a[i]!.startRow).toBe(a[i - 1]!.startRow + a[i - 1]!.lengthRows + 100);
    // The tour fits the simulator's machine: a recording with it is accepted.
    expect(simulate({ devices: ['a', 'b'], rows: a.at(-1)!.startRow + 400, anomalies: tour }, 1).devices[1]?.anomalies).toHaveLength(ANOMALY_KINDS.length);
  });

  it('concatenates the devices series in device order', () => {
    const rec = simulate({ devices: 3, rows: 5, anomalies: 'none' }, 2);
    const all = concatenatedValues(rec);
    const C = rec.channels.length;
    expect(all).toHaveLength(3 * 5 * C);
    rec.devices.forEach((d, i) => expect(all.subarray(i * 5 * C, (i + 1) * 5 * C)).toEqual(d.values));
  });
});
