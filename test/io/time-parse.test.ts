import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  EPOCH_MS_THRESHOLD,
  epochUnitFor,
  parseDateTime,
  parseEpochNumber,
  TimeCellParser,
} from '../../src/io/time-parse.js';

// Expected instants come from GNU `date -u -d '<text>' +%s` and Python's datetime, not from the
// code under test.
describe('parseDateTime', () => {
  const cases: [string, number, boolean][] = [
    ['2000-01-01T00:00:00Z', 946_684_800_000, true],
    ['2014-04-01 00:00:00', 1_396_310_400_000, false],
    ['2015-02-26 21:42:53', 1_424_986_973_000, false],
    ['2024-02-29T12:34:56Z', 1_709_210_096_000, true],
    ['2024-02-29T12:34:56+05:30', 1_709_190_296_000, true],
    ['2024-02-29T12:34:56-08:00', 1_709_238_896_000, true],
    ['2024-02-29T12:34:56-0800', 1_709_238_896_000, true],
    ['2024-02-29T12:34:56-08', 1_709_238_896_000, true],
    ['2024-02-29 12:34:56 +05:30', 1_709_190_296_000, true],
    ['2024-02-29 12:34:56 UTC', 1_709_210_096_000, true],
    ['1969-12-31T23:59:59Z', -1000, true],
    ['1900-03-01', -2_203_891_200_000, false],
    ['2100-02-28 23:59:59', 4_107_542_399_000, false],
    ['0001-01-01T00:00:00Z', -62_135_596_800_000, true],
    ['9999-12-31T23:59:59Z', 253_402_300_799_000, true],
    ['2024-02-29T12:34', 1_709_210_040_000, false],
    ['  2000-01-01T00:00:00Z  ', 946_684_800_000, true],
  ];
  it.each(cases)('%s → %d ms (zone given: %s)', (text, ms, hasZone) => {
    expect(parseDateTime(text)).toEqual({ ms, hasZone });
  });

  it('keeps fractions of a second, exactly for milliseconds', () => {
    expect(parseDateTime('2024-02-29T12:34:56.123Z')?.ms).toBe(1_709_210_096_123);
    expect(parseDateTime('2024-02-29 12:34:56.007')?.ms).toBe(1_709_210_096_007);
    expect(parseDateTime('2024-02-29 12:34:56.5')?.ms).toBe(1_709_210_096_500);
    expect(parseDateTime('2024-02-29T12:34:56,25Z')?.ms).toBe(1_709_210_096_250);
    // Python: datetime(2024,2,29,12,34,56,123456, tz=utc).timestamp()*1000 = 1709210096123.456
    expect(parseDateTime('2024-02-29T12:34:56.123456Z')?.ms).toBeCloseTo(1_709_210_096_123.456, 3);
  });

  it('reads a zone-less date-time as UTC, whatever the machine zone', () => {
    expect(parseDateTime('2014-04-01 00:00:00')?.ms).toBe(parseDateTime('2014-04-01T00:00:00Z')?.ms);
  });

  it.each([
    '2023-02-29',
    '2024-13-01',
    '2024-00-10',
    '2024-04-31',
    '2024-01-01T24:00:00',
    '2024-01-01T23:60:00',
    '2024-01-01T23:59:60',
    '2024-01-01T10:00:00+25:00',
    '2024-01-01Z',
    '01/02/2024',
    '20240102',
    '2024-1-2',
    '2024-01-01T10',
    'yesterday',
    '',
  ])('rejects %j', (text) => {
    expect(parseDateTime(text)).toBeNull();
  });

  it('agrees with Date.UTC on any valid date-time (years 100–9999)', () => {
    fc.assert(
      fc.property(
        fc.record({
          year: fc.integer({ min: 100, max: 9999 }),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 28 }),
          hour: fc.integer({ min: 0, max: 23 }),
          minute: fc.integer({ min: 0, max: 59 }),
          second: fc.integer({ min: 0, max: 59 }),
          ms: fc.integer({ min: 0, max: 999 }),
          offsetMinutes: fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
          sep: fc.constantFrom('T', ' '),
        }),
        (d) => {
          const p2 = (n: number): string => String(n).padStart(2, '0');
          const off = Math.abs(d.offsetMinutes);
          const zone = `${d.offsetMinutes < 0 ? '-' : '+'}${p2(Math.floor(off / 60))}:${p2(off % 60)}`;
          const text =
            `${String(d.year).padStart(4, '0')}-${p2(d.month)}-${p2(d.day)}${d.sep}` +
            `${p2(d.hour)}:${p2(d.minute)}:${p2(d.second)}.${String(d.ms).padStart(3, '0')}${zone}`;
          const expected =
            Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute, d.second, d.ms) - d.offsetMinutes * 60_000;
          expect(parseDateTime(text)).toEqual({ ms: expected, hasZone: true });
        },
      ),
      { seed: 4242, numRuns: 500 },
    );
  });
});

