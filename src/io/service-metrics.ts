import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AnomalyEvent } from '../detect/hysteresis.js';

/**
 * The live service's Prometheus metrics, one {@link Registry} per pipeline (never prom-client's
 * global registry, so two pipelines in one process do not collide). Callers get typed accessors
 * instead of the prom-client objects: a label value is one of a closed list (checked by the type
 * and again at run time) or, for `model`, bound once through {@link ServiceMetrics.forModel}.
 *
 * Series of the closed label lists are created at zero up front, so `rate()` and `increase()`
 * work from the first scrape instead of missing the first increment.
 */

/** Why a message went to the dead-letter topic: the stream layer's list, so the two cannot drift. */
export { DEAD_LETTER_REASONS, type DeadLetterReason } from '../stream/types.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from '../stream/types.js';

/**
 * Why points were given up for good: `spool-full` (oldest unsent points dropped beyond the spool
 * bound), `rejected` (the TSDB refused the batch with a 4xx other than 429; kept in the
 * rejected-points file).
 */
export const POINT_DROP_REASONS = ['spool-full', 'rejected'] as const;
/** A value of the `reason` label of `convwatch_points_dropped_total`. */
export type PointDropReason = (typeof POINT_DROP_REASONS)[number];

/** Alert messages published, by event boundary. */
export const ALERT_KINDS = ['start', 'end'] as const satisfies readonly AnomalyEvent['kind'][];
/** A value of the `kind` label of `convwatch_alerts_total`. */
export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * Outcomes of checkpoint saves and loads: `saved`, `save-failed`; at start `loaded`, `not-found`
 * (no checkpoint yet), `rejected` (written for another model or version: devices start fresh),
 * `corrupt` (unreadable file, kept aside).
 */
export const CHECKPOINT_RESULTS = ['saved', 'save-failed', 'loaded', 'not-found', 'rejected', 'corrupt'] as const;
/** A value of the `result` label of `convwatch_checkpoints_total`. */
export type CheckpointResult = (typeof CHECKPOINT_RESULTS)[number];

/** Buckets of `convwatch_step_seconds`: one batched model step, 1 µs … 100 ms (1-2.5-5 per decade). */
export const STEP_SECONDS_BUCKETS: readonly number[] = decades(1e-6, 0.1);
/** Buckets of `convwatch_end_to_end_seconds`: publish/receipt → TSDB confirmation, 1 ms … 60 s. */
export const END_TO_END_SECONDS_BUCKETS: readonly number[] = [...decades(1e-3, 10), 30, 60];

/** Per-model accessors, bound to one `model` label value. */
export interface ModelMetrics {
  readonly model: string;
  /** Adds to `convwatch_readings_total{model}`: assembled readings routed to this model. */
  readingsReceived(count?: number): void;
  /** Adds to `convwatch_readings_scored_total{model}`: readings that produced a score (past warm-up). */
  readingsScored(count?: number): void;
  /** Sets `convwatch_active_devices{model}`: devices holding a detector slot now. */
  setActiveDevices(devices: number): void;
}

/** Typed accessors for every convwatch metric of one pipeline. Counters throw on a negative count. */
export interface ServiceMetrics {
  /** The registry holding these metrics (and the process/Node defaults unless turned off). */
  readonly registry: Registry;
  /** The accessors for one model; created on first use (series start at 0), then cached. */
  forModel(model: string): ModelMetrics;
  /** `convwatch_dead_letters_total{reason}`. @throws Error for a reason outside {@link DEAD_LETTER_REASONS}. */
  deadLetter(reason: DeadLetterReason, count?: number): void;
  /** `convwatch_points_written_total`: points the TSDB confirmed. */
  pointsWritten(count: number): void;
  /** `convwatch_points_failed_total`: points in write attempts that failed (a retried point counts again). */
  pointsFailed(count: number): void;
  /** `convwatch_points_buffered`: points waiting for confirmation (memory buffer + spool). */
  setPointsBuffered(points: number): void;
  /** `convwatch_points_dropped_total{reason}`. @throws Error for a reason outside {@link POINT_DROP_REASONS}. */
  pointsDropped(reason: PointDropReason, count: number): void;
  /** `convwatch_mqtt_unacked_messages`: messages received whose PUBACK waits for their points. */
  setUnackedMessages(messages: number): void;
  /** `convwatch_mqtt_redeliveries_total`: redelivered messages recognised as already handled (not processed again). */
  redeliveries(count: number): void;
  /** `convwatch_step_seconds`: duration of one batched model step, seconds. */
  observeStepSeconds(seconds: number): void;
  /** `convwatch_end_to_end_seconds`: message receipt (or publish time when known) → TSDB confirmation, seconds. */
  observeEndToEndSeconds(seconds: number): void;
  /** `convwatch_alerts_total{kind}`: alert messages published. @throws Error for a kind outside {@link ALERT_KINDS}. */
  alert(kind: AlertKind, count?: number): void;
  /** `convwatch_checkpoints_total{result}`. @throws Error for a result outside {@link CHECKPOINT_RESULTS}. */
  checkpoint(result: CheckpointResult, count?: number): void;
}

