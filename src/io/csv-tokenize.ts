/**
 * CSV text → header and rows of strings, with the file line of every row. Tokenising is
 * csv-parse's (RFC 4180 quoting, quoted fields over several lines); this file adds BOM removal,
 * delimiter sniffing, mixed line endings, empty-line skipping and errors that name the file.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { type CsvDelimiter, isCsvDelimiter, sniffDelimiter } from './delimiter-sniff.js';
import { CsvTableError } from './csv-table-error.js';

/** Header and data rows of a CSV text. */
export interface CsvRecords {
  /** The delimiter used (given or sniffed). */
  readonly delimiter: CsvDelimiter;
  /** Header names, trimmed of surrounding whitespace. */
  readonly header: readonly string[];
  /** Data rows, each exactly `header.length` raw (untrimmed) cells. */
  readonly rows: readonly (readonly string[])[];
  /** 1-based file line on which each data row starts; `lines[i]` belongs to `rows[i]`. */
  readonly lines: Uint32Array;
  /** 1-based file line of the header. */
  readonly headerLine: number;
  /** Blank lines skipped (a line holding only spaces counts). */
  readonly emptyLines: number;
}

/** Options of {@link tokenizeCsv}. */
export interface TokenizeOptions {
  /** Field delimiter, or `'auto'` to sniff it ({@link sniffDelimiter}). */
  readonly delimiter: CsvDelimiter | 'auto';
  /** Name of the input for error messages. */
  readonly source: string;
}

interface ParsedRecord {
  record: string[];
  /** `bytes`: offset in the input just past this record and its line ending. */
  info: { bytes: number };
}

/** Line breaks in `buf[start, end)`; `\r\n` counts once, as an editor shows it. */
function countLineBreaks(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b === 0x0a) n++;
    else if (b === 0x0d) {
      n++;
      if (i + 1 < end && buf[i + 1] === 0x0a) i++;
    }
  }
  return n;
}

function isBlank(record: readonly string[]): boolean {
  return record.length === 1 && record[0].trim() === '';
}

/**
 * Splits CSV text into header and rows. A leading UTF-8 byte order mark is dropped; `\r\n`, `\n`
 * and `\r` line endings may be mixed; blank lines are skipped (so in a one-column file an empty
 * cell cannot be told from a blank line, and is skipped too).
 *
 * @throws CsvTableError `empty-input` when there is no header line; `syntax` for quoting errors;
 *   `field-count` for a row whose field count differs from the header's; `duplicate-column` when
 *   two header names are equal after trimming; `invalid-option` for a bad delimiter.
 */
export function tokenizeCsv(text: string, options: TokenizeOptions): CsvRecords {
  const { source } = options;
  if (options.delimiter !== 'auto' && !isCsvDelimiter(options.delimiter)) {
    throw new CsvTableError(
      'invalid-option',
      `delimiter must be 'auto', ',', ';', '\\t' or '|'`,
      { source, value: String(options.delimiter) },
    );
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const delimiter = options.delimiter === 'auto' ? sniffDelimiter(body) : options.delimiter;

  // Parsed as bytes so that record end offsets index the same buffer we count lines in.
  const buf = Buffer.from(body, 'utf8');
  let parsed: ParsedRecord[];
  try {
    parsed = parse(buf, {
      delimiter,
      // Listing all three makes csv-parse accept them mixed instead of fixing the first one seen.
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      info: true,
      // csv-parse's typings do not model the `{ record, info }` shape that `info: true` gives.
    }) as unknown as ParsedRecord[];
  } catch (err) {
    if (err instanceof CsvError) {
      const line = typeof err['lines'] === 'number' ? err['lines'] : undefined;
      throw new CsvTableError('syntax', `cannot tokenise CSV: ${err.message}`, { source, line }, { cause: err });
    }
    throw err;
  }

  // Every physical line belongs to exactly one record (blank lines give a one-empty-field
  // record), so counting line breaks record by record gives each record's first line. (csv-parse's
  // own line count takes a CRLF inside a quoted field for two lines.)
  let offset = 0;
  let nextLine = 1;
  let emptyLines = 0;
  let header: string[] | null = null;
  let headerLine = 0;
  const rows: string[][] = [];
  const lines: number[] = [];
  for (const { record, info } of parsed) {
    const startLine = nextLine;
    nextLine += countLineBreaks(buf, offset, info.bytes);
    offset = info.bytes;
    if (isBlank(record)) {
      emptyLines++;
      continue;
    }
    if (header === null) {
      header = record.map((name) => name.trim());
      headerLine = startLine;
      checkUniqueNames(header, source, headerLine);
      continue;
    }
    if (record.length !== header.length) {
      throw new CsvTableError(
        'field-count',
        `row has ${record.length} field${record.length === 1 ? '' : 's'}, the header has ${header.length} ` +
          `(delimiter ${JSON.stringify(delimiter)})`,
        { source, line: startLine },
      );
    }
    rows.push(record);
    lines.push(startLine);
  }
  if (header === null) {
    throw new CsvTableError('empty-input', 'no header row (the input is empty or blank)', { source });
  }
  return { delimiter, header, rows, lines: Uint32Array.from(lines), headerLine, emptyLines };
}

function checkUniqueNames(header: readonly string[], source: string, line: number): void {
  const seen = new Set<string>();
  for (const name of header) {
    if (name === '') continue; // unnamed columns are never selected, so they may repeat
    if (seen.has(name)) {
      throw new CsvTableError('duplicate-column', 'header names this column twice', { source, line, column: name });
    }
    seen.add(name);
  }
}
