import { describe, expect, it } from 'vitest';
import type { CodecRoute } from '../../src/stream/codecs.js';
import { decode, type DecodeOptions } from '../../src/stream/decode.js';
import type { DecodedSample } from '../../src/stream/types.js';
import { message, recorder, testScheduler, type Recorder, type TestMessage } from './stream-fixtures.js';

/** `sensors/<device>` carries JSON objects; `raw/<device>/<channel>` one number per channel. */
function codecFor(topic: string): CodecRoute | null {
  const parts = topic.split('/');
  if (parts[0] === 'sensors' && parts.length === 2) return { codec: 'json-object', match: { device: parts[1] ?? '', tags: {} } };
  if (parts[0] === 'raw' && parts.length === 3) return { codec: 'number', match: { device: parts[1] ?? '', channel: parts[2] ?? '', tags: { kind: 'raw' } } };
  return null;
}

function options(rec: Recorder, extra: Partial<DecodeOptions> = {}): DecodeOptions {
  return { ...rec, codecFor, timestamp: 'payload', timestampFormat: 'epoch-ms', maxClockSkewMs: 60_000, now: () => 777, ...extra };
}

const good = (device: string, timeMs: number, value: number): TestMessage => message(`sensors/${device}`, JSON.stringify({ ts: timeMs, v: value }), timeMs);
const expected = (m: TestMessage, value: number): DecodedSample => ({ device: m.topic.split('/')[1] ?? '', tags: {}, timeMs: m.receivedAtMs, values: { kind: 'named', entries: [['v', value]] }, source: m });

