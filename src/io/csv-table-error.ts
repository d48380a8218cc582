/**
 * The one error type of the CSV reader: a code to branch on, and where in which file.
 */

/** What went wrong; stable strings, safe to branch on. */
export type CsvTableErrorCode =
  /** An option has a bad value or contradicts another option or the header. */
  | 'invalid-option'
  /** The file could not be read. */
  | 'read-failed'
  /** No header row (empty or blank text). */
  | 'empty-input'
  /** A header but no data rows. */
  | 'no-data-rows'
  /** Tokenising failed (unclosed quote, stray quote, record too large). */
  | 'syntax'
  /** A row has more or fewer fields than the header. */
  | 'field-count'
  /** Two header cells have the same name. */
  | 'duplicate-column'
  /** An option names a column the header does not have. */
  | 'unknown-column'
  /** No channel column is left after removing time, label, excluded and non-numeric columns. */
  | 'no-channels'
  /** A chosen column has no valid value at all, so nothing can be held into its gaps. */
  | 'no-valid-value'
  /** A missing channel or label cell under `onMissing: 'error'`. */
  | 'missing-value'
  /** A non-numeric channel cell or a label that is not 0/1/true/false, under `onMissing: 'error'`. */
  | 'invalid-value'
  /** A time cell that does not parse, unless `onMissing: 'skip-row'`. */
  | 'invalid-time'
  /** Rows not strictly increasing in time under `order: 'error'`. */
  | 'out-of-order';

/** Where an error is, as far as it is known. */
export interface CsvErrorLocation {
  /** File path or other name of the input. */
  readonly source: string;
  /** 1-based line in the file (the header is line 1 when the file starts with it). */
  readonly line?: number;
  /** Column name. */
  readonly column?: string;
  /** The offending cell text or option value. */
  readonly value?: string;
}

/**
 * Thrown by the CSV reader. The message reads
 * `<source>:<line>: column "<column>": <detail> (value "<value>")`, leaving out the parts that
 * do not apply; the same parts are fields, for programs.
 */
export class CsvTableError extends Error {
  override readonly name = 'CsvTableError';
  readonly code: CsvTableErrorCode;
  readonly source: string;
  /** 1-based file line, or `null` when the error is not about one line. */
  readonly line: number | null;
  readonly column: string | null;
  readonly value: string | null;

  /**
   * @param code what went wrong.
   * @param detail human sentence without location, e.g. `is not a number`.
   * @param where location parts; those given appear in the message.
   */
  constructor(code: CsvTableErrorCode, detail: string, where: CsvErrorLocation, options?: { cause?: unknown }) {
    super(formatMessage(detail, where), options);
    this.code = code;
    this.source = where.source;
    this.line = where.line ?? null;
    this.column = where.column ?? null;
    this.value = where.value ?? null;
  }
}

/** Longest cell text quoted in full in a message; longer ones are cut. */
const MAX_VALUE_CHARS = 80;

function formatMessage(detail: string, where: CsvErrorLocation): string {
  let head = where.source;
  if (where.line !== undefined) head += `:${where.line}`;
  let text = `${head}: `;
  if (where.column !== undefined) text += `column ${JSON.stringify(where.column)}: `;
  text += detail;
  if (where.value !== undefined) {
    const v = where.value.length > MAX_VALUE_CHARS ? `${where.value.slice(0, MAX_VALUE_CHARS)}…` : where.value;
    text += ` (value ${JSON.stringify(v)})`;
  }
  return text;
}
