import { Observable, asyncScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { checkDeadLetterOptions, errorText, handOver, handOverAll, deadLetterOf, reportCallbackError, type DeadLetterOptions } from './dead-letter.js';
import type { DecodedSample, InboundMessage, Reading } from './types.js';

/** Default {@link AssembleOptions.waitMs}. */
export const DEFAULT_ASSEMBLE_WAIT_MS = 1_000;
/** Default {@link AssembleOptions.maxDevices}. */
export const DEFAULT_MAX_DEVICES = 10_000;
/** Default {@link AssembleOptions.idleEvictionMs}: one hour. */
export const DEFAULT_IDLE_EVICTION_MS = 3_600_000;

/** What to do with a reading that still lacks channels when it is flushed. */
export type OnMissing = 'hold' | 'skip' | 'dead-letter';
/** What to do with a sample older than its device's last emitted reading. */
export type LatePolicy = 'drop' | 'accept';
/** What to do with a sample at the time of its device's last emitted reading, or with a channel already present. */
export type DuplicatePolicy = 'drop';

/** The model serving a device and its channel order. */
export interface ModelChannels {
  readonly model: string;
  /** The model's channels, in the order of `Reading.values`. Non-empty, distinct. */
  readonly channels: readonly string[];
}

/** A device whose state `assemble` dropped after `idleEvictionMs` without samples. */
export interface Eviction {
  readonly device: string;
  readonly model: string;
  /** Time of the device's last emitted reading, ms (−Infinity if none). */
  readonly lastTimeMs: number;
  /** Scheduler time of the eviction, ms. */
  readonly atMs: number;
}

/** Options of {@link assemble}. Times are in ms of the scheduler's clock. */
export interface AssembleOptions extends DeadLetterOptions {
  /**
   * The model of a device, or null when no model serves it (`unknown-device`). Called for the
   * first sample of a device (and again after its eviction); if it throws, the sample is
   * dead-lettered (`callback-error`).
   */
  readonly modelFor: (device: string) => ModelChannels | null;
  /**
   * How long a reading waits for its missing channels after its first sample arrived, ms ≥ 0.
   * Default {@link DEFAULT_ASSEMBLE_WAIT_MS}.
   */
  readonly waitMs?: number;
  /** Flushing a reading that lacks channels: 'hold' fills them with the device's last values, 'skip' and 'dead-letter' drop it (`missing-channels`). Default 'hold'. */
  readonly onMissing?: OnMissing;
  /**
   * Default 'drop' (`late`). 'accept' emits it, out of time order; it does not change the
   * device's last time or the values 'hold' uses.
   */
  readonly late?: LatePolicy;
  /** Default and only value 'drop' (`duplicate`). */
  readonly duplicate?: DuplicatePolicy;
  /** Devices held at once; a new device beyond it is dead-lettered (`device-limit`). Positive integer, default {@link DEFAULT_MAX_DEVICES}. */
  readonly maxDevices?: number;
  /** A device without samples for this long is evicted, ms > 0 (`Infinity`: never). Default {@link DEFAULT_IDLE_EVICTION_MS}. */
  readonly idleEvictionMs?: number;
  /** Told after a device was evicted (its pending readings flushed first). Errors go to `onCallbackError` ('onEvict'). */
  readonly onEvict?: (eviction: Eviction) => void;
  /** Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

interface Pending {
  readonly timeMs: number;
  /** `[C]` becomes the reading's values. */
  readonly values: Float32Array;
  readonly present: Uint8Array;
  count: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly sources: InboundMessage[];
  timer: Subscription | null;
}

interface DeviceState {
  readonly device: string;
  readonly model: string;
  readonly channels: readonly string[];
  readonly indexOf: ReadonlyMap<string, number>;
  lastEmittedMs: number;
  /** `[C]` last emitted value per channel (NaN before the first). */
  readonly lastValues: Float32Array;
  /** `[C]` latest sample time seen per channel. */
  readonly lastSeenMs: Float64Array;
  /** Readings waiting for channels, ascending time. */
  readonly pending: Pending[];
  lastActivityMs: number;
  idleTimer: Subscription | null;
}

/**
 * Aligns a device's samples into complete readings in its model's channel order.
 *
 * Samples carrying all channels become readings at once. Samples of per-channel topics with the
 * same device and time are merged; a reading is emitted as soon as it is complete, or when it can
 * no longer be completed (every missing channel has already delivered a later time: MQTT keeps
 * each topic in order), or `waitMs` after its first sample; then `onMissing` applies. A device's
 * readings leave in ascending time: flushing a reading flushes the device's earlier pending ones
 * first, and a complete reading waits behind an earlier incomplete one.
 *
 * Dropped samples go to `deadLetter` (see {@link DeadLetterOptions}): `unknown-device`,
 * `device-limit`, `wrong-channel-count` (positional values ≠ C), `unknown-channel`, `late`,
 * `duplicate`, `missing-channels`, `callback-error`.
 *
 * On completion of the source every pending reading is flushed (per device in time order); on
 * error they are discarded (their messages stay unacknowledged). Unsubscribing clears all timers
 * and per-device state.
 *
 * Idle eviction must come after the chunk stage's time bound (`idleEvictionMs` > chunk
 * `maxWaitMs`), so a device's last chunk has been scored when the scorer hears of the eviction.
 * @throws Error at call time when an option is invalid (names the option and the value).
 */
export function assemble(options: AssembleOptions): OperatorFunction<DecodedSample, Reading> {
  checkDeadLetterOptions('assemble', options);
  if (typeof options.modelFor !== 'function') throw new Error(`assemble: modelFor must be a function, got ${typeof options.modelFor}`);
  const waitMs = options.waitMs ?? DEFAULT_ASSEMBLE_WAIT_MS;
  if (!(waitMs >= 0) || !Number.isFinite(waitMs)) throw new Error(`assemble: waitMs must be a finite number ≥ 0, got ${waitMs}`);
  const onMissing = options.onMissing ?? 'hold';
  if (onMissing !== 'hold' && onMissing !== 'skip' && onMissing !== 'dead-letter') throw new Error(`assemble: onMissing must be 'hold', 'skip' or 'dead-letter', got ${String(onMissing)}`);
  const late = options.late ?? 'drop';
  if (late !== 'drop' && late !== 'accept') throw new Error(`assemble: late must be 'drop' or 'accept', got ${String(late)}`);
  const duplicate = options.duplicate ?? 'drop';
  if (duplicate !== 'drop') throw new Error(`assemble: duplicate must be 'drop', got ${String(duplicate)}`);
  const maxDevices = options.maxDevices ?? DEFAULT_MAX_DEVICES;
  if (!Number.isInteger(maxDevices) || maxDevices <= 0) throw new Error(`assemble: maxDevices must be a positive integer, got ${maxDevices}`);
  const idleEvictionMs = options.idleEvictionMs ?? DEFAULT_IDLE_EVICTION_MS;
  if (!(idleEvictionMs > 0)) throw new Error(`assemble: idleEvictionMs must be > 0 (or Infinity), got ${idleEvictionMs}`);
  if (options.onEvict !== undefined && typeof options.onEvict !== 'function') throw new Error(`assemble: onEvict must be a function, got ${typeof options.onEvict}`);
  const scheduler = options.scheduler ?? asyncScheduler;
  const { modelFor, onEvict } = options;

  return (source) =>
    new Observable<Reading>((subscriber) => {
      const devices = new Map<string, DeviceState>();

      const emit = (state: DeviceState, p: Pending): void => {
        p.timer?.unsubscribe();
        p.timer = null;
        const C = state.channels.length;
        if (p.count < C) {
          let canHold = onMissing === 'hold';
          for (let c = 0; c < C; c++) if (p.present[c] === 0 && Number.isNaN(state.lastValues[c] as number)) canHold = false;
          if (!canHold) {
            const missing = state.channels.filter((_, c) => p.present[c] === 0);
            const why = onMissing === 'hold' ? 'and the device has no earlier value to hold' : `(onMissing '${onMissing}')`;
            handOverAll(p.sources, 'missing-channels', `reading of device '${state.device}' at ${p.timeMs} lacks ${missing.join(', ')} ${why}`, scheduler.now(), options);
            return;
          }
          for (let c = 0; c < C; c++) if (p.present[c] === 0) p.values[c] = state.lastValues[c] as number;
        }
        pass(state, p.timeMs, p.values, p.tags, p.sources);
      };

      /** Hands a complete reading on. An accepted late reading does not become the device's latest state. */
      const pass = (state: DeviceState, timeMs: number, values: Float32Array, tags: Readonly<Record<string, string>>, sources: InboundMessage[]): void => {
        if (timeMs > state.lastEmittedMs) {
          state.lastValues.set(values);
          state.lastEmittedMs = timeMs;
        }
        subscriber.next({ device: state.device, model: state.model, tags, timeMs, values, sources });
      };

      const isFinal = (state: DeviceState, p: Pending): boolean => {
        if (p.count === state.channels.length) return true;
        for (let c = 0; c < state.channels.length; c++) {
          if (p.present[c] === 0 && !((state.lastSeenMs[c] as number) > p.timeMs)) return false;
        }
        return true;
      };

      /** Emits readings from the head while they are final. */
      const drain = (state: DeviceState): void => {
        let head = state.pending[0];
        while (head !== undefined && !subscriber.closed && isFinal(state, head)) {
          state.pending.shift();
          emit(state, head);
          head = state.pending[0];
        }
      };

      /** Emits every pending reading up to and including time `throughMs`, then the final ones after. */
      const flushThrough = (state: DeviceState, throughMs: number): void => {
        let head = state.pending[0];
        while (head !== undefined && !subscriber.closed && head.timeMs <= throughMs) {
          state.pending.shift();
          emit(state, head);
          head = state.pending[0];
        }
        drain(state);
      };

      const dispose = (state: DeviceState): void => {
        state.idleTimer?.unsubscribe();
        state.idleTimer = null;
        for (const p of state.pending) p.timer?.unsubscribe();
        state.pending.length = 0;
      };

      const evict = (state: DeviceState): void => {
        flushThrough(state, Number.POSITIVE_INFINITY);
        dispose(state);
        devices.delete(state.device);
        if (onEvict === undefined) return;
        try {
          onEvict({ device: state.device, model: state.model, lastTimeMs: state.lastEmittedMs, atMs: scheduler.now() });
        } catch (error) {
          reportCallbackError(options, error, 'onEvict');
        }
      };

      const watchIdle = (state: DeviceState, delayMs: number): void => {
        state.idleTimer = scheduler.schedule(() => {
          state.idleTimer = null;
          const idleMs = scheduler.now() - state.lastActivityMs;
          // One timer per device, pushed back lazily: samples only move lastActivityMs.
          if (idleMs >= idleEvictionMs) evict(state);
          else watchIdle(state, idleEvictionMs - idleMs);
        }, delayMs);
      };

      const stateOf = (sample: DecodedSample): DeviceState | null => {
        const known = devices.get(sample.device);
        if (known !== undefined) return known;
        const dead = (reason: 'unknown-device' | 'device-limit' | 'callback-error', detail: string): null => {
          handOver(deadLetterOf(sample.source, reason, detail, scheduler.now()), options);
          return null;
        };
        let route: ModelChannels | null;
        try {
          route = modelFor(sample.device);
        } catch (error) {
          return dead('callback-error', `modelFor threw: ${errorText(error)}`);
        }
        if (route === null) return dead('unknown-device', `no model serves device '${sample.device}'`);
        if (route.channels.length === 0) return dead('callback-error', `modelFor gave model '${route.model}' without channels`);
        if (devices.size >= maxDevices) return dead('device-limit', `device '${sample.device}' would exceed maxDevices ${maxDevices}`);
        const C = route.channels.length;
        const state: DeviceState = {
          device: sample.device,
          model: route.model,
          channels: route.channels,
          indexOf: new Map(route.channels.map((name, c) => [name, c])),
          lastEmittedMs: Number.NEGATIVE_INFINITY,
          lastValues: new Float32Array(C).fill(Number.NaN),
          lastSeenMs: new Float64Array(C).fill(Number.NEGATIVE_INFINITY),
          pending: [],
          lastActivityMs: scheduler.now(),
          idleTimer: null,
        };
        devices.set(sample.device, state);
        if (Number.isFinite(idleEvictionMs)) watchIdle(state, idleEvictionMs);
        return state;
      };

      const onSample = (sample: DecodedSample): void => {
        const state = stateOf(sample);
        if (state === null) return;
        state.lastActivityMs = scheduler.now();
        const drop = (reason: 'wrong-channel-count' | 'unknown-channel' | 'late' | 'duplicate', detail: string): void =>
          handOver(deadLetterOf(sample.source, reason, detail, scheduler.now()), options);
        const C = state.channels.length;
        const t = sample.timeMs;
        const values = sample.values;
        // Validate the whole message before touching the pending reading.
        if (values.kind === 'ordered') {
          if (values.values.length !== C) return drop('wrong-channel-count', `${values.values.length} values for model '${state.model}' with ${C} channels`);
        } else {
          for (let i = 0; i < values.entries.length; i++) {
            const name = (values.entries[i] as readonly [string, number])[0];
            if (!state.indexOf.has(name)) return drop('unknown-channel', `model '${state.model}' has no channel '${name}'`);
            for (let j = 0; j < i; j++) if ((values.entries[j] as readonly [string, number])[0] === name) return drop('duplicate', `channel '${name}' appears twice in the message`);
          }
        }
        if (t === state.lastEmittedMs) return drop('duplicate', `device '${state.device}' already has a reading at ${t}`);
        if (t < state.lastEmittedMs && late === 'drop') return drop('late', `time ${t} is before the device's last reading at ${state.lastEmittedMs}`);

        if (state.pending.length === 0 && t > state.lastEmittedMs && (values.kind === 'ordered' || values.entries.length === C)) {
          // A whole reading with nothing pending before it is final at once: no pending entry.
          const readingValues = new Float32Array(C);
          if (values.kind === 'ordered') for (let c = 0; c < C; c++) readingValues[c] = values.values[c] as number;
          else for (const [name, value] of values.entries) readingValues[state.indexOf.get(name) as number] = value;
          for (let c = 0; c < C; c++) if (t > (state.lastSeenMs[c] as number)) state.lastSeenMs[c] = t;
          pass(state, t, readingValues, sample.tags, [sample.source]);
          return;
        }
        let at = 0;
        while (at < state.pending.length && (state.pending[at] as Pending).timeMs < t) at++;
        let p = state.pending[at];
        if (p === undefined || p.timeMs !== t) {
          p = { timeMs: t, values: new Float32Array(C), present: new Uint8Array(C), count: 0, tags: sample.tags, sources: [], timer: null };
          state.pending.splice(at, 0, p);
        } else if (overlaps(state, p, sample)) {
          return drop('duplicate', `device '${state.device}' already has ${values.kind === 'ordered' ? 'values' : 'a value of this channel'} at ${t}`);
        }
        if (values.kind === 'ordered') {
          for (let c = 0; c < C; c++) set(state, p, c, values.values[c] as number);
        } else {
          for (const [name, value] of values.entries) set(state, p, state.indexOf.get(name) ?? 0, value);
        }
        p.sources.push(sample.source);
        drain(state);
        if (p.timer === null && state.pending.includes(p) && !subscriber.closed) {
          const waiting = p;
          waiting.timer = scheduler.schedule(() => {
            waiting.timer = null;
            flushThrough(state, waiting.timeMs);
          }, waitMs);
        }
      };

      const subscription = source.subscribe({
        next: onSample,
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          for (const state of devices.values()) {
            if (subscriber.closed) return;
            flushThrough(state, Number.POSITIVE_INFINITY);
          }
          subscriber.complete();
        },
      });

      return () => {
        subscription.unsubscribe();
        for (const state of devices.values()) dispose(state);
        devices.clear();
      };
    });
}

function set(state: DeviceState, p: Pending, c: number, value: number): void {
  if (p.present[c] === 0) p.count++;
  p.present[c] = 1;
  p.values[c] = value;
  if (p.timeMs > (state.lastSeenMs[c] as number)) state.lastSeenMs[c] = p.timeMs;
}

/** Whether the sample brings a channel the pending reading already has. */
function overlaps(state: DeviceState, p: Pending, sample: DecodedSample): boolean {
  const values = sample.values;
  if (values.kind === 'ordered') return p.count > 0;
  for (const [name] of values.entries) if (p.present[state.indexOf.get(name) ?? 0] === 1) return true;
  return false;
}
