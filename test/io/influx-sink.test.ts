/**
 * The sender's timing in virtual time: an injected clock and a scripted transport (no network,
 * no real timers; the spool is a real directory). Against real servers:
 * influx-sink.integration.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InfluxSink } from '../../src/io/influx-sink.js';
import type { InfluxWriteTransport, WriteOutcome } from '../../src/io/influx-write-transport.js';
import type { PointRecord } from '../../src/io/line-protocol.js';
import { SILENT_SINK_LOGGER, type SinkClock } from '../../src/io/point-sink.js';

const root = mkdtempSync(join(tmpdir(), 'convwatch-influx-sink-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** Virtual time: `advance` runs the timers that come due, in order. */
function virtualClock(): SinkClock & { advance(ms: number): void; delays: number[] } {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const delays: number[] = [];
  return {
    delays,
    now: () => now,
    setTimeout(callback, delayMs) {
      delays.push(delayMs);
      timers.set(next, { at: now + delayMs, callback });
      return next++;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].callback();
      }
      now = end;
    },
  };
}

/** Lets pending promise callbacks and file I/O run (no timers involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

function scriptedTransport(outcomes: WriteOutcome[]): InfluxWriteTransport & { bodies: string[] } {
  const bodies: string[] = [];
  return {
    bodies,
    send: async (body) => {
      bodies.push(body);
      return outcomes.shift() ?? { kind: 'ok', status: 204 };
    },
  };
}

const pts = (n: number, from = 0): PointRecord[] => Array.from({ length: n }, (_, i) => ({ measurement: 'm', tags: {}, fields: { v: from + i }, timeMs: from + i }));

async function openSink(transport: InfluxWriteTransport, clock: SinkClock, random = () => 0): Promise<InfluxSink> {
  return InfluxSink.open({
    url: 'http://unused',
    org: 'o',
    bucket: 'b',
    token: 't',
    spool: { dir: join(root, `spool-${++dirs}`), fsync: 'never' },
    batchSize: 10,
    flushIntervalMs: 1_000,
    backoff: { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, jitter: 0.5 },
    logger: SILENT_SINK_LOGGER,
    clock,
    random,
    transport,
  });
}

describe('InfluxSink timing (virtual clock)', () => {
  it('sends a partial batch flushIntervalMs after the first point, not before', async () => {
    const clock = virtualClock();
    const transport = scriptedTransport([]);
    const sink = await openSink(transport, clock);
    await sink.write(pts(3));
    await settle();
    clock.advance(999);
    await settle();
    expect(transport.bodies).toEqual([]);
    clock.advance(1);
    await settle();
    expect(transport.bodies).toEqual(['m v=0 0\nm v=1 1\nm v=2 2']);
    expect(sink.confirmedSeq).toBe(3);
    sink.dispose();
  });

  it('sends a full batch at once, in batches of batchSize', async () => {
    const clock = virtualClock();
    const transport = scriptedTransport([]);
    const sink = await openSink(transport, clock);
    await sink.write(pts(25));
    await settle();
    expect(transport.bodies.map((b) => b.split('\n').length)).toEqual([10, 10]);
    clock.advance(1_000);
    await settle();
    expect(transport.bodies.map((b) => b.split('\n').length)).toEqual([10, 10, 5]);
    expect(sink.stats()).toMatchObject({ written: 25, confirmed: 25, bufferedPoints: 0 });
    sink.dispose();
  });

  it('waits the backoff between retries (random 0: the bound; random 0.5: 3/4 of it), and new writes do not cut it short', async () => {
    const retry: WriteOutcome = { kind: 'retry', status: 503, reason: 'HTTP 503', retryAfterMs: null };
    const clock = virtualClock();
    const transport = scriptedTransport([retry, retry, retry]);
    const randoms = [0, 0.5, 0];
    const sink = await openSink(transport, clock, () => randoms.shift() ?? 0);
    await sink.write(pts(10));
    await settle();
    expect(transport.bodies).toHaveLength(1);
    expect(clock.delays.at(-1)).toBe(100);
    await sink.write(pts(10, 10)); // a full batch more: must not wake the retry
    await settle();
    clock.advance(99);
    await settle();
    expect(transport.bodies).toHaveLength(1);
    clock.advance(1);
    await settle();
    expect(transport.bodies).toHaveLength(2);
    expect(clock.delays.at(-1)).toBe(150); // bound 200 × (1 − 0.5·0.5)
    clock.advance(150);
    await settle();
    expect(transport.bodies).toHaveLength(3);
    expect(clock.delays.at(-1)).toBe(400);
    clock.advance(400);
    await settle();
    expect(new Set(transport.bodies.slice(0, 4))).toEqual(new Set([transport.bodies[0]]));
    expect(sink.stats()).toMatchObject({ retried: 3, confirmed: 20, failingSinceMs: null });
    sink.dispose();
  });

  it('waits what Retry-After asks, even beyond the backoff cap', async () => {
    const clock = virtualClock();
    const transport = scriptedTransport([{ kind: 'retry', status: 429, reason: 'HTTP 429', retryAfterMs: 5_000 }]);
    const sink = await openSink(transport, clock);
    await sink.write(pts(10));
    await settle();
    clock.advance(4_999);
    await settle();
    expect(transport.bodies).toHaveLength(1);
    clock.advance(1);
    await settle();
    expect(transport.bodies).toHaveLength(2);
    expect(sink.confirmedSeq).toBe(10);
    sink.dispose();
  });

  it('rejects waitConfirmed after its limit on the virtual clock', async () => {
    const clock = virtualClock();
    const sink = await openSink(scriptedTransport([]), clock);
    await sink.write(pts(1));
    const waiting = sink.waitConfirmed(2, 50).catch((error: Error) => error.message);
    clock.advance(50);
    expect(await waiting).toMatch(/seq 2 not confirmed within 50 ms/);
    sink.dispose();
  });
});
