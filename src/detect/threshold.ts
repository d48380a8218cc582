/**
 * Calibrates the anomaly threshold on scores of held-out normal data (never on anomalies).
 *
 * Two methods, chosen by a discriminated union:
 *
 * - `quantile`: value = margin · (q-quantile of the scores), numpy 'linear' interpolation.
 *   Defaults q = 0.999, margin = 1.
 * - `pot` (Peaks-Over-Threshold, Siffer et al., "Anomaly Detection in Streams with Extreme Value
 *   Theory", KDD 2017): take the initial threshold t = initialQuantile-quantile of the n scores,
 *   fit a Generalized Pareto Distribution to the N_t excesses s − t of the scores s > t
 *   ({@link fitGpd}), and extrapolate to the score exceeded with probability riskLevel:
 *   value = t + σ/γ · ((riskLevel · n / N_t)^(−γ) − 1)   (t − σ·log(riskLevel · n / N_t) when γ = 0).
 *   Defaults riskLevel = 1e-4, initialQuantile = 0.98.
 *
 * The result is plain JSON (for model.json) and records every fitted parameter.
 */
import { fitGpd, gpdTailQuantile, type GpdFitMethod } from './gpd-fit.js';
import { quantileSorted, sortedCopy } from './robust-stats.js';

/** Default quantile of the `quantile` method. */
export const DEFAULT_THRESHOLD_Q = 0.999;
/** Default multiplier of the `quantile` method. */
export const DEFAULT_THRESHOLD_MARGIN = 1;
/** Default probability that a normal score exceeds the `pot` threshold. */
export const DEFAULT_POT_RISK_LEVEL = 1e-4;
/** Default quantile of the scores used as the `pot` initial threshold t. */
export const DEFAULT_POT_INITIAL_QUANTILE = 0.98;
/** Fewest scores above the initial threshold the `pot` method accepts. */
export const MIN_POT_PEAKS = 10;

/** Options of the `quantile` method. */
export interface QuantileThresholdOptions {
  readonly method: 'quantile';
  /** Probability in (0, 1); default {@link DEFAULT_THRESHOLD_Q} (0.999). */
  readonly q?: number;
  /** Multiplier (finite, > 0) applied to the quantile; default 1. */
  readonly margin?: number;
}

/** Options of the `pot` method. */
export interface PotThresholdOptions {
  readonly method: 'pot';
  /**
   * Target probability in (0, 1) that a normal score exceeds the threshold; default 1e-4. Must be
   * below the fraction of scores above the initial threshold (POT extrapolates, it does not
   * interpolate).
   */
  readonly riskLevel?: number;
  /** Probability in (0, 1) of the quantile used as the initial threshold t; default 0.98. */
  readonly initialQuantile?: number;
}

/** How to calibrate: `{ method: 'quantile', … }` or `{ method: 'pot', … }`. */
export type ThresholdOptions = QuantileThresholdOptions | PotThresholdOptions;

/** Parameters recorded by the `quantile` method. */
export interface QuantileThresholdParams {
  readonly q: number;
  readonly margin: number;
  /** The q-quantile of the scores before the margin. */
  readonly quantile: number;
  /** Number of scores calibrated on. */
  readonly n: number;
}

/** Parameters recorded by the `pot` method. */
export interface PotThresholdParams {
  readonly riskLevel: number;
  readonly initialQuantile: number;
  /** Initial threshold: the initialQuantile-quantile of the scores. */
  readonly t: number;
  /** Fitted GPD scale σ of the excesses over t (score units). */
  readonly sigma: number;
  /** Fitted GPD shape γ (0: exponential tail). */
  readonly gamma: number;
  /** Which candidate won the GPD fit. */
  readonly fit: GpdFitMethod;
  /** Number of scores calibrated on. */
  readonly n: number;
  /** Number of scores strictly above t (the peaks). */
  readonly Nt: number;
}

/** A calibrated threshold: `value` in score units plus how it was obtained. */
export type ThresholdCalibration =
  | { readonly method: 'quantile'; readonly value: number; readonly params: QuantileThresholdParams }
  | { readonly method: 'pot'; readonly value: number; readonly params: PotThresholdParams };

/**
 * Calibrates a threshold on held-out normal scores.
 * @param scores scores of normal readings (any order; not modified).
 * @param options method and its parameters; default `{ method: 'quantile' }`.
 * @throws Error on a non-finite score, an option out of range (named with its value), too few
 *   scores (quantile: fewer than max(2, 1/(1 − q)), since a smaller sample has no data at the
 *   q-quantile; pot: fewer than {@link MIN_POT_PEAKS} scores above t), a riskLevel not below
 *   N_t/n, or tied peaks that leave nothing to fit.
 */
export function calibrateThreshold(scores: ArrayLike<number>, options: ThresholdOptions = { method: 'quantile' }): ThresholdCalibration {
  const method: unknown = options.method;
  if (method === 'quantile') return calibrateQuantile(scores, options as QuantileThresholdOptions);
  if (method === 'pot') return calibratePot(scores, options as PotThresholdOptions);
  throw new Error(`calibrateThreshold: method must be 'quantile' or 'pot', got '${String(method)}'`);
}

function checkOpenUnit(value: number, name: string): void {
  if (!(value > 0 && value < 1)) throw new Error(`calibrateThreshold: ${name} must be in (0, 1), got ${value}`);
}

