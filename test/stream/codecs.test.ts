import { describe, expect, it } from 'vitest';
import { decodeMessage, parseCsv, parseJsonArray, parseJsonObject, parseNumber, parsePayload, type DecodeMessageOptions, type PayloadOptions } from '../../src/stream/codecs.js';
import { message } from './stream-fixtures.js';

const arrival: PayloadOptions = { timestamp: 'arrival', timestampField: 'ts', channel: undefined };
const payloadTime: PayloadOptions = { timestamp: 'payload', timestampField: 'ts', channel: undefined };
const perChannel = (channel: string, timestamp: 'payload' | 'arrival' = 'arrival'): PayloadOptions => ({ timestamp, timestampField: 'ts', channel });

describe('json-object codec', () => {
  it('reads every numeric field in payload order, skipping the timestamp field', () => {
    expect(parseJsonObject('{"temp": 21.5, "rpm": -900, "ts": 1700000000000}', payloadTime)).toEqual({
      ok: true,
      values: { kind: 'named', entries: [['temp', 21.5], ['rpm', -900]] },
      timeMs: 1700000000000,
    });
    // In arrival mode the timestamp field is ignored, not a channel.
    expect(parseJsonObject('{"ts": 5, "temp": 1}', arrival)).toEqual({ ok: true, values: { kind: 'named', entries: [['temp', 1]] }, timeMs: null });
  });

  it('reads ISO 8601 times with a zone', () => {
    const r = parseJsonObject('{"ts": "2024-05-01T12:00:00.250+02:00", "a": 1}', payloadTime);
    // 12:00:00.250 at +02:00 is 10:00:00.250 UTC; 2024-05-01T00:00Z is 1714521600000 ms.
    expect(r).toMatchObject({ ok: true, timeMs: 1714521600000 + 10 * 3_600_000 + 250 });
  });

  it('names the reason for each kind of bad payload', () => {
    expect(parseJsonObject('{"a": 1,', arrival)).toMatchObject({ ok: false, reason: 'invalid-json' });
    expect(parseJsonObject('[1, 2]', arrival)).toMatchObject({ ok: false, reason: 'invalid-json', detail: 'expected a JSON object, got an array' });
    expect(parseJsonObject('{"a": "21.5"}', arrival)).toMatchObject({ ok: false, reason: 'not-a-number', detail: `field 'a' is the string "21.5", not a number` });
    expect(parseJsonObject('{"a": null}', arrival)).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(parseJsonObject('{"a": 1e400}', arrival)).toMatchObject({ ok: false, reason: 'non-finite', detail: `field 'a' is Infinity` });
    expect(parseJsonObject('{"a": 1}', payloadTime)).toMatchObject({ ok: false, reason: 'invalid-json', detail: `timestamp field 'ts' is missing` });
    expect(parseJsonObject('{"ts": "yesterday", "a": 1}', payloadTime)).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(parseJsonObject('{"ts": "2024-05-01T12:00:00", "a": 1}', payloadTime)).toMatchObject({ ok: false, reason: 'not-a-number' }); // no zone
    expect(parseJsonObject('{}', arrival)).toMatchObject({ ok: false, reason: 'wrong-channel-count' });
  });

  it('on a per-channel topic takes exactly one value field as the channel value', () => {
    expect(parseJsonObject('{"value": 3.5, "ts": 10}', perChannel('temp', 'payload'))).toEqual({ ok: true, values: { kind: 'named', entries: [['temp', 3.5]] }, timeMs: 10 });
    expect(parseJsonObject('{"a": 1, "b": 2}', perChannel('temp'))).toMatchObject({ ok: false, reason: 'wrong-channel-count' });
  });
});

