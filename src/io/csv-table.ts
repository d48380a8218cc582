/**
 * CSV file → a table of float32 channel values with optional times and 0/1 labels: the input of
 * the offline commands (`train`, `score`, `eval`) and of `replay`.
 *
 * The whole file is read into memory (text, tokens, then typed arrays); fine for the tens of MB
 * of a training set, not meant for unbounded files.
 */
import { readFile } from 'node:fs/promises';
import type { ColumnCellIssues, ColumnRead } from './column-read.js';
import { type IgnoredColumn, resolveColumnRoles, type TimeColumnSource } from './column-roles.js';
import { CsvTableError } from './csv-table-error.js';
import { type CsvTableOptions, type NormalizedCsvTableOptions, normalizeCsvTableOptions } from './csv-table-options.js';
import { type CsvRecords, tokenizeCsv } from './csv-tokenize.js';
import type { CsvDelimiter } from './delimiter-sniff.js';
import { isMissingCell } from './numeric-cell.js';

/** What the time column held. */
export interface TimeColumnInfo {
  /** How the column was chosen: named in the options, by its header name, or by its values. */
  readonly foundBy: TimeColumnSource;
  /** Date-time cells with an explicit zone. */
  readonly dateTimesWithZone: number;
  /** Date-time cells without a zone, read as UTC. */
  readonly dateTimesWithoutZone: number;
  /** Epoch-number cells. */
  readonly epochNumbers: number;
  /** Unit the epoch numbers were read in; `null` when there were none. */
  readonly epochUnit: 's' | 'ms' | null;
}

/** What reading found besides the values; nothing in here stopped the read. */
export interface CsvTableReport {
  /** Data rows in the file (header and blank lines not counted). */
  readonly dataRows: number;
  /** Blank lines skipped. */
  readonly emptyLines: number;
  /** Rows dropped: under `onMissing: 'skip-row'`, rows with a bad channel, label or time cell. */
  readonly rowsSkipped: number;
  /** Cells filled in under `onMissing: 'hold'` (channel and label cells). */
  readonly heldCells: number;
  /**
   * Per column (time, label, channels; in header order), the missing and invalid cells, counted
   * over all data rows whatever the policy did with them. Columns without problems are left out.
   */
  readonly cellIssues: readonly ColumnCellIssues[];
  /** Columns automatic channel selection left out. */
  readonly ignoredColumns: readonly IgnoredColumn[];
  /** Rows (in file order, after skipping) whose time is earlier than the previous row's. */
  readonly outOfOrder: number;
  /** File lines of the first out-of-order rows. */
  readonly outOfOrderLines: readonly number[];
  /** Rows whose time equals an earlier row's time. */
  readonly duplicates: number;
  /** File lines of the first duplicate-time rows. */
  readonly duplicateLines: readonly number[];
  /** Whether rows were sorted by time (`order: 'sort'`). */
  readonly sorted: boolean;
}

/** A CSV file read into typed arrays. Row `r` of every array is the same reading. */
export interface CsvTable {
  /** File path or given name of the input. */
  readonly source: string;
  /** Field delimiter used (given or sniffed). */
  readonly delimiter: CsvDelimiter;
  /** All header names, trimmed, in file order. */
  readonly columns: readonly string[];
  /** Name of the time column, or `null` when there is none. */
  readonly timeColumn: string | null;
  /** What the time column held, or `null`. */
  readonly timeInfo: TimeColumnInfo | null;
  /** `[rows]` milliseconds since 1970-01-01T00:00:00Z, or `null` without a time column. */
  readonly timesMs: Float64Array | null;
  /** Channel names in model channel order (`C = channels.length`). */
  readonly channels: readonly string[];
  /** `[rows, C]` row-major channel values. See {@link toChannelMajor} for `[C, rows]`. */
  readonly values: Float32Array;
  /** Number of rows in the table (after skipping). */
  readonly rows: number;
  /** `[rows]` 1-based file line each row came from. */
  readonly lines: Uint32Array;
  /** Name of the label column, or `null`. */
  readonly labelColumn: string | null;
  /** `[rows]` 0/1 labels, or `null` without a label column. */
  readonly labels: Uint8Array | null;
  readonly report: CsvTableReport;
}

/**
 * Parses CSV text (with a header row) into a {@link CsvTable}. See {@link CsvTableOptions} for
 * how time, label and channel columns are chosen and how missing cells and row order are handled.
 *
 * @throws CsvTableError for bad options, unreadable CSV, no rows or channels, and for data
 *   problems the chosen policies do not repair; the message names the source, line, column and
 *   cell value where they apply.
 */
