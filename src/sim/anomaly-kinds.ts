import type { ChannelSpec } from './channel-spec.js';

/**
 * The labelled anomaly kinds the simulator can inject. What each one does to the affected
 * channels during its segment (rows `startRow … startRow + lengthRows − 1`):
 * - `spike`: adds `magnitude · scale` (signed) to every row of the segment (usually 1–3 rows).
 * - `level-shift`: adds `magnitude · scale` (signed) for the whole segment.
 * - `stuck`: the sensor repeats the last value it reported before the segment (`magnitude` unused).
 * - `variance`: the measurement noise is multiplied by `magnitude` (> 0, ≠ 1).
 * - `frequency`: the process cycle runs `magnitude` times faster (> 0, ≠ 1).
 * - `correlation`: the channel decouples from the shared load: its load term becomes
 *   `√(1 − m²) · z + m · u` with `u` an independent process of the same law, `m = magnitude` in (0, 1].
 * Outside its segments a channel's values equal the anomaly-free recording, bit for bit.
 */
export type AnomalyKind = 'spike' | 'level-shift' | 'stuck' | 'variance' | 'frequency' | 'correlation';

/** Every anomaly kind, in the order the random planner cycles through them. */
export const ANOMALY_KINDS: readonly AnomalyKind[] = Object.freeze([
  'spike',
  'level-shift',
  'stuck',
  'variance',
  'frequency',
  'correlation',
]);

/** One injected anomaly, as a recording reports it (every field resolved). */
export interface AnomalySpec {
  readonly kind: AnomalyKind;
  /** Id of the device it affects. */
  readonly device: string;
  /** Names of the affected channels (non-empty, no repeats). */
  readonly channels: readonly string[];
  /** First anomalous row (0-based). */
  readonly startRow: number;
  /** Number of anomalous rows (≥ 1). */
  readonly lengthRows: number;
  /** Strength; its meaning depends on the kind (see {@link AnomalyKind}). */
  readonly magnitude: number;
}

/** An anomaly as a config asks for it: like {@link AnomalySpec}, `magnitude` defaulting per kind. */
export interface AnomalySpecInput {
  readonly kind: AnomalyKind;
  readonly device: string;
  readonly channels: readonly string[];
  readonly startRow: number;
  readonly lengthRows: number;
  /** Default: {@link ANOMALY_KIND_DEFAULTS}[kind].magnitude. */
  readonly magnitude?: number;
}

/** Per-kind defaults: the magnitude of a spec that gives none, and the random planner's ranges. */
export interface AnomalyKindDefaults {
  /** Magnitude used when an explicit spec omits it. */
  readonly magnitude: number;
  /** Random planner: segment length range in rows, inclusive. */
  readonly lengthRows: readonly [number, number];
  /** Random planner: magnitude range, drawn uniformly (sign/inverse handled per kind). */
  readonly magnitudeRange: readonly [number, number];
  /** Random planner: most channels one anomaly of this kind affects. */
  readonly maxChannels: number;
}

/** Defaults per kind; see {@link AnomalyKindDefaults}. */
export const ANOMALY_KIND_DEFAULTS: Readonly<Record<AnomalyKind, AnomalyKindDefaults>> = Object.freeze({
  spike: { magnitude: 8, lengthRows: [1, 3], magnitudeRange: [6, 10], maxChannels: 2 },
  'level-shift': { magnitude: 3, lengthRows: [40, 160], magnitudeRange: [2.5, 4], maxChannels: 2 },
  stuck: { magnitude: 0, lengthRows: [40, 160], magnitudeRange: [0, 0], maxChannels: 2 },
  variance: { magnitude: 4, lengthRows: [60, 200], magnitudeRange: [3, 5], maxChannels: 2 },
  frequency: { magnitude: 2, lengthRows: [120, 300], magnitudeRange: [1.8, 2.5], maxChannels: 2 },
  correlation: { magnitude: 1, lengthRows: [120, 300], magnitudeRange: [1, 1], maxChannels: 1 },
});

/** Whether `kind` type-checks as an anomaly kind. */
export function isAnomalyKind(kind: unknown): kind is AnomalyKind {
  return typeof kind === 'string' && (ANOMALY_KINDS as readonly string[]).includes(kind);
}

/**
 * Why a kind cannot act on a channel, or `null` when it can: `frequency` needs a process cycle,
 * `correlation` a load coupling, `variance` some noise.
 */
export function incompatibility(kind: AnomalyKind, channel: ChannelSpec): string | null {
  if (kind === 'frequency' && channel.processAmplitude === 0) return 'it has no process cycle (processAmplitude is 0)';
  if (kind === 'correlation' && channel.latentGain === 0) return 'it is not coupled to the load (latentGain is 0)';
  if (kind === 'variance' && channel.noiseStd === 0) return 'it has no noise (noiseStd is 0)';
  return null;
}

/** Why `magnitude` is invalid for `kind`, or `null` when it is valid. */
export function magnitudeProblem(kind: AnomalyKind, magnitude: number): string | null {
  if (!Number.isFinite(magnitude)) return 'must be a finite number';
  switch (kind) {
    case 'spike':
    case 'level-shift':
      return magnitude === 0 ? 'must be non-zero (a signed multiple of the channel scale)' : null;
    case 'stuck':
      return null;
    case 'variance':
    case 'frequency':
      return magnitude > 0 && magnitude !== 1 ? null : 'must be a positive factor other than 1';
    case 'correlation':
      return magnitude > 0 && magnitude <= 1 ? null : 'must be in (0, 1]';
  }
}