describe('json-array codec', () => {
  it('reads positional values, with a leading time in payload mode', () => {
    expect(parseJsonArray('[21.5, 900]', arrival)).toEqual({ ok: true, values: { kind: 'ordered', values: [21.5, 900] }, timeMs: null });
    expect(parseJsonArray('[1700000000000, 21.5, 900]', payloadTime)).toEqual({ ok: true, values: { kind: 'ordered', values: [21.5, 900] }, timeMs: 1700000000000 });
    expect(parseJsonArray('[7, 2]', perChannel('rpm', 'payload'))).toEqual({ ok: true, values: { kind: 'named', entries: [['rpm', 2]] }, timeMs: 7 });
  });

  it('refuses non-arrays, non-numbers and empty arrays', () => {
    expect(parseJsonArray('{"a":1}', arrival)).toMatchObject({ ok: false, reason: 'invalid-json' });
    expect(parseJsonArray('[1, "2"]', arrival)).toMatchObject({ ok: false, reason: 'not-a-number', detail: 'element 1 is the string "2", not a number' });
    expect(parseJsonArray('[1, [2]]', arrival)).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(parseJsonArray('[]', arrival)).toMatchObject({ ok: false, reason: 'wrong-channel-count' });
    expect(parseJsonArray('[]', payloadTime)).toMatchObject({ ok: false, reason: 'wrong-channel-count' });
    expect(parseJsonArray('[5]', payloadTime)).toMatchObject({ ok: false, reason: 'wrong-channel-count' });
    expect(parseJsonArray('[1, 2]', perChannel('a'))).toMatchObject({ ok: false, reason: 'wrong-channel-count' });
  });
});

describe('csv codec', () => {
  it('reads one line of decimals, trimming spaces and one trailing line break', () => {
    expect(parseCsv(' 21.5 , -9e2,.5\r\n', arrival)).toEqual({ ok: true, values: { kind: 'ordered', values: [21.5, -900, 0.5] }, timeMs: null });
    expect(parseCsv('2024-05-01T00:00:00Z,1,2\n', payloadTime)).toEqual({ ok: true, values: { kind: 'ordered', values: [1, 2] }, timeMs: 1714521600000 });
    expect(parseCsv('1714521600000,1', payloadTime)).toMatchObject({ ok: true, timeMs: 1714521600000 });
  });

  it('names the reason for each kind of bad line', () => {
    expect(parseCsv('1,2\n3,4', arrival)).toMatchObject({ ok: false, reason: 'invalid-csv', detail: 'expected one line' });
    expect(parseCsv('   ', arrival)).toMatchObject({ ok: false, reason: 'invalid-csv' });
    expect(parseCsv('1,,2', arrival)).toMatchObject({ ok: false, reason: 'not-a-number', detail: 'field 2: empty value' });
    expect(parseCsv('1,abc', arrival)).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(parseCsv('1,0x10', arrival)).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(parseCsv('1,NaN', arrival)).toMatchObject({ ok: false, reason: 'non-finite' });
    expect(parseCsv('-Infinity,1', arrival)).toMatchObject({ ok: false, reason: 'non-finite' });
    expect(parseCsv('1,1e999', arrival)).toMatchObject({ ok: false, reason: 'non-finite' });
  });
});

describe('number codec', () => {
  it('reads one number, named after the topic channel when there is one', () => {
    expect(parseNumber(' 42.25\n', arrival)).toEqual({ ok: true, values: { kind: 'ordered', values: [42.25] }, timeMs: null });
    expect(parseNumber('-1', perChannel('temp'))).toEqual({ ok: true, values: { kind: 'named', entries: [['temp', -1]] }, timeMs: null });
    // It carries no time: payload mode still gives null (the arrival time is used).
    expect(parseNumber('3', payloadTime)).toMatchObject({ ok: true, timeMs: null });
  });

  it('refuses anything else', () => {
    expect(parseNumber('1,2', arrival)).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(parseNumber('inf', arrival)).toMatchObject({ ok: false, reason: 'non-finite' });
    expect(parseNumber('', arrival)).toMatchObject({ ok: false, reason: 'not-a-number', detail: 'empty value' });
  });
});

describe('parsePayload', () => {
  it('refuses invalid UTF-8 with the codec-specific reason', () => {
    const bad = new Uint8Array([0x31, 0xff, 0x32]);
    expect(parsePayload('json-object', bad, arrival)).toMatchObject({ ok: false, reason: 'invalid-json' });
    expect(parsePayload('csv', bad, arrival)).toMatchObject({ ok: false, reason: 'invalid-csv' });
    expect(parsePayload('number', bad, arrival)).toMatchObject({ ok: false, reason: 'not-a-number' });
  });
});

