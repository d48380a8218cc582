import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCsvTable, readCsvTable, toChannelMajor } from '../../src/io/csv-table.js';
import { CsvTableError } from '../../src/io/csv-table-error.js';
import type { CsvTableOptions } from '../../src/io/csv-table-options.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/csv/${name}`, import.meta.url));
const f32 = (values: number[]): Float32Array => Float32Array.from(values);

function thrown(fn: () => unknown): CsvTableError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CsvTableError) return err;
    throw err;
  }
  throw new Error('expected a CsvTableError');
}

const parse = (text: string, options: CsvTableOptions = {}) => parseCsvTable(text, { source: 't.csv', ...options });

describe('readCsvTable on fixtures', () => {
  it('reads a TEP-like file: ISO times with Z, channels, the anomaly label', async () => {
    const t = await readCsvTable(fixture('tep-like.csv'));
    expect(t.source).toBe(fixture('tep-like.csv'));
    expect(t.delimiter).toBe(',');
    expect(t.columns).toEqual(['timestamp', 'xmeas_1', 'xmeas_2', 'xmv_1', 'anomaly']);
    expect(t.timeColumn).toBe('timestamp');
    expect(t.timeInfo).toEqual({ foundBy: 'name', dateTimesWithZone: 3, dateTimesWithoutZone: 0, epochNumbers: 0, epochUnit: null });
    // 2000-01-01T00:00:00Z = 946684800 s (GNU date), then +3 min steps.
    expect(Array.from(t.timesMs ?? [])).toEqual([946_684_800_000, 946_684_980_000, 946_685_160_000]);
    expect(t.channels).toEqual(['xmeas_1', 'xmeas_2', 'xmv_1']);
    expect(t.rows).toBe(3);
    expect(t.values).toEqual(f32([0.25, 3642.6, -1.5, 0.26, 3694.8, -1.25, 0.27, 3700, -1]));
    expect(t.labelColumn).toBe('anomaly');
    expect(Array.from(t.labels ?? [])).toEqual([0, 0, 1]);
    expect(Array.from(t.lines)).toEqual([2, 3, 4]);
    expect(t.report).toEqual({
      dataRows: 3,
      emptyLines: 0,
      rowsSkipped: 0,
      heldCells: 0,
      cellIssues: [],
      ignoredColumns: [],
      outOfOrder: 0,
      outOfOrderLines: [],
      duplicates: 0,
      duplicateLines: [],
      sorted: false,
    });
  });

  it('reads a NAB-like CRLF file with zone-less times as UTC', async () => {
    const t = await readCsvTable(fixture('nab-like-crlf.csv'));
    expect(t.columns).toEqual(['timestamp', 'value']);
    // 2014-04-01 00:00:00 UTC = 1396310400 s (GNU date), 5-minute steps.
    expect(Array.from(t.timesMs ?? [])).toEqual([1_396_310_400_000, 1_396_310_700_000, 1_396_311_000_000]);
    expect(t.timeInfo?.dateTimesWithoutZone).toBe(3);
    expect(t.channels).toEqual(['value']);
    expect(t.values).toEqual(f32([20, 18.5, 0]));
    expect(t.labels).toBeNull();
  });

  it('reads BOM, mixed line endings, ";" and quoted fields; finds the time column by its values', async () => {
    const t = await readCsvTable(fixture('bom-mixed-semicolon.csv'));
    expect(t.delimiter).toBe(';');
    expect(t.columns).toEqual(['Zeit', 'Temp; C', 'note', 'Druck']);
    expect(t.timeColumn).toBe('Zeit');
    expect(t.timeInfo?.foundBy).toBe('values');
    // 2024-01-01 00:00:00 UTC = 1704067200 s.
    expect(Array.from(t.timesMs ?? [])).toEqual([1_704_067_200_000, 1_704_067_260_000, 1_704_067_320_000]);
    expect(t.channels).toEqual(['Temp; C', 'Druck']);
    expect(t.values).toEqual(f32([21.5, 1013, 21.75, 1012.5, 22, 1012]));
    expect(t.report.ignoredColumns).toEqual([{ column: 'note', reason: 'non-numeric' }]);
    // The quoted line break in row 2 moves row 3 to line 5.
    expect(Array.from(t.lines)).toEqual([2, 3, 5]);
  });

  it('names the file when it cannot be read', async () => {
    const err = await readCsvTable(fixture('no-such-file.csv')).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CsvTableError);
    expect((err as CsvTableError).code).toBe('read-failed');
    expect((err as CsvTableError).message).toContain('no-such-file.csv');
  });
});

