import { Observable, asyncScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { InboundMessage, Reading, ReadingChunk } from './types.js';

/** Default {@link ChunkOptions.maxWaitMs}: 0, a partial chunk leaves at the next macrotask (the configuration's default too). */
export const DEFAULT_CHUNK_MAX_WAIT_MS = 0;

/** Options of {@link chunk}. */
export interface ChunkOptions {
  /** Readings per chunk, L: a positive integer. */
  readonly length: number;
  /**
   * A partial chunk is emitted this long after its first reading, ms ≥ 0 (`Infinity`: only full
   * chunks and the flush at completion). Default {@link DEFAULT_CHUNK_MAX_WAIT_MS}.
   */
  readonly maxWaitMs?: number;
  /** Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

interface Building {
  readonly device: string;
  readonly model: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly channels: number;
  readonly timesMs: Float64Array;
  readonly values: Float32Array;
  readonly sources: (readonly InboundMessage[])[];
  count: number;
  timer: Subscription | null;
}

/**
 * Groups each device's readings into chunks of `length` readings (`[L, C]` time-major), in
 * arrival order. A chunk leaves when full, or `maxWaitMs` after its first reading with what it
 * has; a reading whose model or channel count differs from the chunk's first closes the chunk
 * before it. Drops nothing.
 *
 * On completion of the source every partial chunk is emitted (in order of their first
 * readings); on error they are discarded. Unsubscribing clears all timers and buffers.
 * @throws Error at call time when an option is invalid (names the option and the value).
 */
export function chunk(options: ChunkOptions): OperatorFunction<Reading, ReadingChunk> {
  const L = options.length;
  if (!Number.isInteger(L) || L <= 0) throw new Error(`chunk: length must be a positive integer, got ${L}`);
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_CHUNK_MAX_WAIT_MS;
  if (!(maxWaitMs >= 0)) throw new Error(`chunk: maxWaitMs must be a number ≥ 0 (or Infinity), got ${maxWaitMs}`);
  const scheduler = options.scheduler ?? asyncScheduler;

  return (source) =>
    new Observable<ReadingChunk>((subscriber) => {
      const building = new Map<string, Building>();

      const emit = (b: Building): void => {
        b.timer?.unsubscribe();
        b.timer = null;
        building.delete(b.device);
        const n = b.count;
        subscriber.next({
          device: b.device,
          model: b.model,
          tags: b.tags,
          timesMs: n === L ? b.timesMs : b.timesMs.subarray(0, n),
          values: n === L ? b.values : b.values.subarray(0, n * b.channels),
          sources: b.sources,
        });
      };

      const start = (reading: Reading): Building => {
        const C = reading.values.length;
        const b: Building = { device: reading.device, model: reading.model, tags: reading.tags, channels: C, timesMs: new Float64Array(L), values: new Float32Array(L * C), sources: [], count: 0, timer: null };
        building.set(reading.device, b);
        if (L > 1 && Number.isFinite(maxWaitMs)) b.timer = scheduler.schedule(() => emit(b), maxWaitMs);
        return b;
      };

      const subscription = source.subscribe({
        next(reading) {
          if (L === 1) {
            // One reading per chunk: its values already are the [1, C] chunk; nothing to buffer.
            subscriber.next({ device: reading.device, model: reading.model, tags: reading.tags, timesMs: Float64Array.of(reading.timeMs), values: reading.values, sources: [reading.sources] });
            return;
          }
          let b = building.get(reading.device);
          if (b !== undefined && (b.model !== reading.model || b.channels !== reading.values.length)) {
            emit(b);
            b = undefined;
          }
          b ??= start(reading);
          b.timesMs[b.count] = reading.timeMs;
          b.values.set(reading.values, b.count * b.channels);
          b.sources.push(reading.sources);
          b.count++;
          if (b.count === L) emit(b);
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          for (const b of [...building.values()]) {
            if (subscriber.closed) return;
            emit(b);
          }
          subscriber.complete();
        },
      });

      return () => {
        subscription.unsubscribe();
        for (const b of building.values()) b.timer?.unsubscribe();
        building.clear();
      };
    });
}
