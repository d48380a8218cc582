import { open, stat } from 'node:fs/promises';
import { retryDelayMs } from './backoff.js';
import { resolveInfluxSinkOptions, type InfluxSinkOptions, type ResolvedInfluxSinkOptions } from './influx-sink-options.js';
import type { WriteOutcome } from './influx-write-transport.js';
import { encodePoints, lineTimestampMs, type SinkPoint } from './line-protocol.js';
import type { DropReason, PointSink, SeqRange, SinkClock, SinkStats } from './point-sink.js';
import { PointSpool, type SpoolBatch } from './point-spool.js';

export { INFLUX_SINK_DEFAULTS, type InfluxSinkOptions } from './influx-sink-options.js';

/**
 * The durable InfluxDB v2 sink (docs/delivery.md): `write()` appends to the point spool and
 * resolves when the points are on disk; one sender drains the spool to `POST /api/v2/write` in
 * batches, one request at a time, and settles the spool's committed offset per answer. Plain
 * `fetch`, not influxdb-client's WriteApi, for exact per-batch accounting (see the doc).
 */

/** The durable InfluxDB v2 sink. Open with {@link InfluxSink.open}; end with `close()` or `dispose()`. */
export class InfluxSink implements PointSink {
  private readonly waiters: { seq: number; resolve: () => void; reject: (error: Error) => void; timer: unknown }[] = [];
  private readonly dropped: Record<DropReason, number> = { 'spool-full': 0, 'invalid-point': 0, 'no-fields': 0 };
  private written = 0;
  private confirmed = 0;
  private failed = 0;
  private retried = 0;
  private failingSinceMs: number | null = null;
  private lastError: string | null = null;
  private closing = false;
  private stopped = false;
  private closePromise: Promise<{ unconfirmed: number }> | null = null;
  private dueAtMs: number;
  private idleEmpty = false;
  private wakeUp: (() => void) | null = null;
  private idleTimer: unknown = null;
  private inFlight: AbortController | null = null;
  private retryWakeUp: (() => void) | null = null;
  private retryTimer: unknown = null;
  private readonly loop: Promise<void>;

  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly clock: SinkClock;

  private constructor(
    private readonly options: InfluxSinkOptions,
    private readonly resolved: ResolvedInfluxSinkOptions,
    private readonly spool: PointSpool,
  ) {
    ({ batchSize: this.batchSize, flushIntervalMs: this.flushIntervalMs, clock: this.clock } = resolved);
    this.dueAtMs = this.clock.now();
    this.loop = this.run().catch((error: unknown) => {
      this.options.logger.error({ error: describe(error) }, 'influx sink: the sender stopped on an unexpected error');
    });
  }

  /**
   * Checks the options (no network), opens and recovers the spool, and starts the sender, which
   * re-sends at once whatever the spool holds unconfirmed.
   *
   * @throws RangeError naming a bad option and its value; the file-system error when the spool
   *   directory is unusable.
   */
  static async open(options: InfluxSinkOptions): Promise<InfluxSink> {
    const resolved = resolveInfluxSinkOptions(options);
    let sink: InfluxSink | null = null;
    const spool = await PointSpool.open({
      dir: options.spool.dir,
      maxBytes: options.spool.maxBytes,
      segmentBytes: options.spool.segmentBytes,
      fsync: options.spool.fsync,
      fsyncIntervalMs: options.spool.fsyncIntervalMs,
      maxCachedPoints: options.maxBufferedPoints,
      logger: options.logger,
      clock: resolved.clock,
      // During recovery (maxBytes lowered) there is no sink yet and nothing in flight.
      onDropped: () => sink?.onSpoolDropped(),
    });
    sink = new InfluxSink(options, resolved, spool);
    return sink;
  }

  get confirmedSeq(): number {
    return this.spool.settledSeq;
  }

  async write(points: readonly SinkPoint[]): Promise<SeqRange> {
    if (this.closing) throw new Error('influx sink: write() after close() or dispose()');
    const encoded = encodePoints(points);
    if (encoded.invalid > 0) {
      this.dropped['invalid-point'] += encoded.invalid;
      this.options.logger.warn({ reason: 'invalid-point', points: encoded.invalid, first: encoded.firstError }, 'influx sink: dropped points that cannot be written as line protocol');
    }
    this.dropped['no-fields'] += encoded.empty;
    const range = await this.spool.append(encoded.lines, encoded.receivedAtMs);
    this.written += encoded.lines.length;
    if (encoded.lines.length > 0 && this.idleEmpty) {
      this.idleEmpty = false;
      this.dueAtMs = this.clock.now() + this.flushIntervalMs;
      this.wake();
    } else if (this.spool.unsettledPoints >= this.batchSize) this.wake();
    return range;
  }

