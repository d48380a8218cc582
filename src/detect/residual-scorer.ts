/**
 * Turns per-channel forecast residuals into one anomaly score per reading plus per-channel
 * attributions.
 *
 * Fitting: on held-out normal residuals `[T, C]`, each channel gets a robust center (median) and
 * scale (1.4826·MAD, floored). Scoring one reading:
 *
 * ```
 * z[c]           = (r[c] − center[c]) / scale[c]
 * score          = (1/C) · Σ_c z[c]²          (≈ 1 for a normal reading, whatever C)
 * attribution[c] = z[c]² / Σ_c z[c]²           (shares summing to 1; all 1/C when Σ = 0)
 * ```
 */
import { assertFiniteNonEmpty, MAD_NORMAL_SCALE, quantileSorted, Welford } from './robust-stats.js';

/** Per-channel residual statistics; both arrays have length C. */
export interface ResidualStats {
  /** Median of each channel's held-out residuals, normalised units. */
  readonly center: Float32Array;
  /** Robust scale of each channel's residuals (always > 0), normalised units. */
  readonly scale: Float32Array;
}

/** {@link ResidualStats} as plain JSON (for model.json). */
export interface ResidualStatsJSON {
  readonly center: number[];
  readonly scale: number[];
}

/** Default of {@link FitResidualStatsOptions.minScaleStdRatio}. */
export const DEFAULT_MIN_SCALE_STD_RATIO = 0.5;
/** Default of {@link FitResidualStatsOptions.minScale}, normalised units. */
export const DEFAULT_MIN_SCALE = 1e-3;

/** Options of {@link fitResidualStats}. */
export interface FitResidualStatsOptions {
  /**
   * The scale is at least this fraction of the channel's standard deviation. Default 0.5.
   * For roughly normal, Laplace or Student-t (ν ≥ 3) residuals 1.4826·MAD is 0.65–1.0 times the
   * standard deviation, so the floor does not bind; it binds when the MAD collapses, e.g. a
   * quantised channel whose residual is exactly 0 more than half of the time. Must be in [0, 10].
   */
  readonly minScaleStdRatio?: number;
  /**
   * Absolute lower bound of the scale, in normalised units. Default 1e-3. It keeps a channel
   * that was constant in the held-out data (MAD = std = 0) from dividing by zero; such a channel
   * then scores deviations larger than ~1e-3 as strongly anomalous. Must be finite and > 0.
   */
  readonly minScale?: number;
}

/**
 * Fits per-channel center and scale on held-out normal residuals.
 *
 * center[c] = median of channel c; scale[c] = max(1.4826·MAD_c, minScaleStdRatio·std_c, minScale)
 * where std is the population standard deviation. Computation is in float64, stored as float32
 * (so "≥ minScale" holds up to float32 rounding; the stored scale is always > 0).
 *
 * @param residuals `[T, C]` row-major: residual of channel c at reading t is `residuals[t·C + c]`.
 * @param channels C ≥ 1.
 * @throws Error when `channels` is not a positive integer, `residuals.length` is 0 or not a
 *   multiple of `channels`, a residual is not finite, or an option is out of range.
 */
