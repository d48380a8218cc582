import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SinkClock } from '../../src/io/point-sink.js';
import { COMMITTED_FILE, PointSpool, type PointSpoolOptions } from '../../src/io/point-spool.js';
import { memoryLogger } from '../support/memory-logger.js';

const root = mkdtempSync(join(tmpdir(), 'convwatch-point-spool-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `spool-${++dirs}`);


/** Virtual time: timers run only when the test calls `advance`. */
function fakeClock(): SinkClock & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    now: () => now,
    setTimeout(callback, delayMs) {
      const id = next++;
      timers.set(id, { at: now + delayMs, callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > now) continue;
        timers.delete(id);
        timer.callback();
      }
    },
    pending: () => timers.size,
  };
}

function open(dir: string, options: Partial<PointSpoolOptions> = {}): Promise<PointSpool> {
  return PointSpool.open({ dir, fsync: 'never', logger: memoryLogger(), ...options });
}

/** `n` lines `m v=1 <start+i>`. */
function lines(start: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `m v=1 ${start + i}`);
}

const segmentFiles = (dir: string): string[] => readdirSync(dir).filter((name) => name.startsWith('seg-')).sort();

describe('PointSpool: append and read', () => {
  it('numbers lines from 1 and reads them back in order, from memory and from disk alike', async () => {
    for (const maxCachedPoints of [100_000, 0, 3]) {
      const spool = await open(freshDir(), { maxCachedPoints });
      expect(await spool.append(lines(100, 4))).toEqual({ firstSeq: 1, lastSeq: 4 });
      expect(await spool.append(lines(200, 1))).toEqual({ firstSeq: 5, lastSeq: 5 });
      expect(await spool.append(lines(300, 3))).toEqual({ firstSeq: 6, lastSeq: 8 });
      expect(spool.unsettledPoints).toBe(8);
      const all = await spool.read(1, 100);
      expect(all.lines, `cache ${maxCachedPoints}`).toEqual([...lines(100, 4), ...lines(200, 1), ...lines(300, 3)]);
      expect([all.firstSeq, all.lastSeq]).toEqual([1, 8]);
      const middle = await spool.read(3, 4);
      expect(middle.lines).toEqual(['m v=1 102', 'm v=1 103', 'm v=1 200', 'm v=1 300']);
      expect([middle.firstSeq, middle.lastSeq]).toEqual([3, 6]);
      expect((await spool.read(9, 10)).lines).toEqual([]);
      await spool.close();
    }
  });

  it('reads a long spool in small batches from disk, following its cursor, without losing or repeating a line', async () => {
    const spool = await open(freshDir(), { maxCachedPoints: 0, segmentBytes: 300, readChunkBytes: 64 });
    for (let r = 0; r < 30; r++) await spool.append(lines(1000 + r * 10, 10));
    const seen: string[] = [];
    for (let from = 1; from <= 300; ) {
      const batch = await spool.read(from, 7);
      expect(batch.firstSeq).toBe(from);
      seen.push(...batch.lines);
      spool.settle(batch.lastSeq);
      from = batch.lastSeq + 1;
    }
    expect(seen).toEqual(lines(1000, 300));
    expect(spool.unsettledPoints).toBe(0);
    await spool.close();
  });

  it('keeps receipt times with the memory copy; NaN once read from disk', async () => {
    const cached = await open(freshDir());
    await cached.append(lines(1, 2), Float64Array.of(10, 20));
    expect([...(await cached.read(1, 5)).receivedAtMs]).toEqual([10, 20]);
    await cached.close();
    const uncached = await open(freshDir(), { maxCachedPoints: 0 });
    await uncached.append(lines(1, 2), Float64Array.of(10, 20));
    expect([...(await uncached.read(1, 5)).receivedAtMs]).toEqual([NaN, NaN]);
    await uncached.close();
  });

  it('writes the documented record format: a #cw1 header with seq, count, bytes and CRC-32, then the lines', async () => {
    const dir = freshDir();
    const spool = await open(dir);
    await spool.append(['m v=1 1', 'm v=1 2']);
    await spool.close();
    expect(segmentFiles(dir)).toEqual(['seg-0000000000000001.lp']);
    // CRC-32 of the 16-byte body, from Python's zlib.crc32.
    expect(readFileSync(join(dir, 'seg-0000000000000001.lp'), 'utf8')).toBe('#cw1 1 2 16 606423c5\nm v=1 1\nm v=1 2\n');
    expect(JSON.parse(readFileSync(join(dir, COMMITTED_FILE), 'utf8'))).toEqual({ version: 1, settledSeq: 0 });
  });

  it('gives an empty range for no lines and refuses appends after close and settles beyond the last seq', async () => {
    const spool = await open(freshDir());
    expect(await spool.append([])).toEqual({ firstSeq: 1, lastSeq: 0 });
    await spool.append(lines(1, 2));
    expect(() => spool.settle(3)).toThrow(/settle\(3\) beyond the last seq 2/);
    await spool.close();
    await expect(spool.append(lines(1, 1))).rejects.toThrow(/after close/);
  });

  it('refuses a single append larger than maxBytes without using up sequence numbers', async () => {
    const spool = await open(freshDir(), { maxBytes: 1024 });
    await expect(spool.append(lines(0, 200))).rejects.toThrow(/more than spool.maxBytes \(1024\)/);
    expect(await spool.append(lines(0, 1))).toEqual({ firstSeq: 1, lastSeq: 1 });
    await spool.close();
  });

  it('names bad options', async () => {
    await expect(open(freshDir(), { maxBytes: 0 })).rejects.toThrow('spool.maxBytes must be an integer in [1, 9007199254740991], got 0');
    await expect(open(freshDir(), { maxBytes: 2048, segmentBytes: 4096 })).rejects.toThrow(/spool.segmentBytes .* got 4096/);
    await expect(open(freshDir(), { fsync: 'sometimes' as 'never' })).rejects.toThrow(/spool.fsync must be one of never, interval, always, got sometimes/);
    await expect(open(freshDir(), { maxCachedPoints: -1 })).rejects.toThrow(/maxBufferedPoints/);
  });
});