describe('decodeMessage', () => {
  const options: DecodeMessageOptions = { maxPayloadBytes: 64, timestamp: 'payload', timestampField: 'ts', maxClockSkewMs: 1000 };
  const route = { codec: 'json-object' as const, match: { device: 'pump-1', tags: { site: 'north' } } };

  it('makes a sample with the payload time, device and tags', () => {
    const m = message('s/north/pump-1', '{"ts": 10500, "a": 2}', 10_000);
    const r = decodeMessage(m, route, options, 99);
    expect(r).toEqual({ kind: 'sample', sample: { device: 'pump-1', tags: { site: 'north' }, timeMs: 10_500, values: { kind: 'named', entries: [['a', 2]] }, source: m } });
    expect(m.acks).toBe(0);
  });

  it('uses the arrival time in arrival mode', () => {
    const m = message('t', '[1, 2]', 10_000);
    const r = decodeMessage(m, { codec: 'json-array', match: { device: 'd', tags: {} } }, { ...options, timestamp: 'arrival' }, 0);
    expect(r).toMatchObject({ kind: 'sample', sample: { timeMs: 10_000 } });
  });

  it('dead-letters times further than maxClockSkewMs from the arrival, both ways, and keeps the edge', () => {
    expect(decodeMessage(message('t', '{"ts": 11000, "a": 1}', 10_000), route, options, 0)).toMatchObject({ kind: 'sample' });
    expect(decodeMessage(message('t', '{"ts": 9000, "a": 1}', 10_000), route, options, 0)).toMatchObject({ kind: 'sample' });
    expect(decodeMessage(message('t', '{"ts": 11001, "a": 1}', 10_000), route, options, 0)).toMatchObject({ kind: 'dead', letter: { reason: 'time-out-of-range' } });
    expect(decodeMessage(message('t', '{"ts": 8999, "a": 1}', 10_000), route, options, 0)).toMatchObject({ kind: 'dead', letter: { reason: 'time-out-of-range' } });
    // A time in seconds instead of ms is caught by the same check.
    expect(decodeMessage(message('t', '{"ts": 1714521600, "a": 1}', 1714521600000), route, { ...options, maxClockSkewMs: 300_000 }, 0)).toMatchObject({ kind: 'dead', letter: { reason: 'time-out-of-range' } });
    expect(decodeMessage(message('t', '{"ts": 0, "a": 1}', 1714521600000), route, { ...options, maxClockSkewMs: Number.POSITIVE_INFINITY }, 0)).toMatchObject({ kind: 'sample' });
  });

  it('dead-letters oversized payloads unread, keeping the first 1 KiB in the letter', () => {
    const big = message('t', `{"a": ${'1'.repeat(2000)}}`, 0);
    const r = decodeMessage(big, route, { ...options, timestamp: 'arrival', maxPayloadBytes: 1500 }, 42);
    expect(r.kind).toBe('dead');
    if (r.kind !== 'dead') return;
    expect(r.letter).toMatchObject({ reason: 'oversized', topic: 't', payloadEncoding: 'utf8', payloadBytes: 2007, atMs: 42, source: big });
    expect(r.letter.payload).toBe(`{"a": ${'1'.repeat(1018)}`);
    expect(r.letter.payload.length).toBe(1024);
  });

  it('stores binary payloads as base64 and does not split a UTF-8 character at the 1 KiB cut', () => {
    const binary = message('t', new Uint8Array([0, 1, 2, 250]), 0);
    const r = decodeMessage(binary, route, options, 0);
    expect(r).toMatchObject({ kind: 'dead', letter: { reason: 'invalid-json', payload: 'AAEC+g==', payloadEncoding: 'base64', payloadBytes: 4 } });
    // 1023 ASCII bytes then 'é' (2 bytes) straddles the cut: the letter keeps the 1023 ASCII bytes.
    const text = `${'x'.repeat(1023)}é tail`;
    const straddle = decodeMessage(message('t', text, 0), route, { ...options, maxPayloadBytes: 10 }, 0);
    expect(straddle).toMatchObject({ kind: 'dead', letter: { reason: 'oversized', payload: 'x'.repeat(1023), payloadEncoding: 'utf8' } });
  });
});
