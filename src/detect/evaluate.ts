import { eventMetrics, type EventMetrics } from './event-metrics.js';
import { NAB_PROFILES, type NabProfile } from './nab-profiles.js';
import { nabFileScore, type NabFileScore } from './nab-score.js';
import { pointMetrics, type PointMetrics } from './point-metrics.js';

/** Scored rows of one recording, as every door produces them. */
export interface ScoredSeries {
  /** `[T]` ms, or null (then rows are numbered and delays are in rows only). */
  readonly timesMs: Float64Array | null;
  /** `[T]` 0/1 ground truth. */
  readonly labels: Uint8Array;
  /** `[T]` 0/1 anomaly flag (event state). */
  readonly predicted: Uint8Array;
  /** `[T]` 1 where the row was scored (the stream had warmed up). */
  readonly ready: Uint8Array;
}

/** Metrics of a detector on rows `[fromRow, T)` of a recording. */
export interface Evaluation {
  readonly fromRow: number;
  readonly rows: number;
  /** Evaluated rows that were not scored (warm-up); they count as predicted 0 in event metrics. */
  readonly unscoredRows: number;
  /** Point-wise over scored evaluated rows. */
  readonly point: PointMetrics;
  /** Event-wise over evaluated rows (each labelled segment one event). */
  readonly event: Omit<EventMetrics, 'labelled' | 'predicted'>;
  /** NAB scores per profile, when windows were given; detections are the starts of anomaly events. */
  readonly nab: Record<string, Omit<NabFileScore, 'windows'>> | null;
}

/** Rows where an anomaly event starts (flag goes 0 → 1): the alarms NAB scores. */
export function eventStarts(predicted: Uint8Array): Uint8Array {
  const out = new Uint8Array(predicted.length);
  for (let t = 0; t < predicted.length; t++) if (predicted[t] === 1 && (t === 0 || predicted[t - 1] === 0)) out[t] = 1;
  return out;
}

/**
 * Evaluates rows `[fromRow, T)`: point-wise (scored rows only), event-wise (all evaluated rows),
 * and NAB (whole file, with its own probationary period) when `nabWindows` is given.
 */
export function evaluate(s: ScoredSeries, fromRow: number, nabWindows: ReadonlyArray<readonly [number, number]> | null, profiles: readonly NabProfile[] = NAB_PROFILES): Evaluation {
  const T = s.labels.length;
  if (s.predicted.length !== T || s.ready.length !== T || (s.timesMs !== null && s.timesMs.length !== T)) {
    throw new Error(`evaluate: labels, predictions, ready flags and times must all have ${T} rows`);
  }
  if (!Number.isInteger(fromRow) || fromRow < 0 || fromRow >= T) throw new Error(`evaluate: fromRow ${fromRow} is outside [0, ${T})`);
  const labels = s.labels.subarray(fromRow);
  const predicted = s.predicted.subarray(fromRow);
  const mask = s.ready.subarray(fromRow);
  const point = pointMetrics(labels, predicted, mask);
  // Delays in ms need a clock that never steps back; otherwise they are given in rows only.
  const times = s.timesMs === null ? null : s.timesMs.subarray(fromRow);
  const monotone = times !== null && times.every((x, i) => i === 0 || x >= (times[i - 1] as number));
  const { labelled: _l, predicted: _p, ...event } = eventMetrics(labels, predicted, monotone && times !== null ? { timesMs: times } : {});
  let nab: Evaluation['nab'] = null;
  if (nabWindows !== null) {
    if (s.timesMs === null) throw new Error('evaluate: NAB scoring needs a time column');
    const detections = eventStarts(s.predicted);
    // NAB maps windows to rows by timestamp. Recordings can repeat or step back in time (clock
    // changes), so windows become row ranges here and rows are numbered 0..T−1 for the scorer.
    const rowIndex = Float64Array.from({ length: T }, (_, i) => i);
    const rowWindows = windowsToRows(s.timesMs, nabWindows);
    nab = {};
    for (const profile of profiles) {
      const { windows: _w, ...r } = nabFileScore({ timestamps: rowIndex, detections, windows: rowWindows, profile });
      nab[profile.name] = r;
    }
  }
  let unscored = 0;
  for (let t = 0; t < mask.length; t++) if (mask[t] === 0) unscored++;
  return { fromRow, rows: T - fromRow, unscoredRows: unscored, point, event, nab };
}

/**
 * Each time window `[startMs, endMs]` as the row range `[first row at or after start, last row at
 * or before end]` (row numbers as numbers), skipping windows that contain no row.
 */
export function windowsToRows(timesMs: Float64Array, windows: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [a, b] of windows) {
    let first = -1;
    let last = -1;
    for (let t = 0; t < timesMs.length; t++) {
      const x = timesMs[t] as number;
      if (first < 0 && x >= a && x <= b) first = t;
      if (x >= a && x <= b) last = t;
    }
    if (first >= 0) out.push([first, last]);
  }
  return out;
}
