import { SILENT_SINK_LOGGER, SYSTEM_CLOCK, type SeqRange, type SinkClock, type SinkLogger } from './point-sink.js';

/** When appended bytes are forced to the disk (`fdatasync`). */
export const FSYNC_POLICIES = ['never', 'interval', 'always'] as const;

/**
 * `never`: the OS writes them back (survives a process crash, not a power cut); `interval`: every
 * `fsyncIntervalMs` (a power cut loses at most that much acknowledged data); `always`: before
 * `append()` resolves (nothing acknowledged is lost; one disk flush per call).
 */
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

/** Default `maxBytes`: 256 MiB. */
export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
/** Default `maxCachedPoints`. */
export const DEFAULT_MAX_CACHED_POINTS = 100_000;

/** Options of `PointSpool.open`. */
export interface PointSpoolOptions {
  /** Directory of the spool (created when missing). One spool per directory: it is not locked. */
  readonly dir: string;
  /** Bound of the segment files' total size, bytes. Default {@link DEFAULT_SPOOL_MAX_BYTES}. */
  readonly maxBytes?: number;
  /** A segment is closed when the next record would take it past this, bytes. Default `min(16 MiB, maxBytes / 8)`. */
  readonly segmentBytes?: number;
  /** Default `'interval'`. */
  readonly fsync?: FsyncPolicy;
  /** For `fsync: 'interval'`, ms. Default 1,000. */
  readonly fsyncIntervalMs?: number;
  /** The most recent unsettled lines are also kept in memory, up to this many. Default 100,000. */
  readonly maxCachedPoints?: number;
  /** Bytes per disk read when reading back. Default 1 MiB. */
  readonly readChunkBytes?: number;
  readonly logger?: SinkLogger;
  readonly clock?: SinkClock;
  /** Called (synchronously, inside `append()`) when the bound made the spool drop unsettled lines. */
  readonly onDropped?: (dropped: SeqRange & { readonly points: number }) => void;
}

/** {@link PointSpoolOptions} with defaults filled in and ranges checked. */
export type ResolvedPointSpoolOptions = Required<Omit<PointSpoolOptions, 'onDropped'>> & Pick<PointSpoolOptions, 'onDropped'>;

/**
 * Fills in defaults and range-checks, without touching the disk.
 * @throws RangeError naming the option (as configured: `spool.maxBytes`, `maxBufferedPoints`)
 *   and its value.
 */
export function resolvePointSpoolOptions(options: PointSpoolOptions): ResolvedPointSpoolOptions {
  if (typeof options.dir !== 'string' || options.dir === '') throw new RangeError(`spool.dir must be a directory path, got ${JSON.stringify(options.dir)}`);
  const maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
  requireInteger('spool.maxBytes', maxBytes, 1);
  const segmentBytes = options.segmentBytes ?? Math.max(1, Math.min(16 * 1024 * 1024, Math.floor(maxBytes / 8)));
  requireInteger('spool.segmentBytes', segmentBytes, 1, maxBytes);
  const fsync = options.fsync ?? 'interval';
  if (!FSYNC_POLICIES.includes(fsync)) throw new RangeError(`spool.fsync must be one of ${FSYNC_POLICIES.join(', ')}, got ${String(fsync)}`);
  const fsyncIntervalMs = options.fsyncIntervalMs ?? 1_000;
  requireInteger('spool.fsyncIntervalMs', fsyncIntervalMs, 1);
  const maxCachedPoints = options.maxCachedPoints ?? DEFAULT_MAX_CACHED_POINTS;
  requireInteger('maxBufferedPoints', maxCachedPoints, 0);
  const readChunkBytes = options.readChunkBytes ?? 1024 * 1024;
  requireInteger('spool.readChunkBytes', readChunkBytes, 64);
  return {
    dir: options.dir,
    maxBytes,
    segmentBytes,
    fsync,
    fsyncIntervalMs,
    maxCachedPoints,
    readChunkBytes,
    logger: options.logger ?? SILENT_SINK_LOGGER,
    clock: options.clock ?? SYSTEM_CLOCK,
    onDropped: options.onDropped,
  };
}

/** @throws RangeError `<option> must be an integer in [min, max], got <value>`. */
export function requireInteger(option: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${option} must be an integer in [${min}, ${max}], got ${value}`);
  }
}
