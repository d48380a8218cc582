import { join } from 'node:path';
import { resolveBackoffOptions, type BackoffOptions } from './backoff.js';
import { createInfluxWriteTransport, type InfluxWriteTransport } from './influx-write-transport.js';
import { SYSTEM_CLOCK, type ConfirmedPoints, type SinkClock, type SinkLogger } from './point-sink.js';
import { requireInteger, type FsyncPolicy } from './point-spool-options.js';

/** Options of `InfluxSink.open`; times in ms, sizes in bytes. */
export interface InfluxSinkOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8086` (the write path is appended). */
  readonly url: string;
  readonly org: string;
  readonly bucket: string;
  /** API token, sent as `Authorization: Token …`; never logged. */
  readonly token: string;
  readonly spool: {
    readonly dir: string;
    /** Default 256 MiB. */
    readonly maxBytes?: number;
    /** Default `min(16 MiB, maxBytes / 8)`. */
    readonly segmentBytes?: number;
    /** Default `'interval'`. */
    readonly fsync?: FsyncPolicy;
    /** Default 1,000. */
    readonly fsyncIntervalMs?: number;
  };
  /** Unconfirmed points also kept in memory (older ones are read back from disk). Default 100,000. */
  readonly maxBufferedPoints?: number;
  /** Lines per request. Default 5,000. */
  readonly batchSize?: number;
  /** A partly filled batch is sent this long after the previous send began (or the first point). Default 1,000. */
  readonly flushIntervalMs?: number;
  /** Per-request limit (connect, send, answer). Default 10,000. */
  readonly requestTimeoutMs?: number;
  readonly backoff?: Partial<BackoffOptions>;
  /** Where refused batches go. Default `<spool.dir>/rejected.lp`. */
  readonly rejectedFile?: string;
  /** Bound of the rejected file; beyond it refused batches are only counted and logged. Default 64 MiB. */
  readonly maxRejectedBytes?: number;
  readonly logger: SinkLogger;
  readonly clock?: SinkClock;
  /** Uniform [0, 1) for backoff jitter. Default `Math.random` (instances must not jitter alike). */
  readonly random?: () => number;
  /** HTTP layer; default: `fetch` to `url` (tests inject one). */
  readonly transport?: InfluxWriteTransport;
  /** Called after each confirmed batch (errors it throws are logged, not propagated). */
  readonly onConfirmed?: (confirmed: ConfirmedPoints) => void;
}

/** Defaults of {@link InfluxSinkOptions}. */
export const INFLUX_SINK_DEFAULTS = {
  batchSize: 5_000,
  flushIntervalMs: 1_000,
  requestTimeoutMs: 10_000,
  maxRejectedBytes: 64 * 1024 * 1024,
} as const;

/** The sender's settings with defaults filled in, checked, and the transport built. */
export interface ResolvedInfluxSinkOptions {
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly backoff: BackoffOptions;
  readonly transport: InfluxWriteTransport;
  readonly rejectedFile: string;
  readonly maxRejectedBytes: number;
  readonly clock: SinkClock;
  readonly random: () => number;
}

/**
 * Fills in defaults and range-checks, without network or disk (the spool's options are checked
 * by the spool).
 * @throws RangeError naming the option (`influx.batchSize`, `influx.url`, …) and its value.
 */
export function resolveInfluxSinkOptions(options: InfluxSinkOptions): ResolvedInfluxSinkOptions {
  const batchSize = options.batchSize ?? INFLUX_SINK_DEFAULTS.batchSize;
  requireInteger('influx.batchSize', batchSize, 1, 1_000_000);
  const flushIntervalMs = options.flushIntervalMs ?? INFLUX_SINK_DEFAULTS.flushIntervalMs;
  requireInteger('influx.flushIntervalMs', flushIntervalMs, 0, 3_600_000);
  const requestTimeoutMs = options.requestTimeoutMs ?? INFLUX_SINK_DEFAULTS.requestTimeoutMs;
  requireInteger('influx.requestTimeoutMs', requestTimeoutMs, 1, 3_600_000);
  const maxRejectedBytes = options.maxRejectedBytes ?? INFLUX_SINK_DEFAULTS.maxRejectedBytes;
  requireInteger('influx.maxRejectedBytes', maxRejectedBytes, 0);
  const backoff = resolveBackoffOptions(options.backoff, 'influx.backoff');
  const clock = options.clock ?? SYSTEM_CLOCK;
  const transport = options.transport ?? createInfluxWriteTransport({ url: options.url, org: options.org, bucket: options.bucket, token: options.token, timeoutMs: requestTimeoutMs, clock });
  const rejectedFile = options.rejectedFile ?? join(options.spool.dir, 'rejected.lp');
  return { batchSize, flushIntervalMs, backoff, transport, rejectedFile, maxRejectedBytes, clock, random: options.random ?? Math.random };
}
