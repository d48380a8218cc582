import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SeqRange } from './point-sink.js';
import { resolvePointSpoolOptions, type PointSpoolOptions, type ResolvedPointSpoolOptions } from './point-spool-options.js';
import { SpoolCache } from './spool-cache.js';
import { recoverSpool, writeCommittedOffset } from './spool-recovery.js';
import { encodeSpoolRecord, readSegmentLines, SegmentAppender, segmentFileName, type SegmentCursor } from './spool-segment.js';

export { DEFAULT_MAX_CACHED_POINTS, DEFAULT_SPOOL_MAX_BYTES, FSYNC_POLICIES, type FsyncPolicy, type PointSpoolOptions } from './point-spool-options.js';
export { COMMITTED_FILE } from './spool-recovery.js';

/**
 * The point spool: an append-only, size-bounded queue of line-protocol lines on disk, with a
 * committed offset (docs/delivery.md, "Spool"). Every line has a sequence number; the sender
 * reads from `settledSeq + 1` and calls `settle()` when the server answered.
 *
 * In `dir`: segment files (format in spool-segment.ts) and `committed.json`
 * (`{"version":1,"settledSeq":n}`, replaced atomically). A segment whose lines are all settled
 * is deleted once the offset covering it is on disk, except the one being appended to.
 */

/** Lines read back by {@link PointSpool.read}. */
export interface SpoolBatch {
  /** Seq of the first and last line; there may be gaps only where a corrupt tail was cut off. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly lines: string[];
  /** `[lines.length]` the receipt times given to `append()`; NaN when unknown or read from disk. */
  readonly receivedAtMs: Float64Array;
}

/** Counters of a spool since it was opened. */
export interface SpoolStats {
  readonly segments: number;
  readonly bytes: number;
  readonly unsettledPoints: number;
  readonly cachedPoints: number;
  /** Unsettled lines found at open. */
  readonly recoveredPoints: number;
  /** Unsettled lines dropped because of `maxBytes`. */
  readonly droppedPoints: number;
  readonly truncations: number;
  readonly truncatedBytes: number;
}

interface Segment {
  readonly path: string;
  readonly firstSeq: number;
  /** `firstSeq − 1` while empty. */
  lastSeq: number;
  bytes: number;
}

/** The durable queue behind `InfluxSink`. Open with {@link PointSpool.open}; end with `close()` or `dispose()`. */
export class PointSpool {
  private readonly segments: Segment[] = [];
  private active: { readonly segment: Segment; readonly file: SegmentAppender } | null = null;
  private settled = 0;
  private nextSeq = 1;
  private lastWritten = 0;
  private unsettled = 0;
  private totalBytes = 0;
  private readonly cache: SpoolCache;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private disposed = false;
  private closing: Promise<void> | null = null;
  private persisting: Promise<void> | null = null;
  private persistAgain = false;
  private readonly pendingUnlinks = new Set<Promise<void>>();
  private fsyncTimer: unknown = null;
  private dirty = false;
  private cursor: SegmentCursor | null = null;
  private recovered = 0;
  private dropped = 0;
  private truncations = 0;
  private truncatedBytes = 0;

  private constructor(private readonly o: ResolvedPointSpoolOptions) {
    this.cache = new SpoolCache(o.maxCachedPoints);
  }

  /**
   * Opens (creating `dir` when missing) and recovers the spool: validates every record, cuts
   * off a corrupt tail (error log, `truncations` counter), reads the committed offset (a missing
   * or unreadable one means "re-send everything", with a warn log), deletes settled segments,
   * and enforces `maxBytes`.
   *
   * @throws RangeError naming a bad option; the file-system error when `dir` is unusable.
   */
  static async open(options: PointSpoolOptions): Promise<PointSpool> {
    const resolved = resolvePointSpoolOptions(options);
    await mkdir(resolved.dir, { recursive: true });
    const spool = new PointSpool(resolved);
    await spool.recover();
    return spool;
  }

  /** The spool directory. */
  get dir(): string {
    return this.o.dir;
  }

