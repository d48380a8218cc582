import { describe, expect, it } from 'vitest';
import { CsvTableError } from '../../src/io/csv-table-error.js';
import { tokenizeCsv } from '../../src/io/csv-tokenize.js';

const auto = { delimiter: 'auto', source: 'in.csv' } as const;

function thrown(fn: () => unknown): CsvTableError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CsvTableError) return err;
    throw err;
  }
  throw new Error('expected a CsvTableError');
}

describe('tokenizeCsv', () => {
  it('reads mixed CRLF, LF and CR line endings, with the start line of every row', () => {
    const r = tokenizeCsv('a,b\r\n1,2\n3,4\r\n5,6\r7,8', auto);
    expect(r.header).toEqual(['a', 'b']);
    expect(r.rows).toEqual([['1', '2'], ['3', '4'], ['5', '6'], ['7', '8']]);
    expect(Array.from(r.lines)).toEqual([2, 3, 4, 5]);
  });

  it('drops a UTF-8 BOM so the first header name is clean', () => {
    const r = tokenizeCsv('\uFEFFtime,value\n1,2\n', auto);
    expect(r.header[0]).toBe('time');
    expect(r.header[0].length).toBe(4);
  });

  it('unquotes fields with delimiters, doubled quotes and line breaks, and counts lines right after them', () => {
    const r = tokenizeCsv('name,v\n"a,b",1\n"say ""hi""",2\n"two\r\nlines",3\n"x",4\n', auto);
    expect(r.rows.map((row) => row[0])).toEqual(['a,b', 'say "hi"', 'two\r\nlines', 'x']);
    // The quoted line break puts row 4 on lines 4-5, so row 5 starts on line 6.
    expect(Array.from(r.lines)).toEqual([2, 3, 4, 6]);
  });

  it('keeps line numbers right after multi-byte characters', () => {
    const r = tokenizeCsv('Temp °C,Notiz\n1,"grüß\r\ndich"\n2,ä\n3,€\n', auto);
    expect(r.header).toEqual(['Temp °C', 'Notiz']);
    expect(r.rows.map((row) => row[1])).toEqual(['grüß\r\ndich', 'ä', '€']);
    expect(Array.from(r.lines)).toEqual([2, 4, 5]);
  });

  it('skips blank lines, before the header too, and counts them', () => {
    const r = tokenizeCsv('\n\na,b\n1,2\n\n   \n3,4\n\n', auto);
    expect(r.headerLine).toBe(3);
    expect(r.rows).toEqual([['1', '2'], ['3', '4']]);
    expect(Array.from(r.lines)).toEqual([4, 7]);
    expect(r.emptyLines).toBe(5);
  });

  it('trims header names but leaves cells as they are', () => {
    const r = tokenizeCsv(' a , b \n 1 ,2\n', auto);
    expect(r.header).toEqual(['a', 'b']);
    expect(r.rows[0]).toEqual([' 1 ', '2']);
  });

  it('uses a given delimiter without sniffing', () => {
    const r = tokenizeCsv('a;b,c\n1;2,3\n', { delimiter: ',', source: 'x' });
    expect(r.delimiter).toBe(',');
    expect(r.header).toEqual(['a;b', 'c']);
  });

  it('names file and line for a row with the wrong field count', () => {
    const err = thrown(() => tokenizeCsv('a,b\n1,2\n3\n4,5\n', auto));
    expect(err.code).toBe('field-count');
    expect(err.line).toBe(3);
    expect(err.message).toBe('in.csv:3: row has 1 field, the header has 2 (delimiter ",")');
  });

  it('names file and line for an unclosed quote', () => {
    const err = thrown(() => tokenizeCsv('a,b\n1,2\n3,"4\n5,6\n', auto));
    expect(err.code).toBe('syntax');
    expect(err.message).toMatch(/^in\.csv:\d+: cannot tokenise CSV: .*[Qq]uote/);
  });

  it('rejects a stray quote inside an unquoted field with its line', () => {
    const err = thrown(() => tokenizeCsv('a,b\n1,2\n3,4"x"\n', auto));
    expect(err.code).toBe('syntax');
    expect(err.line).toBe(3);
  });

  it('rejects duplicate header names, and empty input', () => {
    const dup = thrown(() => tokenizeCsv('a,b,a\n1,2,3\n', auto));
    expect(dup.code).toBe('duplicate-column');
    expect(dup.message).toBe('in.csv:1: column "a": header names this column twice');
    expect(thrown(() => tokenizeCsv('', auto)).code).toBe('empty-input');
    expect(thrown(() => tokenizeCsv('\uFEFF\r\n \n', auto)).code).toBe('empty-input');
  });

  it('allows several unnamed columns', () => {
    expect(tokenizeCsv(',a,\n1,2,3\n', auto).header).toEqual(['', 'a', '']);
  });

  it('rejects an unknown delimiter option', () => {
    const err = thrown(() => tokenizeCsv('a\n1\n', { delimiter: ':' as never, source: 'x' }));
    expect(err.code).toBe('invalid-option');
    expect(err.message).toContain('":"');
  });
});