/** Options of {@link createServiceMetrics}. */
export interface ServiceMetricsOptions {
  /**
   * Also register prom-client's process and Node metrics (CPU, memory, event-loop lag, GC,
   * handles) on the same registry. Default true. Each call starts its own event-loop monitor,
   * so tests that create many registries may turn it off.
   */
  readonly defaultMetrics?: boolean;
}

/**
 * Registers every convwatch metric on `registry` (a new one by default).
 * @throws Error when `registry` already holds a metric of the same name (one pipeline per registry).
 */
export function createServiceMetrics(registry: Registry = new Registry(), options: ServiceMetricsOptions = {}): ServiceMetrics {
  return new RegistryMetrics(registry, options.defaultMetrics ?? true);
}

/** 1, 2.5, 5 × 10^k from `from` to `to` inclusive (both powers of ten). */
function decades(from: number, to: number): number[] {
  const out: number[] = [];
  for (let exp = Math.round(Math.log10(from)); exp <= Math.round(Math.log10(to)); exp++) {
    for (const m of [1, 2.5, 5]) {
      // Built from the decimal string so the bucket prints as 2.5e-06, not 0.0000025000000000000002.
      const value = Number(`${m}e${exp}`);
      if (value <= to) out.push(value);
    }
  }
  return out;
}

interface CounterChild {
  inc(value?: number): void;
}

function closedChildren<L extends string>(counter: Counter<string>, label: string, values: readonly L[]): Map<L, CounterChild> {
  const children = new Map<L, CounterChild>();
  for (const value of values) {
    const child = counter.labels({ [label]: value });
    child.inc(0);
    children.set(value, child);
  }
  return children;
}

function childOf<L extends string>(children: Map<L, CounterChild>, metric: string, label: string, value: L): CounterChild {
  const child = children.get(value);
  if (child === undefined) throw new Error(`${metric}: ${label} must be one of ${[...children.keys()].join(', ')}, got ${JSON.stringify(value)}`);
  return child;
}

class RegistryMetrics implements ServiceMetrics {
  private readonly readings: Counter<'model'>;
  private readonly scored: Counter<'model'>;
  private readonly activeDevices: Gauge<'model'>;
  private readonly deadLetters: Map<DeadLetterReason, CounterChild>;
  private readonly written: Counter<string>;
  private readonly failed: Counter<string>;
  private readonly buffered: Gauge<string>;
  private readonly unacked: Gauge<string>;
  private readonly redelivered: Counter<string>;
  private readonly dropped: Map<PointDropReason, CounterChild>;
  private readonly step: Histogram<string>;
  private readonly endToEnd: Histogram<string>;
  private readonly alerts: Map<AlertKind, CounterChild>;
  private readonly checkpoints: Map<CheckpointResult, CounterChild>;
  private readonly models = new Map<string, ModelMetrics>();

