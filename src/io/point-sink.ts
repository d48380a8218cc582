import type { SinkPoint } from './line-protocol.js';

/**
 * The contract between the live pipeline and where its points go (docs/delivery.md): the
 * durable InfluxDB v2 sink (`InfluxSink`) and the embedded default's line-protocol file
 * (`LineProtocolFileSink`). Also the small injected services they share: logger and clock.
 */

/** Sequence numbers `firstSeq..lastSeq` (inclusive). Empty when `lastSeq < firstSeq`. */
export interface SeqRange {
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/**
 * Why points were dropped without reaching the database:
 * - `spool-full`: the spool reached `maxBytes` during an outage; its oldest unconfirmed points
 *   were given up (warn log with counts each time);
 * - `invalid-point`: the point cannot be written as line protocol (bad name, timestamp, …);
 * - `no-fields`: every field was NaN or ±Infinity, and a point needs at least one field.
 */
export const DROP_REASONS = ['spool-full', 'invalid-point', 'no-fields'] as const;

/** One of {@link DROP_REASONS}. */
export type DropReason = (typeof DROP_REASONS)[number];

/**
 * Counters of a sink since it was opened. Points, unless named otherwise. Balance (checked by
 * the tests): `recovered + written = confirmed + failed + dropped['spool-full'] + bufferedPoints`.
 * `invalid-point` and `no-fields` drops happen before a point gets a sequence number, so they
 * are not part of `written`.
 */
export interface SinkStats {
  /** Points accepted by `write()` (they got a sequence number and are in the spool or file). */
  readonly written: number;
  /** Unconfirmed points found in the spool when the sink opened (re-sent). */
  readonly recovered: number;
  /** Points the server confirmed (2xx). */
  readonly confirmed: number;
  /** Points the server refused with a 4xx other than 408/429 (moved to the rejected file). */
  readonly failed: number;
  /** Requests sent again after a retriable failure (network error, timeout, 408, 429, 5xx). */
  readonly retried: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** Points written but not yet settled (confirmed, failed or dropped). */
  readonly bufferedPoints: number;
  /** Of those, the recent ones also held in memory (the rest are read back from disk). */
  readonly cachedPoints: number;
  /** Bytes of spool segments (or of the output file) on disk. */
  readonly spoolBytes: number;
  readonly spoolSegments: number;
  /** Times a corrupt spool tail (e.g. a torn last record after a crash) was cut off. */
  readonly spoolTruncations: number;
  /** Bytes cut off by those truncations. */
  readonly spoolTruncatedBytes: number;
  /** See {@link PointSink.confirmedSeq}. */
  readonly confirmedSeq: number;
  /** The last sequence number given out (0 before the first point). */
  readonly lastSeq: number;
  /** Since when (ms since the epoch) the server has been failing, or null while it is fine. */
  readonly failingSinceMs: number | null;
  /** The last delivery error (retriable or not), token-free, or null. */
  readonly lastError: string | null;
}

/** Points confirmed by one server answer, for the end-to-end latency metric. */
export interface ConfirmedPoints {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly points: number;
  /** When the confirmation arrived, ms since the epoch (the sink's clock). */
  readonly confirmedAtMs: number;
  /** `[points]` the points' own timestamps, ms since the epoch. */
  readonly timesMs: Float64Array;
  /**
   * `[points]` `PointRecord.receivedAtMs` of each point; NaN when it was not given or the point
   * was read back from disk (after a restart, or beyond `maxBufferedPoints`).
   */
  readonly receivedAtMs: Float64Array;
}

/**
 * Where scored points go. At-least-once: a point is durable when `write()` resolves, and stays
 * until the destination confirms it; a re-sent point rewrites the same series and timestamp.
 *
 * Obligations of the caller: call `write()` with batches (one durable append per call), never
 * concurrently from places that need an order between them (calls are served in call order);
 * end with `close()` (or `dispose()` when there is no time).
 */
export interface PointSink {
  /**
   * Appends the points durably and resolves when they are (for the Influx sink: in the spool
   * file; never waits for the network). Points that cannot be encoded are dropped and counted
   * (`invalid-point`, `no-fields`), so the range may hold fewer points than given, or none.
   *
   * @returns the sequence numbers given to the written points (empty range when none).
   * @throws Error after `close()`/`dispose()`; the file-system error when the append failed
   *   (nothing of the call is then durable); RangeError when one call is larger than the spool.
   */
  write(points: readonly SinkPoint[]): Promise<SeqRange>;
  /**
   * Every sequence number ≤ this is settled: confirmed by the server, or given up and counted
   * (`failed`, `dropped['spool-full']`). A checkpoint barrier waits on this, so a dead letter
   * or a drop never stalls the pipeline; the counters say what was not confirmed.
   */
  readonly confirmedSeq: number;
  /**
   * Resolves once `confirmedSeq ≥ seq`.
   *
   * @param timeoutMs optional limit; default: none.
   * @throws Error when the limit passes first, or when the sink is closed or disposed first.
   */
  waitConfirmed(seq: number, timeoutMs?: number): Promise<void>;
  /**
   * Flush-then-close: stops accepting writes, sends everything, waits up to `timeoutMs` for
   * confirmation, then stops. Unconfirmed points stay in the spool for the next start.
   * Idempotent (a second call returns the first call's promise).
   */
  close(timeoutMs: number): Promise<{ unconfirmed: number }>;
  /** Stops at once (requests in flight are aborted); says how many points were not settled. */
  dispose(): { unconfirmed: number };
  stats(): SinkStats;
}

/**
 * The logging the sinks need; a pino logger fits (`logger.warn({ points }, 'message')`).
 * Fields never hold the token.
 */
export interface SinkLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Wall clock and timers, injected so unit tests run in virtual time. */
export interface SinkClock {
  /** ms since the epoch. */
  now(): number;
  /** Calls `callback` once after `delayMs`; the handle goes to `clearTimeout`. */
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. Its timers are not `unref`ed on purpose: a sink that still owes a flush, a
 * retry or a `close()` keeps the process alive until `close()`/`dispose()` ends it.
 */
export const SYSTEM_CLOCK: SinkClock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A logger that discards everything, for callers that log nothing. */
export const SILENT_SINK_LOGGER: SinkLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
