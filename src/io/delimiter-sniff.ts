/**
 * Guessing the field delimiter of a CSV text from its first lines.
 */

/** Field delimiters convwatch reads and writes: comma, semicolon, tab, pipe. */
export type CsvDelimiter = ',' | ';' | '\t' | '|';

/** The delimiters {@link sniffDelimiter} chooses among, in tie-break order. */
export const CSV_DELIMITERS: readonly CsvDelimiter[] = [',', ';', '\t', '|'];

/** Whether `value` is one of {@link CSV_DELIMITERS}. */
export function isCsvDelimiter(value: unknown): value is CsvDelimiter {
  return typeof value === 'string' && (CSV_DELIMITERS as readonly string[]).includes(value);
}

/** Options of {@link sniffDelimiter}. */
export interface SniffOptions {
  /** Most logical lines (header included) to look at. Default {@link DEFAULT_SNIFF_LINES}. */
  maxLines?: number;
}

/** Default number of logical lines {@link sniffDelimiter} examines. */
export const DEFAULT_SNIFF_LINES = 64;

/**
 * Counts, per candidate delimiter, the occurrences outside double quotes on each of the first
 * non-empty logical lines (a quoted field may span physical lines). A line cut off by the end of
 * the text inside a quote is dropped.
 * @returns one count row per line: `counts[line][candidateIndex]`.
 */
function countDelimiters(text: string, maxLines: number): number[][] {
  const lines: number[][] = [];
  let counts = CSV_DELIMITERS.map(() => 0);
  let inQuote = false;
  let lineHasContent = false;
  for (let i = 0; i < text.length && lines.length < maxLines; i++) {
    const ch = text[i];
    if (ch === '"') {
      // A doubled quote inside a quoted field toggles twice, which is what we want.
      inQuote = !inQuote;
      lineHasContent = true;
    } else if (!inQuote && (ch === '\n' || ch === '\r')) {
      if (lineHasContent) lines.push(counts);
      counts = CSV_DELIMITERS.map(() => 0);
      lineHasContent = false;
    } else {
      if (!inQuote) {
        const k = CSV_DELIMITERS.indexOf(ch as CsvDelimiter);
        if (k >= 0) counts[k]++;
      }
      if (ch !== ' ') lineHasContent = true;
    }
  }
  if (!inQuote && lineHasContent && lines.length < maxLines) lines.push(counts);
  return lines;
}

/**
 * Guesses the delimiter: among the candidates that occur in the header line, the one whose count
 * on the following lines most often equals its count in the header (a real delimiter splits every
 * row into as many fields as the header); ties go to the higher header count, then to the order of
 * {@link CSV_DELIMITERS}. Delimiters inside double quotes are not counted, so a decimal comma in a
 * `;` file or a quoted name with a comma does not mislead it. A file whose header holds none of
 * the candidates is a one-column file, read with `,`.
 *
 * @param text CSV text without a byte order mark.
 * @throws Error if `options.maxLines` is not an integer ≥ 1.
 */
export function sniffDelimiter(text: string, options: SniffOptions = {}): CsvDelimiter {
  const maxLines = options.maxLines ?? DEFAULT_SNIFF_LINES;
  if (!Number.isInteger(maxLines) || maxLines < 1) {
    throw new Error(`sniffDelimiter: maxLines must be an integer >= 1, got ${maxLines}`);
  }
  const lines = countDelimiters(text, maxLines);
  if (lines.length === 0) return ',';
  const header = lines[0];
  const body = lines.slice(1);
  let best: CsvDelimiter = ',';
  let bestAgreement = -1;
  let bestHeaderCount = 0;
  CSV_DELIMITERS.forEach((delimiter, k) => {
    if (header[k] === 0) return;
    const agreement = body.length === 0 ? 1 : body.filter((c) => c[k] === header[k]).length / body.length;
    if (agreement > bestAgreement || (agreement === bestAgreement && header[k] > bestHeaderCount)) {
      best = delimiter;
      bestAgreement = agreement;
      bestHeaderCount = header[k];
    }
  });
  return best;
}
