/**
 * Writing CSV rows to a file or any writable stream, with backpressure.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { type CsvNumberFormat, CSV_NUMBER_FORMATS, formatCsvNumber } from './csv-number.js';
import { CSV_DELIMITERS, type CsvDelimiter, isCsvDelimiter } from './delimiter-sniff.js';

/** A value for one cell. `null` and `undefined` write an empty cell; numbers see {@link formatCsvNumber}. */
export type CsvCell = string | number | boolean | null | undefined;

/** Options of {@link CsvWriter}. */
export interface CsvWriterOptions {
  /** Field delimiter. Default `,`. */
  delimiter?: CsvDelimiter;
  /** Line ending after every row, header included. Default `'\n'`. */
  lineEnding?: '\n' | '\r\n';
  /** How numbers are written; see {@link CsvNumberFormat}. Default `'float32'`. */
  numberFormat?: CsvNumberFormat;
  /** Name of the target in error messages. Default: the path for {@link CsvWriter.open}, else `'<stream>'`. */
  target?: string;
}

/**
 * Quotes a cell when it must be: when it holds a double quote, a line break, leading or trailing
 * whitespace, or any of `,` `;` tab `|` (all four, not only the delimiter in use, so that
 * delimiter sniffing is never misled by a cell). Quotes inside are doubled.
 */
export function quoteCsvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const NEEDS_QUOTES = /["\r\n,;\t|]|^\s|\s$/;

/**
 * Writes rows under a fixed header, one line per row. The header goes out on construction.
 *
 * Obligations: `await` every {@link write} (it waits while the stream's buffer is full, so memory
 * stays bounded), and call {@link close} (or {@link abort}) once at the end. Errors of the stream
 * are kept and rethrown by the next `write` or `close`, never thrown as an unhandled event.
 */
export class CsvWriter {
  private readonly stream: Writable;
  private readonly columnCount: number;
  private readonly delimiter: CsvDelimiter;
  private readonly lineEnding: string;
  private readonly numberFormat: CsvNumberFormat;
  private readonly target: string;
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  private written = 0;

  /**
   * @param stream destination; the writer takes it over (ends it on `close`).
   * @param header column names, at least one.
   * @throws Error for an empty header or a bad option value (naming it).
   */
  constructor(stream: Writable, header: readonly string[], options: CsvWriterOptions = {}) {
    const delimiter = options.delimiter ?? ',';
    if (!isCsvDelimiter(delimiter)) {
      throw new Error(`CsvWriter: delimiter must be one of ${JSON.stringify(CSV_DELIMITERS)}, got ${JSON.stringify(delimiter)}`);
    }
    const lineEnding = options.lineEnding ?? '\n';
    if (lineEnding !== '\n' && lineEnding !== '\r\n') {
      throw new Error(`CsvWriter: lineEnding must be "\\n" or "\\r\\n", got ${JSON.stringify(lineEnding)}`);
    }
    const numberFormat = options.numberFormat ?? 'float32';
    if (!CSV_NUMBER_FORMATS.includes(numberFormat)) {
      throw new Error(`CsvWriter: numberFormat must be 'float32' or 'float64', got ${JSON.stringify(numberFormat)}`);
    }
    if (header.length === 0) throw new Error('CsvWriter: header must name at least one column');
    this.stream = stream;
    this.columnCount = header.length;
    this.delimiter = delimiter;
    this.lineEnding = lineEnding;
    this.numberFormat = numberFormat;
    this.target = options.target ?? '<stream>';
    stream.on('error', (err: Error) => {
      this.failure ??= err;
    });
    stream.write(this.line(header));
  }

  /**
   * Creates (or truncates) a file, waits until it is open, and writes the header.
   * @param path file to write.
   * @throws Error (rejects) naming the path when the file cannot be opened (missing directory,
   *   no permission), or for a bad option.
   */
  static async open(path: string, header: readonly string[], options: CsvWriterOptions = {}): Promise<CsvWriter> {
    const stream = createWriteStream(path, { flags: 'w' });
    try {
      await once(stream, 'ready');
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`CsvWriter(${path}): cannot open the file: ${reason}`, { cause: err });
    }
    try {
      return new CsvWriter(stream, header, { target: path, ...options });
    } catch (err) {
      stream.destroy();
      throw err;
    }
  }

  /** Data rows accepted so far (header not counted). */
  get rowsWritten(): number {
    return this.written;
  }

  /**
   * Writes one row. Resolves at once while the stream has buffer room, else when it drains.
   * @param row exactly one cell per header column.
   * @throws Error (rejects) if the row has the wrong length, after `close`, or if the stream failed.
   */
  async write(row: readonly CsvCell[]): Promise<void> {
    if (this.closing !== null) throw new Error(`CsvWriter(${this.target}): write after close`);
    if (row.length !== this.columnCount) {
      throw new Error(`CsvWriter(${this.target}): row has ${row.length} cells, the header has ${this.columnCount}`);
    }
    this.throwIfFailed();
    // The header (or an unawaited write) may have filled the buffer already.
    if (this.stream.writableNeedDrain) await this.drain();
    const fits = this.stream.write(this.line(row));
    this.written++;
    if (!fits) await this.drain();
  }

  /**
   * Flushes, ends the stream and resolves once everything is written (for a file: written and
   * closed). Calling it again returns the same promise.
   * @throws Error (rejects) if the stream failed at any point, naming the target.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stream.end();
      try {
        await finished(this.stream);
      } catch (err) {
        this.failure ??= err instanceof Error ? err : new Error(String(err));
      }
      this.throwIfFailed();
    })();
    return this.closing;
  }

  /** Stops at once without flushing: buffered rows are lost. For error paths; `close` is the normal end. */
  abort(): void {
    this.closing ??= Promise.resolve();
    this.stream.destroy();
  }

  private line(cells: readonly CsvCell[]): string {
    let text = '';
    for (let i = 0; i < cells.length; i++) {
      if (i > 0) text += this.delimiter;
      text += this.cell(cells[i]);
    }
    return text + this.lineEnding;
  }

  private cell(value: CsvCell): string {
    if (value === null || value === undefined) return '';
    if (typeof value === 'number') return formatCsvNumber(value, this.numberFormat);
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    return quoteCsvField(value);
  }

  private drain(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        this.stream.off('drain', onDrain);
        this.stream.off('error', onError);
        this.stream.off('close', onClose);
        if (err === undefined) resolve();
        else reject(this.wrap(err));
      };
      const onDrain = (): void => done();
      const onError = (err: Error): void => done(err);
      const onClose = (): void => done(this.failure ?? new Error('stream closed before it drained'));
      this.stream.on('drain', onDrain);
      this.stream.on('error', onError);
      this.stream.on('close', onClose);
    });
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.wrap(this.failure);
  }

  private wrap(err: Error): Error {
    return new Error(`CsvWriter(${this.target}): ${err.message}`, { cause: err });
  }
}
