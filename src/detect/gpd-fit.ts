/**
 * Maximum-likelihood fit of a Generalized Pareto Distribution (GPD) to excesses over a threshold,
 * for Peaks-Over-Threshold calibration (Siffer et al., KDD 2017).
 *
 * GPD of shape γ and scale σ > 0, for excesses y ≥ 0:
 *
 * ```
 * P(Y > y) = (1 + γ·y/σ)^(−1/γ)      (γ ≠ 0; support 0 ≤ y < −σ/γ when γ < 0)
 * P(Y > y) = exp(−y/σ)               (γ = 0: the exponential distribution)
 * ```
 *
 * The fit follows Grimshaw's reduction (Technometrics 1993), as the SPOT paper does: with
 * x = γ/σ, the likelihood equations reduce to the single equation u(x)·v(x) = 1 where
 * u(x) = mean(1/(1 + x·Y)) and v(x) = 1 + mean(log(1 + x·Y)); a root gives γ = v(x) − 1 and
 * σ = γ/x. Roots lie in (−1/Y_max, 0) or (0, 2(Ȳ − Y_min)/Y_min²]. They are bracketed on a grid
 * (log-spaced, dense near the ends of each interval), refined by bisection, and compared by
 * log-likelihood with the exponential fit (γ = 0, σ = Ȳ, the limit x → 0); the best wins. So a
 * tail that is exponential (γ ≈ 0) is fitted as exactly that rather than as a poorly
 * conditioned root near x = 0.
 */
import { assertFiniteNonEmpty } from './robust-stats.js';

/** Which candidate won the fit. */
export type GpdFitMethod = 'grimshaw' | 'exponential';

/** A fitted GPD. */
export interface GpdFit {
  /** Shape γ (0 for the exponential candidate). */
  readonly gamma: number;
  /** Scale σ > 0, in the units of the excesses. */
  readonly sigma: number;
  /** 'grimshaw' when a root of Grimshaw's equation won, 'exponential' when γ = 0 did. */
  readonly method: GpdFitMethod;
  /** Log-likelihood of the excesses under the fit. */
  readonly logLikelihood: number;
  /** Number of excesses fitted. */
  readonly count: number;
}

/** Fewest excesses {@link fitGpd} accepts: below this a two-parameter fit is meaningless. */
export const MIN_GPD_EXCESSES = 3;

/** Grid points per half interval when bracketing roots; bisection does the rest. */
const GRID_POINTS = 96;
/** Roots with |x|·Ȳ below this are indistinguishable from x = 0 (the exponential candidate). */
const NEAR_ZERO = 1e-4;

/**
 * Log-likelihood of `excesses` under GPD(γ, σ): −n·log σ − (1 + 1/γ)·Σ log(1 + γ·y/σ), or
 * −n·log σ − Σy/σ for γ = 0. −Infinity when an excess lies outside the support or σ ≤ 0.
 */
export function gpdLogLikelihood(excesses: ArrayLike<number>, gamma: number, sigma: number): number {
  if (!(sigma > 0) || !Number.isFinite(gamma)) return -Infinity;
  const n = excesses.length;
  let acc = 0;
  if (gamma === 0) {
    for (let i = 0; i < n; i++) acc += excesses[i] as number;
    return -n * Math.log(sigma) - acc / sigma;
  }
  const k = gamma / sigma;
  for (let i = 0; i < n; i++) {
    const a = 1 + k * (excesses[i] as number);
    if (!(a > 0)) return -Infinity;
    acc += Math.log1p(k * (excesses[i] as number));
  }
  return -n * Math.log(sigma) - (1 + 1 / gamma) * acc;
}

/**
 * The excess exceeded with probability `p` under GPD(γ, σ): σ/γ·(p^(−γ) − 1), or −σ·log p for
 * γ = 0 (evaluated as σ·expm1(−γ·log p)/γ so that small |γ| loses no precision).
 * @param p probability in (0, 1].
 * @throws Error when p is outside (0, 1] or σ ≤ 0.
 */
export function gpdTailQuantile(p: number, gamma: number, sigma: number): number {
  if (!(p > 0 && p <= 1)) throw new Error(`gpdTailQuantile: p must be in (0, 1], got ${p}`);
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`gpdTailQuantile: sigma must be finite and > 0, got ${sigma}`);
  if (!Number.isFinite(gamma)) throw new Error(`gpdTailQuantile: gamma must be finite, got ${gamma}`);
  if (p === 1) return 0;
  const logP = Math.log(p);
  if (gamma === 0 || Math.abs(gamma * logP) < 1e-300) return -sigma * logP;
  return (sigma * Math.expm1(-gamma * logP)) / gamma;
}

/**
 * Fits a GPD to strictly positive excesses by maximum likelihood (see the module comment).
 * @param excesses values y = s − t of the scores s above the threshold t; all finite and > 0.
 * @throws Error with fewer than {@link MIN_GPD_EXCESSES} excesses, a non-finite or non-positive
 *   excess, or when all excesses are equal (no tail shape to fit).
 */
