/**
 * Downsampling a series for drawing without losing its spikes.
 */

/** Marks a gap in the result of {@link minMaxEnvelope}: the line is broken there. */
export const ENVELOPE_GAP = -1;

/**
 * Picks the rows to draw so that a line through them looks like the full series at reduced
 * resolution. The rows are split into `floor(maxPoints / 2)` buckets of (nearly) equal row count,
 * and each bucket keeps the row of its smallest and the row of its largest value, in row order.
 * So every extreme survives, a one-row spike included, which taking every k-th row would lose.
 *
 * Non-finite handling: `NaN` rows are skipped (a bucket with no number becomes a gap); `±Infinity`
 * count as extremes like any other value. When `rowCount <= maxPoints`, every row with a number is
 * kept.
 *
 * Element `t` of the series is `data[offset + t * stride]`, so one channel of a row-major `[T, C]`
 * array is read with `stride = C`, `offset = c`.
 *
 * @param data the values
 * @param rowCount T, the number of rows
 * @param stride distance between consecutive rows in `data` (≥ 1)
 * @param offset index of row 0 in `data`
 * @param maxPoints largest number of rows to keep (≥ 2)
 * @returns kept row indices in increasing order, with {@link ENVELOPE_GAP} where the line breaks
 *   (never first, never last, never two in a row); at most `maxPoints` row indices
 * @throws RangeError when `stride`, `offset`, `rowCount` or `maxPoints` is out of range
 */
export function minMaxEnvelope(
  data: ArrayLike<number>,
  rowCount: number,
  stride: number,
  offset: number,
  maxPoints: number,
): Int32Array {
  if (!Number.isInteger(rowCount) || rowCount < 0) throw new RangeError(`minMaxEnvelope: rowCount must be an integer ≥ 0, got ${rowCount}`);
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`minMaxEnvelope: stride must be an integer ≥ 1, got ${stride}`);
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`minMaxEnvelope: offset must be an integer ≥ 0, got ${offset}`);
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new RangeError(`minMaxEnvelope: maxPoints must be an integer ≥ 2, got ${maxPoints}`);
  if (rowCount > 0 && offset + (rowCount - 1) * stride >= data.length) {
    throw new RangeError(`minMaxEnvelope: data has ${data.length} values, too few for ${rowCount} rows with stride ${stride} and offset ${offset}`);
  }
  const out: number[] = [];
  const pushGap = (): void => {
    if (out.length > 0 && out[out.length - 1] !== ENVELOPE_GAP) out.push(ENVELOPE_GAP);
  };
  if (rowCount <= maxPoints) {
    for (let t = 0; t < rowCount; t++) {
      if (Number.isNaN(data[offset + t * stride])) pushGap();
      else out.push(t);
    }
  } else {
    const buckets = Math.floor(maxPoints / 2);
    for (let b = 0; b < buckets; b++) {
      const from = Math.floor((b * rowCount) / buckets);
      const to = Math.floor(((b + 1) * rowCount) / buckets);
      let minRow = -1;
      let maxRow = -1;
      let minValue = Infinity;
      let maxValue = -Infinity;
      for (let t = from; t < to; t++) {
        const v = data[offset + t * stride];
        if (Number.isNaN(v)) continue;
        if (minRow < 0 || v < minValue) { minValue = v; minRow = t; }
        if (maxRow < 0 || v > maxValue) { maxValue = v; maxRow = t; }
      }
      if (minRow < 0) pushGap();
      else if (minRow === maxRow) out.push(minRow);
      else out.push(Math.min(minRow, maxRow), Math.max(minRow, maxRow));
    }
  }
  if (out.length > 0 && out[out.length - 1] === ENVELOPE_GAP) out.pop();
  return Int32Array.from(out);
}
