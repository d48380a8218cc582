/**
 * The NAB corpus score: per-file NAB scores summed and normalised between the null detector
 * (0) and a perfect detector (100), as NAB's `runner.normalize` does. See docs/metrics.md.
 */
import { checkNabProfile, type NabProfile } from './nab-profiles.js';
import { nabFileScore, type NabFileInput, type NabFileScore, type NabScoringOptions } from './nab-score.js';

/** Totals over a corpus and the normalised NAB score. */
export interface NabCorpusScore {
  readonly profile: string;
  /** Sum of the files' raw scores. */
  readonly rawScore: number;
  /** Sum of the files' null-detector scores. */
  readonly nullScore: number;
  /** Sum of the files' perfect scores: A_TP × number of windows in the corpus. */
  readonly perfectScore: number;
  /**
   * `100 × (rawScore − nullScore) / (perfectScore − nullScore)`: 100 for a perfect detector, 0
   * for one that never alarms; `null` when the corpus has no window (the denominator is 0).
   */
  readonly normalizedScore: number | null;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
  /** Per-file results, in input order. */
  readonly files: readonly NabFileScore[];
}

/**
 * NAB score of a corpus under one profile: each file scored by {@link nabFileScore}, raw,
 * null and perfect scores summed, and normalised as
 * `100 × (raw − null) / (perfect − null)`.
 *
 * @param files the corpus (may be empty)
 * @param profile weights to score with
 * @param options probationary fraction and window mapping, applied to every file
 * @throws RangeError as {@link nabFileScore}, the message prefixed with the file's position and name
 */
export function nabCorpusScore(
  files: readonly NabFileInput[],
  profile: NabProfile,
  options: NabScoringOptions = {},
): NabCorpusScore {
  checkNabProfile(profile);
  const results = files.map((file, k) => {
    try {
      return nabFileScore({ ...file, ...options, profile });
    } catch (err) {
      const label = file.name === undefined ? `files[${k}]` : `files[${k}] (${file.name})`;
      const message = err instanceof Error ? err.message : String(err);
      throw new RangeError(`${label}: ${message}`, { cause: err });
    }
  });
  let rawScore = 0;
  let nullScore = 0;
  let perfectScore = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const r of results) {
    rawScore += r.score;
    nullScore += r.nullScore;
    perfectScore += r.perfectScore;
    tp += r.tp;
    fp += r.fp;
    fn += r.fn;
    tn += r.tn;
  }
  const span = perfectScore - nullScore;
  return {
    profile: profile.name,
    rawScore,
    nullScore,
    perfectScore,
    normalizedScore: span === 0 ? null : (100 * (rawScore - nullScore)) / span,
    tp,
    fp,
    fn,
    tn,
    files: results,
  };
}
