/**
 * The trivial baseline for NAB: a static z-score. Mean and standard deviation come from the
 * training (probationary) rows only; a reading exceeds when |x − mean| > k·std, and anomaly
 * events open and close with the same hysteresis as convwatch, so alarms are counted alike.
 */
import type { EventPolicy } from '../../src/detect/detector.js';
import { Hysteresis } from '../../src/detect/hysteresis.js';

/** Per-row flags of the baseline. */
export interface ZScoreFlags {
  /** `[T]` 1 where |z| > k. */
  readonly exceeded: Uint8Array;
  /** `[T]` 1 while an event is open. */
  readonly anomaly: Uint8Array;
}

/**
 * |z| of `[T]` univariate values with mean and std (ddof 1) of rows `[0, trainRows)`. A constant
 * training period (std 0) gives |z| = +∞ for any value that differs from it, 0 otherwise.
 * @throws Error when `trainRows` is not in [2, T].
 */
export function staticZScores(values: Float32Array, trainRows: number): Float64Array {
  const T = values.length;
  if (!Number.isInteger(trainRows) || trainRows < 2 || trainRows > T) throw new Error(`staticZScores: trainRows must be an integer in [2, ${T}], got ${trainRows}`);
  let sum = 0;
  for (let t = 0; t < trainRows; t++) sum += values[t] as number;
  const mean = sum / trainRows;
  let ss = 0;
  for (let t = 0; t < trainRows; t++) ss += ((values[t] as number) - mean) ** 2;
  const std = Math.sqrt(ss / (trainRows - 1));
  return Float64Array.from(values, (x) => {
    const d = Math.abs(x - mean);
    return std > 0 ? d / std : d > 0 ? Number.POSITIVE_INFINITY : 0;
  });
}

/**
 * Flags `[T]` univariate values whose {@link staticZScores} exceed `k`, with event hysteresis.
 * @param timesMs `[T]` reading times, ms (for the hysteresis' event times).
 * @throws Error when `trainRows` is not in [2, T] or `k` is not finite and > 0.
 */
export function staticZScoreFlags(values: Float32Array, timesMs: Float64Array, trainRows: number, k: number, events: EventPolicy): ZScoreFlags {
  if (!(k > 0) || !Number.isFinite(k)) throw new Error(`staticZScoreFlags: k must be a finite number > 0, got ${k}`);
  const z = staticZScores(values, trainRows);
  const T = values.length;
  const hysteresis = new Hysteresis({ openAfter: events.openAfter, closeAfter: events.closeAfter });
  const exceeded = new Uint8Array(T);
  const anomaly = new Uint8Array(T);
  for (let t = 0; t < T; t++) {
    const step = hysteresis.update(z[t] as number, k, timesMs[t] as number);
    exceeded[t] = step.exceeded;
    anomaly[t] = step.anomaly;
  }
  return { exceeded, anomaly };
}
