import { describe, expect, it } from 'vitest';
import { decodeMessage, parseCsv, parseJsonArray, parseJsonObject, parseNumber, parsePayload, type DecodeMessageOptions, type PayloadOptions } from '../../src/stream/codecs.js';
import { message } from './stream-fixtures.js';

const base = { timestampFields: ['time', 'ts'], timestampFormat: 'auto' as const, channel: undefined, channelCount: undefined };
const arrival: PayloadOptions = { ...base, timestamp: 'arrival' };
const payloadTime: PayloadOptions = { ...base, timestamp: 'payload' };
const perChannel = (channel: string, timestamp: 'payload' | 'arrival' = 'arrival'): PayloadOptions => ({ ...base, timestamp, channel });
/** 2024-05-01T00:00:00Z in ms since the epoch. */
const MAY_1 = 1714521600000;

describe('json-object codec', () => {
  it('reads every numeric member in payload order, skipping the time member', () => {
    expect(parseJsonObject('{"temp": 21.5, "rpm": -900, "ts": 1700000000000}', payloadTime)).toEqual({
      ok: true,
      values: { kind: 'named', entries: [['temp', 21.5], ['rpm', -900]] },
      timeMs: 1700000000000,
    });
    // The first present of the timestamp fields is the time; in arrival mode it is skipped, not a channel.
    expect(parseJsonObject('{"ts": 5, "temp": 1, "time": 1700000000000}', payloadTime)).toEqual({ ok: true, values: { kind: 'named', entries: [['ts', 5], ['temp', 1]] }, timeMs: 1700000000000 });
    expect(parseJsonObject('{"ts": 5, "temp": 1}', arrival)).toEqual({ ok: true, values: { kind: 'named', entries: [['temp', 1]] }, timeMs: null });
    // No time member in payload mode: the arrival time is used (timeMs null).
    expect(parseJsonObject('{"a": 1}', payloadTime)).toEqual({ ok: true, values: { kind: 'named', entries: [['a', 1]] }, timeMs: null });
  });

  it('reads times as the format says', () => {
    const at = (ts: string, format: PayloadOptions['timestampFormat']) => parseJsonObject(`{"ts": ${ts}, "a": 1}`, { ...payloadTime, timestampFormat: format });
    // 12:00:00.250 at +02:00 is 10:00:00.250 UTC.
    expect(at('"2024-05-01T12:00:00.250+02:00"', 'auto')).toMatchObject({ ok: true, timeMs: MAY_1 + 10 * 3_600_000 + 250 });
    expect(at('"2024-05-01T12:00:00.250+02:00"', 'iso')).toMatchObject({ ok: true, timeMs: MAY_1 + 10 * 3_600_000 + 250 });
    expect(at(String(MAY_1), 'auto')).toMatchObject({ ok: true, timeMs: MAY_1 });
    expect(at('1714521600', 'auto')).toMatchObject({ ok: true, timeMs: MAY_1 }); // seconds below 1e11
    expect(at('"1714521600.5"', 'auto')).toMatchObject({ ok: true, timeMs: MAY_1 + 500 });
    expect(at('1714521600', 'epoch-s')).toMatchObject({ ok: true, timeMs: MAY_1 });
    expect(at('1714521600', 'epoch-ms')).toMatchObject({ ok: true, timeMs: 1714521600 });
    expect(at(String(MAY_1), 'iso')).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(at('"2024-05-01T00:00:00Z"', 'epoch-ms')).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(at('"2024-05-01T12:00:00"', 'auto')).toMatchObject({ ok: false, reason: 'not-a-number' }); // no zone
    expect(at('"yesterday"', 'auto')).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(at('null', 'auto')).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(at('1e400', 'auto')).toMatchObject({ ok: false, reason: 'non-finite' });
  });

  it('names the reason for each kind of bad payload', () => {
    expect(parseJsonObject('{"a": 1,', arrival)).toMatchObject({ ok: false, reason: 'invalid-json' });
    expect(parseJsonObject('[1, 2]', arrival)).toMatchObject({ ok: false, reason: 'invalid-json', detail: 'expected a JSON object, got an array' });
    expect(parseJsonObject('{"a": "21.5"}', arrival)).toMatchObject({ ok: false, reason: 'not-a-number', detail: `member 'a' is the string "21.5", not a number` });
    expect(parseJsonObject('{"a": null}', arrival)).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(parseJsonObject('{"a": 1e400}', arrival)).toMatchObject({ ok: false, reason: 'non-finite', detail: `member 'a' is Infinity` });
    expect(parseJsonObject('{}', arrival)).toMatchObject({ ok: false, reason: 'wrong-channel-count' });
    expect(parseJsonObject('{"ts": 1}', payloadTime)).toMatchObject({ ok: false, reason: 'wrong-channel-count' });
  });

  it('on a per-channel topic takes exactly one value member as the channel value', () => {
    expect(parseJsonObject('{"value": 3.5, "ts": 1714521600}', perChannel('temp', 'payload'))).toEqual({ ok: true, values: { kind: 'named', entries: [['temp', 3.5]] }, timeMs: MAY_1 });
    expect(parseJsonObject('{"a": 1, "b": 2}', perChannel('temp'))).toMatchObject({ ok: false, reason: 'wrong-channel-count' });
  });
});

