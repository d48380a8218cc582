/**
 * Reading one column of tokenised CSV rows into a typed array, counting the cells that gave no
 * value. Policies (hold, skip, error) are applied later, over whole rows.
 */
import type { CsvRecords } from './csv-tokenize.js';
import { type CellProblem, isMissingCell, parseLabelCell, parseNumericCell } from './numeric-cell.js';
import { type EpochUnit, TimeCellParser } from './time-parse.js';

/** Cells of one column that gave no value. */
export interface ColumnCellIssues {
  /** Column name. */
  readonly column: string;
  /** Missing cells (blank or a missing token such as `NaN`, `NA`, `null`). */
  readonly missing: number;
  /** Cells that are present but not valid (not a number, not a time, not a 0/1 label). */
  readonly invalid: number;
  /** 1-based file lines of the first problem cells, in file order, at most `maxReportedLines`. */
  readonly firstLines: readonly number[];
  /** Text of the first invalid cell, to show what the column holds; `null` if none. */
  readonly firstInvalidValue: string | null;
}

/** One column read into a typed array. */
export interface ColumnRead<T> {
  /** Index of the column in the header. */
  readonly index: number;
  /** Header name. */
  readonly name: string;
  /** One entry per data row; a row without a value holds `NaN` (floats) or `-1` (labels). */
  readonly values: T;
  /** Rows with a value. */
  readonly valid: number;
  /** The rows without one, counted. */
  readonly issues: ColumnCellIssues;
}

class IssueTally {
  missing = 0;
  invalid = 0;
  readonly firstLines: number[] = [];
  firstInvalidValue: string | null = null;

  constructor(
    private readonly column: string,
    private readonly maxLines: number,
  ) {}

  add(problem: CellProblem, line: number, text: string): void {
    if (problem === 'missing') this.missing++;
    else {
      this.invalid++;
      this.firstInvalidValue ??= text;
    }
    if (this.firstLines.length < this.maxLines) this.firstLines.push(line);
  }

  summary(): ColumnCellIssues {
    const { column, missing, invalid, firstLines, firstInvalidValue } = this;
    return { column, missing, invalid, firstLines, firstInvalidValue };
  }
}

/**
 * Reads a channel column as float32 values; see `numeric-cell.ts` for what counts as a number.
 * @returns `values[row]` is the value or `NaN`.
 */
export function readNumericColumn(records: CsvRecords, index: number, maxReportedLines: number): ColumnRead<Float32Array> {
  const name = records.header[index];
  const tally = new IssueTally(name, maxReportedLines);
  const values = new Float32Array(records.rows.length);
  let valid = 0;
  records.rows.forEach((row, r) => {
    const v = parseNumericCell(row[index]);
    if (typeof v === 'number') {
      values[r] = v;
      valid++;
    } else {
      values[r] = NaN;
      tally.add(v, records.lines[r], row[index]);
    }
  });
  return { index, name, values, valid, issues: tally.summary() };
}

/**
 * Reads a label column: `0`/`1`/`0.0`/`1.0`/`true`/`false`.
 * @returns `values[row]` is 0, 1, or -1 where the cell gave no label.
 */
export function readLabelColumn(records: CsvRecords, index: number, maxReportedLines: number): ColumnRead<Int8Array> {
  const name = records.header[index];
  const tally = new IssueTally(name, maxReportedLines);
  const values = new Int8Array(records.rows.length);
  let valid = 0;
  records.rows.forEach((row, r) => {
    const v = parseLabelCell(row[index]);
    if (typeof v === 'number') {
      values[r] = v;
      valid++;
    } else {
      values[r] = -1;
      tally.add(v, records.lines[r], row[index]);
    }
  });
  return { index, name, values, valid, issues: tally.summary() };
}

/** A time column read, with what its cells looked like. */
export interface TimeColumnRead extends ColumnRead<Float64Array> {
  /** Date-time cells with a zone, without one (read as UTC), and epoch-number cells. */
  readonly seen: { readonly zoned: number; readonly zoneless: number; readonly epoch: number };
  /** The epoch unit used, or `null` when the column held no epoch numbers. */
  readonly epochUnit: 's' | 'ms' | null;
}

/**
 * Reads a time column (see `time-parse.ts`).
 * @returns `values[row]` is milliseconds since the epoch (UTC) or `NaN`.
 * @throws Error if `epochUnit` is not 'auto', 's' or 'ms'.
 */
export function readTimeColumn(
  records: CsvRecords,
  index: number,
  epochUnit: EpochUnit,
  maxReportedLines: number,
): TimeColumnRead {
  const name = records.header[index];
  const tally = new IssueTally(name, maxReportedLines);
  const parser = new TimeCellParser(epochUnit);
  const values = new Float64Array(records.rows.length);
  let valid = 0;
  records.rows.forEach((row, r) => {
    const ms = parser.parse(row[index]);
    values[r] = ms;
    if (Number.isNaN(ms)) tally.add(isMissingCell(row[index]) ? 'missing' : 'invalid', records.lines[r], row[index]);
    else valid++;
  });
  return { index, name, values, valid, issues: tally.summary(), seen: { ...parser.seen }, epochUnit: parser.epochUnit };
}
