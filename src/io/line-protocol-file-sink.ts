import { writeSync } from 'node:fs';
import { open, rename, stat, type FileHandle } from 'node:fs/promises';
import { encodePoints, type SinkPoint } from './line-protocol.js';
import { SYSTEM_CLOCK, type ConfirmedPoints, type PointSink, type SeqRange, type SinkClock, type SinkLogger, type SinkStats } from './point-sink.js';

/**
 * The embedded default's sink: appends line protocol to a local file (no database needed). The
 * file is the destination, so a point is confirmed as soon as its append returned (and, with
 * `fsync: 'always'`, was flushed). The file rotates to `<path>.1` at `maxFileBytes` (one old
 * generation kept). Same contract as the Influx sink: {@link PointSink}.
 */

/** Options of {@link LineProtocolFileSink.open}. */
export interface LineProtocolFileSinkOptions {
  /** The output file (created, or appended to). */
  readonly path: string;
  /** `'always'`: `fdatasync` before `write()` resolves; `'never'` (default): the OS writes back. */
  readonly fsync?: 'never' | 'always';
  /** Rotate when the next append would pass this, bytes. Default 256 MiB. */
  readonly maxFileBytes?: number;
  readonly logger: SinkLogger;
  readonly clock?: SinkClock;
  /** Called after each append with its points, as for the Influx sink. */
  readonly onConfirmed?: (confirmed: ConfirmedPoints) => void;
}

/** Default `maxFileBytes`: 256 MiB. */
export const DEFAULT_MAX_LINE_PROTOCOL_FILE_BYTES = 256 * 1024 * 1024;

/** Line-protocol file sink. Open with {@link LineProtocolFileSink.open}; end with `close()`. */
export class LineProtocolFileSink implements PointSink {
  private chain: Promise<unknown> = Promise.resolve();
  private nextSeq = 1;
  private settled = 0;
  private written = 0;
  private failed = 0;
  private invalid = 0;
  private empty = 0;
  private lastError: string | null = null;
  private closed = false;
  private closePromise: Promise<{ unconfirmed: number }> | null = null;
  private readonly waiters: { seq: number; resolve: () => void; reject: (error: Error) => void; timer: unknown }[] = [];

  private constructor(
    private readonly options: LineProtocolFileSinkOptions,
    private readonly maxFileBytes: number,
    private readonly clock: SinkClock,
    private handle: FileHandle,
    private fileBytes: number,
  ) {}

  /**
   * Opens (creates) the file for appending.
   * @throws RangeError for a bad option; the file-system error when the file cannot be opened.
   */
  static async open(options: LineProtocolFileSinkOptions): Promise<LineProtocolFileSink> {
    const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_LINE_PROTOCOL_FILE_BYTES;
    if (!Number.isInteger(maxFileBytes) || maxFileBytes < 1) throw new RangeError(`lineProtocolFile.maxFileBytes must be an integer ≥ 1, got ${maxFileBytes}`);
    const fsync = options.fsync ?? 'never';
    if (fsync !== 'never' && fsync !== 'always') throw new RangeError(`lineProtocolFile.fsync must be never or always, got ${String(fsync)}`);
    const handle = await open(options.path, 'a');
    const { size } = await handle.stat();
    return new LineProtocolFileSink(options, maxFileBytes, options.clock ?? SYSTEM_CLOCK, handle, size);
  }

  get confirmedSeq(): number {
    return this.settled;
  }