export function parseCsvTable(text: string, options: CsvTableOptions = {}): CsvTable {
  const opts = normalizeCsvTableOptions(options);
  const { source } = opts;
  const records = tokenizeCsv(text, { delimiter: opts.delimiter, source });
  if (records.rows.length === 0) {
    throw new CsvTableError('no-data-rows', 'the file has a header but no data rows', { source, line: records.headerLine });
  }
  const roles = resolveColumnRoles(records, opts);
  const { time, label, channels } = roles;
  if (time === null && opts.order !== 'keep') {
    throw new CsvTableError('invalid-option', `option order '${opts.order}' needs a time column, and there is none`, {
      source,
    });
  }

  const valued: ColumnRead<Float32Array | Int8Array>[] = label === null ? [...channels] : [label, ...channels];
  for (const c of valued) {
    if (c.valid === 0) {
      throw new CsvTableError('no-valid-value', 'has no valid value in any row', { source, column: c.name });
    }
  }

  const kept = selectRows(records, roles.time, valued, opts);
  if (kept.length === 0) {
    throw new CsvTableError('no-data-rows', `every row was skipped (onMissing: 'skip-row')`, { source });
  }
  const order = checkOrder(records, time, kept, opts);

  const rows = kept.length;
  const C = channels.length;
  const values = new Float32Array(rows * C);
  let heldCells = 0;
  channels.forEach((channel, c) => {
    heldCells += gatherHeld(channel.values, kept, Number.isNaN, (j, v) => {
      values[j * C + c] = v;
    });
  });
  let labels: Uint8Array | null = null;
  if (label !== null) {
    const out = new Uint8Array(rows);
    heldCells += gatherHeld(label.values, kept, (v) => v === -1, (j, v) => {
      out[j] = v;
    });
    labels = out;
  }
  const timesMs = time === null ? null : Float64Array.from(kept, (r) => time.values[r]);

  const withTime: ColumnRead<unknown>[] = time === null ? valued : [time, ...valued];
  const cellIssues = withTime
    .filter((c) => c.issues.missing + c.issues.invalid > 0)
    .sort((a, b) => a.index - b.index)
    .map((c) => c.issues);

  return {
    source,
    delimiter: records.delimiter,
    columns: records.header,
    timeColumn: time?.name ?? null,
    timeInfo:
      time === null || roles.timeFoundBy === null
        ? null
        : {
            foundBy: roles.timeFoundBy,
            dateTimesWithZone: time.seen.zoned,
            dateTimesWithoutZone: time.seen.zoneless,
            epochNumbers: time.seen.epoch,
            epochUnit: time.epochUnit,
          },
    timesMs,
    channels: channels.map((c) => c.name),
    values,
    rows,
    lines: Uint32Array.from(kept, (r) => records.lines[r]),
    labelColumn: label?.name ?? null,
    labels,
    report: {
      dataRows: records.rows.length,
      emptyLines: records.emptyLines,
      rowsSkipped: records.rows.length - rows,
      heldCells,
      cellIssues,
      ignoredColumns: roles.ignored,
      ...order,
    },
  };
}

/**
 * Reads a CSV file (UTF-8, optional BOM) and parses it with {@link parseCsvTable}.
 * @param path file path; also the default `source` in messages.
 * @throws CsvTableError `read-failed` when the file cannot be read, and whatever
 *   {@link parseCsvTable} throws.
 */
export async function readCsvTable(path: string, options: CsvTableOptions = {}): Promise<CsvTable> {
  const source = options.source ?? path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CsvTableError('read-failed', `cannot read the file: ${reason}`, { source }, { cause: err });
  }
  return parseCsvTable(text, { ...options, source });
}

/**
 * Transposes the `[rows, C]` row-major values to channel-major `[C, rows]`, the layout of one
 * `[1, C, L]` model input with `L = rows`.
 * @returns a new array; `out[c * rows + r] = values[r * C + c]`.
 * @throws Error if `values.length !== rows * channels.length`.
 */
export function toChannelMajor(table: Pick<CsvTable, 'values' | 'rows' | 'channels'>): Float32Array {
  const { values, rows } = table;
  const C = table.channels.length;
  if (values.length !== rows * C) {
    throw new Error(`toChannelMajor: values has ${values.length} entries, expected rows * C = ${rows} * ${C}`);
  }
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) out[c * rows + r] = values[r * C + c];
  }
  return out;
}