  waitConfirmed(seq: number, timeoutMs?: number): Promise<void> {
    if (seq <= this.spool.settledSeq) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`influx sink: closed before seq ${seq} was confirmed`));
    return new Promise((resolve, reject) => {
      const waiter = { seq, resolve, reject, timer: null as unknown };
      if (timeoutMs !== undefined) {
        waiter.timer = this.clock.setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new Error(`influx sink: seq ${seq} not confirmed within ${timeoutMs} ms (confirmed up to ${this.spool.settledSeq})`));
        }, timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  close(timeoutMs: number): Promise<{ unconfirmed: number }> {
    this.closePromise ??= (async () => {
      this.closing = true;
      // Send now what waits for the flush interval, and try once more at once what waits for a retry.
      this.wake();
      this.wakeRetry();
      const deadlineMs = this.clock.now() + timeoutMs;
      await this.spool.appendsDone();
      try {
        await this.waitConfirmed(this.spool.lastWrittenSeq, Math.max(0, deadlineMs - this.clock.now()));
      } catch {
        // reported below with the count
      }
      this.stop();
      await this.loop;
      await this.spool.close();
      const unconfirmed = this.spool.unsettledPoints;
      if (unconfirmed > 0) {
        this.options.logger.warn({ unconfirmed, timeoutMs, spool: this.options.spool.dir }, 'influx sink closed with unconfirmed points; they stay in the spool for the next start');
      }
      return { unconfirmed };
    })();
    return this.closePromise;
  }

  dispose(): { unconfirmed: number } {
    this.closing = true;
    if (!this.stopped) {
      this.stop();
      this.spool.dispose();
    }
    return { unconfirmed: this.spool.unsettledPoints };
  }

  stats(): SinkStats {
    const spool = this.spool.stats();
    return {
      written: this.written,
      recovered: spool.recoveredPoints,
      confirmed: this.confirmed,
      failed: this.failed,
      retried: this.retried,
      dropped: { ...this.dropped, 'spool-full': spool.droppedPoints },
      bufferedPoints: spool.unsettledPoints,
      cachedPoints: spool.cachedPoints,
      spoolBytes: spool.bytes,
      spoolSegments: spool.segments,
      spoolTruncations: spool.truncations,
      spoolTruncatedBytes: spool.truncatedBytes,
      confirmedSeq: this.spool.settledSeq,
      lastSeq: this.spool.lastSeq,
      failingSinceMs: this.failingSinceMs,
      lastError: this.lastError,
    };
  }

  private stop(): void {
    this.stopped = true;
    this.closing = true;
    this.inFlight?.abort();
    this.wakeRetry();
    this.wake();
    for (const waiter of this.waiters.splice(0)) {
      if (waiter.timer !== null) this.clock.clearTimeout(waiter.timer);
      waiter.reject(new Error(`influx sink: closed before seq ${waiter.seq} was confirmed (confirmed up to ${this.spool.settledSeq})`));
    }
  }

  /** The spool dropped its oldest points (counted there): the batch being sent or retried may hold some; start over. */
  private onSpoolDropped(): void {
    this.inFlight?.abort();
    this.wakeRetry();
    this.wake();
    this.resolveWaiters();
  }

  private resolveWaiters(): void {
    const settled = this.spool.settledSeq;
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i];
      if (waiter.seq > settled) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      if (waiter.timer !== null) this.clock.clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  /** Sleeps until `wake()` or `delayMs` (null: only `wake()`). */
  private idle(delayMs: number | null): Promise<void> {
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      if (delayMs !== null) this.idleTimer = this.clock.setTimeout(() => this.wake(), delayMs);
    });
  }

  private wake(): void {
    if (this.idleTimer !== null) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const wakeUp = this.wakeUp;
    this.wakeUp = null;
    wakeUp?.();
  }

  /** Sleeps before a retry, until `delayMs` or `wakeRetry()` (stop, drop): new writes do not cut it short. */
  private retrySleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      this.retryWakeUp = resolve;
      this.retryTimer = this.clock.setTimeout(() => this.wakeRetry(), delayMs);
    });
  }

  private wakeRetry(): void {
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const wakeUp = this.retryWakeUp;
    this.retryWakeUp = null;
    wakeUp?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const pending = this.spool.unsettledPoints;
      if (pending === 0) {
        this.idleEmpty = true;
        await this.idle(null);
        continue;
      }
      const waitMs = this.dueAtMs - this.clock.now();
      if (pending < this.batchSize && !this.closing && waitMs > 0) {
        await this.idle(waitMs);
        continue;
      }
      const startedAtMs = this.clock.now();
      let batch: SpoolBatch;
      try {
        batch = await this.spool.read(this.spool.settledSeq + 1, this.batchSize);
      } catch (error) {
        this.lastError = describe(error);
        this.options.logger.error({ error: this.lastError }, 'influx sink: cannot read the spool; trying again');
        await this.idle(Math.max(this.flushIntervalMs, 1_000));
        continue;
      }
      if (batch.lines.length === 0) {
        // Unsettled points the spool cannot hand out: a bug; do not spin.
        this.options.logger.error({ pending, settledSeq: this.spool.settledSeq }, 'influx sink: spool returned no lines although points are pending');
        await this.idle(Math.max(this.flushIntervalMs, 1_000));
        continue;
      }
      if (batch.firstSeq > this.spool.settledSeq) await this.deliver(batch);
      this.dueAtMs = startedAtMs + this.flushIntervalMs;
    }
  }

  /** Sends one batch until it is confirmed, refused, dropped (spool bound) or the sink stops. */
  private async deliver(batch: SpoolBatch): Promise<void> {
    const body = batch.lines.join('\n');
    for (let attempt = 1; ; attempt++) {
      const controller = new AbortController();
      this.inFlight = controller;
      const outcome = await this.resolved.transport.send(body, controller.signal);
      this.inFlight = null;
      if (this.stopped || controller.signal.aborted || this.spool.settledSeq >= batch.firstSeq) return;
      if (outcome.kind === 'ok') return this.confirm(batch);
      if (outcome.kind === 'rejected') return this.reject(batch, outcome);
      if (outcome.kind === 'aborted') return;
      this.retried++;
      this.lastError = outcome.reason;
      const delayMs = retryDelayMs(attempt, outcome.retryAfterMs, this.resolved.backoff, this.resolved.random);
      if (this.failingSinceMs === null) this.failingSinceMs = this.clock.now();
      if (attempt === 1 || attempt % 10 === 0) {
        this.options.logger.warn(
          { status: outcome.status, error: outcome.reason, attempt, retryInMs: Math.round(delayMs), points: batch.lines.length, buffered: this.spool.unsettledPoints },
          'influx sink: write failed; retrying',
        );
      }
      await this.retrySleep(delayMs);
      if (this.stopped || this.spool.settledSeq >= batch.firstSeq) return;
    }
  }

  private confirm(batch: SpoolBatch): void {
    this.spool.settle(batch.lastSeq);
    this.confirmed += batch.lines.length;
    if (this.failingSinceMs !== null) {
      this.options.logger.info({ outageMs: this.clock.now() - this.failingSinceMs, buffered: this.spool.unsettledPoints }, 'influx sink: writes succeed again');
      this.failingSinceMs = null;
    }
    this.resolveWaiters();
    const hook = this.options.onConfirmed;
    if (hook === undefined) return;
    const timesMs = new Float64Array(batch.lines.length);
    for (let i = 0; i < batch.lines.length; i++) timesMs[i] = lineTimestampMs(batch.lines[i]);
    try {
      hook({ firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, points: batch.lines.length, confirmedAtMs: this.clock.now(), timesMs, receivedAtMs: batch.receivedAtMs });
    } catch (error) {
      this.options.logger.error({ error: describe(error) }, 'influx sink: onConfirmed callback threw');
    }
  }

  private async reject(batch: SpoolBatch, outcome: Extract<WriteOutcome, { kind: 'rejected' }>): Promise<void> {
    const saved = await this.saveRejected(batch, outcome);
    if (this.spool.settledSeq >= batch.firstSeq) return; // dropped while saving
    this.spool.settle(batch.lastSeq);
    this.failed += batch.lines.length;
    this.lastError = `HTTP ${outcome.status}: ${outcome.body}`;
    this.options.logger.error(
      { status: outcome.status, body: outcome.body, points: batch.lines.length, firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, file: saved ? this.resolved.rejectedFile : null },
      saved ? 'influx sink: server refused a batch; moved it to the rejected file' : 'influx sink: server refused a batch; rejected file full or unwritable, batch discarded',
    );
    this.resolveWaiters();
  }

  private async saveRejected(batch: SpoolBatch, outcome: Extract<WriteOutcome, { kind: 'rejected' }>): Promise<boolean> {
    const header = `# rejected at ${new Date(this.clock.now()).toISOString()} status=${outcome.status} seq=${batch.firstSeq}..${batch.lastSeq} body=${JSON.stringify(outcome.body)}\n`;
    const bytes = Buffer.from(`${header.replace(/[\r\n]+(?!$)/g, ' ')}${batch.lines.join('\n')}\n`, 'utf8');
    try {
      const size = await stat(this.resolved.rejectedFile).then((s) => s.size, () => 0);
      if (size + bytes.length > this.resolved.maxRejectedBytes) return false;
      const handle = await open(this.resolved.rejectedFile, 'a');
      try {
        await handle.writeFile(bytes);
      } finally {
        await handle.close();
      }
      return true;
    } catch (error) {
      this.options.logger.error({ file: this.resolved.rejectedFile, error: describe(error) }, 'influx sink: cannot write the rejected file');
      return false;
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