export function fitResidualStats(
  residuals: Float32Array,
  channels: number,
  options: FitResidualStatsOptions = {},
): ResidualStats {
  if (!Number.isInteger(channels) || channels < 1) {
    throw new Error(`fitResidualStats: channels must be a positive integer, got ${channels}`);
  }
  if (residuals.length === 0 || residuals.length % channels !== 0) {
    throw new Error(
      `fitResidualStats: residuals has ${residuals.length} values, which is not a non-zero multiple of channels (${channels}); expected [T, C] row-major`,
    );
  }
  const ratio = options.minScaleStdRatio ?? DEFAULT_MIN_SCALE_STD_RATIO;
  if (!(ratio >= 0 && ratio <= 10)) {
    throw new Error(`fitResidualStats: minScaleStdRatio must be in [0, 10], got ${ratio}`);
  }
  const minScale = options.minScale ?? DEFAULT_MIN_SCALE;
  if (!(Number.isFinite(minScale) && minScale > 0)) {
    throw new Error(`fitResidualStats: minScale must be finite and > 0, got ${minScale}`);
  }
  assertFiniteNonEmpty(residuals, 'fitResidualStats (residuals)');

  const rows = residuals.length / channels;
  const column = new Float64Array(rows);
  const center = new Float32Array(channels);
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const w = new Welford();
    for (let t = 0; t < rows; t++) {
      const v = residuals[t * channels + c] as number;
      column[t] = v;
      w.push(v);
    }
    column.sort();
    const med = quantileSorted(column, 0.5);
    for (let t = 0; t < rows; t++) column[t] = Math.abs((column[t] as number) - med);
    column.sort();
    const robust = MAD_NORMAL_SCALE * quantileSorted(column, 0.5);
    center[c] = med;
    scale[c] = Math.max(robust, ratio * w.std(0), minScale);
  }
  return { center, scale };
}

/** Number of channels of `stats`; throws when center and scale disagree. */
function channelCount(stats: ResidualStats, where: string): number {
  const c = stats.center.length;
  if (stats.scale.length !== c || c === 0) {
    throw new Error(`${where}: stats.center has ${c} channels but stats.scale has ${stats.scale.length}; both must be equal and > 0`);
  }
  return c;
}

/**
 * Scores one reading and writes the per-channel attribution shares into `outContrib`.
 * Allocates nothing.
 *
 * Non-finite residuals propagate: a NaN residual gives a NaN score and NaN shares; an infinite
 * z² gives an infinite score with the shares split equally among the infinite channels.
 *
 * @param residual `[C]` residuals r = x − x̂ of one reading, normalised units.
 * @param outContrib `[C]` receives z[c]² / Σz² (sums to 1; all 1/C when every z is 0).
 * @returns mean over channels of z[c]² (dimensionless; ≈ 1 on normal data).
 * @throws Error when the lengths of `residual`, `outContrib` and the stats differ.
 */
export function scoreReading(residual: ArrayLike<number>, stats: ResidualStats, outContrib: Float32Array | Float64Array): number {
  const channels = channelCount(stats, 'scoreReading');
  if (residual.length !== channels || outContrib.length !== channels) {
    throw new Error(
      `scoreReading: residual has ${residual.length} values and outContrib ${outContrib.length}, but the stats have ${channels} channels`,
    );
  }
  return scoreRow(residual, 0, stats, channels, outContrib, 0);
}

/** Scores the row at `offset` of `residuals` and writes shares at `outOffset`; no checks. */
function scoreRow(
  residuals: ArrayLike<number>,
  offset: number,
  stats: ResidualStats,
  channels: number,
  outContrib: Float32Array | Float64Array,
  outOffset: number,
): number {
  const { center, scale } = stats;
  let sum = 0;
  for (let c = 0; c < channels; c++) {
    const z = ((residuals[offset + c] as number) - (center[c] as number)) / (scale[c] as number);
    sum += z * z;
  }
  if (sum > 0 && sum < Infinity) {
    // Recomputing z (instead of caching z² in the output) keeps the shares exact in float64
    // even when outContrib is a Float32Array.
    for (let c = 0; c < channels; c++) {
      const z = ((residuals[offset + c] as number) - (center[c] as number)) / (scale[c] as number);
      outContrib[outOffset + c] = (z * z) / sum;
    }
  } else if (sum === 0) {
    outContrib.fill(1 / channels, outOffset, outOffset + channels);
  } else {
    splitNonFinite(residuals, offset, stats, channels, outContrib, outOffset, sum);
  }
  return sum / channels;
}

