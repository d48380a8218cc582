/**
 * Event-wise evaluation: a maximal run of consecutive 1s is one event. A labelled event counts
 * as detected when at least one predicted-1 row falls inside it; a predicted event counts as
 * correct when it overlaps some labelled event. Detection delay is measured from the start of
 * each labelled event to its first predicted-1 row.
 */
import { checkBinarySeries, checkSameLength, ratioOrNull } from './point-metrics.js';

/** A maximal run of 1s in a binary series, as inclusive row indices. */
export interface BinaryRun {
  /** First row of the run (0-based). */
  readonly start: number;
  /** Last row of the run, inclusive. */
  readonly end: number;
}

/** What happened to one labelled event. */
export interface LabelledEventResult extends BinaryRun {
  /** Number of rows in the event: `end − start + 1`. */
  readonly lengthRows: number;
  /** Whether at least one row of the event was predicted 1. */
  readonly detected: boolean;
  /** Row index of the first predicted-1 row inside the event; `null` when missed. */
  readonly firstDetection: number | null;
  /** `firstDetection − start` in rows; `null` when missed. */
  readonly delayRows: number | null;
  /**
   * `timesMs[firstDetection] − timesMs[start]` in milliseconds; `null` when missed or when no
   * `timesMs` was given.
   */
  readonly delayMs: number | null;
}

/** What happened to one predicted event. */
export interface PredictedEventResult extends BinaryRun {
  /** Number of rows in the event: `end − start + 1`. */
  readonly lengthRows: number;
  /** Whether the event shares at least one row with a labelled event. */
  readonly overlapsLabel: boolean;
}

/** Event-wise counts, ratios, delays and per-event details. Ratios with an empty denominator are `null`. */
export interface EventMetrics {
  /** Number of labelled events (maximal runs of label 1). */
  readonly labelledEvents: number;
  /** Number of predicted events (maximal runs of prediction 1). */
  readonly predictedEvents: number;
  /** Labelled events with at least one predicted-1 row inside. */
  readonly detectedEvents: number;
  /** Predicted events overlapping at least one labelled event. */
  readonly matchedPredictedEvents: number;
  /** matchedPredictedEvents / predictedEvents; `null` when nothing was predicted. */
  readonly precision: number | null;
  /** detectedEvents / labelledEvents; `null` when there is no labelled event. */
  readonly recall: number | null;
  /**
   * Harmonic mean 2·P·R / (P + R) of event precision and recall; 0 when both are 0; `null`
   * when either is `null`.
   */
  readonly f1: number | null;
  /** Mean delay over detected events, in rows; `null` when no event was detected. */
  readonly meanDelayRows: number | null;
  /** Median delay over detected events, in rows (mean of the two middle ones for an even count). */
  readonly medianDelayRows: number | null;
  /** Mean delay over detected events, in ms; `null` without `timesMs` or without detections. */
  readonly meanDelayMs: number | null;
  /** Median delay over detected events, in ms; `null` without `timesMs` or without detections. */
  readonly medianDelayMs: number | null;
  /** One entry per labelled event, in row order. */
  readonly labelled: readonly LabelledEventResult[];
  /** One entry per predicted event, in row order. */
  readonly predicted: readonly PredictedEventResult[];
}

/** Options of {@link eventMetrics}. */
export interface EventMetricsOptions {
  /**
   * Time of each row in milliseconds (any epoch), shape `[T]`, finite and non-decreasing.
   * When given, delays are also reported in milliseconds.
   */
  readonly timesMs?: ArrayLike<number>;
}

/**
 * Maximal runs of 1s in a binary series.
 *
 * @param values a series of 0s and 1s, shape `[T]`
 * @returns the runs in row order, each with inclusive `start` and `end`
 * @throws RangeError when an entry is not exactly 0 or 1
 */
export function binaryRuns(values: ArrayLike<number>): BinaryRun[] {
  checkBinarySeries('values', values);
  return runsOf(values);
}