describe('delimiters', () => {
  it.each([
    [',', 'time,a,b\n1,2,3\n'],
    [';', 'time;a;b\n1;2;3\n'],
    ['\t', 'time\ta\tb\n1\t2\t3\n'],
    ['|', 'time|a|b\n1|2|3\n'],
  ])('auto-detects %j', (delimiter, text) => {
    const t = parse(text);
    expect(t.delimiter).toBe(delimiter);
    expect(t.channels).toEqual(['a', 'b']);
    expect(t.values).toEqual(f32([2, 3]));
  });

  it('uses a given delimiter', () => {
    const text = 'a;b;c,d\n1;2;3,4\n2;3;4,5\n';
    const t = parse(text, { delimiter: ',' });
    expect(t.columns).toEqual(['a;b;c', 'd']);
    expect(t.channels).toEqual(['d']);
    expect(parse(text).delimiter).toBe(';');
  });
});

describe('time column', () => {
  it('reads epoch seconds and milliseconds by magnitude, and a forced unit', () => {
    const s = parse('ts,v\n1700000000,1\n1700000060.5,2\n');
    expect(Array.from(s.timesMs ?? [])).toEqual([1_700_000_000_000, 1_700_000_060_500]);
    expect(s.timeInfo).toEqual({ foundBy: 'name', dateTimesWithZone: 0, dateTimesWithoutZone: 0, epochNumbers: 2, epochUnit: 's' });
    const ms = parse('timestamp,v\n1700000000000,1\n1700000000500,2\n');
    expect(Array.from(ms.timesMs ?? [])).toEqual([1_700_000_000_000, 1_700_000_000_500]);
    expect(ms.timeInfo?.epochUnit).toBe('ms');
    const forced = parse('time,v\n1700000000,1\n', { epochUnit: 'ms' });
    expect(Array.from(forced.timesMs ?? [])).toEqual([1_700_000_000]);
  });

  it('reads ISO with offsets and the space form in one column', () => {
    const t = parse('time,v\n2024-02-29T12:34:56+05:30,1\n2024-02-29 12:34:56.250,2\n');
    // GNU date: 2024-02-29T12:34:56+05:30 = 1709190296; 2024-02-29T12:34:56Z = 1709210096.
    expect(Array.from(t.timesMs ?? [])).toEqual([1_709_190_296_000, 1_709_210_096_250]);
    expect(t.timeInfo).toMatchObject({ dateTimesWithZone: 1, dateTimesWithoutZone: 1 });
  });

  it('matches header names ignoring case, spaces and punctuation', () => {
    expect(parse('Timestamp,v\n2024-01-01,1\n').timeColumn).toBe('Timestamp');
    expect(parse('v,Date Time\n1,2024-01-01\n').timeColumn).toBe('Date Time');
    expect(parse('_time,v\n2024-01-01,1\n').timeColumn).toBe('_time');
    expect(parse('v,DATE\n1,2024-01-01\n').timeColumn).toBe('DATE');
  });

  it('falls back to the first column holding only date-times, never to a numeric column', () => {
    const t = parse('id,when,v\nA,2024-01-01,1\nB,2024-01-02,2\n');
    expect(t.timeColumn).toBe('when');
    expect(t.timeInfo?.foundBy).toBe('values');
    expect(t.channels).toEqual(['v']);
    expect(t.report.ignoredColumns).toEqual([{ column: 'id', reason: 'non-numeric' }]);
    const epoch = parse('unix,v\n1700000000,1\n1700000001,2\n');
    expect(epoch.timeColumn).toBeNull();
    expect(epoch.timesMs).toBeNull();
    expect(epoch.channels).toEqual(['unix', 'v']);
  });

  it('takes a named time column, or none', () => {
    const named = parse('t0,v\n1700000000,1\n', { timeColumn: 't0' });
    expect(named.timeColumn).toBe('t0');
    expect(named.timeInfo?.foundBy).toBe('option');
    expect(Array.from(named.timesMs ?? [])).toEqual([1_700_000_000_000]);
    const none = parse('time,v\n5,1\n', { timeColumn: null });
    expect(none.timeColumn).toBeNull();
    expect(none.channels).toEqual(['time', 'v']);
  });

  it('names line, column and value of a bad time, or skips its row under skip-row', () => {
    const text = 'time,v\n2024-01-01,1\n2024-13-01,2\n2024-01-03,3\n';
    const err = thrown(() => parse(text, { onMissing: 'hold' }));
    expect(err.code).toBe('invalid-time');
    expect(err).toMatchObject({ line: 3, column: 'time', value: '2024-13-01' });
    expect(err.message).toMatch(/^t\.csv:3: column "time": is not a time.*\(value "2024-13-01"\)$/);
    const skipped = parse(text, { onMissing: 'skip-row' });
    expect(Array.from(skipped.lines)).toEqual([2, 4]);
    expect(skipped.report.rowsSkipped).toBe(1);
    expect(skipped.report.cellIssues).toEqual([
      { column: 'time', missing: 0, invalid: 1, firstLines: [3], firstInvalidValue: '2024-13-01' },
    ]);
    expect(thrown(() => parse('time,v\n,1\n')).message).toMatch(/^t\.csv:2: column "time": time is missing/);
  });
});

