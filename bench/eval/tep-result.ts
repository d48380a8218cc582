/**
 * Shape of bench/eval/results/tep.json, written by bench/eval/tep.ts and rendered by
 * bench/eval/tep-tables.ts. Rates are shares in [0, 1]; delays are rows (3 min each).
 */

/** One detector's outcome on one fault file. */
export interface RateSet {
  /** Share of scored rows ≥ 160 flagged; null when none was scored. */
  readonly detection: number | null;
  /** Share of scored rows < 160 flagged. */
  readonly falseAlarm: number | null;
  /** Rows from 160 to the first flag at or after 160; null when never flagged. */
  readonly delayRows: number | null;
  /** Rows from 160 to the first run of consecutive flags (length in the protocol) starting at or after 160. */
  readonly persistentDelayRows: number | null;
}

/** PCA T²/Q outcome on one fault file, both limit protocols. */
export interface PcaFaultResult {
  /** Fit on all training rows, limits = quantile of the training statistics (in-sample). */
  readonly t2: RateSet;
  readonly q: RateSet;
  /** Fit on the first 80 % of the training rows, limits from the last 20 % (held out). */
  readonly t2HeldOut: RateSet;
  readonly qHeldOut: RateSet;
  /** ROC AUC of the held-out model's statistics, fault rows against test-fault00. */
  readonly aucT2: number | null;
  readonly aucQ: number | null;
}

/** convwatch on one fault file with one seed. */
export interface ConvwatchFaultResult {
  /** Flag = event state after hysteresis, primed stream. */
  readonly event: RateSet;
  /** Flag = score above threshold, primed stream. */
  readonly exceeded: RateSet;
  /** Flag = event state, cold stream (first receptive-field − 1 rows unscored). */
  readonly eventNoPrime: RateSet;
  /** ROC AUC of the scores, fault rows against test-fault00. */
  readonly auc: number | null;
}

/** One trained convwatch model (one seed) and its results. */
export interface ConvwatchRun {
  readonly seed: number;
  /** Wall time of fitDetector (training + calibration), ms. */
  readonly fitMs: number;
  /** Wall time of streaming all 22 test files (primed, cold and the AUC pass), ms. */
  readonly scoreMs: number;
  readonly receptiveField: number;
  readonly architecture: unknown;
  readonly threshold: { readonly method: string; readonly value: number; readonly params: unknown };
  readonly calibrationReadings: number;
  readonly training: { readonly epochsRun: number; readonly bestEpoch: number; readonly trainLoss: number; readonly valLoss: number | null };
  /** Share of test-fault00 rows flagged (all scored rows). */
  readonly fault00: { readonly event: number; readonly exceeded: number; readonly eventNoPrime: number };
  readonly perFault: Record<string, ConvwatchFaultResult>;
}

/** The whole TEP result file. */
export interface TepResult {
  readonly corpus: 'tep';
  readonly protocol: Record<string, string>;
  readonly config: Record<string, unknown>;
  readonly pca: {
    readonly components: number;
    readonly componentsHeldOut: number;
    readonly t2Limit: number;
    readonly qLimit: number;
    readonly t2LimitHeldOut: number;
    readonly qLimitHeldOut: number;
    /** Share of test-fault00 rows above each limit (keys t2, q, t2HeldOut, qHeldOut). */
    readonly fault00: Record<string, number>;
    readonly perFault: Record<string, PcaFaultResult>;
  };
  readonly convwatch: readonly ConvwatchRun[];
  readonly timing: { readonly readMs: number; readonly totalMs: number };
  readonly machine: { readonly node: string; readonly cpu: string; readonly cores: number };
}
