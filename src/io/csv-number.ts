/**
 * Numbers → CSV text, short and without loss.
 */

/**
 * How {@link formatCsvNumber} writes numbers:
 * - `'float32'`: a value that is exactly a float32 gets the shortest decimal that reads back (via
 *   float64, then rounded to float32) as the same float32: `Math.fround(0.1)` is written `0.1`,
 *   not `0.10000000149011612`. Other values get the float64 form, as with `'float64'`.
 * - `'float64'`: the shortest decimal that reads back as the same float64 (`String(x)`).
 *
 * Use `'float64'` for columns computed in float64 whose exact float64 value matters to a float64
 * reader (a float64 that happens to equal a float32 would be shortened under `'float32'`).
 */
export type CsvNumberFormat = 'float32' | 'float64';

/** Allowed values of {@link CsvNumberFormat}. */
export const CSV_NUMBER_FORMATS: readonly CsvNumberFormat[] = ['float32', 'float64'];

/**
 * Formats a number for a CSV cell. `NaN` becomes the empty cell (read back as missing);
 * `±Infinity` become `inf` / `-inf` (as pandas writes them; the convwatch reader counts them as
 * invalid); `-0` stays `-0`; integers below 1e21 are written in full, never in exponent form.
 */
export function formatCsvNumber(value: number, format: CsvNumberFormat = 'float32'): string {
  if (Number.isNaN(value)) return '';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (Object.is(value, -0)) return '-0';
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  if (format === 'float64' || Math.fround(value) !== value) return String(value);
  // 9 significant digits always identify a float32, so the loop ends by p = 9.
  for (let p = 1; p < 9; p++) {
    const candidate = Number(value.toPrecision(p));
    if (Math.fround(candidate) === value) return String(candidate);
  }
  return String(Number(value.toPrecision(9)));
}