  constructor(
    readonly registry: Registry,
    defaultMetrics: boolean,
  ) {
    const registers = [registry];
    this.readings = new Counter({ name: 'convwatch_readings_total', help: 'Assembled readings routed to a model.', labelNames: ['model'], registers });
    this.scored = new Counter({ name: 'convwatch_readings_scored_total', help: 'Readings that produced a score (stream past warm-up).', labelNames: ['model'], registers });
    this.activeDevices = new Gauge({ name: 'convwatch_active_devices', help: 'Devices holding a detector slot.', labelNames: ['model'], registers });
    const deadLetters = new Counter({ name: 'convwatch_dead_letters_total', help: 'Messages sent to the dead-letter topic, by reason.', labelNames: ['reason'], registers });
    this.deadLetters = closedChildren(deadLetters, 'reason', DEAD_LETTER_REASONS);
    this.written = new Counter({ name: 'convwatch_points_written_total', help: 'Points confirmed by the TSDB.', registers });
    this.failed = new Counter({ name: 'convwatch_points_failed_total', help: 'Points in TSDB write attempts that failed (retries count again).', registers });
    this.buffered = new Gauge({ name: 'convwatch_points_buffered', help: 'Points waiting for TSDB confirmation (memory buffer and spool).', registers });
    this.unacked = new Gauge({ name: 'convwatch_mqtt_unacked_messages', help: 'Messages received whose PUBACK waits for their points to be stored.', registers });
    this.redelivered = new Counter({ name: 'convwatch_mqtt_redeliveries_total', help: 'Redelivered messages recognised as already handled, acknowledged without processing.', registers });
    const dropped = new Counter({ name: 'convwatch_points_dropped_total', help: 'Points given up for good, by reason.', labelNames: ['reason'], registers });
    this.dropped = closedChildren(dropped, 'reason', POINT_DROP_REASONS);
    this.step = new Histogram({ name: 'convwatch_step_seconds', help: 'Duration of one batched model step.', buckets: [...STEP_SECONDS_BUCKETS], registers });
    this.endToEnd = new Histogram({
      name: 'convwatch_end_to_end_seconds',
      help: 'Message receipt (or publish time when known) to TSDB confirmation of its point.',
      buckets: [...END_TO_END_SECONDS_BUCKETS],
      registers,
    });
    const alerts = new Counter({ name: 'convwatch_alerts_total', help: 'Anomaly event alerts published, by kind.', labelNames: ['kind'], registers });
    this.alerts = closedChildren(alerts, 'kind', ALERT_KINDS);
    const checkpoints = new Counter({ name: 'convwatch_checkpoints_total', help: 'Checkpoint saves and loads, by result.', labelNames: ['result'], registers });
    this.checkpoints = closedChildren(checkpoints, 'result', CHECKPOINT_RESULTS);
    this.written.inc(0);
    this.failed.inc(0);
    this.buffered.set(0);
    if (defaultMetrics) collectDefaultMetrics({ register: registry });
  }

  forModel(model: string): ModelMetrics {
    let m = this.models.get(model);
    if (m === undefined) {
      const readings = this.readings.labels({ model });
      const scored = this.scored.labels({ model });
      const active = this.activeDevices.labels({ model });
      readings.inc(0);
      scored.inc(0);
      active.set(0);
      m = {
        model,
        readingsReceived: (count = 1) => readings.inc(count),
        readingsScored: (count = 1) => scored.inc(count),
        setActiveDevices: (devices) => active.set(devices),
      };
      this.models.set(model, m);
    }
    return m;
  }

  deadLetter(reason: DeadLetterReason, count = 1): void {
    childOf(this.deadLetters, 'convwatch_dead_letters_total', 'reason', reason).inc(count);
  }

  pointsWritten(count: number): void {
    this.written.inc(count);
  }

  pointsFailed(count: number): void {
    this.failed.inc(count);
  }

  setUnackedMessages(messages: number): void {
    this.unacked.set(messages);
  }

  redeliveries(count: number): void {
    this.redelivered.inc(count);
  }

  setPointsBuffered(points: number): void {
    this.buffered.set(points);
  }

  pointsDropped(reason: PointDropReason, count: number): void {
    childOf(this.dropped, 'convwatch_points_dropped_total', 'reason', reason).inc(count);
  }

  observeStepSeconds(seconds: number): void {
    this.step.observe(seconds);
  }

  observeEndToEndSeconds(seconds: number): void {
    this.endToEnd.observe(seconds);
  }

  alert(kind: AlertKind, count = 1): void {
    childOf(this.alerts, 'convwatch_alerts_total', 'kind', kind).inc(count);
  }

  checkpoint(result: CheckpointResult, count = 1): void {
    childOf(this.checkpoints, 'convwatch_checkpoints_total', 'result', result).inc(count);
  }
}
