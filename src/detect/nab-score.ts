/**
 * The Numenta Anomaly Benchmark score (Lavin & Ahmad 2015), following the scorer of NAB v1.x
 * (`nab/sweeper.py`, `nab/runner.py`): windowed, time-weighted rewards for early detections,
 * position-weighted penalties for false positives, a probationary period at the start of each
 * file, and a corpus score normalised between a null detector (0) and a perfect one (100).
 * See docs/metrics.md for the definitions in words.
 */
import { checkBinarySeries, checkSameLength } from './point-metrics.js';
import { checkNabProfile, type NabProfile } from './nab-profiles.js';

/** Default probationary fraction of each file (NAB: 15 %). */
export const NAB_PROBATIONARY_FRACTION = 0.15;

/**
 * NAB caps the probationary period at `probationaryFraction × 5000` rows (750 rows at 15 %),
 * so long files are not mostly ignored.
 */
export const NAB_PROBATION_CAP_ROWS_PER_FRACTION = 5000;

/**
 * How window limits map to rows.
 * - `'exact'` (NAB): both limits of every window must be timestamps of the file; the window is
 *   the rows from the start's row to the end's row.
 * - `'contained'`: the window is every row whose timestamp lies within [start, end]; a window
 *   that contains no row is an error.
 */
export type NabWindowBounds = 'exact' | 'contained';

/** One data file to score. */
export interface NabFileInput {
  /** Optional name, copied to the result (e.g. the file's relative path). */
  readonly name?: string;
  /** Row timestamps in milliseconds, shape `[T]`, finite and strictly increasing. */
  readonly timestamps: ArrayLike<number>;
  /** Detector alarms per row, 0 or 1, shape `[T]` (see {@link nabDetections}). */
  readonly detections: ArrayLike<number>;
  /**
   * Labelled anomaly windows as `[startMs, endMs]`, both inclusive, sorted and not
   * overlapping (the per-file list of NAB's `labels/combined_windows.json`).
   */
  readonly windows: ReadonlyArray<readonly [number, number]>;
}

/** Scoring options shared by {@link nabFileScore} and {@link nabCorpusScore}. */
export interface NabScoringOptions {
  /** Fraction of each file's first rows that is not scored, in [0, 1]. Default 0.15. */
  readonly probationaryFraction?: number;
  /** How window limits map to rows. Default `'exact'`, as NAB. */
  readonly windowBounds?: NabWindowBounds;
}

/** Arguments of {@link nabFileScore}. */
export interface NabFileScoreArgs extends NabFileInput, NabScoringOptions {
  /** Weights to score with (see `NAB_STANDARD` and the other profiles). */
  readonly profile: NabProfile;
}

/** Outcome of one labelled window. */
export interface NabWindowResult {
  /** Window limits as given, in ms. */
  readonly startMs: number;
  readonly endMs: number;
  /** First and last row of the window (inclusive). */
  readonly startRow: number;
  readonly endRow: number;
  /** Number of rows in the window. */
  readonly lengthRows: number;
  /** False when the whole window lies in the probationary period: it then counts for nothing. */
  readonly scored: boolean;
  /** First detection in the window after the probationary period; `null` when none. */
  readonly detectionRow: number | null;
  /** The window's contribution: the weighted sigmoid reward, or −A_FN if missed, 0 if unscored. */
  readonly score: number;
}

/** NAB score of one file with its parts. Row counts exclude the probationary period. */
export interface NabFileScore {
  readonly name?: string;
  /** Profile the score was computed with. */
  readonly profile: string;
  /** Raw NAB score: `tpScore + fnScore + fpScore`. */
  readonly score: number;
  /** Sum of the rewards of detected windows (≥ 0). */
  readonly tpScore: number;
  /** −A_FN times the number of missed scored windows (≤ 0). */
  readonly fnScore: number;
  /** Sum of the (negative) false-positive penalties. */
  readonly fpScore: number;
  /** Rows predicted 1 inside windows, as NAB counts them (every such row, not per window). */
  readonly tp: number;
  /** Rows predicted 1 outside windows. */
  readonly fp: number;
  /** Rows predicted 0 inside windows. */
  readonly fn: number;
  /** Rows predicted 0 outside windows. */
  readonly tn: number;
  /** Rows in the file. */
  readonly rows: number;
  /** Rows at the start of the file that were not scored. */
  readonly probationaryRows: number;
  /** Windows with at least one row after the probationary period. */
  readonly scoredWindows: number;
  /** Scored windows with a detection. */
  readonly detectedWindows: number;
  /** Score of the null detector (never alarms) on this file: −A_FN × scoredWindows. */
  readonly nullScore: number;
  /** NAB's perfect score for this file: A_TP × number of windows (all windows, see docs). */
  readonly perfectScore: number;
  /** One entry per window, in time order. */
  readonly windows: readonly NabWindowResult[];
}