/**
 * Event-wise precision, recall, F1 and detection delays of binary predictions.
 *
 * @param labels ground truth per row, 0 or 1, shape `[T]`
 * @param predicted detector output per row, 0 or 1, shape `[T]`
 * @param options optional `timesMs` for delays in milliseconds
 * @returns totals, ratios (`null` for empty denominators), delay statistics and per-event details
 * @throws RangeError when lengths differ, an entry of `labels`/`predicted` is not 0 or 1, or
 *   `timesMs` is not finite and non-decreasing
 */
export function eventMetrics(
  labels: ArrayLike<number>,
  predicted: ArrayLike<number>,
  options: EventMetricsOptions = {},
): EventMetrics {
  checkSameLength('labels', labels, 'predicted', predicted);
  checkBinarySeries('labels', labels);
  checkBinarySeries('predicted', predicted);
  const timesMs = options.timesMs;
  if (timesMs !== undefined) checkTimes(labels, timesMs);

  const labelled: LabelledEventResult[] = runsOf(labels).map((run) => {
    let first = -1;
    for (let i = run.start; i <= run.end; i++) {
      if (predicted[i] === 1) {
        first = i;
        break;
      }
    }
    const detected = first >= 0;
    return {
      start: run.start,
      end: run.end,
      lengthRows: run.end - run.start + 1,
      detected,
      firstDetection: detected ? first : null,
      delayRows: detected ? first - run.start : null,
      delayMs: detected && timesMs !== undefined ? timesMs[first] - timesMs[run.start] : null,
    };
  });

  const predictedResults: PredictedEventResult[] = runsOf(predicted).map((run) => {
    let overlaps = false;
    for (let i = run.start; i <= run.end && !overlaps; i++) overlaps = labels[i] === 1;
    return { start: run.start, end: run.end, lengthRows: run.end - run.start + 1, overlapsLabel: overlaps };
  });

  const detectedEvents = labelled.filter((e) => e.detected).length;
  const matchedPredictedEvents = predictedResults.filter((e) => e.overlapsLabel).length;
  const precision = ratioOrNull(matchedPredictedEvents, predictedResults.length);
  const recall = ratioOrNull(detectedEvents, labelled.length);
  const delaysRows = labelled.flatMap((e) => (e.delayRows === null ? [] : [e.delayRows]));
  const delaysMs = labelled.flatMap((e) => (e.delayMs === null ? [] : [e.delayMs]));

  return {
    labelledEvents: labelled.length,
    predictedEvents: predictedResults.length,
    detectedEvents,
    matchedPredictedEvents,
    precision,
    recall,
    f1: harmonicMean(precision, recall),
    meanDelayRows: mean(delaysRows),
    medianDelayRows: median(delaysRows),
    meanDelayMs: mean(delaysMs),
    medianDelayMs: median(delaysMs),
    labelled,
    predicted: predictedResults,
  };
}

function runsOf(values: ArrayLike<number>): BinaryRun[] {
  const runs: BinaryRun[] = [];
  let start = -1;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === 1) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      runs.push({ start, end: i - 1 });
      start = -1;
    }
  }
  if (start >= 0) runs.push({ start, end: values.length - 1 });
  return runs;
}

function checkTimes(labels: ArrayLike<number>, timesMs: ArrayLike<number>): void {
  checkSameLength('labels', labels, 'timesMs', timesMs);
  for (let i = 0; i < timesMs.length; i++) {
    const t = timesMs[i];
    if (!Number.isFinite(t)) throw new RangeError(`timesMs[${i}] must be a finite number, got ${String(t)}`);
    if (i > 0 && t < timesMs[i - 1]) {
      throw new RangeError(
        `timesMs must be non-decreasing, but timesMs[${i}] = ${t} < timesMs[${i - 1}] = ${timesMs[i - 1]}`,
      );
    }
  }
}

function harmonicMean(p: number | null, r: number | null): number | null {
  if (p === null || r === null) return null;
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
}

function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
