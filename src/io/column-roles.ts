/**
 * Which CSV column is the time, which the label, which are channels (and in what order), from
 * the options and, where they leave it open, from header names and cell contents.
 */
import {
  type ColumnRead,
  readLabelColumn,
  readNumericColumn,
  readTimeColumn,
  type TimeColumnRead,
} from './column-read.js';
import { CsvTableError } from './csv-table-error.js';
import {
  LABEL_COLUMN_NAMES,
  type NormalizedCsvTableOptions,
  normalizeColumnName,
  TIME_COLUMN_NAMES,
} from './csv-table-options.js';
import type { CsvRecords } from './csv-tokenize.js';
import { isMissingCell } from './numeric-cell.js';
import { parseDateTime } from './time-parse.js';

/** A column left out of automatic channel selection, and why. */
export interface IgnoredColumn {
  readonly column: string;
  /**
   * `'unnamed'`: empty header cell (such as a pandas index column); `'empty'`: no cell has a
   * value; `'non-numeric'`: valid numbers do not outnumber non-numeric cells.
   */
  readonly reason: 'unnamed' | 'empty' | 'non-numeric';
}

/** How the time column was found. */
export type TimeColumnSource = 'option' | 'name' | 'values';

/** The role of every column that has one, with its cells already read. */
export interface ColumnRoles {
  readonly time: TimeColumnRead | null;
  /** `null` when there is no time column. */
  readonly timeFoundBy: TimeColumnSource | null;
  readonly label: ColumnRead<Int8Array> | null;
  /** In model channel order. */
  readonly channels: readonly ColumnRead<Float32Array>[];
  /** Columns automatic channel selection left out; empty when channels are given. */
  readonly ignored: readonly IgnoredColumn[];
}

const MAX_LISTED_COLUMNS = 20;

function listColumns(header: readonly string[]): string {
  const shown = header.slice(0, MAX_LISTED_COLUMNS).map((n) => JSON.stringify(n));
  const more = header.length > MAX_LISTED_COLUMNS ? `, … ${header.length - MAX_LISTED_COLUMNS} more` : '';
  return `${shown.join(', ')}${more}`;
}

/**
 * Assigns roles to columns and reads the cells of every column with a role.
 * @throws CsvTableError `unknown-column` when an option names a column the header lacks;
 *   `invalid-option` when options give one column two roles; `no-channels` when no channel is
 *   left.
 */
export function resolveColumnRoles(records: CsvRecords, options: NormalizedCsvTableOptions): ColumnRoles {
  const { header } = records;
  const { source, maxReportedLines } = options;
  const where = { source, line: records.headerLine };

  const indexOf = (name: string, option: string): number => {
    const i = header.indexOf(name);
    if (i < 0) {
      throw new CsvTableError(
        'unknown-column',
        `option ${option} names a column the header does not have (columns: ${listColumns(header)})`,
        { ...where, value: name },
      );
    }
    return i;
  };
  const conflict = (detail: string, column: string): CsvTableError =>
    new CsvTableError('invalid-option', detail, { ...where, column });

  const excluded = new Set(options.exclude.map((n) => indexOf(n, 'exclude')));
  const explicitChannels = options.channels?.map((n) => indexOf(n, 'channels'));
  const channelSet = new Set(explicitChannels ?? []);
  for (const i of channelSet) {
    if (excluded.has(i)) throw conflict('is both in channels and in exclude', header[i]);
  }

  // A column named for a role but taken by another option is simply not a candidate.
  const free = (i: number): boolean => header[i] !== '' && !excluded.has(i) && !channelSet.has(i);
  const byName = (names: readonly string[], also: (i: number) => boolean): number =>
    header.findIndex((n, i) => free(i) && also(i) && names.includes(normalizeColumnName(n)));

  let timeIndex = -1;
  let timeFoundBy: TimeColumnSource | null = null;
  if (typeof options.timeColumn === 'string') {
    timeIndex = indexOf(options.timeColumn, 'timeColumn');
    if (channelSet.has(timeIndex)) throw conflict('is both the time column and a channel', header[timeIndex]);
    if (excluded.has(timeIndex)) throw conflict('is both the time column and excluded', header[timeIndex]);
    timeFoundBy = 'option';
  }

  let labelIndex = -1;
  if (typeof options.labelColumn === 'string') {
    labelIndex = indexOf(options.labelColumn, 'labelColumn');
    if (labelIndex === timeIndex) throw conflict('is both the time column and the label column', header[labelIndex]);
    if (channelSet.has(labelIndex)) throw conflict('is both the label column and a channel', header[labelIndex]);
    if (excluded.has(labelIndex)) throw conflict('is both the label column and excluded', header[labelIndex]);
  } else if (options.labelColumn === undefined) {
    labelIndex = byName(LABEL_COLUMN_NAMES, (i) => i !== timeIndex);
  }

  if (options.timeColumn === undefined) {
    timeIndex = byName(TIME_COLUMN_NAMES, (i) => i !== labelIndex);
    if (timeIndex >= 0) timeFoundBy = 'name';
    else {
      timeIndex = header.findIndex((_, i) => free(i) && i !== labelIndex && holdsOnlyDateTimes(records, i));
      if (timeIndex >= 0) timeFoundBy = 'values';
    }
  }

  const time = timeIndex >= 0 ? readTimeColumn(records, timeIndex, options.epochUnit, maxReportedLines) : null;
  const label = labelIndex >= 0 ? readLabelColumn(records, labelIndex, maxReportedLines) : null;

  if (explicitChannels !== undefined) {
    const channels = explicitChannels.map((i) => readNumericColumn(records, i, maxReportedLines));
    return { time, timeFoundBy, label, channels, ignored: [] };
  }

  const channels: ColumnRead<Float32Array>[] = [];
  const ignored: IgnoredColumn[] = [];
  header.forEach((column, i) => {
    if (i === timeIndex || i === labelIndex || excluded.has(i)) return;
    if (column === '') {
      ignored.push({ column, reason: 'unnamed' });
      return;
    }
    const read = readNumericColumn(records, i, maxReportedLines);
    if (read.valid === 0 && read.issues.invalid === 0) ignored.push({ column, reason: 'empty' });
    else if (read.valid <= read.issues.invalid) ignored.push({ column, reason: 'non-numeric' });
    else channels.push(read);
  });
  if (channels.length === 0) {
    const why = ignored.map((c) => `${JSON.stringify(c.column)} ${c.reason}`).join(', ');
    throw new CsvTableError(
      'no-channels',
      `no numeric channel column found (time: ${time === null ? 'none' : JSON.stringify(time.name)}, ` +
        `label: ${label === null ? 'none' : JSON.stringify(label.name)}${why === '' ? '' : `, left out: ${why}`})`,
      where,
    );
  }
  return { time, timeFoundBy, label, channels, ignored };
}

/** Whether every non-missing cell of a column is a date-time (not an epoch number), and one is. */
function holdsOnlyDateTimes(records: CsvRecords, index: number): boolean {
  let any = false;
  for (const row of records.rows) {
    const cell = row[index];
    if (isMissingCell(cell)) continue;
    if (parseDateTime(cell) === null) return false;
    any = true;
  }
  return any;
}
