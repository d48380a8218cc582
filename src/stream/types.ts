import type { AnomalyEvent } from '../detect/hysteresis.js';

/**
 * The values passed between the stages of the live pipeline (docs/service-design.md):
 *
 * ```
 * InboundMessage ─decode→ DecodedSample ─assemble→ Reading ─chunk→ ReadingChunk ─scoreStep→ ScoredPoint
 *                 (every stage may drop an item as a DeadLetter)
 * ```
 *
 * Every value downstream of `decode` keeps the {@link InboundMessage}s it came from (`source` /
 * `sources`), so the sink can acknowledge a message once every point it produced is stored.
 */

/** One MQTT message as the source hands it over. */
export interface InboundMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** Arrival time at this process, ms since the epoch. */
  readonly receivedAtMs: number;
  /** Arrival order, increasing by one per message from the source. */
  readonly seq: number;
  /**
   * Acknowledges the message to the broker (QoS 1). Called exactly once: by the sink when every
   * point of the message is stored, or by the operator that dead-letters it.
   */
  ack(): void;
}

/**
 * What a topic template made of a topic: the device, the channel when the topic carries one
 * value per channel, and the other placeholders as tags.
 */
export interface TopicMatch {
  readonly device: string;
  /** Set for per-channel topics (`sensors/{device}/{channel}`). */
  readonly channel?: string;
  /** Topic placeholders other than device and channel. */
  readonly tags: Readonly<Record<string, string>>;
}

/** The values of a decoded payload: by channel name, or positional in the model's channel order. */
export type SampleValues =
  | { readonly kind: 'named'; readonly entries: readonly (readonly [name: string, value: number])[] }
  | { readonly kind: 'ordered'; readonly values: readonly number[] };

/** A decoded message: one device's values (all or some of its channels) at one time. */
export interface DecodedSample {
  readonly device: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Time of the values, ms since the epoch (from the payload or the arrival time). Finite. */
  readonly timeMs: number;
  /** Finite numbers only. */
  readonly values: SampleValues;
  readonly source: InboundMessage;
}

/** One complete reading of a device: a value for every channel of its model, at one time. */
export interface Reading {
  readonly device: string;
  /** Name of the model that serves the device. */
  readonly model: string;
  readonly tags: Readonly<Record<string, string>>;
  /** ms since the epoch. */
  readonly timeMs: number;
  /** `[C]` in the model's channel order. */
  readonly values: Float32Array;
  /** Every message that contributed, in arrival order. */
  readonly sources: readonly InboundMessage[];
}

/** Consecutive readings of one device: the `[1, C, L]` tensor, stored time-major. */
export interface ReadingChunk {
  readonly device: string;
  readonly model: string;
  /** Tags of the chunk's first reading. */
  readonly tags: Readonly<Record<string, string>>;
  /** `[L]` reading times, ms since the epoch (1 ≤ L ≤ the configured chunk length). */
  readonly timesMs: Float64Array;
  /** `[L, C]` time-major: reading t occupies `values[t·C .. (t+1)·C)`. */
  readonly values: Float32Array;
  /** `[L]` the messages behind each reading. */
  readonly sources: readonly (readonly InboundMessage[])[];
}

/** The detector's verdict on one reading. Owns its arrays (nothing is reused). */
export interface ScoredPoint {
  readonly device: string;
  readonly model: string;
  readonly tags: Readonly<Record<string, string>>;
  /** ms since the epoch. */
  readonly timeMs: number;
  /** False during the device stream's warm-up (its receptive field is not yet filled). */
  readonly ready: boolean;
  /** Anomaly score; NaN while not ready. */
  readonly score: number;
  readonly threshold: number;
  /** Event state after this reading (1 while an anomaly event is open). */
  readonly anomaly: 0 | 1;
  /** 1 when score > threshold. */
  readonly exceeded: 0 | 1;
  /** `[C]` per-channel attribution shares (zeros while not ready). */
  readonly contrib: Float32Array;
  /** The event this reading started or ended, else null. */
  readonly event: AnomalyEvent | null;
  /** The messages behind the reading. */
  readonly sources: readonly InboundMessage[];
}

/**
 * Why an item was dropped. The first fourteen are those of docs/service-design.md;
 * `callback-error` is an item whose user-supplied lookup (`codecFor`, `modelFor`, `slotOf`, …)
 * threw, so it could not be processed.
 */
export const DEAD_LETTER_REASONS = [
  'invalid-json',
  'invalid-csv',
  'not-a-number',
  'non-finite',
  'wrong-channel-count',
  'unknown-channel',
  'oversized',
  'unknown-device',
  'device-limit',
  'time-out-of-range',
  'late',
  'duplicate',
  'missing-channels',
  'unmatched-topic',
  'callback-error',
] as const;

/** One of {@link DEAD_LETTER_REASONS}. */
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** A dropped message, with why. One dead letter per message. */
export interface DeadLetter {
  readonly reason: DeadLetterReason;
  /** Human-readable specifics: the field, the value, the limit. */
  readonly detail: string;
  readonly topic: string;
  /** The first 1 KiB of the payload, as UTF-8 text or (when not valid text) base64. */
  readonly payload: string;
  readonly payloadEncoding: 'utf8' | 'base64';
  /** Size of the whole payload, bytes. */
  readonly payloadBytes: number;
  /** When the item was dropped, ms since the epoch (the dropping operator's clock). */
  readonly atMs: number;
  readonly source: InboundMessage;
}
