import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsvTable, readCsvTable } from '../../src/io/csv-table.js';
import { CsvWriter, quoteCsvField } from '../../src/io/csv-writer.js';
import type { CsvDelimiter } from '../../src/io/delimiter-sniff.js';

const dir = mkdtempSync(join(tmpdir(), 'convwatch-csv-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An in-memory writable that keeps what was written. */
function memorySink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** A writable whose writes complete only when the test releases them. */
function gatedSink(highWaterMark: number): { stream: Writable; release: () => void; text: () => string } {
  const chunks: string[] = [];
  const pending: (() => void)[] = [];
  const stream = new Writable({
    highWaterMark,
    decodeStrings: false,
    write(chunk: string, _enc, done) {
      chunks.push(chunk);
      pending.push(() => done());
    },
  });
  const release = (): void => {
    while (pending.length > 0) pending.shift()?.();
  };
  return { stream, release, text: () => chunks.join('') };
}

/** Lets queued stream callbacks (process.nextTick, microtasks) run; no clock involved. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const f32bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('quoteCsvField', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['a;b', '"a;b"'],
    ['a\tb', '"a\tb"'],
    ['a|b', '"a|b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    [' padded', '" padded"'],
    ['padded ', '"padded "'],
    ['', ''],
  ])('%j → %j', (text, quoted) => {
    expect(quoteCsvField(text)).toBe(quoted);
  });
});

describe('CsvWriter', () => {
  it('writes header and rows with the chosen delimiter and line ending', async () => {
    const sink = memorySink();
    const w = new CsvWriter(sink.stream, ['time', 'temp;C', 'ok', 'note'], { delimiter: ';', lineEnding: '\r\n' });
    await w.write(['2024-01-01T00:00:00.000Z', Math.fround(21.1), true, null]);
    await w.write(['2024-01-01T00:00:01.000Z', NaN, false, 'a "b"']);
    await w.close();
    expect(w.rowsWritten).toBe(2);
    expect(sink.text()).toBe(
      'time;"temp;C";ok;note\r\n' +
        '2024-01-01T00:00:00.000Z;21.1;true;\r\n' +
        '2024-01-01T00:00:01.000Z;;false;"a ""b"""\r\n',
    );
  });

  it('round-trips through a file: written rows read back as the same float32 values, labels and times', async () => {
    const path = join(dir, 'round-trip.csv');
    const values = Float32Array.from([0.1, -2.5, 1e-7, 3.4e38, 123456.789, -0.000123]);
    const times = [1_700_000_000_000, 1_700_000_001_000, 1_700_000_002_500];
    const w = await CsvWriter.open(path, ['timestamp', 'x, "quoted"', 'y', 'anomaly']);
    for (let r = 0; r < 3; r++) {
      await w.write([new Date(times[r]).toISOString(), values[2 * r], values[2 * r + 1], r === 2 ? 1 : 0]);
    }
    await w.close();
    const t = await readCsvTable(path);
    expect(t.columns).toEqual(['timestamp', 'x, "quoted"', 'y', 'anomaly']);
    expect(t.channels).toEqual(['x, "quoted"', 'y']);
    expect(f32bits(t.values)).toEqual(f32bits(values));
    expect(Array.from(t.timesMs ?? [])).toEqual(times);
    expect(Array.from(t.labels ?? [])).toEqual([0, 0, 1]);
  });

  it('makes write wait while the stream buffer is full, and resumes on drain', async () => {
    const sink = gatedSink(16);
    const w = new CsvWriter(sink.stream, ['a', 'b']);
    // 'a,b\n' is 4 bytes: below the mark; this 20-byte row goes over it.
    const first = w.write(['aaaaaaaa', 'bbbbbbbbbb']);
    let firstDone = false;
    void first.then(() => {
      firstDone = true;
    });
    await settle();
    expect(firstDone).toBe(false);
    sink.release();
    await settle();
    sink.release();
    await settle();
    expect(firstDone).toBe(true);
    const closed = w.close();
    sink.release();
    await closed;
    expect(sink.text()).toBe('a,b\naaaaaaaa,bbbbbbbbbb\n');
  });

  it('waits for a buffer the header alone filled before writing the first row', async () => {
    const sink = gatedSink(4);
    const w = new CsvWriter(sink.stream, ['long_header_name']);
    const write = w.write([1]);
    let done = false;
    void write.then(() => {
      done = true;
    });
    await settle();
    expect(done).toBe(false);
    expect(sink.text()).toBe('long_header_name\n');
    sink.release();
    await settle();
    sink.release();
    await settle();
    expect(done).toBe(true);
    const closed = w.close();
    sink.release();
    await closed;
    expect(sink.text()).toBe('long_header_name\n1\n');
  });

  it('has the whole file on disk when close resolves', async () => {
    const path = join(dir, 'many.csv');
    const w = await CsvWriter.open(path, ['i', 'v']);
    for (let i = 0; i < 20_000; i++) await w.write([i, Math.fround(i / 7)]);
    await w.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.length).toBe(20_002); // header, rows, and the empty string after the last '\n'
    expect(lines[1]).toBe('0,0');
    const [i, v] = lines[20_000].split(',');
    expect(i).toBe('19999');
    expect(Math.fround(Number(v))).toBe(Math.fround(19999 / 7));
  });

  it('rejects rows of the wrong length and writes after close', async () => {
    const w = new CsvWriter(memorySink().stream, ['a', 'b']);
    await expect(w.write([1])).rejects.toThrow('row has 1 cells, the header has 2');
    await w.close();
    await expect(w.write([1, 2])).rejects.toThrow('write after close');
    await expect(w.close()).resolves.toBeUndefined();
  });

  it('reports a file that cannot be created, naming it, instead of crashing', async () => {
    const path = join(dir, 'missing-dir', 'out.csv');
    await expect(CsvWriter.open(path, ['a'])).rejects.toThrow(`CsvWriter(${path}): cannot open the file: ENOENT`);
  });

  it('surfaces a stream error on the next write and on close', async () => {
    const stream = new Writable({
      write(_chunk, _enc, done) {
        done(new Error('disk full'));
      },
    });
    const w = new CsvWriter(stream, ['a'], { target: 'scores.csv' });
    await settle();
    await expect(w.write([1])).rejects.toThrow('CsvWriter(scores.csv): disk full');
    await expect(w.close()).rejects.toThrow('disk full');
  });

  it('abort stops at once: a write waiting for drain rejects, close then resolves', async () => {
    const sink = gatedSink(4);
    const w = new CsvWriter(sink.stream, ['header_longer_than_four']);
    const waiting = w.write([1]);
    await settle();
    w.abort();
    await expect(waiting).rejects.toThrow(/closed before it drained/);
    await expect(w.close()).resolves.toBeUndefined();
    await expect(w.write([2])).rejects.toThrow('write after close');
  });

  it('rejects bad options, naming them', () => {
    const s = memorySink().stream;
    expect(() => new CsvWriter(s, [])).toThrow(/header/);
    expect(() => new CsvWriter(s, ['a'], { delimiter: ':' as CsvDelimiter })).toThrow(/delimiter.*":"/);
    expect(() => new CsvWriter(s, ['a'], { lineEnding: '\r' as '\n' })).toThrow(/lineEnding/);
    expect(() => new CsvWriter(s, ['a'], { numberFormat: 'f16' as 'float32' })).toThrow(/numberFormat.*"f16"/);
  });
});

describe('write → read property', () => {
  const name = fc
    .oneof(
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.constantFrom('a,b', 'x;y', 'tab\there', 'p|q', 'say "hi"', 'two\nlines', 'crlf\r\nname', 'Grüße °C'),
    )
    .filter((n) => n.trim() === n && n !== '' && n !== 'time');

  it('random numeric tables written by CsvWriter read back as the same float32 values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(name, { minLength: 1, maxLength: 5 }),
        fc.constantFrom<CsvDelimiter>(',', ';', '\t', '|'),
        fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n'),
        fc.boolean(),
        fc.integer({ min: 1, max: 12 }),
        fc.infiniteStream(fc.float({ noNaN: true, noDefaultInfinity: true })),
        async (names, delimiter, lineEnding, withTime, rows, floats) => {
          const C = names.length;
          const values = new Float32Array(rows * C);
          const it = floats[Symbol.iterator]();
          for (let i = 0; i < values.length; i++) values[i] = it.next().value as number;
          const times = Array.from({ length: rows }, (_, r) => 1_600_000_000_000 + 250 * r);

          const sink = memorySink();
          const w = new CsvWriter(sink.stream, withTime ? ['time', ...names] : names, { delimiter, lineEnding });
          for (let r = 0; r < rows; r++) {
            const row = Array.from(values.subarray(r * C, (r + 1) * C));
            await w.write(withTime ? [times[r], ...row] : row);
          }
          await w.close();

          const t = parseCsvTable(sink.text(), {
            timeColumn: withTime ? 'time' : null,
            labelColumn: null,
            channels: names,
          });
          expect(t.delimiter).toBe(C === 1 && !withTime ? ',' : delimiter);
          expect(t.channels).toEqual(names);
          expect(t.rows).toBe(rows);
          expect(f32bits(t.values)).toEqual(f32bits(values));
          if (withTime) expect(Array.from(t.timesMs ?? [])).toEqual(times);
        },
      ),
      { seed: 20240229, numRuns: 300 },
    );
  });
});
