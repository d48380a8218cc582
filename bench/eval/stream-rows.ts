/**
 * Runs a fitted detector over a recording reading by reading, exactly as the service and the
 * `eval` command do (one {@link DetectorStream}), and keeps every row's output.
 */
import type { Detector } from '../../src/detect/detector.js';
import type { GemmKernel } from '../../src/nn/gemm.js';

/** Per-row detector output over a recording of T rows. */
export interface StreamedRows {
  /** `[T]` score, NaN where the stream had not warmed up. */
  readonly scores: Float64Array;
  /** `[T]` 1 where the score exceeded the threshold (the raw per-reading decision). */
  readonly exceeded: Uint8Array;
  /** `[T]` 1 while an anomaly event is open (after hysteresis: the flag the service reports). */
  readonly anomaly: Uint8Array;
  /** `[T]` 1 where the row was scored. */
  readonly ready: Uint8Array;
}

/** Readings pushed before the recording, outputs discarded: the history a running plant has. */
export interface StreamPrimer {
  /** `[P, C]` raw readings, row-major. */
  readonly values: Float32Array;
  /** `[P]` their times, ms, before the recording's first time. */
  readonly timesMs: Float64Array;
}

/**
 * Streams `[T, C]` raw readings through a new stream of `detector`.
 * @param timesMs `[T]` reading times in ms.
 * @param primer optional history pushed first (its outputs are dropped; hysteresis state carries over).
 * @throws Error when the values do not form rows of the detector's channels or times do not match.
 */
export function streamRows(detector: Detector, values: Float32Array, timesMs: Float64Array, kernel: GemmKernel, primer: StreamPrimer | null = null): StreamedRows {
  const C = detector.channels.length;
  if (values.length % C !== 0) throw new Error(`streamRows: ${values.length} values do not form rows of ${C} channels`);
  const T = values.length / C;
  if (timesMs.length !== T) throw new Error(`streamRows: ${T} rows but ${timesMs.length} times`);
  const stream = detector.createStream(kernel);
  if (primer !== null) {
    const P = primer.values.length / C;
    if (!Number.isInteger(P) || primer.timesMs.length !== P) throw new Error(`streamRows: primer has ${primer.values.length} values and ${primer.timesMs.length} times for ${C} channels`);
    for (let t = 0; t < P; t++) stream.push(primer.values.subarray(t * C, (t + 1) * C), primer.timesMs[t] as number);
  }
  const out: StreamedRows = { scores: new Float64Array(T), exceeded: new Uint8Array(T), anomaly: new Uint8Array(T), ready: new Uint8Array(T) };
  for (let t = 0; t < T; t++) {
    const r = stream.push(values.subarray(t * C, (t + 1) * C), timesMs[t] as number);
    out.scores[t] = r.score;
    out.exceeded[t] = r.exceeded;
    out.anomaly[t] = r.anomaly;
    out.ready[t] = r.ready ? 1 : 0;
  }
  return out;
}
