import { describe, expect, it } from 'vitest';
import { classifyStatus, createInfluxWriteTransport, influxWriteUrl } from '../../src/io/influx-write-transport.js';
import type { SinkClock } from '../../src/io/point-sink.js';

const TOKEN = 'tok-123-secret';

/** A clock whose timers run only when the test fires them. */
function manualClock(): SinkClock & { fire(): void; pending: number } {
  const timers = new Map<number, () => void>();
  let next = 1;
  return {
    now: () => Date.UTC(2024, 0, 1),
    setTimeout(callback) {
      timers.set(next, callback);
      return next++;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    fire() {
      for (const [id, callback] of [...timers]) {
        timers.delete(id);
        callback();
      }
    },
    get pending() {
      return timers.size;
    },
  };
}

function fakeFetch(respond: (url: string, init: RequestInit) => Promise<Response>): { fetch: typeof fetch; calls: { url: string; init: RequestInit }[] } {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = ((input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, init: init ?? {} });
    return respond(url, init ?? {});
  }) as typeof fetch;
  return { fetch: fn, calls };
}

const options = (f: typeof fetch, clock: SinkClock = manualClock()) => ({ url: 'http://db:8086', org: 'my org', bucket: 'b/1', token: TOKEN, timeoutMs: 1000, clock, fetch: f });

describe('influxWriteUrl', () => {
  it('appends the write path to the base (keeping a path prefix) with org, bucket and precision=ms', () => {
    expect(influxWriteUrl('http://db:8086', 'o', 'b')).toBe('http://db:8086/api/v2/write?org=o&bucket=b&precision=ms');
    expect(influxWriteUrl('https://host/influx/', 'my org', 'b/1')).toBe('https://host/influx/api/v2/write?org=my+org&bucket=b%2F1&precision=ms');
  });

  it('refuses non-http URLs, credentials in the URL, and empty org or bucket', () => {
    expect(() => influxWriteUrl('localhost:8086', 'o', 'b')).toThrow(/influx.url must be an http\(s\) URL/);
    expect(() => influxWriteUrl('not a url', 'o', 'b')).toThrow(/influx.url/);
    expect(() => influxWriteUrl('http://u:p@db', 'o', 'b')).toThrow(/credentials/);
    expect(() => influxWriteUrl('http://db', '', 'b')).toThrow(/influx.org/);
  });
});

describe('classifyStatus', () => {
  it('confirms 2xx, retries 408, 429 and 5xx, refuses the other statuses', () => {
    expect([200, 204, 299].map(classifyStatus)).toEqual(['ok', 'ok', 'ok']);
    expect([408, 429, 500, 503, 599].map(classifyStatus)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry']);
    expect([300, 400, 401, 403, 404, 413, 422].map(classifyStatus)).toEqual(Array(7).fill('rejected'));
  });
});

describe('createInfluxWriteTransport', () => {
  it('posts the body with the token header and reports 204 as ok', async () => {
    const { fetch, calls } = fakeFetch(async () => new Response(null, { status: 204 }));
    const clock = manualClock();
    const transport = createInfluxWriteTransport(options(fetch, clock));
    expect(await transport.send('m v=1 1', new AbortController().signal)).toEqual({ kind: 'ok', status: 204 });
    expect(calls[0].url).toBe('http://db:8086/api/v2/write?org=my+org&bucket=b%2F1&precision=ms');
    expect(calls[0].init.method).toBe('POST');
    expect(calls[0].init.body).toBe('m v=1 1');
    expect((calls[0].init.headers as Record<string, string>)['Authorization']).toBe(`Token ${TOKEN}`);
    expect(clock.pending).toBe(0);
  });

  it('leaves the Authorization header out for an empty token', async () => {
    const { fetch, calls } = fakeFetch(async () => new Response(null, { status: 204 }));
    await createInfluxWriteTransport({ ...options(fetch), token: '' }).send('x', new AbortController().signal);
    expect(calls[0].init.headers).not.toHaveProperty('Authorization');
  });

  it('refuses a 400 with a whitespace-collapsed, token-free excerpt of the answer', async () => {
    const { fetch } = fakeFetch(async () => new Response(`bad line\n\n  near ${TOKEN} ${'x'.repeat(1000)}`, { status: 400 }));
    const outcome = await createInfluxWriteTransport(options(fetch)).send('x', new AbortController().signal);
    expect(outcome.kind).toBe('rejected');
    if (outcome.kind !== 'rejected') return;
    expect(outcome.status).toBe(400);
    expect(outcome.body.startsWith('bad line near [redacted] xxx')).toBe(true);
    expect(outcome.body).not.toContain(TOKEN);
    expect(outcome.body.length).toBeLessThanOrEqual(500);
  });

  it('retries a 429 with its Retry-After, and a 503 without', async () => {
    const answers = [new Response('slow down', { status: 429, headers: { 'Retry-After': '7' } }), new Response('', { status: 503 })];
    const { fetch } = fakeFetch(async () => answers.shift() ?? new Response(null, { status: 204 }));
    const transport = createInfluxWriteTransport(options(fetch));
    expect(await transport.send('x', new AbortController().signal)).toEqual({ kind: 'retry', status: 429, reason: 'HTTP 429: slow down', retryAfterMs: 7000 });
    expect(await transport.send('x', new AbortController().signal)).toEqual({ kind: 'retry', status: 503, reason: 'HTTP 503', retryAfterMs: null });
  });

  it('retries a network error, naming its cause without the token', async () => {
    const { fetch } = fakeFetch(async () => {
      const cause = Object.assign(new Error(`connect ECONNREFUSED (auth ${TOKEN})`), { code: 'ECONNREFUSED' });
      throw new TypeError('fetch failed', { cause });
    });
    const outcome = await createInfluxWriteTransport(options(fetch)).send('x', new AbortController().signal);
    expect(outcome).toEqual({ kind: 'retry', status: null, reason: 'fetch failed: ECONNREFUSED connect ECONNREFUSED (auth [redacted])', retryAfterMs: null });
  });

  it('gives up a request after timeoutMs on the injected clock (retry), and reports the caller\'s abort as aborted', async () => {
    const hang = (_url: string, init: RequestInit): Promise<Response> =>
      new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    const clock = manualClock();
    const transport = createInfluxWriteTransport(options(fakeFetch(hang).fetch, clock));
    const timedOut = transport.send('x', new AbortController().signal);
    expect(clock.pending).toBe(1);
    clock.fire();
    expect(await timedOut).toEqual({ kind: 'retry', status: null, reason: 'no answer within 1000 ms', retryAfterMs: null });
    const caller = new AbortController();
    const aborted = transport.send('x', caller.signal);
    caller.abort();
    expect(await aborted).toEqual({ kind: 'aborted' });
    expect(clock.pending).toBe(0);
  });
});
