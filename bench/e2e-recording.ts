/** The recording the end-to-end benchmarks publish: simulated machines, 8 channels, rows interleaved by time. */
import type { ReplayRow } from '../src/io/replay-publisher.js';
import { simulate } from '../src/sim/sensor-simulator.js';

export function e2eRecording(devices: number, rowsPerDevice: number, seed = 3): ReplayRow[] {
  const rec = simulate({ devices, rows: rowsPerDevice, anomalies: 'none' }, seed);
  const C = rec.channels.length;
  const rows: ReplayRow[] = [];
  for (let t = 0; t < rowsPerDevice; t++) {
    for (const d of rec.devices) {
      const values: Record<string, number> = {};
      rec.channels.forEach((c, i) => (values[c] = d.values[t * C + i] as number));
      rows.push({ device: d.id, timeMs: d.timesMs[t] as number, values });
    }
  }
  return rows;
}
