import type { ForecastKind } from '../../src/model/forecaster.js';
/**
 * Shape of bench/eval/results/nab*.json, written by bench/eval/nab.ts and rendered by
 * bench/eval/nab-tables.ts.
 */

/** How many rows of each file train the model. */
export type NabTrainProtocol =
  /** NAB's probationary period: min(floor(0.15·T), 750) rows; NAB scores every row after it. */
  | 'probation'
  /** The first round(0.15·T) rows (the CLI's `--train-fraction 0.15`); above 5000 rows this overlaps rows NAB scores. */
  | 'fraction';

/** The one detector configuration used for every file. */
export interface NabDetectorConfig {
  readonly hiddenChannels: number;
  readonly kernelSize: number;
  /** null: fitDetector's default, shortened for the training rows. */
  readonly dilations: readonly number[] | null;
  readonly epochs: number;
  readonly openAfter: number;
  readonly closeAfter: number;
  readonly seed: number;
  /** fitDetector's `forecast`; absent in results recorded before the option (they were `'level'`). */
  readonly forecast?: ForecastKind;
}

/** A detector's NAB outcome on one file under one profile. */
export interface NabFileProfileScore {
  /** Raw NAB score of the file. */
  readonly score: number;
  readonly detectedWindows: number;
  readonly scoredWindows: number;
}

/** One detector on one file. */
export interface NabFileOutcome {
  /** Alarms (event starts) after the probationary period. */
  readonly alarms: number;
  /** Alarms after the probationary period outside every window. */
  readonly falseAlarms: number;
  /** Share of the rows after the probationary period spent in an open anomaly event. */
  readonly alarmRowShare: number;
  readonly profiles: Record<string, NabFileProfileScore>;
}

/** One file of the corpus. */
export interface NabFileResult {
  readonly name: string;
  readonly rows: number;
  readonly trainRows: number;
  readonly probationaryRows: number;
  readonly windows: number;
  /** Set when fitting failed; the file then counts as the null detector for convwatch. */
  readonly error: string | null;
  readonly receptiveField: number | null;
  readonly threshold: number | null;
  readonly epochsRun: number | null;
  readonly fitMs: number;
  readonly scoreMs: number;
  /** Keyed by detector: convwatch, zscore3, zscore4, null. */
  readonly detectors: Record<string, NabFileOutcome>;
}

/** Corpus totals of one detector under one profile. */
export interface NabCorpusEntry {
  readonly normalizedScore: number | null;
  readonly rawScore: number;
  readonly nullScore: number;
  readonly perfectScore: number;
}

/** Corpus outcome of one detector under one event policy (alarms = event starts). */
export interface NabPolicyOutcome {
  /** Normalised corpus score per profile. */
  readonly scores: Record<string, number | null>;
  readonly alarms: number;
  readonly falseAlarms: number;
  readonly detectedWindows: number;
  readonly scoredWindows: number;
  /** Mean over files of the share of scored rows with an event open. */
  readonly timeInAlarm: number;
}

/** One closeAfter value of the event-policy sweep. */
export interface NabPolicySweepEntry {
  readonly closeAfter: number;
  /** Keyed by detector: convwatch, zscore3, zscore4. */
  readonly detectors: Record<string, NabPolicyOutcome>;
}

/**
 * NAB's own threshold optimisation (its `optimize` step), reproduced for reference: one global
 * threshold per profile chosen on all labels, every row above it a detection. Not our protocol.
 */
export interface NabOracleEntry {
  /** convwatch: multiplier of each file's calibrated threshold; z-score: k. */
  readonly bestThreshold: number;
  readonly normalizedScore: number | null;
  /** Thresholds tried (a geometric grid). */
  readonly grid: readonly number[];
}

/** The whole NAB result file. */
export interface NabResult {
  readonly corpus: 'nab';
  readonly protocol: NabTrainProtocol;
  readonly config: NabDetectorConfig;
  readonly files: readonly NabFileResult[];
  /** detector → profile → corpus score, for the configured event policy. */
  readonly corpusScores: Record<string, Record<string, NabCorpusEntry>>;
  /** The same models under other closeAfter values (alarms = event starts). */
  readonly policySweep: readonly NabPolicySweepEntry[];
  /** detector (convwatch, zscore) → profile → label-optimised global threshold (rows convention). */
  readonly oracle: Record<string, Record<string, NabOracleEntry>>;
  readonly timing: { readonly totalMs: number; readonly fitMs: number; readonly scoreMs: number };
  readonly machine: { readonly node: string; readonly cpu: string; readonly cores: number };
}