  /** Every seq ≤ this is settled (confirmed, rejected or dropped). */
  get settledSeq(): number {
    return this.settled;
  }

  /** The last seq given out (0 before the first). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** The seq of the last line whose append succeeded (0 before the first). */
  get lastWrittenSeq(): number {
    return this.lastWritten;
  }

  /** Resolves when every `append()` called so far has finished (succeeded or failed). */
  async appendsDone(): Promise<void> {
    await this.chain;
  }

  /** Appended lines not settled yet. */
  get unsettledPoints(): number {
    return this.unsettled;
  }

  stats(): SpoolStats {
    return {
      segments: this.segments.length,
      bytes: this.totalBytes,
      unsettledPoints: this.unsettled,
      cachedPoints: this.cache.points,
      recoveredPoints: this.recovered,
      droppedPoints: this.dropped,
      truncations: this.truncations,
      truncatedBytes: this.truncatedBytes,
    };
  }

  /**
   * Appends the lines as one record with one file write, in call order, and resolves when the
   * write returned (and, with `fsync: 'always'`, was flushed). May first drop the oldest
   * segments to stay within `maxBytes` (warn log, `onDropped`).
   *
   * @param lines line-protocol lines without newlines (the caller guarantees there are none).
   * @param receivedAtMs optional `[lines.length]` receipt times, kept with the in-memory copy.
   * @returns the lines' seqs (empty range for no lines).
   * @throws Error after `close()`/`dispose()`; RangeError when the record alone exceeds
   *   `maxBytes`; the file-system error of a failed write (nothing of the call is kept).
   */
  append(lines: readonly string[], receivedAtMs: Float64Array | null = null): Promise<SeqRange> {
    if (this.closed) return Promise.reject(new Error(`point spool ${this.dir}: append() after close() or dispose()`));
    if (lines.length === 0) return Promise.resolve({ firstSeq: this.nextSeq, lastSeq: this.nextSeq - 1 });
    const firstSeq = this.nextSeq;
    const record = encodeSpoolRecord(firstSeq, lines);
    if (record.length > this.o.maxBytes) {
      return Promise.reject(new RangeError(`point spool ${this.dir}: one write of ${lines.length} points takes ${record.length} bytes, more than spool.maxBytes (${this.o.maxBytes})`));
    }
    this.nextSeq += lines.length;
    const run = this.chain.then(() => this.appendRecord(firstSeq, lines, receivedAtMs, record));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Up to `maxLines` unsettled lines from seq `fromSeq` on, in order: from memory when they are
   * cached, otherwise from the segment files. Fewer (or none) when fewer are there.
   */
  async read(fromSeq: number, maxLines: number): Promise<SpoolBatch> {
    const lines: string[] = [];
    const received: number[] = [];
    let firstSeq = fromSeq;
    let lastSeq = fromSeq - 1;
    const take = (seq: number, line: string, receivedAtMs: number): boolean => {
      if (lines.length >= maxLines) return false;
      if (lines.length === 0) firstSeq = seq;
      lastSeq = seq;
      lines.push(line);
      received.push(receivedAtMs);
      return true;
    };
    let next = fromSeq;
    if (next < this.cacheFirstSeq()) {
      // Disk up to where the memory copy starts (it may move on while we read).
      const takeFromDisk = (seq: number, line: string): boolean => seq < this.cacheFirstSeq() && take(seq, line, NaN);
      for (const segment of [...this.segments]) {
        if (segment.lastSeq < next) continue;
        if (lines.length >= maxLines || segment.firstSeq >= this.cacheFirstSeq()) break;
        const result = await readSegmentLines(segment, Math.max(next, segment.firstSeq), this.cursor, this.o.readChunkBytes, takeFromDisk);
        next = result.next;
        this.cursor = result.cursor;
        if (next <= segment.lastSeq) break;
      }
    }
    if (lines.length < maxLines && next >= this.cacheFirstSeq()) this.cache.read(next, take);
    return { firstSeq, lastSeq, lines, receivedAtMs: Float64Array.from(received) };
  }

  /**
   * Marks every seq ≤ `seq` settled, releases their memory, and (in the background) persists the
   * offset and deletes settled segments. A stale offset after a crash only means re-sending.
   *
   * @returns how many unsettled lines this settled.
   * @throws RangeError when `seq` was never appended.
   */
  settle(seq: number): number {
    if (seq <= this.settled) return 0;
    if (seq >= this.nextSeq) throw new RangeError(`point spool ${this.dir}: settle(${seq}) beyond the last seq ${this.nextSeq - 1}`);
    let points = 0;
    for (const segment of this.segments) {
      if (segment.lastSeq <= this.settled || segment.firstSeq > seq) continue;
      points += Math.min(segment.lastSeq, seq) - Math.max(segment.firstSeq - 1, this.settled);
    }
    this.settled = seq;
    this.unsettled -= points;
    this.cache.evictThrough(this.settled);
    this.schedulePersist();
    return points;
  }

  /** Waits for pending appends, flushes (unless `fsync: 'never'`), persists the offset, closes files. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.stopFsyncTimer();
      await this.chain;
      const active = this.active;
      this.active = null;
      await active?.file.close(this.o.fsync !== 'never');
      this.schedulePersist();
      await this.persisting;
      await Promise.all(this.pendingUnlinks);
    })();
    return this.closing;
  }

  /** Stops at once: no more appends; files are closed in the background; the offset may lag (re-sends only). */
  dispose(): void {
    this.closed = true;
    this.disposed = true;
    this.stopFsyncTimer();
    const active = this.active;
    this.active = null;
    if (active !== null) void this.chain.then(() => active.file.close(false)).catch(() => undefined);
  }

  private async appendRecord(firstSeq: number, lines: readonly string[], receivedAtMs: Float64Array | null, record: Buffer): Promise<SeqRange> {
    if (this.disposed) throw new Error(`point spool ${this.dir}: disposed`);
    const lastSeq = firstSeq + lines.length - 1;
    let active = this.active;
    if (active !== null && active.segment.bytes > 0 && active.segment.bytes + record.length > this.o.segmentBytes) {
      await this.closeActive();
      active = null;
    }
    active ??= await this.openSegment(firstSeq);
    await this.makeRoom(record.length);
    try {
      await active.file.append(record, active.segment.bytes, this.o.fsync === 'always');
    } catch (error) {
      // The next append starts a new segment, so records within a segment stay consecutive.
      this.active = null;
      this.o.logger.error({ spool: this.dir, segment: active.segment.path, error: errorText(error) }, 'point spool: append failed; continuing in a new segment');
      throw new Error(`point spool ${this.dir}: append to ${active.segment.path} failed: ${errorText(error)}`, { cause: error });
    }
    active.segment.bytes += record.length;
    active.segment.lastSeq = lastSeq;
    this.lastWritten = lastSeq;
    this.totalBytes += record.length;
    this.unsettled += lines.length;
    this.dirty = true;
    if (this.o.fsync === 'interval' && this.fsyncTimer === null) this.fsyncTimer = this.o.clock.setTimeout(() => this.fsyncTick(), this.o.fsyncIntervalMs);
    this.cache.push(firstSeq, lines, receivedAtMs);
    return { firstSeq, lastSeq };
  }

  private async openSegment(firstSeq: number): Promise<{ readonly segment: Segment; readonly file: SegmentAppender }> {
    const path = join(this.dir, segmentFileName(firstSeq));
    const file = await SegmentAppender.open(path);
    const segment: Segment = { path, firstSeq, lastSeq: firstSeq - 1, bytes: 0 };
    this.segments.push(segment);
    this.active = { segment, file };
    return this.active;
  }

  private async closeActive(): Promise<void> {
    const active = this.active;
    this.active = null;
    if (active === null) return;
    await active.file.close(this.o.fsync !== 'never');
    if (active.segment.lastSeq <= this.settled) this.schedulePersist();
  }

  /** Drops the oldest segments (never the active one) until `bytes` more fit within `maxBytes`. */
  private async makeRoom(bytes: number): Promise<void> {
    while (this.totalBytes + bytes > this.o.maxBytes && this.segments.length > 0 && this.segments[0] !== this.active?.segment) {
      const segment = this.segments[0];
      this.segments.shift();
      this.totalBytes -= segment.bytes;
      const points = Math.max(0, segment.lastSeq - Math.max(segment.firstSeq - 1, this.settled));
      const firstDropped = Math.max(segment.firstSeq, this.settled + 1);
      if (segment.lastSeq > this.settled) this.settled = segment.lastSeq;
      this.unsettled -= points;
      this.dropped += points;
      this.cache.evictThrough(this.settled);
      this.trackUnlink(segment.path);
      this.schedulePersist();
      if (points > 0) {
        this.o.logger.warn(
          { spool: this.dir, reason: 'spool-full', points, firstSeq: firstDropped, lastSeq: segment.lastSeq, droppedTotal: this.dropped, maxBytes: this.o.maxBytes },
          'point spool full: dropped the oldest unconfirmed points',
        );
        this.o.onDropped?.({ firstSeq: firstDropped, lastSeq: segment.lastSeq, points });
      }
    }
    await Promise.all(this.pendingUnlinks);
  }

  private trackUnlink(path: string): void {
    if (this.cursor?.path === path) this.cursor = null;
    const removal = unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') this.o.logger.error({ spool: this.dir, segment: path, error: errorText(error) }, 'point spool: cannot delete a segment');
    });
    this.pendingUnlinks.add(removal);
    void removal.finally(() => this.pendingUnlinks.delete(removal));
  }

  private schedulePersist(): void {
    if (this.persisting !== null) {
      this.persistAgain = true;
      return;
    }
    this.persisting = this.persistLoop().finally(() => {
      this.persisting = null;
    });
  }

  private async persistLoop(): Promise<void> {
    do {
      this.persistAgain = false;
      const seq = this.settled;
      try {
        await writeCommittedOffset(this.dir, seq, this.o.fsync !== 'never');
      } catch (error) {
        this.o.logger.error({ spool: this.dir, error: errorText(error) }, 'point spool: cannot write the committed offset (a restart re-sends more)');
        return;
      }
      // Delete only what the persisted offset covers: a crash in between re-sends, never loses.
      for (let i = 0; i < this.segments.length; ) {
        const segment = this.segments[i];
        if (segment.lastSeq <= seq && segment !== this.active?.segment) {
          this.segments.splice(i, 1);
          this.totalBytes -= segment.bytes;
          this.trackUnlink(segment.path);
        } else i++;
      }
    } while (this.persistAgain && !this.disposed);
  }

  private fsyncTick(): void {
    this.fsyncTimer = null;
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    this.chain = this.chain.then(async () => {
      try {
        await this.active?.file.datasync();
      } catch (error) {
        this.o.logger.error({ spool: this.dir, error: errorText(error) }, 'point spool: fdatasync failed');
      }
    });
  }

  private stopFsyncTimer(): void {
    if (this.fsyncTimer !== null) this.o.clock.clearTimeout(this.fsyncTimer);
    this.fsyncTimer = null;
  }

  private cacheFirstSeq(): number {
    return this.cache.firstSeq(this.nextSeq);
  }

  private async recover(): Promise<void> {
    const found = await recoverSpool(this.dir, this.o.logger);
    for (const segment of found.segments) this.segments.push({ ...segment });
    this.totalBytes = found.segments.reduce((sum, segment) => sum + segment.bytes, 0);
    ({ settledSeq: this.settled, nextSeq: this.nextSeq, unsettledPoints: this.unsettled, truncations: this.truncations, truncatedBytes: this.truncatedBytes } = found);
    this.lastWritten = this.nextSeq - 1;
    this.recovered = this.unsettled;
    this.o.logger.info({ spool: this.dir, segments: this.segments.length, bytes: this.totalBytes, unconfirmed: this.unsettled, settledSeq: this.settled }, 'point spool opened');
    await this.makeRoom(0);
    this.schedulePersist();
    await this.persisting;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
