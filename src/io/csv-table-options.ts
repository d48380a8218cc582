/**
 * Options of the CSV table reader, their defaults and their validation.
 */
import { type CsvDelimiter, isCsvDelimiter } from './delimiter-sniff.js';
import { CsvTableError } from './csv-table-error.js';
import { EPOCH_UNITS, type EpochUnit } from './time-parse.js';

/**
 * What to do with a channel or label cell that is missing or not valid:
 * - `'hold'`: carry the column's last valid value forward; cells before the first valid value
 *   take that first valid value. A column with no valid value at all is an error.
 * - `'skip-row'`: drop the whole row.
 * - `'error'`: throw at the first such cell, naming line, column and value.
 *
 * Time cells that do not parse cannot be held: they drop the row under `'skip-row'` and are an
 * error otherwise.
 */
export type MissingPolicy = 'hold' | 'skip-row' | 'error';

/** Allowed values of {@link MissingPolicy}. */
export const MISSING_POLICIES: readonly MissingPolicy[] = ['hold', 'skip-row', 'error'];

/**
 * What to do with rows whose time is earlier than, or equal to, the previous row's:
 * - `'keep'`: keep file order; count them in the report.
 * - `'sort'`: stable sort by time (equal times keep file order); still counted.
 * - `'error'`: throw unless times strictly increase.
 */
export type RowOrderPolicy = 'keep' | 'sort' | 'error';

/** Allowed values of {@link RowOrderPolicy}. */
export const ROW_ORDER_POLICIES: readonly RowOrderPolicy[] = ['keep', 'sort', 'error'];

/** Options of `parseCsvTable` / `readCsvTable`. Every field is optional; defaults below. */
export interface CsvTableOptions {
  /** Field delimiter, or `'auto'` to sniff among `,` `;` tab `|`. Default `'auto'`. */
  delimiter?: CsvDelimiter | 'auto';
  /**
   * The time column. `undefined` (default): auto-detect, first by header name
   * ({@link TIME_COLUMN_NAMES}, compared by {@link normalizeColumnName}), else the first column
   * whose non-missing cells all parse as date-times (epoch-number columns are found by name only:
   * by value, any numeric channel would look like one). `null`: the file has no time column. A
   * string: that column.
   */
  timeColumn?: string | null;
  /** How epoch numbers in the time column are read; see `time-parse.ts`. Default `'auto'`. */
  epochUnit?: EpochUnit;
  /**
   * The 0/1 label column, read apart from the channels. `undefined` (default): auto-detect by
   * header name ({@link LABEL_COLUMN_NAMES}). `null`: none. A string: that column.
   */
  labelColumn?: string | null;
  /**
   * Channel columns, in model channel order. Default: every column, in file order, except the
   * time column, the label column, excluded columns, unnamed columns, and columns whose valid
   * numbers do not outnumber their non-numeric cells (those are listed in the report).
   */
  channels?: readonly string[];
  /** Columns never to use as channels (nor to auto-detect as time or label). Default none. */
  exclude?: readonly string[];
  /** See {@link MissingPolicy}. Default {@link DEFAULT_ON_MISSING}. */
  onMissing?: MissingPolicy;
  /** See {@link RowOrderPolicy}. Default `'keep'`. */
  order?: RowOrderPolicy;
  /** How many line numbers the report lists per kind of problem. Default 5. */
  maxReportedLines?: number;
  /** Name of the input in errors and in the result. Default: the path, or `'<csv>'`. */
  source?: string;
}

/** Default {@link MissingPolicy}: a gap in the data is an error until the caller chooses a repair. */
export const DEFAULT_ON_MISSING: MissingPolicy = 'error';
/** Default {@link RowOrderPolicy}. */
export const DEFAULT_ROW_ORDER: RowOrderPolicy = 'keep';
/** Default {@link CsvTableOptions.maxReportedLines}. */
export const DEFAULT_MAX_REPORTED_LINES = 5;
/** Default {@link CsvTableOptions.source} for text not read from a file. */
export const DEFAULT_SOURCE = '<csv>';