/**
 * Applies the time rule and the missing-cell policy row by row, in file order, so that under
 * `'error'` the first bad cell (first row, leftmost column) is the one reported.
 * @returns indices of the rows kept.
 */
function selectRows(
  records: CsvRecords,
  time: ColumnRead<Float64Array> | null,
  valued: readonly ColumnRead<Float32Array | Int8Array>[],
  opts: NormalizedCsvTableOptions,
): number[] {
  const { source, onMissing } = opts;
  const checked = [...(time === null ? [] : [time]), ...valued].sort((a, b) => a.index - b.index);
  const kept: number[] = [];
  records.rows.forEach((row, r) => {
    for (const c of checked) {
      const v = c.values[r];
      const isLabel = c.values instanceof Int8Array;
      if (isLabel ? v !== -1 : !Number.isNaN(v)) continue;
      const text = row[c.index];
      if (onMissing === 'skip-row') return;
      if (c === time) {
        throw new CsvTableError(
          'invalid-time',
          isMissingCell(text)
            ? `time is missing (a time cannot be held; onMissing 'skip-row' drops such rows)`
            : `is not a time: expected ISO 8601, 'YYYY-MM-DD hh:mm:ss[.fff]' or epoch seconds/milliseconds`,
          { source, line: records.lines[r], column: c.name, value: text },
        );
      }
      if (onMissing === 'error') {
        const missing = isMissingCell(text);
        const what = isLabel ? 'a 0/1 label (0, 1, true, false)' : 'a number';
        throw new CsvTableError(
          missing ? 'missing-value' : 'invalid-value',
          `${missing ? 'missing value' : `is not ${what}`} (onMissing is 'error'; 'hold' or 'skip-row' repair it)`,
          { source, line: records.lines[r], column: c.name, value: text },
        );
      }
    }
    kept.push(r);
  });
  return kept;
}

type OrderReport = Pick<
  CsvTableReport,
  'outOfOrder' | 'outOfOrderLines' | 'duplicates' | 'duplicateLines' | 'sorted'
>;

/**
 * Counts rows out of time order and duplicate times over the kept rows in file order, then
 * applies the order policy (sorting `kept` in place under `'sort'`).
 */
function checkOrder(
  records: CsvRecords,
  time: ColumnRead<Float64Array> | null,
  kept: number[],
  opts: NormalizedCsvTableOptions,
): OrderReport {
  const report = { outOfOrder: 0, outOfOrderLines: [] as number[], duplicates: 0, duplicateLines: [] as number[] };
  if (time === null) return { ...report, sorted: false };
  const timesMs = time.values;
  const seen = new Set<number>();
  kept.forEach((r, k) => {
    const t = timesMs[r];
    const line = records.lines[r];
    const previous = k > 0 ? timesMs[kept[k - 1]] : -Infinity;
    if (t <= previous && opts.order === 'error') {
      throw new CsvTableError(
        'out-of-order',
        `time is not after the previous row's (line ${records.lines[kept[k - 1]]}); ` +
          `order 'sort' sorts rows, 'keep' keeps file order`,
        { source: opts.source, line, column: time.name, value: records.rows[r][time.index] },
      );
    }
    if (t < previous) {
      report.outOfOrder++;
      if (report.outOfOrderLines.length < opts.maxReportedLines) report.outOfOrderLines.push(line);
    }
    if (seen.has(t)) {
      report.duplicates++;
      if (report.duplicateLines.length < opts.maxReportedLines) report.duplicateLines.push(line);
    } else seen.add(t);
  });
  // Array.prototype.sort is stable, so equal times keep file order.
  if (opts.order === 'sort') kept.sort((a, b) => timesMs[a] - timesMs[b]);
  return { ...report, sorted: opts.order === 'sort' };
}

/**
 * Copies a column's values for the kept rows, in order, filling rows without a value with the
 * last value before them, or, before the first value, with the first value ('hold'). Under the
 * other policies no kept row lacks a value.
 * @returns how many cells were filled.
 */
function gatherHeld(
  source: Float32Array | Int8Array,
  kept: readonly number[],
  isNone: (v: number) => boolean,
  put: (row: number, value: number) => void,
): number {
  let last = NaN;
  for (const r of kept) {
    if (!isNone(source[r])) {
      last = source[r];
      break;
    }
  }
  let held = 0;
  kept.forEach((r, j) => {
    const v = source[r];
    if (isNone(v)) {
      put(j, last);
      held++;
    } else {
      last = v;
      put(j, v);
    }
  });
  return held;
}
