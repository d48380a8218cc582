import { asapScheduler, Subject, type SchedulerLike, type Subscription } from 'rxjs';
import type { Detector, DetectorBatch } from '../detect/detector.js';
import type { GemmKernel } from '../nn/gemm.js';
import { assemble, type Eviction } from './assemble.js';
import { chunk } from './chunk.js';
import type { CodecRoute, TimestampFormat, TimestampSource } from './codecs.js';
import { decode } from './decode.js';
import { DeviceSlots } from './route-models.js';
import { scoreStep } from './score-step.js';
import type { DeadLetter, InboundMessage, ScoredPoint } from './types.js';

/** What the pipeline needs from the outside world; the service wires real I/O behind it. */
export interface PipelineDependencies {
  /** Models by name. */
  readonly detectors: ReadonlyMap<string, Detector>;
  /** Device → model name (first matching pattern), or null for an unknown device. */
  readonly modelOf: (device: string) => string | null;
  /** Topic → codec route, or null for a topic no subscription template matches. */
  readonly codecFor: (topic: string) => CodecRoute | null;
  /**
   * Receives the points of one scoring round (several devices, in order per device) and resolves
   * when they are durable; then the messages behind them are acknowledged.
   */
  readonly writePoints: (points: readonly ScoredPoint[]) => Promise<void>;
  /** Receives each dead letter; the message is acknowledged after it returns, or after its promise settles (the letter is safe). */
  readonly deadLetter: (letter: DeadLetter) => void | Promise<void>;
  /** Errors of callbacks and of writes; the pipeline keeps running. */
  readonly onError: (error: unknown, where: string) => void;
  /** Called when an idle device is evicted (after its last points were written). */
  readonly onEvict?: (eviction: Eviction) => void;
  /** Told the duration of each batched model step, seconds, and how many devices it advanced. */
  readonly onStep?: (seconds: number, devices: number) => void;
  readonly now: () => number;
}

/** Pipeline options (see docs/configuration.md for their meaning, units and defaults). */
export interface PipelineOptions {
  readonly maxDevicesPerModel: number;
  readonly chunkLength: number;
  readonly maxChunkWaitMs: number;
  readonly maxBatch: number;
  readonly assembleWaitMs: number;
  readonly late: 'drop' | 'accept';
  readonly onMissing: 'hold' | 'skip' | 'dead-letter';
  readonly maxClockSkewMs: number;
  readonly idleEvictionMs: number;
  readonly timestamp: TimestampSource;
  readonly timestampFormat?: TimestampFormat;
  readonly maxPayloadBytes: number;
  /** Scheduler of time bounds and batching; default asap (a microtask), so one message's points are written before the next message is handled. */
  readonly scheduler?: SchedulerLike;
  /** Matrix kernel of the detectors' streams; the plain TypeScript one by default (pass the WASM kernel in production). */
  readonly kernel?: GemmKernel;
}

/** A running pipeline. Push messages with {@link push}; end with {@link complete}. */
export interface Pipeline {
  /** Feeds one message; it is acknowledged (its `ack()`) when its points are durable or it was dead-lettered. */
  push(message: InboundMessage): void;
  /** Flushes every buffered reading and chunk, waits for the last writes, and stops. */
  complete(): Promise<void>;
  /** Per-model batches (for checkpoints): slot of each device and the batch holding its state. */
  readonly models: ReadonlyMap<string, { readonly batch: DetectorBatch; readonly slots: DeviceSlots }>;
  /** Messages pushed, and writes not yet resolved. */
  stats(): { pushed: number; pendingWrites: number };
}

/**
 * Composes decode → assemble → chunk → scoreStep → durable write → acknowledgement, one subscription
 * per pipeline (two pipelines can run in one process).
 */
export function createPipeline(deps: PipelineDependencies, o: PipelineOptions): Pipeline {
  const scheduler = o.scheduler ?? asapScheduler;
  const models = new Map<string, { batch: DetectorBatch; slots: DeviceSlots }>();
  for (const [name, d] of deps.detectors) models.set(name, { batch: d.createBatch(o.maxDevicesPerModel, o.kernel), slots: new DeviceSlots(o.maxDevicesPerModel) });
  const dead = { deadLetter: deps.deadLetter, onCallbackError: (e: unknown, where: string) => deps.onError(e, where) };
  const input = new Subject<InboundMessage>();
  let pushed = 0;
  const pending = new Set<Promise<void>>();
  let sub: Subscription | null = null;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));

  const scored$ = input.pipe(
    decode({ ...dead, codecFor: deps.codecFor, maxPayloadBytes: o.maxPayloadBytes, timestamp: o.timestamp, ...(o.timestampFormat === undefined ? {} : { timestampFormat: o.timestampFormat }), maxClockSkewMs: o.maxClockSkewMs > 0 ? o.maxClockSkewMs : Number.POSITIVE_INFINITY, now: deps.now }),
    assemble({
      ...dead,
      modelFor: (device) => {
        const model = deps.modelOf(device);
        const detector = model === null ? undefined : deps.detectors.get(model);
        return model === null || detector === undefined ? null : { model, channels: detector.channels };
      },
      waitMs: o.assembleWaitMs,
      onMissing: o.onMissing,
      late: o.late,
      maxDevices: o.maxDevicesPerModel * Math.max(1, deps.detectors.size),
      idleEvictionMs: o.idleEvictionMs,
      onEvict: (e) => {
        const m = models.get(e.model);
        const slot = m?.slots.peek(e.device) ?? -1;
        deps.onEvict?.(e);
        if (m !== undefined && slot >= 0) {
          m.slots.release(e.device);
          m.batch.resetSlot(slot);
        }
      },
      scheduler,
    }),
    chunk({ length: o.chunkLength, maxWaitMs: o.maxChunkWaitMs, scheduler }),
    scoreStep({
      ...dead,
      detectorFor: (model) => {
        const m = models.get(model);
        return m === undefined ? null : { batch: m.batch, slotOf: (device) => m.slots.slotOf(device) };
      },
      maxBatch: o.maxBatch,
      scheduler,
      ...(deps.onStep === undefined ? {} : { onStep: deps.onStep }),
    }),
  );

  // Points of one synchronous burst are written together, then their messages are acknowledged.
  let burst: ScoredPoint[] = [];
  let flushScheduled = false;
  const flush = (): void => {
    flushScheduled = false;
    const points = burst;
    burst = [];
    const p = deps
      .writePoints(points)
      .then(() => {
        const acked = new Set<InboundMessage>();
        for (const pt of points) {
          for (const m of pt.sources) {
            if (acked.has(m)) continue;
            acked.add(m);
            try {
              m.ack();
            } catch (e) {
              deps.onError(e, 'ack');
            }
          }
        }
      })
      .catch((e: unknown) => deps.onError(e, 'writePoints'))
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  sub = scored$.subscribe({
    next: (pt) => {
      burst.push(pt);
      if (!flushScheduled) {
        flushScheduled = true;
        queueMicrotask(flush);
      }
    },
    error: (e: unknown) => {
      deps.onError(e, 'pipeline');
      finished();
    },
    complete: () => {
      if (burst.length > 0) flush();
      finished();
    },
  });

  return {
    push: (message) => {
      pushed++;
      input.next(message);
    },
    complete: async () => {
      input.complete();
      await done;
      // A microtask-scheduled flush may still be queued behind the completion.
      await new Promise<void>((r) => queueMicrotask(r));
      while (pending.size > 0) await Promise.all([...pending]);
      sub?.unsubscribe();
    },
    models,
    stats: () => ({ pushed, pendingWrites: pending.size }),
  };
}
