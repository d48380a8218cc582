/**
 * Retry delays: exponential backoff with jitter, and the server's `Retry-After`. Pure: the random
 * source and the current time are arguments.
 */

/** Backoff settings; all times in ms. */
export interface BackoffOptions {
  /** Upper bound of the first retry's delay. Default 500. */
  readonly initialDelayMs: number;
  /** Cap of the delay's upper bound. Default 30,000. */
  readonly maxDelayMs: number;
  /** Growth of the upper bound per attempt (≥ 1). Default 2. */
  readonly multiplier: number;
  /**
   * Share of the upper bound that is random, in [0, 1]: the delay is uniform in
   * `[bound·(1 − jitter), bound]`. 0 = no jitter, 1 = "full jitter". Default 0.5.
   */
  readonly jitter: number;
  /** Cap on a server's `Retry-After`. Default 300,000 (5 min). */
  readonly maxRetryAfterMs: number;
}

/** Defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: BackoffOptions = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 0.5,
  maxRetryAfterMs: 300_000,
};

/**
 * Fills in defaults and range-checks.
 * @param where prefix of error messages, e.g. `influx.backoff`.
 * @throws RangeError naming the option and the bad value.
 */
export function resolveBackoffOptions(options: Partial<BackoffOptions> = {}, where = 'backoff'): BackoffOptions {
  const resolved = { ...DEFAULT_BACKOFF, ...options };
  const check = (name: keyof BackoffOptions, ok: boolean, expected: string): void => {
    if (!ok) throw new RangeError(`${where}.${name} must be ${expected}, got ${resolved[name]}`);
  };
  check('initialDelayMs', Number.isFinite(resolved.initialDelayMs) && resolved.initialDelayMs >= 0, 'a finite number ≥ 0');
  check('maxDelayMs', Number.isFinite(resolved.maxDelayMs) && resolved.maxDelayMs >= resolved.initialDelayMs, `a finite number ≥ initialDelayMs (${resolved.initialDelayMs})`);
  check('multiplier', Number.isFinite(resolved.multiplier) && resolved.multiplier >= 1, 'a finite number ≥ 1');
  check('jitter', resolved.jitter >= 0 && resolved.jitter <= 1, 'in [0, 1]');
  check('maxRetryAfterMs', Number.isFinite(resolved.maxRetryAfterMs) && resolved.maxRetryAfterMs >= 0, 'a finite number ≥ 0');
  return resolved;
}

/**
 * Upper bound of the delay before retry number `attempt` (1 = first retry):
 * `min(maxDelayMs, initialDelayMs · multiplier^(attempt − 1))`.
 * @throws RangeError when `attempt` is not an integer ≥ 1.
 */
export function backoffBoundMs(attempt: number, options: BackoffOptions): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`backoff attempt must be an integer ≥ 1, got ${attempt}`);
  // Stop multiplying once past the cap, so huge attempts never overflow to Infinity·0 = NaN.
  let bound = options.initialDelayMs;
  for (let i = 1; i < attempt && bound < options.maxDelayMs; i++) bound *= options.multiplier;
  return Math.min(options.maxDelayMs, bound);
}

/**
 * The delay before retry number `attempt`: uniform in `[bound·(1 − jitter), bound]` with
 * `bound = backoffBoundMs(attempt)`.
 * @param random a value in [0, 1) per call (e.g. `Math.random` in production, a seeded
 *   generator in tests).
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number): number {
  const bound = backoffBoundMs(attempt, options);
  return bound * (1 - options.jitter * random());
}

/**
 * The delay a `Retry-After` header asks for: whole seconds (`"120"`) or an HTTP date
 * (`"Wed, 21 Oct 2015 07:28:00 GMT"`, relative to `nowMs`). Returns null when the header is
 * absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | null {
  if (header === null || header === undefined) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return null;
  const atMs = Date.parse(text);
  return Number.isNaN(atMs) ? null : Math.max(0, atMs - nowMs);
}

/**
 * The delay before retry number `attempt`: the server's `Retry-After` when it gave one (capped
 * at `maxRetryAfterMs`; the server knows when it will take load again, even when that is sooner
 * than our backoff), otherwise {@link backoffDelayMs}.
 */
export function retryDelayMs(attempt: number, retryAfterMs: number | null, options: BackoffOptions, random: () => number): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, options.maxRetryAfterMs);
  return backoffDelayMs(attempt, options, random);
}
