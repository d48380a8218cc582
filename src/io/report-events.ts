/**
 * Segments for the HTML report: maximal runs of 1s, what the detector saw in each detected
 * segment, which labelled segments it missed, and which channels made up its detections.
 */

/** A maximal run of 1s: inclusive row indices. */
export interface RowRun {
  readonly start: number;
  readonly end: number;
}

/** A channel and its mean attribution share over some rows. */
export interface ChannelShare {
  /** Column index into the channel list. */
  readonly channel: number;
  /** Mean share (0..1) over the rows where the channel's attribution is a number. */
  readonly meanShare: number;
}

/** One detected segment (a maximal run of predicted = 1). */
export interface DetectedSegment extends RowRun {
  /** Largest score in the segment (`Infinity` counts); `null` when every score in it is `NaN`. */
  readonly peakScore: number | null;
  /** Whether the segment shares a row with a labelled segment; `null` without labels. */
  readonly overlapsLabel: boolean | null;
  /** Channels with the largest mean attribution in the segment, largest first; empty without attributions. */
  readonly topChannels: readonly ChannelShare[];
}

/** One labelled segment with no predicted row inside. */
export interface MissedSegment extends RowRun {
  /** Largest score in the segment; `null` when every score in it is `NaN`. */
  readonly peakScore: number | null;
}

/** Maximal runs of non-zero entries, in row order. */
export function runsOfOnes(flags: ArrayLike<number>): RowRun[] {
  const runs: RowRun[] = [];
  let start = -1;
  for (let t = 0; t < flags.length; t++) {
    if (flags[t] !== 0) {
      if (start < 0) start = t;
    } else if (start >= 0) {
      runs.push({ start, end: t - 1 });
      start = -1;
    }
  }
  if (start >= 0) runs.push({ start, end: flags.length - 1 });
  return runs;
}

/** Largest non-NaN score in `start..end`, or `null`. */
export function peakScore(scores: ArrayLike<number>, start: number, end: number): number | null {
  let peak: number | null = null;
  for (let t = start; t <= end; t++) {
    const s = scores[t];
    if (!Number.isNaN(s) && (peak === null || s > peak)) peak = s;
  }
  return peak;
}

/**
 * Describes each detected segment: peak score, overlap with labels, and the `topCount` channels
 * of largest mean attribution share (ties: lower channel index first; non-finite shares skipped).
 *
 * @param runs detected segments, from {@link runsOfOnes} of the predictions
 * @param scores score per row, shape `[T]`
 * @param labels ground truth per row, shape `[T]`, or `null`
 * @param contrib attribution shares, shape `[T, C]` row-major, or `null`
 * @param channelCount C
 * @param topCount how many channels to name per segment
 */
export function describeDetectedSegments(
  runs: readonly RowRun[],
  scores: ArrayLike<number>,
  labels: ArrayLike<number> | null,
  contrib: ArrayLike<number> | null,
  channelCount: number,
  topCount: number,
): DetectedSegment[] {
  const sums = new Float64Array(channelCount);
  const counts = new Float64Array(channelCount);
  return runs.map((run) => {
    let overlapsLabel: boolean | null = null;
    if (labels !== null) {
      overlapsLabel = false;
      for (let t = run.start; t <= run.end && !overlapsLabel; t++) overlapsLabel = labels[t] !== 0;
    }
    let topChannels: ChannelShare[] = [];
    if (contrib !== null && channelCount > 0) {
      sums.fill(0);
      counts.fill(0);
      for (let t = run.start; t <= run.end; t++) {
        for (let c = 0; c < channelCount; c++) {
          const share = contrib[t * channelCount + c];
          if (Number.isFinite(share)) { sums[c] += share; counts[c] += 1; }
        }
      }
      const shares: ChannelShare[] = [];
      for (let c = 0; c < channelCount; c++) {
        if (counts[c] > 0) shares.push({ channel: c, meanShare: sums[c] / counts[c] });
      }
      shares.sort((a, b) => b.meanShare - a.meanShare || a.channel - b.channel);
      topChannels = shares.slice(0, topCount);
    }
    return { start: run.start, end: run.end, peakScore: peakScore(scores, run.start, run.end), overlapsLabel, topChannels };
  });
}

/** Labelled segments without a single predicted row inside, with their peak score. */
export function missedSegments(labelRuns: readonly RowRun[], predicted: ArrayLike<number>, scores: ArrayLike<number>): MissedSegment[] {
  const missed: MissedSegment[] = [];
  for (const run of labelRuns) {
    let hit = false;
    for (let t = run.start; t <= run.end && !hit; t++) hit = predicted[t] !== 0;
    if (!hit) missed.push({ start: run.start, end: run.end, peakScore: peakScore(scores, run.start, run.end) });
  }
  return missed;
}

/**
 * Sum of each channel's attribution share over the rows predicted 1 (non-finite shares skipped).
 *
 * @param predicted flags per row, shape `[T]`
 * @param contrib shares, shape `[T, C]` row-major
 * @returns totals, shape `[C]`
 */
export function attributionDuringDetections(predicted: ArrayLike<number>, contrib: ArrayLike<number>, channelCount: number): Float64Array {
  const totals = new Float64Array(channelCount);
  for (let t = 0; t < predicted.length; t++) {
    if (predicted[t] === 0) continue;
    for (let c = 0; c < channelCount; c++) {
      const share = contrib[t * channelCount + c];
      if (Number.isFinite(share)) totals[c] += share;
    }
  }
  return totals;
}