function sortedScores(scores: ArrayLike<number>): Float64Array {
  if (scores.length === 0) throw new Error('calibrateThreshold: no scores; calibration needs scores of held-out normal data');
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i] as number;
    if (!Number.isFinite(v)) throw new Error(`calibrateThreshold: score at index ${i} is ${v}; scores must be finite`);
  }
  return sortedCopy(scores);
}

function calibrateQuantile(scores: ArrayLike<number>, options: QuantileThresholdOptions): ThresholdCalibration {
  const q = options.q ?? DEFAULT_THRESHOLD_Q;
  const margin = options.margin ?? DEFAULT_THRESHOLD_MARGIN;
  checkOpenUnit(q, 'q');
  if (!(Number.isFinite(margin) && margin > 0)) throw new Error(`calibrateThreshold: margin must be finite and > 0, got ${margin}`);
  const sorted = sortedScores(scores);
  const n = sorted.length;
  // The small tolerance keeps 1/(1 − 0.9) = 10.000000000000002 from demanding 11 scores.
  const needed = Math.max(2, Math.ceil(1 / (1 - q) - 1e-9));
  if (n < needed) {
    throw new Error(`calibrateThreshold: quantile q = ${q} needs at least ${needed} scores, got ${n}; give more held-out data or lower q`);
  }
  const qv = quantileSorted(sorted, q);
  return { method: 'quantile', value: margin * qv, params: { q, margin, quantile: qv, n } };
}

function calibratePot(scores: ArrayLike<number>, options: PotThresholdOptions): ThresholdCalibration {
  const riskLevel = options.riskLevel ?? DEFAULT_POT_RISK_LEVEL;
  const initialQuantile = options.initialQuantile ?? DEFAULT_POT_INITIAL_QUANTILE;
  checkOpenUnit(riskLevel, 'riskLevel');
  checkOpenUnit(initialQuantile, 'initialQuantile');
  const sorted = sortedScores(scores);
  const n = sorted.length;
  const t = quantileSorted(sorted, initialQuantile);
  // Sorted ascending: the peaks are the tail after the last value ≤ t.
  let first = n;
  while (first > 0 && (sorted[first - 1] as number) > t) first--;
  const nt = n - first;
  if (nt < MIN_POT_PEAKS) {
    throw new Error(
      `calibrateThreshold: pot needs at least ${MIN_POT_PEAKS} scores above the initial threshold, got ${nt} (n = ${n}, initialQuantile = ${initialQuantile}); give more held-out data or lower initialQuantile`,
    );
  }
  const ratio = (riskLevel * n) / nt;
  if (!(ratio < 1)) {
    throw new Error(
      `calibrateThreshold: riskLevel ${riskLevel} must be below the fraction of scores above the initial threshold (${nt}/${n} = ${nt / n}); lower riskLevel or initialQuantile`,
    );
  }
  const excesses = new Float64Array(nt);
  for (let i = 0; i < nt; i++) excesses[i] = (sorted[first + i] as number) - t;
  const fit = fitGpd(excesses);
  const value = t + gpdTailQuantile(ratio, fit.gamma, fit.sigma);
  if (!Number.isFinite(value)) {
    throw new Error(`calibrateThreshold: pot produced a non-finite threshold (t = ${t}, sigma = ${fit.sigma}, gamma = ${fit.gamma})`);
  }
  return {
    method: 'pot',
    value,
    params: { riskLevel, initialQuantile, t, sigma: fit.sigma, gamma: fit.gamma, fit: fit.method, n, Nt: nt },
  };
}

/**
 * Reads a {@link ThresholdCalibration} from parsed JSON (e.g. a model file), checking the method,
 * the value and every parameter's type.
 * @throws Error naming the bad field and its value.
 */
export function parseThresholdCalibration(json: unknown): ThresholdCalibration {
  const obj = record(json, 'threshold');
  const params = record(obj.params, 'threshold.params');
  const value = finite(obj.value, 'threshold.value');
  if (obj.method === 'quantile') {
    return {
      method: 'quantile',
      value,
      params: {
        q: finite(params.q, 'threshold.params.q'),
        margin: finite(params.margin, 'threshold.params.margin'),
        quantile: finite(params.quantile, 'threshold.params.quantile'),
        n: finite(params.n, 'threshold.params.n'),
      },
    };
  }
  if (obj.method === 'pot') {
    const fit = params.fit;
    if (fit !== 'grimshaw' && fit !== 'exponential') {
      throw new Error(`threshold.params.fit must be 'grimshaw' or 'exponential', got ${JSON.stringify(fit)}`);
    }
    return {
      method: 'pot',
      value,
      params: {
        riskLevel: finite(params.riskLevel, 'threshold.params.riskLevel'),
        initialQuantile: finite(params.initialQuantile, 'threshold.params.initialQuantile'),
        t: finite(params.t, 'threshold.params.t'),
        sigma: finite(params.sigma, 'threshold.params.sigma'),
        gamma: finite(params.gamma, 'threshold.params.gamma'),
        fit,
        n: finite(params.n, 'threshold.params.n'),
        Nt: finite(params.Nt, 'threshold.params.Nt'),
      },
    };
  }
  throw new Error(`threshold.method must be 'quantile' or 'pot', got ${JSON.stringify(obj.method)}`);
}

function record(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${field} must be an object, got ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${field} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}