describe('decode', () => {
  it('empty: completes with nothing', () => {
    const rec = recorder();
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<TestMessage>('|').pipe(decode(options(rec)))).toBe('|');
    });
    expect(rec.letters).toEqual([]);
  });

  it('one value: decoded in the same frame, not acknowledged', () => {
    const rec = recorder();
    const a = good('p1', 1000, 1.5);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a }).pipe(decode(options(rec)))).toBe('-a|', { a: expected(a, 1.5) });
    });
    expect(a.acks).toBe(0);
  });

  it('many values: bad ones become dead letters with reasons, handed over before their ack', () => {
    const rec = recorder();
    const acksAtHandOver: number[] = [];
    const opts = options(rec, {
      maxPayloadBytes: 100,
      deadLetter: (letter) => {
        acksAtHandOver.push((letter.source as TestMessage).acks);
        rec.letters.push(letter);
      },
    });
    const a = good('p1', 1000, 1);
    const b = message('sensors/p1', '{"ts": 2000, "v": "x"}', 2000);
    const c = message('nowhere/p1', '1', 3000);
    const d = message('sensors/p1', `{"v": ${'9'.repeat(200)}}`, 4000);
    const e = message('sensors/p1', '{"ts": 999999, "v": 1}', 5000);
    const f = message('raw/p2/temp', '21.5', 6000);
    const g = message('sensors/p1', '{"ts": 7000, "v": 1', 7000);
    testScheduler().run(({ cold, expectObservable }) => {
      const out = { a: expected(a, 1), f: { device: 'p2', tags: { kind: 'raw' }, timeMs: 6000, values: { kind: 'named', entries: [['temp', 21.5]] }, source: f } };
      expectObservable(cold('abcdefg|', { a, b, c, d, e, f, g }).pipe(decode(opts))).toBe('a----f-|', out);
    });
    expect(rec.letters.map((l) => [l.reason, l.source])).toEqual([
      ['not-a-number', b],
      ['unmatched-topic', c],
      ['oversized', d],
      ['time-out-of-range', e],
      ['invalid-json', g],
    ]);
    expect(rec.letters.every((l) => l.atMs === 777)).toBe(true);
    expect(acksAtHandOver).toEqual([0, 0, 0, 0, 0]);
    expect([a, b, c, d, e, f, g].map((m) => m.acks)).toEqual([0, 1, 1, 1, 1, 0, 1]);
  });

  it('error: passes the source error through', () => {
    const rec = recorder();
    const a = good('p1', 1000, 1);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a#', { a }, new Error('broker gone')).pipe(decode(options(rec)))).toBe('a#', { a: expected(a, 1) }, new Error('broker gone'));
    });
  });

  it('never ending: keeps decoding without completing', () => {
    const rec = recorder();
    const a = good('p1', 1000, 1);
    const b = good('p1', 2000, 2);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a 9ms b', { a, b }).pipe(decode(options(rec)))).toBe('a 9ms b', { a: expected(a, 1), b: expected(b, 2) });
    });
  });

  it('early unsubscribe: unsubscribes from the source', () => {
    const rec = recorder();
    const a = good('p1', 1000, 1);
    const b = good('p1', 2000, 2);
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a--b--|', { a, b });
      expectObservable(source.pipe(decode(options(rec))), '^-!').toBe('a--', { a: expected(a, 1) });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('a throwing codecFor dead-letters that message (callback-error) and the stream goes on', () => {
    const rec = recorder();
    const a = good('boom', 1000, 1);
    const b = good('p1', 2000, 2);
    const opts = options(rec, { codecFor: (topic) => (topic.endsWith('boom') ? explode('bad template') : codecFor(topic)) });
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('ab|', { a, b }).pipe(decode(opts))).toBe('-b|', { b: expected(b, 2) });
    });
    expect(rec.letters).toMatchObject([{ reason: 'callback-error', detail: 'codecFor threw: bad template', source: a }]);
    expect(a.acks).toBe(1);
  });

  it('a throwing dead-letter sink: the message is not acknowledged, the error is reported, the stream goes on', () => {
    const rec = recorder();
    const a = message('nowhere', '1', 1000);
    const b = good('p1', 2000, 2);
    const opts = options(rec, { deadLetter: () => explode('sink down') });
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('ab|', { a, b }).pipe(decode(opts))).toBe('-b|', { b: expected(b, 2) });
    });
    expect(a.acks).toBe(0);
    expect(rec.callbackErrors).toEqual([{ error: new Error('sink down'), callback: 'deadLetter' }]);
  });

  it('a throwing ack, a throwing clock and a throwing error hook are contained', () => {
    const rec = recorder();
    const a = message('nowhere', '1', 1234);
    a.ack = () => explode('ack failed');
    const opts = options(rec, { now: () => explode('no clock') });
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a|', { a }).pipe(decode(opts))).toBe('-|');
    });
    expect(rec.letters).toMatchObject([{ reason: 'unmatched-topic', atMs: 1234 }]);
    expect(rec.callbackErrors.map((e) => e.callback)).toEqual(['now', 'ack']);

    const b = message('nowhere', '1', 1);
    const silent = options(recorder(), { deadLetter: () => explode('sink'), onCallbackError: () => explode('hook') });
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('b|', { b }).pipe(decode(silent))).toBe('-|');
    });
  });

  it("a route's own settings override the operator's defaults", () => {
    const rec = recorder();
    const routes: Record<string, CodecRoute> = {
      // csv of a two-channel model, time in seconds at the front; small payload limit.
      'csv/p1': { codec: 'csv', match: { device: 'p1', tags: {} }, channelCount: 2, timestampFormat: 'epoch-s', maxPayloadBytes: 20 },
      // json with its own time member, read as arrival-timed.
      'arr/p2': { codec: 'json-object', match: { device: 'p2', tags: {} }, timestamp: 'arrival' },
      'own/p3': { codec: 'json-object', match: { device: 'p3', tags: {} }, timestampFields: ['at'] },
    };
    const a = message('csv/p1', '2,1.5,2.5', 1500);
    const b = message('csv/p1', '2,1.5,2.5,3.5,4.5,5.5,6.5', 1500);
    const c = message('arr/p2', '{"ts": 1, "v": 4}', 9000);
    const d = message('own/p3', '{"at": 8000, "ts": 3}', 9000);
    testScheduler().run(({ cold, expectObservable }) => {
      const out = cold('abcd|', { a, b, c, d }).pipe(decode(options(rec, { codecFor: (t) => routes[t] ?? null })));
      expectObservable(out).toBe('a-cd|', {
        a: { device: 'p1', tags: {}, timeMs: 2000, values: { kind: 'ordered', values: [1.5, 2.5] }, source: a },
        c: { device: 'p2', tags: {}, timeMs: 9000, values: { kind: 'named', entries: [['v', 4]] }, source: c },
        d: { device: 'p3', tags: {}, timeMs: 8000, values: { kind: 'named', entries: [['ts', 3]] }, source: d },
      });
    });
    expect(rec.letters.map((l) => [l.reason, l.source])).toEqual([['oversized', b]]);
  });

  it('one operator instance serves several subscriptions', () => {
    const rec = recorder();
    const op = decode(options(rec));
    const a = good('p1', 1000, 1);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a|', { a }).pipe(op)).toBe('a|', { a: expected(a, 1) });
      expectObservable(cold('-a|', { a }).pipe(op)).toBe('-a|', { a: expected(a, 1) });
    });
  });

  it('checks its options once, naming the bad one', () => {
    const rec = recorder();
    expect(() => decode(options(rec, { maxPayloadBytes: 0 }))).toThrow('decode: maxPayloadBytes must be a positive integer, got 0');
    expect(() => decode(options(rec, { maxClockSkewMs: -1 }))).toThrow('decode: maxClockSkewMs must be a number ≥ 0 (or Infinity), got -1');
    expect(() => decode(options(rec, { timestamp: 'server' as 'payload' }))).toThrow(`decode: timestamp must be 'payload' or 'arrival', got server`);
    expect(() => decode(options(rec, { timestampField: '' }))).toThrow('decode: timestampField must be a non-empty string or a non-empty list of them, got ""');
    expect(() => decode(options(rec, { timestampField: [] }))).toThrow('decode: timestampField must be a non-empty string or a non-empty list of them, got []');
    expect(() => decode(options(rec, { timestampFormat: 'unix' as 'auto' }))).toThrow('decode: timestampFormat must be one of auto, iso, epoch-ms, epoch-s, got unix');
    expect(() => decode({ ...options(rec), deadLetter: undefined as unknown as DecodeOptions['deadLetter'] })).toThrow('decode: deadLetter must be a function, got undefined');
  });
});

function explode(text: string): never {
  throw new Error(text);
}