/**
 * NAB's scaled sigmoid of a relative position: `2 / (1 + e^(5x)) − 1`, and −1 for x > 3.
 * x = −1 (a window's first row) gives 0.98661, x = 0 (just past its end) gives 0, x = 1 gives −0.98661.
 *
 * @param relativePosition position relative to the end of a window, in window lengths
 * @returns a value in [−1, 1), decreasing in `relativePosition`
 */
export function nabScaledSigmoid(relativePosition: number): number {
  if (relativePosition > 3) return -1;
  return 2 * (1 / (1 + Math.exp(5 * relativePosition))) - 1;
}

/**
 * Number of rows NAB ignores at the start of a file: `min(floor(f × rows), f × 5000)`, rounded
 * up to whole rows (rows with index below that bound are probationary).
 *
 * @param rows rows in the file (integer ≥ 0)
 * @param probationaryFraction f in [0, 1]
 * @throws RangeError on a negative or fractional row count or a fraction outside [0, 1]
 */
export function nabProbationaryRows(
  rows: number,
  probationaryFraction: number = NAB_PROBATIONARY_FRACTION,
): number {
  if (!Number.isInteger(rows) || rows < 0) {
    throw new RangeError(`rows must be an integer >= 0, got ${String(rows)}`);
  }
  checkFraction(probationaryFraction);
  const cap = probationaryFraction * NAB_PROBATION_CAP_ROWS_PER_FRACTION;
  return Math.min(Math.floor(probationaryFraction * rows), Math.ceil(cap));
}

/**
 * Turns anomaly scores into NAB detections: 1 where `score >= threshold`, else 0 (NaN → 0).
 *
 * @param anomalyScores scores per row, shape `[T]`
 * @param threshold finite threshold
 * @returns detections, shape `[T]`
 * @throws RangeError when `threshold` is not finite
 */
export function nabDetections(anomalyScores: ArrayLike<number>, threshold: number): Uint8Array {
  if (!Number.isFinite(threshold)) {
    throw new RangeError(`threshold must be a finite number, got ${String(threshold)}`);
  }
  const out = new Uint8Array(anomalyScores.length);
  for (let i = 0; i < anomalyScores.length; i++) out[i] = anomalyScores[i] >= threshold ? 1 : 0;
  return out;
}

/**
 * NAB score of one file.
 *
 * Inside a window only the first detection after the probationary period counts, rewarded
 * `A_TP × σ(−(end − r + 1)/len) / σ(−1)` (σ = {@link nabScaledSigmoid}, r its row, len the
 * window's rows); a scored window with no detection costs A_FN. Every detection outside windows
 * costs `A_FP × σ((r − prevEnd)/(prevLen − 1))` relative to the closest preceding window
 * (−A_FP with no preceding window or a one-row one). Rows in the probationary period are ignored.
 *
 * @returns the raw score, its parts, NAB's row counts and per-window outcomes
 * @throws RangeError on mismatched lengths, non-binary detections, timestamps that are not
 *   finite and strictly increasing, malformed, unsorted or overlapping windows, a window limit
 *   that is not a timestamp (`'exact'`) or a window without rows (`'contained'`), bad profile
 *   weights or a probationary fraction outside [0, 1]
 */
