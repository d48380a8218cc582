/**
 * Reading timestamps out of CSV cells.
 *
 * Accepted forms, all converted to milliseconds since 1970-01-01T00:00:00Z (a float64, so
 * sub-millisecond fractions survive):
 *
 * - ISO 8601 extended calendar dates: `YYYY-MM-DD`, `YYYY-MM-DDThh:mm`, `YYYY-MM-DDThh:mm:ss`,
 *   `YYYY-MM-DDThh:mm:ss.fff…` (any number of fraction digits, `.` or `,`), optionally followed by a
 *   zone: `Z`, `±hh`, `±hhmm`, `±hh:mm` (also `UTC` / `GMT`, and one space before the zone).
 * - The same with a space instead of `T`: `YYYY-MM-DD hh:mm:ss[.fff]` (pandas, SQL, NAB).
 * - Epoch numbers (decimal, optional fraction or exponent) in seconds or milliseconds.
 *
 * **A date-time without a zone is read as UTC**, never as the machine's local time, so a file
 * gives the same times on every gateway. (This is why `Date.parse` is not used: it reads zone-less
 * date-times as local time.)
 *
 * **Seconds or milliseconds.** With `epochUnit: 'auto'` the unit of a column is decided once, from
 * the magnitude of its first epoch number: `|v| >= 1e11` means milliseconds, smaller means
 * seconds. 1e11 s is the year 5138 and 1e11 ms is 1973-03-03, so every present-day timestamp is
 * classified correctly; relative times (seconds since start, small counters) read as seconds.
 * Force the unit with `epochUnit: 's' | 'ms'` when the data says otherwise.
 *
 * Not accepted: locale formats (`01/02/2020`), compact dates (`20200102`, which would be taken as an
 * epoch number), week or ordinal dates, leap seconds (`:60`).
 */

/** Unit of epoch numbers in a time column: decided by magnitude (`'auto'`) or forced. */
export type EpochUnit = 'auto' | 's' | 'ms';

/** Allowed values of {@link EpochUnit}, for option validation. */
export const EPOCH_UNITS: readonly EpochUnit[] = ['auto', 's', 'ms'];

/** In `'auto'` mode, an epoch number with `|v| >=` this is read as milliseconds, below as seconds. */
export const EPOCH_MS_THRESHOLD = 1e11;

const MS_PER_DAY = 86_400_000;

// Groups: 1 year, 2 month, 3 day, 4 hour, 5 minute, 6 second, 7 fraction, 8 zone.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)? ?([Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)?$/;

const EPOCH_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Days from 1970-01-01 to the given proleptic Gregorian date (month 1–12). */
function daysFromCivil(year: number, month: number, day: number): number {
  // Count years from March so the leap day is the last day of the counted year.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthFromMarch = (month + 9) % 12;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Fraction-of-second digits → milliseconds, exact for up to 3 digits. */
function fractionToMs(digits: string): number {
  if (digits.length <= 3) return Number(digits.padEnd(3, '0'));
  return Number(digits.slice(0, 3)) + Number(`0.${digits.slice(3)}`);
}

/** Zone suffix → offset east of UTC in minutes, or NaN if out of range. */
function zoneOffsetMinutes(zone: string): number {
  if (zone === 'Z' || zone === 'z' || zone === 'UTC' || zone === 'GMT') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return NaN;
  return sign * (hours * 60 + minutes);
}

/** Result details of {@link parseDateTime}. */
export interface ParsedDateTime {
  /** Milliseconds since 1970-01-01T00:00:00Z. */
  readonly ms: number;
  /** Whether the text carried a zone; `false` means it was read as UTC. */
  readonly hasZone: boolean;
}

/**
 * Parses an ISO 8601 / `YYYY-MM-DD hh:mm:ss[.fff]` date-time (see the module notes).
 * @returns the instant and whether a zone was given, or `null` when the text is not such a
 *   date-time or names an impossible date or time (month 13, Feb 30, hour 24, offset +25:00).
 */
export function parseDateTime(text: string): ParsedDateTime | null {
  const m = DATE_TIME.exec(text.trim());
  if (m === null) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  let ms = daysFromCivil(year, month, day) * MS_PER_DAY;
  if (m[4] === undefined) return { ms, hasZone: false };
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (hour > 23 || minute > 59 || second > 59) return null;
  ms += hour * 3_600_000 + minute * 60_000 + second * 1000;
  if (m[7] !== undefined) ms += fractionToMs(m[7]);
  if (m[8] === undefined) return { ms, hasZone: false };
  const offset = zoneOffsetMinutes(m[8]);
  if (Number.isNaN(offset)) return null;
  return { ms: ms - offset * 60_000, hasZone: true };
}

/**
 * Parses a plain decimal number as written in an epoch column (`1700000000`, `1.7e9`,
 * `1700000000.250`). No hex, no `Infinity`, no thousands separators, no surrounding text.
 * @returns the number, or `NaN` when the text is not such a number or overflows to infinity.
 */
export function parseEpochNumber(text: string): number {
  const t = text.trim();
  if (!EPOCH_NUMBER.test(t)) return NaN;
  const v = Number(t);
  return Number.isFinite(v) ? v : NaN;
}

/** The unit `'auto'` mode picks for an epoch number: `'ms'` if `|value| >= 1e11`, else `'s'`. */
export function epochUnitFor(value: number): 's' | 'ms' {
  return Math.abs(value) >= EPOCH_MS_THRESHOLD ? 'ms' : 's';
}

/**
 * Parses the cells of one time column. In `'auto'` epoch mode the first epoch number fixes the
 * unit for the rest of the column (see the module notes), so a column is never read half in
 * seconds and half in milliseconds. Keeps counts of what it saw, for reporting.
 *
 * Create one per column and per parse; it holds no other state.
 */
export class TimeCellParser {
  private unit: 's' | 'ms' | null;
  /** Date-time cells read, with and without zone, and epoch cells read. */
  readonly seen = { zoned: 0, zoneless: 0, epoch: 0 };

  /** @param epochUnit how to read epoch numbers; throws on a value outside {@link EPOCH_UNITS}. */
  constructor(epochUnit: EpochUnit) {
    if (!EPOCH_UNITS.includes(epochUnit)) {
      throw new Error(`epochUnit must be one of 'auto', 's', 'ms', got ${JSON.stringify(epochUnit)}`);
    }
    this.unit = epochUnit === 'auto' ? null : epochUnit;
  }

  /** The epoch unit in force: forced, or decided by the first epoch number; `null` before that. */
  get epochUnit(): 's' | 'ms' | null {
    return this.unit;
  }

  /** @returns milliseconds since the epoch (UTC), or `NaN` when the cell is not a time. */
  parse(text: string): number {
    const dt = parseDateTime(text);
    if (dt !== null) {
      if (dt.hasZone) this.seen.zoned++;
      else this.seen.zoneless++;
      return dt.ms;
    }
    const v = parseEpochNumber(text);
    if (Number.isNaN(v)) return NaN;
    this.unit ??= epochUnitFor(v);
    this.seen.epoch++;
    return this.unit === 'ms' ? v : v * 1000;
  }
}
