import { Observable, asyncScheduler, type OperatorFunction } from 'rxjs';
import { TIMESTAMP_FORMATS, decodeMessage, type CodecRoute, type DecodeMessageOptions, type TimestampFormat, type TimestampSource } from './codecs.js';
import { checkDeadLetterOptions, deadLetterOf, errorText, handOver, reportCallbackError, type DeadLetterOptions } from './dead-letter.js';
import type { DecodedSample, InboundMessage } from './types.js';

/** Default {@link DecodeOptions.maxPayloadBytes}: 64 KiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 65_536;
/** Default {@link DecodeOptions.timestampField}: the first present of these members. */
export const DEFAULT_TIMESTAMP_FIELDS: readonly string[] = Object.freeze(['time', 'ts', 'timestamp']);
/**
 * Default {@link DecodeOptions.maxClockSkewMs}: one week (catches seconds taken for ms, tolerates
 * a gateway that buffered offline for days).
 */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 604_800_000;

/** Options of {@link decode}. */
export interface DecodeOptions extends DeadLetterOptions {
  /**
   * The codec and topic match of a topic (and the topic's own settings, which override the
   * defaults below), or null when no topic template matches (`unmatched-topic`). Called once per
   * message; if it throws, the message is dead-lettered (`callback-error`).
   */
  readonly codecFor: (topic: string) => CodecRoute | null;
  /** Larger payloads are dead-lettered unread (`oversized`). Bytes, positive integer; default {@link DEFAULT_MAX_PAYLOAD_BYTES}. */
  readonly maxPayloadBytes?: number;
  /** Where sample times come from. Default 'payload' (a payload without a time takes the arrival time). */
  readonly timestamp?: TimestampSource;
  /** `json-object`: the member(s) that may hold the time, first present wins. Default {@link DEFAULT_TIMESTAMP_FIELDS}. */
  readonly timestampField?: string | readonly string[];
  /** How payload times are written (see `TIMESTAMP_FORMATS` in codecs.ts). Default 'auto'. */
  readonly timestampFormat?: TimestampFormat;
  /**
   * With payload times: times further than this from the arrival time are dead-lettered
   * (`time-out-of-range`). ms, ≥ 0, `Infinity` disables (replays of old data); default
   * {@link DEFAULT_MAX_CLOCK_SKEW_MS}.
   */
  readonly maxClockSkewMs?: number;
  /**
   * Clock stamping dead letters (`atMs`), ms since the epoch. Default `asyncScheduler.now()`.
   * If it throws, the error goes to `onCallbackError` ('now') and the arrival time is used.
   */
  readonly now?: () => number;
}

/**
 * Decodes MQTT messages into samples (codecs in `codecs.ts`). A message that cannot be decoded
 * is handed to `deadLetter` with its reason and then acknowledged (never before the sink
 * returned; see {@link DeadLetterOptions}); a decoded message is not acknowledged here (the
 * sink does that once its points are stored). Errors and completion of the source pass through.
 * @throws Error at call time when an option is invalid (names the option and the value).
 */
export function decode(options: DecodeOptions): OperatorFunction<InboundMessage, DecodedSample> {
  checkDeadLetterOptions('decode', options);
  if (typeof options.codecFor !== 'function') throw new Error(`decode: codecFor must be a function, got ${typeof options.codecFor}`);
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes <= 0) throw new Error(`decode: maxPayloadBytes must be a positive integer, got ${maxPayloadBytes}`);
  const timestamp = options.timestamp ?? 'payload';
  if (timestamp !== 'payload' && timestamp !== 'arrival') throw new Error(`decode: timestamp must be 'payload' or 'arrival', got ${String(timestamp)}`);
  const field = options.timestampField ?? DEFAULT_TIMESTAMP_FIELDS;
  const timestampFields = typeof field === 'string' ? [field] : [...field];
  if (timestampFields.length === 0 || !timestampFields.every((f) => typeof f === 'string' && f !== '')) {
    throw new Error(`decode: timestampField must be a non-empty string or a non-empty list of them, got ${JSON.stringify(field)}`);
  }
  const timestampFormat = options.timestampFormat ?? 'auto';
  if (!TIMESTAMP_FORMATS.includes(timestampFormat)) throw new Error(`decode: timestampFormat must be one of ${TIMESTAMP_FORMATS.join(', ')}, got ${String(timestampFormat)}`);
  const maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  if (typeof maxClockSkewMs !== 'number' || Number.isNaN(maxClockSkewMs) || maxClockSkewMs < 0) throw new Error(`decode: maxClockSkewMs must be a number ≥ 0 (or Infinity), got ${maxClockSkewMs}`);
  const now = options.now ?? (() => asyncScheduler.now());
  const messageOptions: DecodeMessageOptions = { maxPayloadBytes, timestamp, timestampFields, timestampFormat, maxClockSkewMs };
  const { codecFor } = options;
  const stamp = (message: InboundMessage): number => {
    try {
      return now();
    } catch (error) {
      reportCallbackError(options, error, 'now');
      return message.receivedAtMs;
    }
  };

  return (source) =>
    new Observable<DecodedSample>((subscriber) =>
      source.subscribe({
        next(message) {
          let route: CodecRoute | null;
          try {
            route = codecFor(message.topic);
          } catch (error) {
            handOver(deadLetterOf(message, 'callback-error', `codecFor threw: ${errorText(error)}`, stamp(message)), options);
            return;
          }
          if (route === null) {
            handOver(deadLetterOf(message, 'unmatched-topic', `no topic template matches '${message.topic}'`, stamp(message)), options);
            return;
          }
          const result = decodeMessage(message, route, messageOptions, message.receivedAtMs);
          if (result.kind === 'sample') subscriber.next(result.sample);
          // The clock is read only for failures, so a good message costs no clock call.
          else handOver({ ...result.letter, atMs: stamp(message) }, options);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}
