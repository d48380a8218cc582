/**
 * Per-channel affine normalisation fitted on training data: `z = (x − mean) / std`. The model
 * sees normalised readings only; forecasts and residuals are in normalised units.
 */
export interface Normalization {
  /** `[C]` channel means of the training data. */
  readonly mean: Float32Array;
  /** `[C]` channel standard deviations (population), floored so a constant channel divides by 1. */
  readonly std: Float32Array;
}

/**
 * A channel whose std is below this fraction of max(1, |mean|) counts as constant and gets
 * std = 1, so it is centred but not blown up by dividing by ~0.
 */
export const CONSTANT_CHANNEL_RELATIVE_STD = 1e-6;

/**
 * Fits mean and population std per channel, in float64.
 * @param values `[T, C]` row-major.
 * @throws Error when the shape is inconsistent, T is 0, or a value is not finite (names row and channel).
 */
export function fitNormalization(values: Float32Array, channels: number): Normalization {
  if (!Number.isInteger(channels) || channels < 1) throw new Error(`fitNormalization: channels must be a positive integer, got ${channels}`);
  if (values.length === 0 || values.length % channels !== 0) {
    throw new Error(`fitNormalization: ${values.length} values is not a non-zero multiple of ${channels} channels`);
  }
  const rows = values.length / channels;
  const mean = new Float32Array(channels);
  const std = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    let s = 0;
    for (let t = 0; t < rows; t++) {
      const v = values[t * channels + c] as number;
      if (!Number.isFinite(v)) throw new Error(`fitNormalization: value at row ${t}, channel ${c} is ${v}`);
      // Welford's update keeps precision for large offsets (e.g. pressures around 2700 kPa).
      const d = v - m;
      m += d / (t + 1);
      s += d * (v - m);
    }
    const sd = Math.sqrt(s / rows);
    mean[c] = m;
    std[c] = sd < CONSTANT_CHANNEL_RELATIVE_STD * Math.max(1, Math.abs(m)) ? 1 : sd;
  }
  return { mean, std };
}

/** Writes `(x − mean) / std` of one reading `[C]` (read from `x` at `xOffset`) into `out` at `outOffset`. Allocation-free. */
export function normalizeReading(x: ArrayLike<number>, norm: Normalization, out: Float32Array, outOffset = 0, xOffset = 0): void {
  const { mean, std } = norm;
  for (let c = 0; c < mean.length; c++) out[outOffset + c] = ((x[xOffset + c] as number) - (mean[c] as number)) / (std[c] as number);
}

/** Normalises a whole `[T, C]` series into a new array. */
export function normalizeSeries(values: Float32Array, norm: Normalization): Float32Array {
  const C = norm.mean.length;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i += C) normalizeReading(values, norm, out, i, i);
  return out;
}