describe('channels', () => {
  const text = 'time,a,b,c\n2024-01-01,1,2,3\n2024-01-02,4,5,6\n';

  it('keeps the given order, which is the model channel order', () => {
    const t = parse(text, { channels: ['c', 'a'] });
    expect(t.channels).toEqual(['c', 'a']);
    expect(t.values).toEqual(f32([3, 1, 6, 4]));
  });

  it('excludes columns from automatic selection', () => {
    const t = parse(text, { exclude: ['b'] });
    expect(t.channels).toEqual(['a', 'c']);
    expect(t.values).toEqual(f32([1, 3, 4, 6]));
  });

  it('leaves out unnamed and empty columns, and says so', () => {
    const t = parse(',a,e\n0,1,\n1,2,\n');
    expect(t.channels).toEqual(['a']);
    expect(t.report.ignoredColumns).toEqual([
      { column: '', reason: 'unnamed' },
      { column: 'e', reason: 'empty' },
    ]);
  });

  it('keeps a mostly numeric column with a few bad cells as a channel (and reports them)', () => {
    const t = parse('a,b\n1,x\n2,3\n4,5\n', { onMissing: 'hold' });
    expect(t.channels).toEqual(['a', 'b']);
    expect(t.report.cellIssues).toEqual([{ column: 'b', missing: 0, invalid: 1, firstLines: [2], firstInvalidValue: 'x' }]);
  });

  it('rejects unknown names and double roles, naming them', () => {
    const unknown = thrown(() => parse(text, { channels: ['a', 'zz'] }));
    expect(unknown.code).toBe('unknown-column');
    expect(unknown.message).toContain('"zz"');
    expect(unknown.message).toContain('"time", "a", "b", "c"');
    expect(thrown(() => parse(text, { exclude: ['nope'] })).code).toBe('unknown-column');
    expect(thrown(() => parse(text, { channels: ['a'], exclude: ['a'] })).code).toBe('invalid-option');
    expect(thrown(() => parse(text, { timeColumn: 'a', channels: ['a', 'b'] })).message).toMatch(
      /column "a": is both the time column and a channel/,
    );
  });

  it('rejects a file without any numeric channel', () => {
    const err = thrown(() => parse('time,note\n2024-01-01,abc\n'));
    expect(err.code).toBe('no-channels');
    expect(err.message).toContain('"note" non-numeric');
  });
});

