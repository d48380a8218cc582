import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodePoint,
  encodePoints,
  LineTemplate,
  escapeKey,
  escapeMeasurement,
  escapeTagValue,
  formatFieldValue,
  LineProtocolError,
  lineTimestampMs,
  quoteStringField,
  type PointRecord,
} from '../../src/io/line-protocol.js';

const FC_SEED = 20240101;
const T = 1_704_067_200_000; // 2024-01-01T00:00:00Z

function point(partial: Partial<PointRecord>): PointRecord {
  return { measurement: 'm', tags: {}, fields: { v: 1 }, timeMs: T, ...partial };
}

/**
 * An independent reader of a tag set as InfluxDB 1.x/2.x reads it: split at commas not preceded
 * by a backslash, then at the first `=` not preceded by one, then unescape `\,`, `\=`, `\ `.
 */
function readTagSet(text: string): [string, string][] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ',' && text[i - 1] !== '\\') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  const unescape = (s: string): string => s.replace(/\\([, =])/g, '$1');
  return parts.map((part) => {
    let eq = -1;
    for (let i = 0; i < part.length; i++) {
      if (part[i] === '=' && part[i - 1] !== '\\') {
        eq = i;
        break;
      }
    }
    return [unescape(part.slice(0, eq)), unescape(part.slice(eq + 1))];
  });
}

