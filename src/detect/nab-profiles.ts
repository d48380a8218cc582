/**
 * The application profiles of the Numenta Anomaly Benchmark (NAB v1.x, `config/profiles.json`):
 * weights of a detected window (A_TP), a false positive (A_FP) and a missed window (A_FN).
 */

/** Weights of one NAB application profile. */
export interface NabProfile {
  /** Profile name as NAB spells it (e.g. `'reward_low_FP_rate'`). */
  readonly name: string;
  /** A_TP: reward for a detection at the very start of a window. Must be > 0. */
  readonly tpWeight: number;
  /** A_FP: cost of a false positive far from any window. Must be ≥ 0. */
  readonly fpWeight: number;
  /** A_FN: cost of a window with no detection. Must be ≥ 0. */
  readonly fnWeight: number;
}

/** NAB "standard" profile: A_TP = 1, A_FP = 0.11, A_FN = 1. */
export const NAB_STANDARD: NabProfile = Object.freeze({
  name: 'standard',
  tpWeight: 1.0,
  fpWeight: 0.11,
  fnWeight: 1.0,
});

/** NAB "reward_low_FP_rate" profile: A_TP = 1, A_FP = 0.22, A_FN = 1. */
export const NAB_REWARD_LOW_FP_RATE: NabProfile = Object.freeze({
  name: 'reward_low_FP_rate',
  tpWeight: 1.0,
  fpWeight: 0.22,
  fnWeight: 1.0,
});

/** NAB "reward_low_FN_rate" profile: A_TP = 1, A_FP = 0.11, A_FN = 2. */
export const NAB_REWARD_LOW_FN_RATE: NabProfile = Object.freeze({
  name: 'reward_low_FN_rate',
  tpWeight: 1.0,
  fpWeight: 0.11,
  fnWeight: 2.0,
});

/** The three NAB profiles, in NAB's order. Frozen. */
export const NAB_PROFILES: readonly NabProfile[] = Object.freeze([
  NAB_STANDARD,
  NAB_REWARD_LOW_FP_RATE,
  NAB_REWARD_LOW_FN_RATE,
]);

/**
 * Checks a profile's weights.
 *
 * @throws RangeError naming the bad weight and its value: `tpWeight` must be finite and > 0,
 *   `fpWeight` and `fnWeight` finite and ≥ 0
 */
export function checkNabProfile(profile: NabProfile): void {
  const { tpWeight, fpWeight, fnWeight } = profile;
  if (!Number.isFinite(tpWeight) || tpWeight <= 0) {
    throw new RangeError(`profile.tpWeight must be a finite number > 0, got ${String(tpWeight)}`);
  }
  if (!Number.isFinite(fpWeight) || fpWeight < 0) {
    throw new RangeError(`profile.fpWeight must be a finite number >= 0, got ${String(fpWeight)}`);
  }
  if (!Number.isFinite(fnWeight) || fnWeight < 0) {
    throw new RangeError(`profile.fnWeight must be a finite number >= 0, got ${String(fnWeight)}`);
  }
}