/** Rare path: Σz² is NaN or +∞. */
function splitNonFinite(
  residuals: ArrayLike<number>,
  offset: number,
  stats: ResidualStats,
  channels: number,
  outContrib: Float32Array | Float64Array,
  outOffset: number,
  sum: number,
): void {
  if (Number.isNaN(sum)) {
    outContrib.fill(Number.NaN, outOffset, outOffset + channels);
    return;
  }
  let infinite = 0;
  for (let c = 0; c < channels; c++) {
    const z = ((residuals[offset + c] as number) - (stats.center[c] as number)) / (stats.scale[c] as number);
    if (z * z === Infinity) infinite++;
  }
  for (let c = 0; c < channels; c++) {
    const z = ((residuals[offset + c] as number) - (stats.center[c] as number)) / (stats.scale[c] as number);
    outContrib[outOffset + c] = z * z === Infinity ? 1 / infinite : 0;
  }
}

/** Result of {@link scoreBatch}. */
export interface BatchScores {
  /** `[T]` scores. */
  readonly scores: Float32Array;
  /** `[T, C]` row-major attribution shares. */
  readonly contrib: Float32Array;
}

/**
 * Scores T readings at once; row t gives exactly what {@link scoreReading} gives for it.
 * @param residuals `[T, C]` row-major residuals.
 * @param out optional preallocated outputs (`scores` of length T, `contrib` of length T·C);
 *   missing ones are allocated.
 * @throws Error when `residuals.length` is not a multiple of C, or an output has the wrong length.
 */
export function scoreBatch(
  residuals: ArrayLike<number>,
  stats: ResidualStats,
  out: { scores?: Float32Array; contrib?: Float32Array } = {},
): BatchScores {
  const channels = channelCount(stats, 'scoreBatch');
  if (residuals.length % channels !== 0) {
    throw new Error(`scoreBatch: residuals has ${residuals.length} values, not a multiple of the ${channels} channels; expected [T, C]`);
  }
  const rows = residuals.length / channels;
  const scores = out.scores ?? new Float32Array(rows);
  const contrib = out.contrib ?? new Float32Array(rows * channels);
  if (scores.length !== rows) throw new Error(`scoreBatch: out.scores has length ${scores.length}, expected T = ${rows}`);
  if (contrib.length !== rows * channels) {
    throw new Error(`scoreBatch: out.contrib has length ${contrib.length}, expected T·C = ${rows * channels}`);
  }
  for (let t = 0; t < rows; t++) scores[t] = scoreRow(residuals, t * channels, stats, channels, contrib, t * channels);
  return { scores, contrib };
}

/** Plain-JSON form of `stats` (exact: float32 values are representable as JSON numbers). */
export function residualStatsToJSON(stats: ResidualStats): ResidualStatsJSON {
  channelCount(stats, 'residualStatsToJSON');
  return { center: Array.from(stats.center), scale: Array.from(stats.scale) };
}

/**
 * Reads residual statistics from parsed JSON (e.g. a model file), checking every field.
 * @throws Error naming the bad field: missing arrays, different lengths, zero channels,
 *   non-finite values, or a scale ≤ 0.
 */
export function residualStatsFromJSON(json: unknown): ResidualStats {
  if (typeof json !== 'object' || json === null) throw new Error(`residual stats: expected an object, got ${json === null ? 'null' : typeof json}`);
  const obj = json as Record<string, unknown>;
  const center = numberArray(obj.center, 'center');
  const scale = numberArray(obj.scale, 'scale');
  if (center.length === 0 || center.length !== scale.length) {
    throw new Error(`residual stats: center has ${center.length} values and scale ${scale.length}; both must be equal and > 0`);
  }
  scale.forEach((s, i) => {
    if (!(s > 0) || !(Math.fround(s) > 0)) throw new Error(`residual stats: scale[${i}] must be > 0, got ${s}`);
  });
  return { center: Float32Array.from(center), scale: Float32Array.from(scale) };
}

function numberArray(v: unknown, field: string): number[] {
  if (!Array.isArray(v)) throw new Error(`residual stats: ${field} must be an array of numbers, got ${typeof v}`);
  return v.map((x: unknown, i: number) => {
    if (typeof x !== 'number' || !Number.isFinite(Math.fround(x))) {
      throw new Error(`residual stats: ${field}[${i}] must be a number finite in float32, got ${String(x)}`);
    }
    return x;
  });
}
