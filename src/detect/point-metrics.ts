/**
 * Point-wise (row-by-row) evaluation of binary anomaly predictions against binary labels:
 * the confusion counts and the ratios built from them.
 *
 * Every ratio whose denominator is zero is reported as `null` (never `NaN`), so results
 * serialise to clean JSON and callers must decide explicitly what "undefined" means for them.
 */

/** Confusion counts and ratios of a point-wise evaluation. Counts are numbers of rows. */
export interface PointMetrics {
  /** Rows labelled 1 and predicted 1. */
  readonly tp: number;
  /** Rows labelled 0 and predicted 1. */
  readonly fp: number;
  /** Rows labelled 1 and predicted 0. */
  readonly fn: number;
  /** Rows labelled 0 and predicted 0. */
  readonly tn: number;
  /** tp / (tp + fp); `null` when nothing was predicted. */
  readonly precision: number | null;
  /** tp / (tp + fn); `null` when nothing is labelled anomalous. */
  readonly recall: number | null;
  /**
   * 2·tp / (2·tp + fp + fn), which equals the harmonic mean of precision and recall whenever
   * both exist; `null` only when there is neither a labelled nor a predicted positive row.
   * When labels hold positives but nothing was predicted it is 0 (precision is `null`).
   */
  readonly f1: number | null;
  /** fp / (fp + tn), the false positive rate; `null` when no row is labelled 0. */
  readonly falseAlarmRate: number | null;
  /** fn / (fn + tp), the miss rate (1 − recall); `null` when no row is labelled 1. */
  readonly missedAlarmRate: number | null;
}

/**
 * `numerator / denominator`, or `null` when the denominator is 0.
 *
 * @param numerator any finite number
 * @param denominator any finite number
 */
export function ratioOrNull(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/**
 * Checks that `values` holds only the numbers 0 and 1.
 *
 * @param name what the argument is called, used in the error message (e.g. `'labels'`)
 * @param values the series to check
 * @throws RangeError naming `name`, the first bad index and its value
 */
export function checkBinarySeries(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== 0 && v !== 1) {
      throw new RangeError(`${name}[${i}] must be 0 or 1, got ${String(v)}`);
    }
  }
}

/**
 * Checks that two series have the same length.
 *
 * @throws RangeError naming both series and their lengths
 */
export function checkSameLength(
  nameA: string,
  a: ArrayLike<unknown>,
  nameB: string,
  b: ArrayLike<unknown>,
): void {
  if (a.length !== b.length) {
    throw new RangeError(
      `${nameA} and ${nameB} must have the same length, got ${a.length} and ${b.length}`,
    );
  }
}

/**
 * Point-wise confusion counts and ratios of binary predictions against binary labels.
 *
 * @param labels ground truth per row, each 0 (normal) or 1 (anomalous); shape `[T]`
 * @param predicted detector output per row, each 0 or 1; shape `[T]`
 * @param mask optional rows to count, each 0 (skip) or 1 (count); shape `[T]`. Without a mask
 *   every row counts.
 * @returns counts and ratios; ratios with an empty denominator are `null` (see
 *   {@link PointMetrics})
 * @throws RangeError when lengths differ or any entry of `labels`, `predicted` or `mask` is
 *   not exactly 0 or 1
 */
export function pointMetrics(
  labels: ArrayLike<number>,
  predicted: ArrayLike<number>,
  mask?: ArrayLike<number>,
): PointMetrics {
  checkSameLength('labels', labels, 'predicted', predicted);
  checkBinarySeries('labels', labels);
  checkBinarySeries('predicted', predicted);
  if (mask !== undefined) {
    checkSameLength('labels', labels, 'mask', mask);
    checkBinarySeries('mask', mask);
  }

  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < labels.length; i++) {
    if (mask !== undefined && mask[i] === 0) continue;
    if (labels[i] === 1) {
      if (predicted[i] === 1) tp++;
      else fn++;
    } else if (predicted[i] === 1) fp++;
    else tn++;
  }

  return {
    tp,
    fp,
    fn,
    tn,
    precision: ratioOrNull(tp, tp + fp),
    recall: ratioOrNull(tp, tp + fn),
    f1: ratioOrNull(2 * tp, 2 * tp + fp + fn),
    falseAlarmRate: ratioOrNull(fp, fp + tn),
    missedAlarmRate: ratioOrNull(fn, fn + tp),
  };
}