describe('PointSpool: committed offset and recovery', () => {
  it('re-reads unsettled lines after close and reopen, counting them as recovered', async () => {
    const dir = freshDir();
    const first = await open(dir);
    await first.append(lines(1, 5));
    await first.append(lines(6, 5));
    expect(first.settle(3)).toBe(3);
    await first.close();
    const second = await open(dir);
    expect(second.settledSeq).toBe(3);
    expect(second.unsettledPoints).toBe(7);
    expect(second.stats().recoveredPoints).toBe(7);
    const batch = await second.read(4, 100);
    expect([batch.firstSeq, batch.lastSeq]).toEqual([4, 10]);
    expect(batch.lines).toEqual(lines(4, 7));
    // New lines continue the numbering.
    expect(await second.append(lines(11, 1))).toEqual({ firstSeq: 11, lastSeq: 11 });
    await second.close();
  });

  it('after a crash (dispose, no final save) recovers every line not settled', async () => {
    const dir = freshDir();
    const first = await open(dir);
    await first.append(lines(1, 4));
    await first.append(lines(5, 4));
    first.dispose();
    const second = await open(dir);
    expect(second.unsettledPoints).toBe(8);
    expect((await second.read(1, 100)).lines).toEqual(lines(1, 8));
    await second.close();
  });

  it('continues numbering after the committed offset when every segment was deleted', async () => {
    const dir = freshDir();
    const first = await open(dir, { segmentBytes: 1 });
    await first.append(lines(1, 3));
    await first.append(lines(4, 3));
    first.settle(6);
    await first.close();
    const second = await open(dir);
    expect(segmentFiles(dir)).toEqual([]);
    expect(second.unsettledPoints).toBe(0);
    expect(await second.append(lines(7, 1))).toEqual({ firstSeq: 7, lastSeq: 7 });
    await second.close();
  });

  it('re-sends everything, with a warning, when the committed offset is unreadable', async () => {
    const dir = freshDir();
    const first = await open(dir);
    await first.append(lines(1, 3));
    first.settle(2);
    await first.close();
    writeFileSync(join(dir, COMMITTED_FILE), '{"settledSeq": "two"');
    const logger = memoryLogger();
    const second = await open(dir, { logger });
    expect(second.settledSeq).toBe(0);
    expect(second.unsettledPoints).toBe(3);
    expect(logger.entries.some((e) => e.level === 'warn' && /unreadable committed offset/.test(e.message))).toBe(true);
    await second.close();
  });

  it('deletes segments whose lines are all settled, but never the one being appended to', async () => {
    const dir = freshDir();
    const spool = await open(dir, { segmentBytes: 1 }); // one record per segment
    for (let r = 0; r < 4; r++) await spool.append(lines(r * 2, 2));
    expect(segmentFiles(dir)).toHaveLength(4);
    spool.settle(5); // records 1–2 and half of 3
    await spool.close();
    expect(segmentFiles(dir)).toEqual(['seg-0000000000000005.lp', 'seg-0000000000000007.lp']);
    const again = await open(dir, { segmentBytes: 1 });
    again.settle(8); // everything: only the segment being appended to may stay, and there is none after reopen
    await again.close();
    expect(segmentFiles(dir)).toEqual([]);
  });
});