describe('label column', () => {
  it('is found by name and kept out of the channels', () => {
    const t = parse('time,a,Anomaly\n2024-01-01,1,0\n2024-01-02,2,1\n');
    expect(t.labelColumn).toBe('Anomaly');
    expect(t.channels).toEqual(['a']);
    expect(Array.from(t.labels ?? [])).toEqual([0, 1]);
  });

  it('accepts true/false and 0.0/1.0, from a named column', () => {
    const t = parse('time,a,flag\n2024-01-01,1,true\n2024-01-02,2,FALSE\n2024-01-03,3,1.0\n', { labelColumn: 'flag' });
    expect(Array.from(t.labels ?? [])).toEqual([1, 0, 1]);
  });

  it('can be switched off, so the column becomes a channel', () => {
    const t = parse('time,a,label\n2024-01-01,1,0\n', { labelColumn: null });
    expect(t.labels).toBeNull();
    expect(t.channels).toEqual(['a', 'label']);
  });

  it('names line and value of a label that is not 0/1', () => {
    const err = thrown(() => parse('time,a,label\n2024-01-01,1,0\n2024-01-02,2,2\n'));
    expect(err.code).toBe('invalid-value');
    expect(err.message).toBe(
      `t.csv:3: column "label": is not a 0/1 label (0, 1, true, false) (onMissing is 'error'; 'hold' or 'skip-row' repair it) (value "2")`,
    );
  });
});