describe('encodePoint', () => {
  it('writes measurement, sorted tags, fields in given order and the ms timestamp', () => {
    const line = encodePoint({ measurement: 'anomaly', tags: { model: 'tcn-s', device: 'd1' }, fields: { score: 0.5, anomaly: true, n: 3n }, timeMs: T });
    expect(line).toBe('anomaly,device=d1,model=tcn-s score=0.5,anomaly=true,n=3i 1704067200000');
  });

  it('sorts tag keys by byte order (upper case before lower case), as InfluxDB recommends', () => {
    expect(encodePoint(point({ tags: { b: '1', a: '2', C: '3' } }))).toBe('m,C=3,a=2,b=1 v=1 1704067200000');
  });

  it('leaves out tags with an empty value (line protocol has no empty tag value)', () => {
    expect(encodePoint(point({ tags: { site: '', device: 'd1' } }))).toBe('m,device=d1 v=1 1704067200000');
  });

  it('escapes comma and space in the measurement, but not =', () => {
    expect(escapeMeasurement('cpu load,x=1')).toBe('cpu\\ load\\,x=1');
    expect(encodePoint(point({ measurement: 'a b' }))).toBe('a\\ b v=1 1704067200000');
  });

  it('escapes comma, = and space in tag keys, tag values and field keys', () => {
    expect(escapeTagValue('a b,c=d')).toBe('a\\ b\\,c\\=d');
    expect(escapeKey('my tag')).toBe('my\\ tag');
    expect(encodePoint(point({ tags: { 'k 1': 'x,y' }, fields: { 'f,1= x': 5 } }))).toBe('m,k\\ 1=x\\,y f\\,1\\=\\ x=5 1704067200000');
  });

  it('keeps double quotes and unicode in tags as they are', () => {
    expect(escapeTagValue('say "hi" ü')).toBe('say\\ "hi"\\ ü');
  });

  it('keeps a backslash before an ordinary character (read literally by InfluxDB and VictoriaMetrics)', () => {
    expect(escapeTagValue('C:\\temp')).toBe('C:\\temp');
    expect(escapeMeasurement('a\\b')).toBe('a\\b');
  });

  it('refuses a backslash at the end or before \\, comma, = or space (the servers disagree on those)', () => {
    for (const bad of ['a\\', 'a\\\\b', 'a\\ b', 'a\\,b', 'a\\=b']) {
      expect(() => escapeTagValue(bad), bad).toThrow(LineProtocolError);
      expect(() => escapeKey(bad), bad).toThrow(/backslash/);
      expect(() => escapeMeasurement(bad), bad).toThrow(/backslash/);
    }
  });

  it('refuses newlines, carriage returns and other control characters in names and tag values', () => {
    expect(() => encodePoint(point({ tags: { device: 'd\n1' } }))).toThrow(/tag "device" "d\\n1" contains a control character/);
    expect(() => escapeTagValue('a\rb')).toThrow(LineProtocolError);
    expect(() => escapeTagValue('a\tb')).toThrow(LineProtocolError);
    expect(() => escapeKey('a\u0000')).toThrow(LineProtocolError);
    expect(() => escapeMeasurement('m\n')).toThrow(/measurement/);
  });

  it('quotes string fields, escaping double quotes and backslashes; refuses newlines', () => {
    expect(quoteStringField('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(quoteStringField('a,b=c d')).toBe('"a,b=c d"');
    expect(encodePoint(point({ fields: { s: 'x"y' } }))).toBe('m s="x\\"y" 1704067200000');
    expect(() => quoteStringField('a\nb')).toThrow(/newline/);
  });

  it('refuses names InfluxDB reserves or cannot read: empty, _-prefixed, time as key, # measurement', () => {
    expect(() => escapeMeasurement('')).toThrow(/measurement "" is empty/);
    expect(() => escapeMeasurement('_m')).toThrow(/reserves/);
    expect(() => escapeMeasurement('#m')).toThrow(/comment/);
    expect(() => escapeKey('_field', 'tag key')).toThrow(/tag key "_field"/);
    expect(() => escapeKey('time', 'field key')).toThrow(/field key "time"/);
    expect(() => escapeKey('')).toThrow(/empty/);
    expect(escapeMeasurement('m#1')).toBe('m#1');
  });

  it('writes floats in shortest round-trip form, never as integers', () => {
    expect(formatFieldValue(2)).toBe('2');
    expect(formatFieldValue(0.1)).toBe('0.1');
    expect(formatFieldValue(-0)).toBe('0');
    expect(formatFieldValue(1e21)).toBe('1e+21');
    expect(formatFieldValue(-1.5e-7)).toBe('-1.5e-7');
    expect(formatFieldValue(Number.MAX_VALUE)).toBe('1.7976931348623157e+308');
  });

  it('writes bigint as integers within int64 and refuses beyond', () => {
    expect(formatFieldValue(42n)).toBe('42i');
    expect(formatFieldValue(-(2n ** 63n))).toBe('-9223372036854775808i');
    expect(formatFieldValue(2n ** 63n - 1n)).toBe('9223372036854775807i');
    expect(() => formatFieldValue(2n ** 63n)).toThrow(/int64/);
  });

  it('writes booleans as true/false', () => {
    expect(encodePoint(point({ fields: { a: true, b: false } }))).toBe('m a=true,b=false 1704067200000');
  });

  it('leaves out NaN and ±Infinity fields, and returns null when none is left', () => {
    expect(formatFieldValue(NaN)).toBeNull();
    expect(formatFieldValue(Infinity)).toBeNull();
    expect(encodePoint(point({ fields: { score: NaN, threshold: 2, up: Infinity, down: -Infinity } }))).toBe('m threshold=2 1704067200000');
    expect(encodePoint(point({ fields: { score: NaN, x: -Infinity } }))).toBeNull();
    expect(encodePoint(point({ fields: {} }))).toBeNull();
  });

  it('refuses a timestamp that is not a safe integer of ms', () => {
    for (const timeMs of [1.5, NaN, Infinity, 2 ** 53]) expect(() => encodePoint(point({ timeMs })), String(timeMs)).toThrow(/timeMs/);
    expect(encodePoint(point({ timeMs: -1000 }))).toBe('m v=1 -1000');
  });
});

describe('encodePoints', () => {
  it('skips and counts invalid and empty points, keeps order, and carries receipt times', () => {
    const out = encodePoints([
      point({ timeMs: 1, receivedAtMs: 11 }),
      point({ tags: { d: 'x\ny' } }),
      point({ fields: { v: NaN } }),
      point({ timeMs: 2 }),
      point({ measurement: '_bad' }),
    ]);
    expect(out.lines).toEqual(['m v=1 1', 'm v=1 2']);
    expect(out.invalid).toBe(2);
    expect(out.empty).toBe(1);
    expect(out.firstError).toMatch(/tag "d"/);
    expect([...(out.receivedAtMs ?? [])]).toEqual([11, NaN]);
  });

  it('gives null receipt times when no point has one, and handles an empty batch', () => {
    expect(encodePoints([point({})]).receivedAtMs).toBeNull();
    expect(encodePoints([])).toEqual({ lines: [], timesMs: new Float64Array(0), receivedAtMs: null, invalid: 0, empty: 0, firstError: null });
  });

  it('takes points already encoded as they are, with their times', () => {
    const out = encodePoints([point({ timeMs: 5 }), { line: 'm,d=a v=2 7', timeMs: 7, receivedAtMs: 3 }]);
    expect(out.lines).toEqual(['m v=1 5', 'm,d=a v=2 7']);
    expect([...out.timesMs]).toEqual([5, 7]);
    expect([...(out.receivedAtMs ?? [])]).toEqual([NaN, 3]);
  });

  it('rethrows errors that are not about the point', () => {
    const hostile = point({});
    Object.defineProperty(hostile, 'tags', {
      get() {
        throw new TypeError('boom');
      },
    });
    expect(() => encodePoints([hostile])).toThrow(TypeError);
  });
});

describe('lineTimestampMs', () => {
  it('reads the number after the last space', () => {
    expect(lineTimestampMs('m,d=a\\ b s="x y" 1704067200000')).toBe(T);
    expect(lineTimestampMs('nothing')).toBeNaN();
  });
});

describe('tag escaping, property', () => {
  // Characters that matter, and some that do not.
  const char = fc.constantFrom('a', 'Z', '0', ' ', ',', '=', '"', '\\', 'ü', '#', '_', '.');
  const text = fc.array(char, { minLength: 1, maxLength: 12 }).map((chars) => chars.join(''));

  it('an encodable tag set reads back exactly with the InfluxDB reading rules', () => {
    fc.assert(
      fc.property(fc.dictionary(text, text, { minKeys: 1, maxKeys: 4 }), (tags) => {
        let line: string | null;
        try {
          line = encodePoint(point({ tags }));
        } catch (error) {
          // Refused only for the documented reasons.
          expect(error).toBeInstanceOf(LineProtocolError);
          expect((error as Error).message).toMatch(/backslash|reserves|"time"/);
          return;
        }
        expect(line).not.toBeNull();
        const text = line ?? '';
        // The tag set ends at the first space not preceded by a backslash.
        let end = 0;
        while (end < text.length && !(text[end] === ' ' && text[end - 1] !== '\\')) end++;
        const head = text.slice(0, end);
        expect(head.startsWith('m,')).toBe(true);
        const expected = Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        expect(readTagSet(head.slice(2))).toEqual(expected);
        expect(text.slice(end)).toBe(' v=1 1704067200000');
      }),
      { seed: FC_SEED, numRuns: 500 },
    );
  });
});

describe('LineTemplate', () => {
  it('writes the same line as encodePoint for the same point (property)', () => {
    const char = fc.constantFrom('a', 'Z', '0', ' ', ',', '=', '"', 'ü', '.', '-');
    const name = fc.array(char, { minLength: 1, maxLength: 8 }).map((chars) => `k${chars.join('')}`);
    const value = fc.oneof(fc.double(), fc.constantFrom(0, -0, 1, NaN, Infinity, -Infinity, 0.1, 1e21, 5e-324));
    fc.assert(
      fc.property(
        name,
        fc.dictionary(name, fc.oneof(name, fc.constant('')), { maxKeys: 3 }),
        fc.uniqueArray(name, { minLength: 1, maxLength: 6 }).filter((names) => !names.includes('time')),
        fc.array(value, { minLength: 6, maxLength: 6 }),
        fc.integer({ min: -1e12, max: 4e12 }),
        (measurement, tags, fieldNames, values, timeMs) => {
          const template = new LineTemplate(measurement, tags, fieldNames);
          const fields = Object.fromEntries(fieldNames.map((f, i) => [f, values[i] as number]));
          const expected = encodePoint({ measurement, tags, fields, timeMs });
          // Twice: the second call reuses the texts of repeated values.
          for (let round = 0; round < 2; round++) expect(template.encode(values, timeMs)?.line ?? null).toBe(expected);
        },
      ),
      { seed: 11, numRuns: 300 },
    );
  });

  it('refuses bad names when it is made, naming them', () => {
    expect(() => new LineTemplate('m', { device: 'a\nb' }, ['v'])).toThrow(/tag "device"/);
    expect(() => new LineTemplate('_m', {}, ['v'])).toThrow(LineProtocolError);
    expect(() => new LineTemplate('m', {}, ['time'])).toThrow(/field key "time"/);
  });

  it('gives null when no value is finite, and refuses a time that is not a safe integer', () => {
    const template = new LineTemplate('m', { d: 'x' }, ['a', 'b']);
    expect(template.encode([NaN, Infinity], 1)).toBeNull();
    expect(template.encode([2, NaN], 1, 9)).toEqual({ line: 'm,d=x a=2 1', timeMs: 1, receivedAtMs: 9 });
    expect(() => template.encode([1, 1], 1.5)).toThrow(/timeMs/);
  });
});