  write(points: readonly SinkPoint[]): Promise<SeqRange> {
    if (this.closed) return Promise.reject(new Error(`line-protocol file ${this.options.path}: write() after close() or dispose()`));
    const encoded = encodePoints(points);
    this.invalid += encoded.invalid;
    this.empty += encoded.empty;
    if (encoded.invalid > 0) {
      this.options.logger.warn({ reason: 'invalid-point', points: encoded.invalid, first: encoded.firstError }, 'line-protocol file: dropped points that cannot be written as line protocol');
    }
    const firstSeq = this.nextSeq;
    const lastSeq = firstSeq + encoded.lines.length - 1;
    if (encoded.lines.length === 0) return Promise.resolve({ firstSeq, lastSeq });
    this.nextSeq = lastSeq + 1;
    const run = this.chain.then(async () => {
      const bytes = Buffer.from(`${encoded.lines.join('\n')}\n`, 'utf8');
      try {
        if (this.fileBytes > 0 && this.fileBytes + bytes.length > this.maxFileBytes) await this.rotate();
        // Synchronous on purpose: a small append into the page cache takes microseconds, a
        // thread-pool round trip about a hundred, and the MQTT acks of the readings wait for it.
        for (let done = 0; done < bytes.length; ) done += writeSync(this.handle.fd, bytes, done, bytes.length - done);
        if (this.options.fsync === 'always') await this.handle.datasync();
        this.fileBytes += bytes.length;
        this.written += encoded.lines.length;
      } catch (error) {
        this.failed += encoded.lines.length;
        this.lastError = error instanceof Error ? error.message : String(error);
        this.options.logger.error({ file: this.options.path, points: encoded.lines.length, error: this.lastError }, 'line-protocol file: append failed');
        throw error;
      } finally {
        this.settle(lastSeq);
      }
      this.notify(firstSeq, encoded.timesMs, encoded.receivedAtMs);
      return { firstSeq, lastSeq };
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  waitConfirmed(seq: number, timeoutMs?: number): Promise<void> {
    if (seq <= this.settled) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`line-protocol file: closed before seq ${seq} was written`));
    return new Promise((resolve, reject) => {
      const waiter = { seq, resolve, reject, timer: null as unknown };
      if (timeoutMs !== undefined) {
        waiter.timer = this.clock.setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new Error(`line-protocol file: seq ${seq} not written within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  close(): Promise<{ unconfirmed: number }> {
    this.closePromise ??= (async () => {
      this.closed = true;
      await this.chain;
      this.rejectWaiters();
      await this.handle.close();
      return { unconfirmed: 0 };
    })();
    return this.closePromise;
  }

  dispose(): { unconfirmed: number } {
    this.closed = true;
    this.rejectWaiters();
    const handle = this.handle;
    void this.chain.then(() => handle.close()).catch(() => undefined);
    return { unconfirmed: this.nextSeq - 1 - this.settled };
  }

  stats(): SinkStats {
    return {
      written: this.written,
      recovered: 0,
      confirmed: this.written,
      failed: this.failed,
      retried: 0,
      dropped: { 'spool-full': 0, 'invalid-point': this.invalid, 'no-fields': this.empty },
      bufferedPoints: this.nextSeq - 1 - this.settled,
      cachedPoints: 0,
      spoolBytes: this.fileBytes,
      spoolSegments: 1,
      spoolTruncations: 0,
      spoolTruncatedBytes: 0,
      confirmedSeq: this.settled,
      lastSeq: this.nextSeq - 1,
      failingSinceMs: null,
      lastError: this.lastError,
    };
  }

  private async rotate(): Promise<void> {
    await this.handle.close();
    await rename(this.options.path, `${this.options.path}.1`);
    this.handle = await open(this.options.path, 'a');
    this.fileBytes = (await stat(this.options.path)).size;
    this.options.logger.info({ file: this.options.path, rotatedTo: `${this.options.path}.1` }, 'line-protocol file rotated');
  }

  private settle(seq: number): void {
    this.settled = seq;
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i];
      if (waiter.seq > seq) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      if (waiter.timer !== null) this.clock.clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  private rejectWaiters(): void {
    for (const waiter of this.waiters.splice(0)) {
      if (waiter.timer !== null) this.clock.clearTimeout(waiter.timer);
      waiter.reject(new Error(`line-protocol file: closed before seq ${waiter.seq} was written`));
    }
  }

  private notify(firstSeq: number, timesMs: Float64Array, receivedAtMs: Float64Array | null): void {
    const hook = this.options.onConfirmed;
    if (hook === undefined) return;
    const n = timesMs.length;
    try {
      hook({ firstSeq, lastSeq: firstSeq + n - 1, points: n, confirmedAtMs: this.clock.now(), timesMs, receivedAtMs: receivedAtMs ?? new Float64Array(n).fill(NaN) });
    } catch (error) {
      this.options.logger.error({ error: error instanceof Error ? error.message : String(error) }, 'line-protocol file: onConfirmed callback threw');
    }
  }
}