export function fitGpd(excesses: ArrayLike<number>): GpdFit {
  assertFiniteNonEmpty(excesses, 'fitGpd');
  const n = excesses.length;
  if (n < MIN_GPD_EXCESSES) throw new Error(`fitGpd: needs at least ${MIN_GPD_EXCESSES} excesses, got ${n}`);
  const ys = Float64Array.from(excesses);
  let yMin = Infinity;
  let yMax = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const y = ys[i] as number;
    if (!(y > 0)) throw new Error(`fitGpd: excess at index ${i} is ${y}; excesses over the threshold must be > 0`);
    if (y < yMin) yMin = y;
    if (y > yMax) yMax = y;
    sum += y;
  }
  const yMean = sum / n;
  if (!(yMax > yMin)) {
    throw new Error(`fitGpd: all ${n} excesses equal ${yMin}; a GPD needs excesses with some spread (the scores may be quantised: use the quantile method)`);
  }

  let best: GpdFit = { gamma: 0, sigma: yMean, method: 'exponential', logLikelihood: gpdLogLikelihood(ys, 0, yMean), count: n };
  const consider = (x: number): void => {
    const g = grimshawGamma(ys, x);
    const sigma = g / x;
    if (!Number.isFinite(g) || !(sigma > 0) || !Number.isFinite(sigma)) return;
    const ll = gpdLogLikelihood(ys, g, sigma);
    if (ll > best.logLikelihood) best = { gamma: g, sigma, method: 'grimshaw', logLikelihood: ll, count: n };
  };

  // Negative side: x = −s / Y_max with s in (0, 1); dense near both ends (s → 0 is x → 0,
  // s → 1 is the end of the support where light tails put their root).
  const negGrid = twoEndedGrid(Math.min(0.5, (NEAR_ZERO * yMax) / yMean), 1e-10, GRID_POINTS);
  forEachRoot(negGrid, (s) => grimshawW(ys, -s / yMax), (s) => consider(-s / yMax));

  // Positive side: log-spaced from near 0 up to Grimshaw's bound 2(Ȳ − Y_min)/Y_min².
  const xLo = NEAR_ZERO / yMean;
  const xHi = (2 * (yMean - yMin)) / (yMin * yMin);
  if (xHi > xLo && Number.isFinite(xHi)) {
    forEachRoot(geometricGrid(xLo, xHi, 2 * GRID_POINTS), (x) => grimshawW(ys, x), consider);
  }
  return best;
}

/** w(x) = u(x)·v(x) − 1 of Grimshaw's equation. */
function grimshawW(ys: Float64Array, x: number): number {
  let su = 0;
  let sv = 0;
  for (let i = 0; i < ys.length; i++) {
    const xy = x * (ys[i] as number);
    su += 1 / (1 + xy);
    sv += Math.log1p(xy);
  }
  const n = ys.length;
  return (su / n) * (1 + sv / n) - 1;
}

/** γ = v(x) − 1 = mean(log(1 + x·Y)). */
function grimshawGamma(ys: Float64Array, x: number): number {
  let sv = 0;
  for (let i = 0; i < ys.length; i++) sv += Math.log1p(x * (ys[i] as number));
  return sv / ys.length;
}

/** `count` points from lo to hi (both > 0), evenly spaced in log. */
function geometricGrid(lo: number, hi: number, count: number): number[] {
  const out: number[] = [];
  const step = Math.log(hi / lo) / (count - 1);
  for (let i = 0; i < count; i++) out.push(lo * Math.exp(step * i));
  return out;
}

/**
 * Points in (0, 1), increasing: log-spaced from `nearZero` up to 0.5, then 1 − (log-spaced from
 * 0.5 down to `nearOne`), so both ends are resolved finely.
 */
function twoEndedGrid(nearZero: number, nearOne: number, perHalf: number): number[] {
  const low = nearZero < 0.5 ? geometricGrid(nearZero, 0.5, perHalf) : [0.5];
  const high = geometricGrid(nearOne, 0.5, perHalf)
    .slice(0, -1)
    .reverse()
    .map((d) => 1 - d);
  return [...low, ...high];
}

/** Calls `onRoot` with each root of f found by a sign change between neighbouring grid points. */
function forEachRoot(grid: readonly number[], f: (x: number) => number, onRoot: (x: number) => void): void {
  let a = grid[0] as number;
  let fa = f(a);
  for (let i = 1; i < grid.length; i++) {
    const b = grid[i] as number;
    const fb = f(b);
    if (Number.isFinite(fa) && Number.isFinite(fb) && (fa === 0 || fa * fb < 0)) onRoot(fa === 0 ? a : bisect(f, a, b, fa));
    a = b;
    fa = fb;
  }
}

/** Root of f in [a, b] where f(a) = fa and f(b) have opposite signs. */
function bisect(f: (x: number) => number, a: number, b: number, fa: number): number {
  let lo = a;
  let hi = b;
  let flo = fa;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    const fm = f(mid);
    if (fm === 0) return mid;
    if (flo * fm < 0) {
      hi = mid;
    } else {
      lo = mid;
      flo = fm;
    }
  }
  return 0.5 * (lo + hi);
}