export function nabFileScore(args: NabFileScoreArgs): NabFileScore {
  const { timestamps, detections, windows, profile } = args;
  checkNabProfile(profile);
  const fraction = args.probationaryFraction ?? NAB_PROBATIONARY_FRACTION;
  checkFraction(fraction);
  const bounds = args.windowBounds ?? 'exact';
  if (bounds !== 'exact' && bounds !== 'contained') {
    throw new RangeError(`windowBounds must be 'exact' or 'contained', got ${String(bounds)}`);
  }
  checkSameLength('timestamps', timestamps, 'detections', detections);
  checkBinarySeries('detections', detections);
  checkTimestamps(timestamps);
  const spans = windowRows(timestamps, windows, bounds);

  const rows = timestamps.length;
  const probationaryRows = nabProbationaryRows(rows, fraction);
  const maxTp = nabScaledSigmoid(-1);
  const firstDetection: Array<number | null> = spans.map(() => null);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  let fpScore = 0;
  let next = 0; // index of the first window that does not end before row i
  let prev = -1; // index of the closest window ending before row i
  for (let i = probationaryRows; i < rows; i++) {
    while (next < spans.length && spans[next].end < i) prev = next++;
    const inWindow = next < spans.length && spans[next].start <= i;
    const detected = detections[i] === 1;
    if (inWindow) {
      if (!detected) fn++;
      else {
        tp++;
        if (firstDetection[next] === null) firstDetection[next] = i;
      }
    } else if (!detected) tn++;
    else {
      fp++;
      fpScore += profile.fpWeight * falsePositiveWeight(i, prev < 0 ? null : spans[prev]);
    }
  }

  let tpScore = 0;
  let fnScore = 0;
  let scoredWindows = 0;
  let detectedWindows = 0;
  const windowResults: NabWindowResult[] = spans.map((span, k) => {
    const lengthRows = span.end - span.start + 1;
    const scored = span.end >= probationaryRows;
    const row = firstDetection[k];
    let score = 0;
    if (scored) {
      scoredWindows++;
      if (row === null) {
        score = 0 - profile.fnWeight;
        fnScore += score;
      } else {
        detectedWindows++;
        // Position −1 at the window's first row, −1/len at its last: the reward is A_TP at the start.
        const position = -(span.end - row + 1) / lengthRows;
        score = (nabScaledSigmoid(position) * profile.tpWeight) / maxTp;
        tpScore += score;
      }
    }
    return {
      startMs: windows[k][0],
      endMs: windows[k][1],
      startRow: span.start,
      endRow: span.end,
      lengthRows,
      scored,
      detectionRow: row,
      score,
    };
  });

  return {
    ...(args.name === undefined ? {} : { name: args.name }),
    profile: profile.name,
    score: tpScore + fnScore + fpScore,
    tpScore,
    fnScore,
    fpScore,
    tp,
    fp,
    fn,
    tn,
    rows,
    probationaryRows,
    scoredWindows,
    detectedWindows,
    nullScore: 0 - profile.fnWeight * scoredWindows, // 0 − …: never −0
    perfectScore: profile.tpWeight * spans.length,
    windows: windowResults,
  };
}

interface RowSpan {
  readonly start: number;
  readonly end: number;
}

/** Unweighted penalty of a false positive at row `i` given the closest preceding window. */
function falsePositiveWeight(i: number, prev: RowSpan | null): number {
  if (prev === null) return -1;
  const prevLength = prev.end - prev.start + 1;
  // NAB divides by (length − 1); a one-row window gives +∞, i.e. the full penalty −1.
  return nabScaledSigmoid((i - prev.end) / (prevLength - 1));
}

function checkFraction(fraction: number): void {
  if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new RangeError(`probationaryFraction must be a number in [0, 1], got ${String(fraction)}`);
  }
}

function checkTimestamps(timestamps: ArrayLike<number>): void {
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i];
    if (!Number.isFinite(t)) {
      throw new RangeError(`timestamps[${i}] must be a finite number (ms), got ${String(t)}`);
    }
    if (i > 0 && t <= timestamps[i - 1]) {
      throw new RangeError(
        `timestamps must be strictly increasing, but timestamps[${i}] = ${t} <= timestamps[${i - 1}] = ${timestamps[i - 1]}`,
      );
    }
  }
}

/** Maps window limits to inclusive row spans, checking order and overlap. */
function windowRows(
  timestamps: ArrayLike<number>,
  windows: ReadonlyArray<readonly [number, number]>,
  bounds: NabWindowBounds,
): RowSpan[] {
  const spans: RowSpan[] = [];
  for (let k = 0; k < windows.length; k++) {
    const w = windows[k];
    if (w.length !== 2 || !Number.isFinite(w[0]) || !Number.isFinite(w[1]) || w[0] > w[1]) {
      throw new RangeError(
        `windows[${k}] must be [startMs, endMs] with finite start <= end, got [${w.join(', ')}]`,
      );
    }
    if (k > 0 && w[0] <= windows[k - 1][1]) {
      throw new RangeError(
        `windows must be sorted and not overlap, but windows[${k}] starts at ${w[0]} <= end of windows[${k - 1}] (${windows[k - 1][1]})`,
      );
    }
    const start = firstIndexAbove(timestamps, w[0], false); // first row with t >= startMs
    const end = firstIndexAbove(timestamps, w[1], true) - 1; // last row with t <= endMs
    if (bounds === 'exact') {
      if (timestamps[start] !== w[0]) {
        throw new RangeError(`windows[${k}] start ${w[0]} is not a timestamp of the file (windowBounds 'exact')`);
      }
      if (timestamps[end] !== w[1]) {
        throw new RangeError(`windows[${k}] end ${w[1]} is not a timestamp of the file (windowBounds 'exact')`);
      }
    } else if (end < start) {
      throw new RangeError(`windows[${k}] [${w[0]}, ${w[1]}] contains no row (windowBounds 'contained')`);
    }
    spans.push({ start, end });
  }
  return spans;
}

/**
 * First index whose value is > `value` (`strict`) or >= `value` (not `strict`), or
 * `values.length` when there is none; `values` sorted ascending.
 */
function firstIndexAbove(values: ArrayLike<number>, value: number, strict: boolean): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < value || (strict && values[mid] === value)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
