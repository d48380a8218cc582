import type { AnomalyKind, AnomalySpecInput } from './anomaly-kinds.js';
import type { SimulatedRecording } from './sensor-simulator.js';

/**
 * One anomaly of every kind on the default machine's channels, with a length and magnitude each
 * is meant to be found at. The replayed-detection test and `bench/eval/sim.ts` use it.
 */
export const EVERY_KIND_TOUR: readonly { readonly kind: AnomalyKind; readonly channels: readonly string[]; readonly lengthRows: number; readonly magnitude: number }[] = Object.freeze([
  { kind: 'spike', channels: ['pressure_bar'], lengthRows: 3, magnitude: 8 },
  { kind: 'level-shift', channels: ['flow_m3h'], lengthRows: 120, magnitude: 4 },
  { kind: 'stuck', channels: ['temperature_c'], lengthRows: 120, magnitude: 1 },
  { kind: 'variance', channels: ['vibration_rms_mm_s'], lengthRows: 120, magnitude: 4 },
  { kind: 'frequency', channels: ['speed_rpm'], lengthRows: 200, magnitude: 2 },
  { kind: 'correlation', channels: ['power_kw'], lengthRows: 200, magnitude: 1 },
]);

/**
 * {@link EVERY_KIND_TOUR} on each device in turn: the first anomaly starts at row `gapRows`, and
 * `gapRows` normal rows follow each one (explicit, so every kind occurs).
 */
export function everyKindTour(devices: readonly string[], gapRows = 400): AnomalySpecInput[] {
  return devices.flatMap((device) => {
    let start = gapRows;
    return EVERY_KIND_TOUR.map((k) => {
      const a = { ...k, channels: [...k.channels], device, startRow: start };
      start += k.lengthRows + gapRows;
      return a;
    });
  });
}

/** The devices' series one after the other, `[devices × rows, C]` (for training on several machines). */
export function concatenatedValues(rec: SimulatedRecording): Float32Array {
  const values = new Float32Array(rec.devices.reduce((n, d) => n + d.values.length, 0));
  let at = 0;
  for (const d of rec.devices) {
    values.set(d.values, at);
    at += d.values.length;
  }
  return values;
}
