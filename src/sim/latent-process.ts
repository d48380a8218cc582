import type { Rng } from '../nn/random.js';

/** Per-row coefficient of the slow stage of the load process (time constant ≈ 100 rows). */
export const LATENT_SLOW_COEF = 0.99;
/** Per-row coefficient of the smoothing stage of the load process (time constant ≈ 10 rows). */
export const LATENT_SMOOTH_COEF = 0.9;

/**
 * A smooth, zero-mean, unit-variance Gaussian process: an AR(1) `a` with coefficient
 * `slowCoef` and unit variance, low-pass filtered once more,
 * `y(t) = smoothCoef · y(t−1) + (1 − smoothCoef) · a(t)`, and scaled to unit variance.
 * It starts in its stationary law (no warm-up transient). One normal draw per step.
 */
export class LatentProcess {
  private readonly slowCoef: number;
  private readonly smoothCoef: number;
  private readonly innovationStd: number;
  private readonly invStd: number;
  private a: number;
  private y: number;

  /**
   * @param rng consumed only by this process (two normals in the constructor, one per step).
   * @throws Error when a coefficient is outside [0, 1).
   */
  constructor(
    private readonly rng: Rng,
    slowCoef: number = LATENT_SLOW_COEF,
    smoothCoef: number = LATENT_SMOOTH_COEF,
  ) {
    for (const [name, v] of [['slowCoef', slowCoef], ['smoothCoef', smoothCoef]] as const) {
      if (!(v >= 0 && v < 1)) throw new Error(`LatentProcess ${name} must be in [0, 1), got ${v}`);
    }
    this.slowCoef = slowCoef;
    this.smoothCoef = smoothCoef;
    this.innovationStd = Math.sqrt(1 - slowCoef * slowCoef);
    const p = slowCoef * smoothCoef;
    const q = 1 - smoothCoef;
    // Stationary variance of y and its covariance with a, from y = q Σ s^k a(t−k).
    const varY = (q * q * (1 + p)) / ((1 - smoothCoef * smoothCoef) * (1 - p));
    const covYA = q / (1 - p);
    this.invStd = 1 / Math.sqrt(varY);
    this.a = rng.normal();
    this.y = covYA * this.a + Math.sqrt(Math.max(0, varY - covYA * covYA)) * rng.normal();
  }

  /** The current value (unit variance). */
  get value(): number {
    return this.y * this.invStd;
  }

  /** Advances one row and returns the new value. */
  step(): number {
    this.a = this.slowCoef * this.a + this.innovationStd * this.rng.normal();
    this.y = this.smoothCoef * this.y + (1 - this.smoothCoef) * this.a;
    return this.y * this.invStd;
  }
}