describe('PointSpool: corrupt tails', () => {
  async function spoolWithTwoRecords(): Promise<{ dir: string; file: string; size: number }> {
    const dir = freshDir();
    const spool = await open(dir);
    await spool.append(lines(1, 3));
    await spool.append(lines(4, 2));
    await spool.close();
    const file = join(dir, 'seg-0000000000000001.lp');
    return { dir, file, size: statSync(file).size };
  }

  const torn: [string, string][] = [
    ['a record cut inside its lines', '#cw1 6 2 16 606423c5\nm v=1 1\nm v'],
    ['a header without its newline', '#cw1 6 2'],
    ['a record whose checksum does not match', '#cw1 6 2 16 00000000\nm v=1 1\nm v=1 2\n'],
    ['a record with the wrong seq', '#cw1 9 2 16 606423c5\nm v=1 1\nm v=1 2\n'],
    ['zeros (a block the file system never wrote)', '\0'.repeat(100)],
  ];
  for (const [what, tail] of torn) {
    it(`cuts off ${what}, logs it, counts it, and goes on`, async () => {
      const { dir, file, size } = await spoolWithTwoRecords();
      appendFileSync(file, tail);
      const logger = memoryLogger();
      const spool = await open(dir, { logger });
      expect(spool.stats()).toMatchObject({ truncations: 1, truncatedBytes: Buffer.byteLength(tail), recoveredPoints: 5 });
      expect(statSync(file).size).toBe(size);
      expect(logger.entries.filter((e) => e.level === 'error').map((e) => e.message)).toEqual(['point spool: cut off a corrupt tail (a write torn by a crash, or damage)']);
      expect(await spool.append(lines(6, 1))).toEqual({ firstSeq: 6, lastSeq: 6 });
      expect((await spool.read(1, 100)).lines).toEqual(lines(1, 6));
      await spool.close();
    });
  }

  it('a damaged first record cuts the whole segment (and deletes the empty file), not the others', async () => {
    const dir = freshDir();
    const spool = await open(dir, { segmentBytes: 1 });
    await spool.append(lines(1, 2));
    await spool.append(lines(3, 2));
    await spool.close();
    const first = join(dir, 'seg-0000000000000001.lp');
    const bytes = readFileSync(first);
    bytes[bytes.length - 3] ^= 0xff; // flip a body byte
    writeFileSync(first, bytes);
    const again = await open(dir);
    expect(again.stats()).toMatchObject({ truncations: 1, truncatedBytes: bytes.length, recoveredPoints: 2 });
    expect(segmentFiles(dir)).toEqual(['seg-0000000000000003.lp']);
    const batch = await again.read(1, 10);
    expect([batch.firstSeq, batch.lastSeq, batch.lines]).toEqual([3, 4, lines(3, 2)]);
    await again.close();
  });
});