describe('missing and invalid cells', () => {
  // Lines: 1 header; 2 a missing; 3 b NaN; 4 blank; 5 b ERR, label missing; 6 clean.
  const gaps = fixture('gaps.csv');
  const issues = [
    { column: 'a', missing: 1, invalid: 0, firstLines: [2], firstInvalidValue: null },
    { column: 'b', missing: 1, invalid: 1, firstLines: [3, 5], firstInvalidValue: 'ERR' },
    { column: 'label', missing: 1, invalid: 0, firstLines: [5], firstInvalidValue: null },
  ];

  it("'hold' carries the last value forward and fills leading gaps with the first value", async () => {
    const t = await readCsvTable(gaps, { onMissing: 'hold' });
    expect(t.channels).toEqual(['a', 'b']);
    expect(t.values).toEqual(f32([1.5, 10, 1.5, 10, 2.5, 10, 3.5, 40]));
    expect(Array.from(t.labels ?? [])).toEqual([0, 0, 0, 1]);
    expect(Array.from(t.lines)).toEqual([2, 3, 5, 6]);
    expect(t.report).toMatchObject({ dataRows: 4, emptyLines: 1, rowsSkipped: 0, heldCells: 4, cellIssues: issues });
  });

  it("'skip-row' drops every row with a gap", async () => {
    const t = await readCsvTable(gaps, { onMissing: 'skip-row' });
    expect(t.rows).toBe(1);
    expect(t.values).toEqual(f32([3.5, 40]));
    expect(Array.from(t.labels ?? [])).toEqual([1]);
    expect(Array.from(t.lines)).toEqual([6]);
    expect(t.report).toMatchObject({ rowsSkipped: 3, heldCells: 0, cellIssues: issues });
  });

  it("'error' (the default) names file, line, column and value of the first gap", async () => {
    const err = await readCsvTable(gaps, { source: 'gaps.csv' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CsvTableError);
    expect(err).toMatchObject({ code: 'missing-value', source: 'gaps.csv', line: 2, column: 'a', value: '' });
    expect((err as Error).message).toBe(
      `gaps.csv:2: column "a": missing value (onMissing is 'error'; 'hold' or 'skip-row' repair it) (value "")`,
    );
  });

  it("'error' reports a non-numeric cell as such, leftmost cell of the first bad row", () => {
    const text = 'time,a,b\n2024-01-01,1,2\n2024-01-02,3,4\n2024-01-03,x1,oops\n';
    const err = thrown(() => parse(text, { onMissing: 'error' }));
    expect(err).toMatchObject({ code: 'invalid-value', line: 4, column: 'a', value: 'x1' });
    expect(err.message).toMatch(/^t\.csv:4: column "a": is not a number .*\(value "x1"\)$/);
  });

  it('reports at most maxReportedLines lines per column', () => {
    const t = parse('a,b\n,1\n,2\n,3\n4,4\n', { onMissing: 'hold', maxReportedLines: 2 });
    expect(t.report.cellIssues).toEqual([{ column: 'a', missing: 3, invalid: 0, firstLines: [2, 3], firstInvalidValue: null }]);
    expect(t.values).toEqual(f32([4, 1, 4, 2, 4, 3, 4, 4]));
  });

  it('refuses to hold a column that has no valid value at all', () => {
    const err = thrown(() => parse('a,b\n1,\n2,NaN\n', { channels: ['a', 'b'], onMissing: 'hold' }));
    expect(err.code).toBe('no-valid-value');
    expect(err.message).toBe('t.csv: column "b": has no valid value in any row');
  });

  it('refuses a table where every row was skipped, or that has no rows', () => {
    expect(thrown(() => parse('a,b\n1,\n,2\n', { onMissing: 'skip-row' })).code).toBe('no-data-rows');
    expect(thrown(() => parse('time,a\n')).code).toBe('no-data-rows');
  });
});

describe('row order', () => {
  // Line 3 goes back in time, line 4 repeats line 2's time, line 5 goes back again.
  const text =
    'time,v\n2024-01-01T00:00:02Z,2\n2024-01-01T00:00:01Z,1\n2024-01-01T00:00:02Z,3\n2024-01-01T00:00:00Z,0\n';
  const t0 = 1_704_067_200_000; // 2024-01-01T00:00:00Z

  it("'keep' keeps file order and counts out-of-order rows and duplicate times", () => {
    const t = parse(text);
    expect(Array.from(t.timesMs ?? [])).toEqual([t0 + 2000, t0 + 1000, t0 + 2000, t0]);
    expect(t.report).toMatchObject({ outOfOrder: 2, outOfOrderLines: [3, 5], duplicates: 1, duplicateLines: [4], sorted: false });
  });

  it("'sort' sorts stably by time", () => {
    const t = parse(text, { order: 'sort' });
    expect(Array.from(t.timesMs ?? [])).toEqual([t0, t0 + 1000, t0 + 2000, t0 + 2000]);
    expect(t.values).toEqual(f32([0, 1, 2, 3]));
    expect(Array.from(t.lines)).toEqual([5, 3, 2, 4]);
    expect(t.report).toMatchObject({ outOfOrder: 2, duplicates: 1, sorted: true });
  });

  it("'sort' holds gaps along time order, not file order", () => {
    const t = parse('time,v\n2024-01-01T00:00:02Z,\n2024-01-01T00:00:01Z,5\n2024-01-01T00:00:00Z,7\n', {
      order: 'sort',
      onMissing: 'hold',
    });
    expect(t.values).toEqual(f32([7, 5, 5]));
  });

  it("'error' names the first row that does not move forward in time", () => {
    const err = thrown(() => parse(text, { order: 'error' }));
    expect(err).toMatchObject({ code: 'out-of-order', line: 3, column: 'time', value: '2024-01-01T00:00:01Z' });
    expect(err.message).toContain("previous row's (line 2)");
    const dup = thrown(() => parse('time,v\n2024-01-01,1\n2024-01-01,2\n', { order: 'error' }));
    expect(dup.line).toBe(3);
  });

  it('needs a time column to sort', () => {
    expect(thrown(() => parse('a\n1\n', { order: 'sort' })).message).toMatch(/order 'sort' needs a time column/);
  });
});

describe('options', () => {
  it.each([
    [{ onMissing: 'fill' }, /option onMissing must be 'hold', 'skip-row' or 'error' \(value "fill"\)/],
    [{ order: 'shuffle' }, /option order/],
    [{ epochUnit: 'us' }, /option epochUnit/],
    [{ delimiter: ':' }, /option delimiter/],
    [{ maxReportedLines: -1 }, /option maxReportedLines.*-1/],
    [{ channels: [] }, /option channels must be a non-empty list/],
    [{ channels: ['a', 'a'] }, /option channels must be free of repeats \(value "a"\)/],
    [{ timeColumn: '' }, /option timeColumn/],
  ])('rejects %j', (options, message) => {
    const err = thrown(() => parse('a\n1\n', options as CsvTableOptions));
    expect(err.code).toBe('invalid-option');
    expect(err.message).toMatch(message);
  });
});

describe('toChannelMajor', () => {
  it('transposes [rows, C] to [C, rows]', () => {
    const t = parse('a,b,c\n1,2,3\n4,5,6\n');
    expect(toChannelMajor(t)).toEqual(f32([1, 4, 2, 5, 3, 6]));
  });
  it('checks the sizes', () => {
    expect(() => toChannelMajor({ values: new Float32Array(5), rows: 2, channels: ['a', 'b'] })).toThrow(/rows \* C = 2 \* 2/);
  });
});
