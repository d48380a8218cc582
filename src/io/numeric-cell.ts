/**
 * Reading channel values and 0/1 labels out of CSV cells.
 *
 * A cell is one of three things:
 * - a **value**: a plain decimal number (`12`, `-0.5`, `.5`, `1e-3`, `2.5E+04`), surrounding
 *   spaces allowed, that fits a float32;
 * - **missing**: empty, or a usual "not available" token ({@link MISSING_TOKENS}, any case);
 * - **invalid**: anything else (`ERR`, `12abc`, `0x1F`, `1,5`, `Infinity`, `1e39`).
 */

/** Why a cell gave no value. */
export type CellProblem = 'missing' | 'invalid';

/** Cell texts (compared lower-cased, trimmed) that mean "no reading", besides the empty cell. */
export const MISSING_TOKENS: ReadonlySet<string> = new Set([
  'nan',
  '-nan',
  'na',
  'n/a',
  '#n/a',
  'null',
  'none',
  '<na>',
]);

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Whether a cell is missing: blank, or a {@link MISSING_TOKENS} token (any case, spaces around). */
export function isMissingCell(text: string): boolean {
  const t = text.trim();
  return t === '' || MISSING_TOKENS.has(t.toLowerCase());
}

/**
 * Parses a channel cell to a float32 value (as a JS number equal to its float32 rounding).
 * @returns the value, or the reason there is none.
 */
export function parseNumericCell(text: string): number | CellProblem {
  const t = text.trim();
  if (DECIMAL.test(t)) {
    const v = Math.fround(Number(t));
    // Beyond float32 range the rounding gives ±Infinity: not a reading we can hold.
    return Number.isFinite(v) ? v : 'invalid';
  }
  return isMissingCell(t) ? 'missing' : 'invalid';
}

/**
 * Parses a label cell: `0`/`1` (also `0.0`, `1.0`), `true`/`false` (any case).
 * @returns 0 or 1, or the reason there is none.
 */
export function parseLabelCell(text: string): 0 | 1 | CellProblem {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (lower === 'true') return 1;
  if (lower === 'false') return 0;
  if (DECIMAL.test(t)) {
    const v = Number(t);
    if (v === 0) return 0;
    if (v === 1) return 1;
    return 'invalid';
  }
  return isMissingCell(t) ? 'missing' : 'invalid';
}
