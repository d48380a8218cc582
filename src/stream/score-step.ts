import { Observable, asyncScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { DetectorBatch, ScoredBatch } from '../detect/detector.js';
import { checkDeadLetterOptions, errorText, handOverAll, type DeadLetterOptions } from './dead-letter.js';
import type { DeadLetterReason, InboundMessage, ReadingChunk, ScoredPoint } from './types.js';

/** Default {@link ScoreStepOptions.maxBatch} (the configuration's default too). */
export const DEFAULT_MAX_BATCH = 256;

/** One model's device streams, as the composer keeps them. */
export interface DetectorSlots {
  readonly batch: DetectorBatch;
  /**
   * The device's slot in `batch`, allocating one for a new device; −1 when no slot is free
   * (`device-limit`). Any other value outside `[0, batch.capacity)` or a throw dead-letters the
   * chunk (`callback-error`). Freeing slots (on eviction) is the composer's business.
   */
  slotOf(device: string): number;
}

/** Options of {@link scoreStep}. */
export interface ScoreStepOptions extends DeadLetterOptions {
  /**
   * The detector of a model, or null when none is loaded (chunk dead-lettered as
   * `unknown-device`). Called when a model's first chunk of a batching round arrives; a throw
   * dead-letters the chunk (`callback-error`).
   */
  readonly detectorFor: (model: string) => DetectorSlots | null;
  /**
   * Devices advanced per `observe` call, positive integer. A model's round is stepped at once
   * when it holds this many devices. Default {@link DEFAULT_MAX_BATCH}.
   */
  readonly maxBatch?: number;
  /** Schedules the end of a batching round (delay 0: the next macrotask). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Told the duration of each batched `observe` call (one model step over `devices` rows), seconds. */
  readonly onStep?: (seconds: number, devices: number) => void;
}

interface DeviceQueue {
  readonly device: string;
  readonly slot: number;
  readonly chunks: ReadingChunk[];
  /** Cursor: chunk index and reading within it. */
  chunkAt: number;
  readingAt: number;
}

interface Round {
  readonly model: string;
  readonly slots: DetectorSlots;
  readonly queues: Map<string, DeviceQueue>;
  readonly slotsUsed: Set<number>;
}

interface StepBuffers {
  readonly slots: Int32Array;
  readonly readings: Float32Array;
  readonly timesMs: Float64Array;
  /** Row → its queue in the current step. */
  readonly rows: DeviceQueue[];
}

/**
 * Scores chunks with the models' `DetectorBatch`es. Chunks of one model that arrive in the same
 * round (until the scheduler runs a delay-0 action: the same macrotask with `asyncScheduler`), or
 * until `maxBatch` devices are waiting, are stepped together: a device's chunk of L readings is L
 * successive `observe` steps of its slot, and the devices of a round advance column by column
 * (one `observe` call per column over every device that still has readings). Several chunks of
 * one device in a round are stepped one after the other. Each device's points leave in its
 * reading order; points own their arrays (copied out of the reused `ScoredBatch`).
 *
 * Dead letters (see {@link DeadLetterOptions}), one per message of the dropped readings:
 * `unknown-device` (no detector for the model), `device-limit` (no free slot),
 * `wrong-channel-count` (chunk channels ≠ model channels), `callback-error` (`detectorFor` or
 * `slotOf` threw or gave a bad slot, or `observe` threw: that step's readings are dropped and
 * the round goes on).
 *
 * On completion of the source the waiting round is stepped at once; on error it is discarded.
 * Unsubscribing cancels the pending round.
 * @throws Error at call time when an option is invalid (names the option and the value).
 */
export function scoreStep(options: ScoreStepOptions): OperatorFunction<ReadingChunk, ScoredPoint> {
  checkDeadLetterOptions('scoreStep', options);
  if (typeof options.detectorFor !== 'function') throw new Error(`scoreStep: detectorFor must be a function, got ${typeof options.detectorFor}`);
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch <= 0) throw new Error(`scoreStep: maxBatch must be a positive integer, got ${maxBatch}`);
  const scheduler = options.scheduler ?? asyncScheduler;
  const { detectorFor } = options;

  return (source) =>
    new Observable<ScoredPoint>((subscriber) => {
      let rounds = new Map<string, Round>();
      let timer: Subscription | null = null;
      /** True while a round emits: a chunk fed back synchronously must not step the reused buffers. */
      let stepping = false;
      let completed = false;
      const buffers = new WeakMap<DetectorBatch, StepBuffers>();

      const drop = (messages: readonly InboundMessage[], reason: DeadLetterReason, detail: string): void => handOverAll(messages, reason, detail, scheduler.now(), options);
      const dropChunk = (c: ReadingChunk, reason: DeadLetterReason, detail: string): void => {
        for (const messages of c.sources) drop(messages, reason, detail);
      };

      const buffersOf = (batch: DetectorBatch): StepBuffers => {
        let b = buffers.get(batch);
        if (b === undefined) {
          const rows = Math.min(maxBatch, batch.capacity);
          b = { slots: new Int32Array(rows), readings: new Float32Array(rows * batch.channels), timesMs: new Float64Array(rows), rows: [] };
          buffers.set(batch, b);
        }
        return b;
      };

      const emitRow = (round: Round, q: DeviceQueue, c: ReadingChunk, at: number, out: ScoredBatch, row: number, C: number): void => {
        subscriber.next({
          device: q.device,
          model: round.model,
          tags: c.tags,
          timeMs: c.timesMs[at] as number,
          ready: out.ready[row] === 1,
          score: out.scores[row] as number,
          threshold: round.slots.batch.threshold,
          anomaly: out.anomaly[row] === 1 ? 1 : 0,
          exceeded: out.exceeded[row] === 1 ? 1 : 0,
          contrib: out.contrib.slice(row * C, (row + 1) * C),
          event: out.events[row] ?? null,
          sources: c.sources[at] ?? [],
        });
      };

      const step = (round: Round): void => {
        const batch = round.slots.batch;
        const C = batch.channels;
        const b = buffersOf(batch);
        const queues = [...round.queues.values()];
        for (;;) {
          b.rows.length = 0;
          for (const q of queues) {
            if (q.chunkAt >= q.chunks.length) continue;
            const c = q.chunks[q.chunkAt] as ReadingChunk;
            const row = b.rows.length;
            b.slots[row] = q.slot;
            b.timesMs[row] = c.timesMs[q.readingAt] as number;
            const from = q.readingAt * C;
            for (let ch = 0; ch < C; ch++) b.readings[row * C + ch] = c.values[from + ch] as number;
            b.rows.push(q);
          }
          const count = b.rows.length;
          if (count === 0 || subscriber.closed) return;
          let out: ScoredBatch | null = null;
          let failure = '';
          try {
            const t0 = performance.now();
            out = batch.observe(b.slots, count, b.readings, b.timesMs);
            options.onStep?.((performance.now() - t0) / 1000, count);
          } catch (error) {
            failure = `DetectorBatch.observe of model '${round.model}' threw: ${errorText(error)}`;
          }
          for (let row = 0; row < count; row++) {
            const q = b.rows[row] as DeviceQueue;
            const c = q.chunks[q.chunkAt] as ReadingChunk;
            const at = q.readingAt;
            if (++q.readingAt === c.timesMs.length) {
              q.chunkAt++;
              q.readingAt = 0;
            }
            if (out === null) drop(c.sources[at] ?? [], 'callback-error', failure);
            else if (!subscriber.closed) emitRow(round, q, c, at, out, row, C);
          }
        }
      };

      const runRound = (round: Round): void => {
        rounds.delete(round.model);
        stepping = true;
        try {
          step(round);
        } finally {
          stepping = false;
        }
      };

      const runAll = (): void => {
        timer?.unsubscribe();
        timer = null;
        // Chunks arriving while points are emitted belong to the next round.
        const now = rounds;
        rounds = new Map();
        for (const round of now.values()) {
          if (subscriber.closed) return;
          runRound(round);
        }
        if (completed && !subscriber.closed) {
          if (rounds.size > 0) runAll();
          else subscriber.complete();
        }
      };

      const roundOf = (c: ReadingChunk): Round | null => {
        const known = rounds.get(c.model);
        if (known !== undefined) return known;
        let slots: DetectorSlots | null;
        try {
          slots = detectorFor(c.model);
        } catch (error) {
          dropChunk(c, 'callback-error', `detectorFor threw: ${errorText(error)}`);
          return null;
        }
        if (slots === null) {
          dropChunk(c, 'unknown-device', `no detector is loaded for model '${c.model}' (device '${c.device}')`);
          return null;
        }
        const round: Round = { model: c.model, slots, queues: new Map(), slotsUsed: new Set() };
        rounds.set(c.model, round);
        return round;
      };

      const onChunk = (c: ReadingChunk): void => {
        if (c.timesMs.length === 0) return;
        const round = roundOf(c);
        if (round === null) return;
        const batch = round.slots.batch;
        if (c.values.length !== c.timesMs.length * batch.channels) {
          dropChunk(c, 'wrong-channel-count', `chunk of device '${c.device}' has ${c.values.length / c.timesMs.length} channels, model '${c.model}' has ${batch.channels}`);
          return;
        }
        let q = round.queues.get(c.device);
        if (q === undefined) {
          let slot: number;
          try {
            slot = round.slots.slotOf(c.device);
          } catch (error) {
            dropChunk(c, 'callback-error', `slotOf threw: ${errorText(error)}`);
            return;
          }
          if (slot === -1) {
            dropChunk(c, 'device-limit', `model '${c.model}' has no free slot for device '${c.device}' (capacity ${batch.capacity})`);
            return;
          }
          if (!Number.isInteger(slot) || slot < 0 || slot >= batch.capacity || round.slotsUsed.has(slot)) {
            dropChunk(c, 'callback-error', `slotOf gave device '${c.device}' slot ${slot}: not a free slot in [0, ${batch.capacity})`);
            return;
          }
          q = { device: c.device, slot, chunks: [], chunkAt: 0, readingAt: 0 };
          round.queues.set(c.device, q);
          round.slotsUsed.add(slot);
        }
        q.chunks.push(c);
        if (round.queues.size >= maxBatch && !stepping) runRound(round);
        else timer ??= scheduler.schedule(runAll, 0);
      };

      const subscription = source.subscribe({
        next: onChunk,
        error: (error: unknown) => subscriber.error(error),
        complete() {
          completed = true;
          // A completion fed back while a round emits waits for that round to end.
          if (stepping) timer ??= scheduler.schedule(runAll, 0);
          else runAll();
        },
      });

      return () => {
        subscription.unsubscribe();
        timer?.unsubscribe();
        timer = null;
        rounds.clear();
      };
    });
}
