import type { Forecaster } from '../model/forecaster.js';
import { jsGemmKernel, type GemmKernel } from '../nn/gemm.js';
import { fitResidualStats, scoreBatch, type ResidualStats } from './residual-scorer.js';
import { calibrateThreshold, type ThresholdCalibration, type ThresholdOptions } from './threshold.js';

/** `'auto'` picks POT when the held-out data is large enough for a tail fit, else a quantile. */
export type CalibrationMethod = ThresholdOptions | 'auto';

/** Held-out readings below which calibration refuses to run: too few to say what "normal" is. */
export const MIN_CALIBRATION_READINGS = 20;
/** Held-out readings from which `'auto'` uses POT (enough peaks above the 98% quantile). */
export const AUTO_POT_MIN_READINGS = 1000;
/** `'auto'` with less data: the largest quantile the data supports, times this margin. */
export const AUTO_SMALL_SAMPLE_MARGIN = 1.2;

/**
 * Smallest threshold calibration returns. Scores average about 1 on normal data by construction
 * (mean z² with robust scales), so a calibrated threshold below 1 only happens when the held-out
 * data was (nearly) constant; a threshold of 0 would flag every reading.
 */
export const MIN_THRESHOLD = 1;

/** What calibration found. */
export interface Calibration {
  readonly residualStats: ResidualStats;
  readonly threshold: ThresholdCalibration;
  /** Held-out readings used. */
  readonly readings: number;
  /** Their scores, in order (for reports). */
  readonly scores: Float64Array;
}

/** Resolves `'auto'` for `n` held-out readings. */
export function resolveCalibrationMethod(method: CalibrationMethod, n: number): ThresholdOptions {
  if (method !== 'auto') return method;
  if (n >= AUTO_POT_MIN_READINGS) return { method: 'pot', riskLevel: 1e-4, initialQuantile: 0.98 };
  return { method: 'quantile', q: Math.min(0.999, 1 - 1 / n), margin: AUTO_SMALL_SAMPLE_MARGIN };
}

/**
 * Streams a whole normal series through the forecaster (reading by reading, as the service
 * would) and calibrates on the residuals of rows `fromRow …` only — held-out rows the model did
 * not train on; earlier rows just warm the stream up.
 * @param values `[T, C]` raw readings.
 * @throws Error when fewer than {@link MIN_CALIBRATION_READINGS} held-out readings are scored.
 */
export function calibrate(
  forecaster: Forecaster,
  values: Float32Array,
  fromRow: number,
  method: CalibrationMethod,
  kernel: GemmKernel = jsGemmKernel,
): Calibration {
  const C = forecaster.channels.length;
  const rows = values.length / C;
  const batch = forecaster.createBatch(1, kernel);
  const slot = new Int32Array(1);
  const residual = new Float32Array(C);
  const ready = new Uint8Array(1);
  const held: number[] = [];
  for (let t = 0; t < rows; t++) {
    batch.observe(slot, 1, values.subarray(t * C, (t + 1) * C), residual, ready);
    if (t >= fromRow && ready[0] === 1) for (let c = 0; c < C; c++) held.push(residual[c] as number);
  }
  const n = held.length / C;
  if (n < MIN_CALIBRATION_READINGS) {
    throw new Error(
      `calibration: only ${n} held-out readings could be scored (rows ${fromRow}–${rows - 1}, after a warm-up of ${forecaster.receptiveField} readings); ` +
        `need at least ${MIN_CALIBRATION_READINGS}. Give more normal data, a larger validation share, or a smaller receptive field.`,
    );
  }
  const residuals = Float32Array.from(held);
  const residualStats = fitResidualStats(residuals, C);
  const { scores } = scoreBatch(residuals, residualStats);
  const calibrated = calibrateThreshold(scores, resolveCalibrationMethod(method, n));
  const threshold = calibrated.value >= MIN_THRESHOLD ? calibrated : { ...calibrated, value: MIN_THRESHOLD };
  return { residualStats, threshold, readings: n, scores: Float64Array.from(scores) };
}
