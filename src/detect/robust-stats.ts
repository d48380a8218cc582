/**
 * Plain descriptive statistics used by scoring and calibration: median, MAD, quantiles (numpy's
 * default 'linear' interpolation), and mean / standard deviation with Welford's algorithm.
 *
 * Every function accepts a `Float32Array`, a `Float64Array` or a `number[]` (anything
 * `ArrayLike<number>`), never mutates its input, computes in float64, and throws on an empty input
 * or a non-finite value (a NaN silently reorders a sort and poisons a median, so it is refused
 * loudly instead).
 */

/** Numbers the statistics accept: typed arrays or plain arrays; they are read, never written. */
export type NumericArray = ArrayLike<number>;

/**
 * Factor that turns a median absolute deviation into an estimate of the standard deviation σ
 * for normally distributed data: 1 / Φ⁻¹(3/4) ≈ 1.4826 (the value scipy's
 * `median_abs_deviation(scale='normal')` uses).
 */
export const MAD_NORMAL_SCALE = 1.482602218505602;

/**
 * Checks that `xs` is non-empty and finite everywhere.
 * @param what names the statistic in the error message.
 * @throws Error naming the first bad index and value.
 */
export function assertFiniteNonEmpty(xs: NumericArray, what: string): void {
  if (xs.length === 0) throw new Error(`${what}: input is empty; at least one value is needed`);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i] as number;
    if (!Number.isFinite(v)) throw new Error(`${what}: value at index ${i} is ${v}; all values must be finite`);
  }
}

/**
 * A sorted (ascending) float64 copy of `xs`; the input is left untouched.
 * @throws Error on an empty input or a non-finite value.
 */
export function sortedCopy(xs: NumericArray): Float64Array {
  assertFiniteNonEmpty(xs, 'sortedCopy');
  const out = Float64Array.from(xs);
  out.sort();
  return out;
}

/**
 * Quantile of already sorted (ascending), finite, non-empty values with numpy's default
 * 'linear' method (type 7 of Hyndman & Fan): with h = (n − 1)·q, the result is
 * `sorted[⌊h⌋] + (h − ⌊h⌋)·(sorted[⌊h⌋ + 1] − sorted[⌊h⌋])`. So q = 0 gives the minimum, q = 1 the
 * maximum, q = 0.5 the median. The input is trusted (not checked) apart from `q`.
 * @throws Error when `q` is not in [0, 1] or `sorted` is empty.
 */
export function quantileSorted(sorted: NumericArray, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantile: input is empty; at least one value is needed');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  if (lo >= n - 1) return a;
  const frac = h - lo;
  const b = sorted[lo + 1] as number;
  // Interpolating from the nearer neighbour (as numpy does) keeps the rounding error small and
  // makes the result land exactly on b when frac rounds to 1.
  return frac < 0.5 ? a + frac * (b - a) : b - (1 - frac) * (b - a);
}

/**
 * The q-quantile of `xs` with numpy's default 'linear' interpolation (see {@link quantileSorted}).
 * Sorts a copy: O(n log n).
 * @param q probability in [0, 1].
 * @throws Error on an empty input, a non-finite value, or `q` outside [0, 1].
 */
export function quantile(xs: NumericArray, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  return quantileSorted(sortedCopy(xs), q);
}

/**
 * Several quantiles of `xs` at once (one sort), same interpolation as {@link quantile}.
 * @returns one value per entry of `qs`, in the same order.
 * @throws Error on an empty input, a non-finite value, or any q outside [0, 1].
 */
export function quantiles(xs: NumericArray, qs: readonly number[]): number[] {
  for (const q of qs) if (!(q >= 0 && q <= 1)) throw new Error(`quantiles: every q must be in [0, 1], got ${q}`);
  const sorted = sortedCopy(xs);
  return qs.map((q) => quantileSorted(sorted, q));
}

/**
 * Median of `xs`: the middle value, or the mean of the two middle values for an even count
 * (as numpy.median).
 * @throws Error on an empty input or a non-finite value.
 */
export function median(xs: NumericArray): number {
  return quantileSorted(sortedCopy(xs), 0.5);
}