describe('parseEpochNumber', () => {
  it('reads plain decimals only', () => {
    expect(parseEpochNumber('1700000000')).toBe(1_700_000_000);
    expect(parseEpochNumber(' 1.7e9 ')).toBe(1_700_000_000);
    expect(parseEpochNumber('1700000000.25')).toBe(1_700_000_000.25);
    expect(parseEpochNumber('-5')).toBe(-5);
    for (const bad of ['', '0x10', 'Infinity', '1,700', '17e', 'abc', '1e400']) {
      expect(parseEpochNumber(bad), bad).toBeNaN();
    }
  });
});

describe('epoch unit by magnitude', () => {
  it('takes |v| >= 1e11 as milliseconds', () => {
    expect(EPOCH_MS_THRESHOLD).toBe(1e11);
    expect(epochUnitFor(1_700_000_000)).toBe('s'); // 2023-11-14 in seconds
    expect(epochUnitFor(99_999_999_999)).toBe('s');
    expect(epochUnitFor(100_000_000_000)).toBe('ms');
    expect(epochUnitFor(1_700_000_000_000)).toBe('ms');
    expect(epochUnitFor(-100_000_000_000)).toBe('ms');
    expect(epochUnitFor(0)).toBe('s');
  });
});

describe('TimeCellParser', () => {
  it('decides seconds vs milliseconds once per column, from the first epoch number', () => {
    const seconds = new TimeCellParser('auto');
    expect(seconds.epochUnit).toBeNull();
    expect(seconds.parse('1700000000')).toBe(1_700_000_000_000);
    expect(seconds.epochUnit).toBe('s');
    expect(seconds.parse('1700000000.5')).toBe(1_700_000_000_500);

    const millis = new TimeCellParser('auto');
    expect(millis.parse('1700000000000')).toBe(1_700_000_000_000);
    expect(millis.epochUnit).toBe('ms');
    // A later small value stays in the column's unit.
    expect(millis.parse('1000')).toBe(1000);
  });

  it('obeys a forced unit', () => {
    expect(new TimeCellParser('ms').parse('1700000000')).toBe(1_700_000_000);
    expect(new TimeCellParser('s').parse('1700000000000')).toBe(1_700_000_000_000_000);
  });

  it('reads date-times too, counting zoned, zone-less and epoch cells', () => {
    const p = new TimeCellParser('auto');
    expect(p.parse('2000-01-01T00:00:00Z')).toBe(946_684_800_000);
    expect(p.parse('2000-01-01 00:00:00')).toBe(946_684_800_000);
    expect(p.parse('946684800')).toBe(946_684_800_000);
    expect(p.parse('not a time')).toBeNaN();
    expect(p.parse('')).toBeNaN();
    expect(p.seen).toEqual({ zoned: 1, zoneless: 1, epoch: 1 });
  });

  it('names a bad unit', () => {
    expect(() => new TimeCellParser('us' as never)).toThrow(/epochUnit.*"us"/);
  });
});
