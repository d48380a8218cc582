import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LineProtocolFileSink } from '../../src/io/line-protocol-file-sink.js';
import type { ConfirmedPoints, SinkLogger } from '../../src/io/point-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'convwatch-lp-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = (): string => join(dir, `points-${++files}.lp`);
const warnings: string[] = [];
const logger: SinkLogger = { info: () => undefined, warn: (_fields, message) => warnings.push(message), error: () => undefined };

describe('LineProtocolFileSink', () => {
  it('appends line protocol and confirms each write when its append returned', async () => {
    const path = freshFile();
    const confirmed: ConfirmedPoints[] = [];
    const sink = await LineProtocolFileSink.open({ path, logger, onConfirmed: (c) => confirmed.push(c) });
    const first = await sink.write([
      { measurement: 'anomaly', tags: { device: 'd 1' }, fields: { score: 0.5, anomaly: false }, timeMs: 1000, receivedAtMs: 1005 },
      { measurement: 'anomaly', tags: { device: 'd2' }, fields: { score: NaN }, timeMs: 1000 },
    ]);
    expect(first).toEqual({ firstSeq: 1, lastSeq: 1 });
    expect(sink.confirmedSeq).toBe(1);
    expect(await sink.write([{ measurement: 'anomaly', tags: { device: 'd2' }, fields: { score: 2 }, timeMs: 2000 }])).toEqual({ firstSeq: 2, lastSeq: 2 });
    await sink.waitConfirmed(2);
    expect(sink.stats()).toMatchObject({ written: 2, confirmed: 2, bufferedPoints: 0, dropped: { 'no-fields': 1, 'invalid-point': 0, 'spool-full': 0 } });
    expect(await sink.close()).toEqual({ unconfirmed: 0 });
    expect(readFileSync(path, 'utf8')).toBe('anomaly,device=d\\ 1 score=0.5,anomaly=false 1000\nanomaly,device=d2 score=2 2000\n');
    expect(confirmed.map((c) => [c.firstSeq, c.lastSeq, [...c.timesMs], [...c.receivedAtMs]])).toEqual([
      [1, 1, [1000], [1005]],
      [2, 2, [2000], [NaN]],
    ]);
  });

  it('appends to an existing file and rotates it to .1 at maxFileBytes', async () => {
    const path = freshFile();
    writeFileSync(path, 'old v=1 1\n');
    const sink = await LineProtocolFileSink.open({ path, logger, maxFileBytes: 25, fsync: 'always' });
    await sink.write([{ measurement: 'm', tags: {}, fields: { v: 2 }, timeMs: 2 }]); // 10 + 8 bytes: fits
    await sink.write([{ measurement: 'm', tags: {}, fields: { v: 3 }, timeMs: 3 }]); // would pass 25: rotate first
    await sink.close();
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('old v=1 1\nm v=2 2\n');
    expect(readFileSync(path, 'utf8')).toBe('m v=3 3\n');
  });

  it('drops and counts invalid points, logging once per write', async () => {
    const sink = await LineProtocolFileSink.open({ path: freshFile(), logger });
    warnings.length = 0;
    const range = await sink.write([
      { measurement: 'm', tags: { device: 'a\nb' }, fields: { v: 1 }, timeMs: 1 },
      { measurement: '_m', tags: {}, fields: { v: 1 }, timeMs: 1 },
    ]);
    expect(range).toEqual({ firstSeq: 1, lastSeq: 0 });
    expect(sink.stats().dropped['invalid-point']).toBe(2);
    expect(warnings).toHaveLength(1);
    await sink.close();
  });

  it('refuses writes after close, rejects waiters, times out waits, and names bad options', async () => {
    const timers: (() => void)[] = [];
    const clock = { now: () => 0, setTimeout: (callback: () => void) => timers.push(callback), clearTimeout: () => undefined };
    const sink = await LineProtocolFileSink.open({ path: freshFile(), logger, clock });
    const pending = sink.waitConfirmed(5).catch((error: Error) => error.message);
    const timed = sink.waitConfirmed(5, 10);
    expect(timers).toHaveLength(1);
    timers[0]();
    await expect(timed).rejects.toThrow(/seq 5 not written within 10 ms/);
    await sink.close();
    expect(await pending).toMatch(/closed before seq 5/);
    await expect(sink.write([])).rejects.toThrow(/after close/);
    await expect(LineProtocolFileSink.open({ path: freshFile(), logger, maxFileBytes: 0 })).rejects.toThrow('lineProtocolFile.maxFileBytes must be an integer ≥ 1, got 0');
  });
});