/** Header names (normalised) taken for the time column when none is named. */
export const TIME_COLUMN_NAMES: readonly string[] = ['time', 'timestamp', 'date', 'datetime', 'ts'];
/** Header names (normalised) taken for the label column when none is named. */
export const LABEL_COLUMN_NAMES: readonly string[] = ['label', 'labels', 'anomaly', 'isanomaly', 'anomalous'];

/** Lower-cases and drops everything but letters and digits: `Date Time` → `datetime`, `_time` → `time`. */
export function normalizeColumnName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** {@link CsvTableOptions} with defaults filled in and values checked. */
export interface NormalizedCsvTableOptions {
  readonly delimiter: CsvDelimiter | 'auto';
  readonly timeColumn: string | null | undefined;
  readonly epochUnit: EpochUnit;
  readonly labelColumn: string | null | undefined;
  readonly channels: readonly string[] | undefined;
  readonly exclude: readonly string[];
  readonly onMissing: MissingPolicy;
  readonly order: RowOrderPolicy;
  readonly maxReportedLines: number;
  readonly source: string;
}

/**
 * Fills defaults and checks each option's type and range (not yet against the header).
 * @throws CsvTableError `invalid-option` naming the option and its bad value.
 */
export function normalizeCsvTableOptions(options: CsvTableOptions): NormalizedCsvTableOptions {
  const source = options.source ?? DEFAULT_SOURCE;
  const bad = (option: string, expected: string, value: unknown): CsvTableError =>
    new CsvTableError('invalid-option', `option ${option} must be ${expected}`, {
      source,
      value: typeof value === 'string' ? value : String(JSON.stringify(value)),
    });

  const delimiter = options.delimiter ?? 'auto';
  if (delimiter !== 'auto' && !isCsvDelimiter(delimiter)) throw bad('delimiter', `'auto', ',', ';', '\\t' or '|'`, delimiter);
  const epochUnit = options.epochUnit ?? 'auto';
  if (!EPOCH_UNITS.includes(epochUnit)) throw bad('epochUnit', `'auto', 's' or 'ms'`, epochUnit);
  const onMissing = options.onMissing ?? DEFAULT_ON_MISSING;
  if (!MISSING_POLICIES.includes(onMissing)) throw bad('onMissing', `'hold', 'skip-row' or 'error'`, onMissing);
  const order = options.order ?? DEFAULT_ROW_ORDER;
  if (!ROW_ORDER_POLICIES.includes(order)) throw bad('order', `'keep', 'sort' or 'error'`, order);
  const maxReportedLines = options.maxReportedLines ?? DEFAULT_MAX_REPORTED_LINES;
  if (!Number.isInteger(maxReportedLines) || maxReportedLines < 0) {
    throw bad('maxReportedLines', 'an integer >= 0', maxReportedLines);
  }
  for (const key of ['timeColumn', 'labelColumn'] as const) {
    const v = options[key];
    if (v !== undefined && v !== null && (typeof v !== 'string' || v.trim() === '')) {
      throw bad(key, 'a non-empty column name, null or undefined', v);
    }
  }
  const names = (option: string, list: readonly string[] | undefined): void => {
    if (list === undefined) return;
    if (!Array.isArray(list)) throw bad(option, 'an array of column names', list);
    const seen = new Set<string>();
    for (const name of list) {
      if (typeof name !== 'string' || name.trim() === '') throw bad(option, 'non-empty column names', name);
      if (seen.has(name.trim())) throw bad(option, 'free of repeats', name);
      seen.add(name.trim());
    }
  };
  names('channels', options.channels);
  names('exclude', options.exclude);
  if (options.channels !== undefined && options.channels.length === 0) {
    throw bad('channels', 'a non-empty list (leave it out to select channels automatically)', options.channels);
  }
  return {
    delimiter,
    timeColumn: options.timeColumn?.trim() ?? options.timeColumn,
    epochUnit,
    labelColumn: options.labelColumn?.trim() ?? options.labelColumn,
    channels: options.channels?.map((n) => n.trim()),
    exclude: (options.exclude ?? []).map((n) => n.trim()),
    onMissing,
    order,
    maxReportedLines,
    source,
  };
}