/** Options of {@link mad}. */
export interface MadOptions {
  /** Center the deviations are taken from; default: the median of the data. */
  readonly center?: number;
  /**
   * 'normal' (default) multiplies by {@link MAD_NORMAL_SCALE} so the result estimates σ for
   * normal data; 'raw' returns median(|x − center|) itself.
   */
  readonly scale?: 'normal' | 'raw';
}

/**
 * Median absolute deviation: median(|x − center|), by default scaled by
 * {@link MAD_NORMAL_SCALE} ≈ 1.4826 so that it estimates the standard deviation of normal data
 * while ignoring up to half of the values as outliers.
 * @throws Error on an empty input, a non-finite value, or a non-finite `center`.
 */
export function mad(xs: NumericArray, options: MadOptions = {}): number {
  assertFiniteNonEmpty(xs, 'mad');
  const center = options.center ?? median(xs);
  if (!Number.isFinite(center)) throw new Error(`mad: center must be finite, got ${center}`);
  const scale = options.scale ?? 'normal';
  if (scale !== 'normal' && scale !== 'raw') throw new Error(`mad: scale must be 'normal' or 'raw', got '${String(scale)}'`);
  const dev = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) dev[i] = Math.abs((xs[i] as number) - center);
  dev.sort();
  const m = quantileSorted(dev, 0.5);
  return scale === 'normal' ? MAD_NORMAL_SCALE * m : m;
}

/**
 * Running mean and variance by Welford's algorithm: numerically stable in one pass, O(1) memory,
 * no allocation per value. Create one per series; `push` values; read `mean`, `variance(ddof)`.
 */
export class Welford {
  private n = 0;
  private m = 0;
  private m2 = 0;

  /** Number of values pushed so far. */
  get count(): number {
    return this.n;
  }

  /** Mean of the values pushed so far (NaN before the first value). */
  get mean(): number {
    return this.n === 0 ? Number.NaN : this.m;
  }

  /**
   * Adds one value.
   * @throws Error when `x` is not finite.
   */
  push(x: number): void {
    if (!Number.isFinite(x)) throw new Error(`Welford.push: value must be finite, got ${x}`);
    this.n += 1;
    const delta = x - this.m;
    this.m += delta / this.n;
    this.m2 += delta * (x - this.m);
  }

  /**
   * Variance with `ddof` delta degrees of freedom: Σ(x − mean)² / (n − ddof); ddof 0 (default) is
   * the population variance (numpy's default), 1 the unbiased sample variance. NaN when n ≤ ddof.
   */
  variance(ddof: 0 | 1 = 0): number {
    return this.n <= ddof ? Number.NaN : Math.max(0, this.m2) / (this.n - ddof);
  }

  /** Square root of {@link variance}. */
  std(ddof: 0 | 1 = 0): number {
    return Math.sqrt(this.variance(ddof));
  }
}

/** Result of {@link meanStd}. */
export interface MeanStd {
  readonly count: number;
  readonly mean: number;
  /** Σ(x − mean)² / (count − ddof). */
  readonly variance: number;
  /** √variance. */
  readonly std: number;
}

/**
 * Mean and standard deviation of `xs` in one stable pass (Welford).
 * @param ddof 0 (default, population, as numpy.std) or 1 (sample).
 * @throws Error on an empty input, a non-finite value, or `xs.length ≤ ddof`.
 */
export function meanStd(xs: NumericArray, ddof: 0 | 1 = 0): MeanStd {
  assertFiniteNonEmpty(xs, 'meanStd');
  if (ddof !== 0 && ddof !== 1) throw new Error(`meanStd: ddof must be 0 or 1, got ${String(ddof)}`);
  if (xs.length <= ddof) throw new Error(`meanStd: ddof ${ddof} needs more than ${ddof} value(s), got ${xs.length}`);
  const w = new Welford();
  for (let i = 0; i < xs.length; i++) w.push(xs[i] as number);
  const variance = w.variance(ddof);
  return { count: w.count, mean: w.mean, variance, std: Math.sqrt(variance) };
}