describe('json-array codec', () => {
  it('reads positional values, with the time in the {t, v} form', () => {
    expect(parseJsonArray('[21.5, 900]', payloadTime)).toEqual({ ok: true, values: { kind: 'ordered', values: [21.5, 900] }, timeMs: null });
    expect(parseJsonArray('{"t": 1700000000000, "v": [21.5, 900]}', payloadTime)).toEqual({ ok: true, values: { kind: 'ordered', values: [21.5, 900] }, timeMs: 1700000000000 });
    expect(parseJsonArray('{"v": [1], "t": "2024-05-01T00:00:00Z"}', payloadTime)).toEqual({ ok: true, values: { kind: 'ordered', values: [1] }, timeMs: MAY_1 });
    expect(parseJsonArray('{"t": 1700000000000, "v": [21.5]}', arrival)).toEqual({ ok: true, values: { kind: 'ordered', values: [21.5] }, timeMs: null });
    expect(parseJsonArray('[2]', perChannel('rpm'))).toEqual({ ok: true, values: { kind: 'named', entries: [['rpm', 2]] }, timeMs: null });
  });

  it('refuses other shapes, non-numbers and empty arrays', () => {
    expect(parseJsonArray('{"a":1}', arrival)).toMatchObject({ ok: false, reason: 'invalid-json' });
    expect(parseJsonArray('{"t": 1, "v": [1], "x": 2}', payloadTime)).toMatchObject({ ok: false, reason: 'invalid-json' });
    expect(parseJsonArray('{"t": 1, "v": 1}', payloadTime)).toMatchObject({ ok: false, reason: 'invalid-json' });
    expect(parseJsonArray('{"t": "soon", "v": [1]}', payloadTime)).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(parseJsonArray('[1, "2"]', arrival)).toMatchObject({ ok: false, reason: 'not-a-number', detail: 'element 1 is the string "2", not a number' });
    expect(parseJsonArray('[1, [2]]', arrival)).toMatchObject({ ok: false, reason: 'not-a-number' });
    expect(parseJsonArray('[]', arrival)).toMatchObject({ ok: false, reason: 'wrong-channel-count' });
    expect(parseJsonArray('[1, 2]', perChannel('a'))).toMatchObject({ ok: false, reason: 'wrong-channel-count' });
  });
});

describe('csv codec', () => {
  it('reads one line of decimals, trimming spaces and one trailing line break', () => {
    expect(parseCsv(' 21.5 , -9e2,.5\r\n', arrival)).toEqual({ ok: true, values: { kind: 'ordered', values: [21.5, -900, 0.5] }, timeMs: null });
  });

  it('takes a leading time when the line has one field more than the model has channels', () => {
    const two = { ...payloadTime, channelCount: 2 };
    expect(parseCsv('2024-05-01T00:00:00Z,1,2\n', two)).toEqual({ ok: true, values: { kind: 'ordered', values: [1, 2] }, timeMs: MAY_1 });
    expect(parseCsv('1714521600,1,2', two)).toMatchObject({ ok: true, timeMs: MAY_1 });
    expect(parseCsv('1,2', two)).toEqual({ ok: true, values: { kind: 'ordered', values: [1, 2] }, timeMs: null });
    // In arrival mode the leading time is skipped; without a channel count every field is a value.
    expect(parseCsv('1714521600,1,2', { ...two, timestamp: 'arrival' })).toEqual({ ok: true, values: { kind: 'ordered', values: [1, 2] }, timeMs: null });
    expect(parseCsv('1714521600,1,2', payloadTime)).toEqual({ ok: true, values: { kind: 'ordered', values: [1714521600, 1, 2] }, timeMs: null });
    expect(parseCsv('soon,1,2', two)).toMatchObject({ ok: false, reason: 'not-a-number' });
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
  const options: DecodeMessageOptions = { maxPayloadBytes: 64, timestamp: 'payload', timestampFields: ['ts'], timestampFormat: 'epoch-ms', maxClockSkewMs: 1000 };
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