describe('PointSpool: the maxBytes bound', () => {
  // With seqs of 7 digits, 10 lines of 9 characters make a record of 29 header + 100 body = 129 bytes.
  const RECORD_BYTES = 129;
  async function boundedSpool(): Promise<{ spool: PointSpool; logger: ReturnType<typeof memoryLogger>; drops: { firstSeq: number; lastSeq: number; points: number }[] }> {
    const dir = freshDir();
    const seed = await open(dir);
    await seed.close();
    writeFileSync(join(dir, COMMITTED_FILE), JSON.stringify({ version: 1, settledSeq: 999_999 }));
    const logger = memoryLogger();
    const drops: { firstSeq: number; lastSeq: number; points: number }[] = [];
    const spool = await open(dir, { maxBytes: 5 * RECORD_BYTES, segmentBytes: 1, logger, onDropped: (d) => drops.push(d) });
    return { spool, logger, drops };
  }

  it('drops the oldest unsettled lines, exactly counted, reported per segment and logged', async () => {
    const { spool, logger, drops } = await boundedSpool();
    for (let r = 0; r < 20; r++) await spool.append(lines(100 + r * 10, 10));
    expect(spool.stats()).toMatchObject({ droppedPoints: 150, unsettledPoints: 50, bytes: 5 * RECORD_BYTES, segments: 5 });
    expect(spool.settledSeq).toBe(1_000_149);
    expect(drops).toHaveLength(15);
    expect(drops[0]).toEqual({ firstSeq: 1_000_000, lastSeq: 1_000_009, points: 10 });
    expect(drops[14]).toEqual({ firstSeq: 1_000_140, lastSeq: 1_000_149, points: 10 });
    const warnings = logger.entries.filter((e) => e.level === 'warn');
    expect(warnings).toHaveLength(15);
    expect(warnings[14].fields).toMatchObject({ reason: 'spool-full', points: 10, droppedTotal: 150 });
    const rest = await spool.read(spool.settledSeq + 1, 1000);
    expect(rest.firstSeq).toBe(1_000_150);
    expect(rest.lines).toEqual(lines(250, 50));
    await spool.close();
  });

  it('counts only lines not settled yet: appended = settled + dropped + unsettled', async () => {
    const { spool, drops } = await boundedSpool();
    for (let r = 0; r < 5; r++) await spool.append(lines(100 + r * 10, 10));
    expect(spool.settle(1_000_024)).toBe(25);
    for (let r = 5; r < 20; r++) await spool.append(lines(100 + r * 10, 10));
    const { droppedPoints, unsettledPoints } = spool.stats();
    expect(droppedPoints).toBe(125);
    expect(unsettledPoints).toBe(50);
    expect(drops.reduce((sum, d) => sum + d.points, 0)).toBe(125);
    expect(drops[0]).toEqual({ firstSeq: 1_000_025, lastSeq: 1_000_029, points: 5 });
    await spool.close();
  });
});

describe('PointSpool: fsync interval', () => {
  it('flushes on the injected clock after writes, and leaves no timer behind after close', async () => {
    const clock = fakeClock();
    const spool = await open(freshDir(), { fsync: 'interval', fsyncIntervalMs: 250, clock });
    expect(clock.pending()).toBe(0);
    await spool.append(lines(1, 1));
    await spool.append(lines(2, 1));
    expect(clock.pending()).toBe(1);
    clock.advance(250);
    expect(clock.pending()).toBe(0);
    await spool.append(lines(3, 1));
    expect(clock.pending()).toBe(1);
    await spool.close();
    expect(clock.pending()).toBe(0);
  });
});
