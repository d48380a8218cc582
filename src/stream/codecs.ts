import { deadLetterOf } from './dead-letter.js';
import type { DeadLetter, DeadLetterReason, DecodedSample, InboundMessage, SampleValues, TopicMatch } from './types.js';

/**
 * Payload formats (the same contract as the `subscriptions[].codec` option of the configuration):
 * - `json-object`: `{"temp": 21.5, "rpm": 900, "time": 1700000000000}`: every member is a channel
 *   value (in payload order) except the time member: the first present of the timestamp fields.
 * - `json-array`: `[21.5, 900]`, positional in the model's channel order; to carry a time,
 *   `{"t": 1700000000000, "v": [21.5, 900]}` (exactly the members `t` and `v`).
 * - `csv`: one line `21.5,900` in the model's channel order (spaces around fields and one trailing
 *   line break allowed); when the route gives the model's channel count, a line with one more
 *   field starts with the time: `1700000000000,21.5,900`.
 * - `number`: one bare number, `21.5`, normally on a per-channel topic. It has no time.
 *
 * Values must be finite numbers: JSON numbers (strings like `"21.5"` are refused), or in text
 * codecs a decimal such as `-1.5e3`. With `timestamp: 'payload'` a payload that carries no time
 * takes the arrival time; one that carries a time must carry a readable one. In arrival mode a
 * time in the payload is skipped (never taken for a channel).
 *
 * On a per-channel topic (the topic match names a channel) the payload must hold exactly one
 * value (plus the time where the codec carries one); it becomes the value of that channel.
 */
export const CODEC_NAMES = ['json-object', 'json-array', 'csv', 'number'] as const;

/** One of {@link CODEC_NAMES}. */
export type CodecName = (typeof CODEC_NAMES)[number];

/** Where a sample's time comes from: the payload (arrival time when it has none), or the message's arrival time. */
export type TimestampSource = 'payload' | 'arrival';

/**
 * How a payload time is written: `iso` an ISO 8601 string with a zone (`2024-05-01T12:00:00.250Z`,
 * `…+02:00`); `epoch-ms` / `epoch-s` a number (or numeric string) of ms / s since the epoch;
 * `auto` a non-numeric string is ISO 8601, a number is ms from {@link AUTO_EPOCH_MS_THRESHOLD} up
 * (in magnitude) and seconds below.
 */
export const TIMESTAMP_FORMATS = ['auto', 'iso', 'epoch-ms', 'epoch-s'] as const;

/** One of {@link TIMESTAMP_FORMATS}. */
export type TimestampFormat = (typeof TIMESTAMP_FORMATS)[number];

/** `auto` time format: numbers at or above this are epoch ms, below it epoch s (1e11 ms is 1973; 1e11 s is the year 5138). */
export const AUTO_EPOCH_MS_THRESHOLD = 1e11;

/** How one payload is read. */
export interface PayloadOptions {
  readonly timestamp: TimestampSource;
  /** `json-object`: members that may hold the time, the first present wins. */
  readonly timestampFields: readonly string[];
  readonly timestampFormat: TimestampFormat;
  /** The channel named by a per-channel topic, if any. */
  readonly channel: string | undefined;
  /** `csv`: the model's channel count, if known; a line with one more field starts with the time. */
  readonly channelCount: number | undefined;
}

/** A parsed payload, or why it could not be parsed. */
export type PayloadResult =
  | { readonly ok: true; readonly values: SampleValues; /** ms since the epoch; null = none in the payload */ readonly timeMs: number | null }
  | { readonly ok: false; readonly reason: DeadLetterReason; readonly detail: string };

/**
 * Which codec reads a topic's payloads, what the topic says about them, and the topic's own
 * settings (a subscription's options), each overriding the operator's default when given.
 * The settings are taken as given: they come from a validated configuration.
 */
export interface CodecRoute {
  readonly codec: CodecName;
  readonly match: TopicMatch;
  readonly timestamp?: TimestampSource;
  readonly timestampFields?: readonly string[];
  readonly timestampFormat?: TimestampFormat;
  /** Bytes. */
  readonly maxPayloadBytes?: number;
  /** `csv`: the channel count of the device's model (see {@link PayloadOptions.channelCount}). */
  readonly channelCount?: number;
}

/** Message-level checks around the codec, the defaults for every route. Units: bytes and ms. */
export interface DecodeMessageOptions {
  /** Larger payloads are refused unread (`oversized`). */
  readonly maxPayloadBytes: number;
  readonly timestamp: TimestampSource;
  readonly timestampFields: readonly string[];
  readonly timestampFormat: TimestampFormat;
  /** Payload times further than this from the arrival time are refused (`time-out-of-range`). `Infinity` disables the check. */
  readonly maxClockSkewMs: number;
}

/** A decoded message or its dead letter. */
export type DecodeResult = { readonly kind: 'sample'; readonly sample: DecodedSample } | { readonly kind: 'dead'; readonly letter: DeadLetter };

/**
 * Decodes one message: size limit, codec, time (from the payload or `receivedAtMs`) and clock
 * skew. Pure: `atMs` only stamps a dead letter. Never throws.
 */
export function decodeMessage(message: InboundMessage, route: CodecRoute, options: DecodeMessageOptions, atMs: number): DecodeResult {
  const dead = (reason: DeadLetterReason, detail: string): DecodeResult => ({ kind: 'dead', letter: deadLetterOf(message, reason, detail, atMs) });
  const maxPayloadBytes = route.maxPayloadBytes ?? options.maxPayloadBytes;
  if (message.payload.length > maxPayloadBytes) {
    return dead('oversized', `payload of ${message.payload.length} bytes exceeds maxPayloadBytes ${maxPayloadBytes}`);
  }
  const parsed = parsePayload(route.codec, message.payload, {
    timestamp: route.timestamp ?? options.timestamp,
    timestampFields: route.timestampFields ?? options.timestampFields,
    timestampFormat: route.timestampFormat ?? options.timestampFormat,
    channel: route.match.channel,
    channelCount: route.channelCount,
  });
  if (!parsed.ok) return dead(parsed.reason, parsed.detail);
  let timeMs = message.receivedAtMs;
  if (parsed.timeMs !== null) {
    const skewMs = parsed.timeMs - message.receivedAtMs;
    if (!(Math.abs(skewMs) <= options.maxClockSkewMs)) {
      return dead('time-out-of-range', `payload time ${parsed.timeMs} is ${skewMs} ms from the arrival time ${message.receivedAtMs}; maxClockSkewMs is ${options.maxClockSkewMs}`);
    }
    timeMs = parsed.timeMs;
  }
  if (!Number.isFinite(timeMs)) return dead('non-finite', `arrival time ${timeMs} is not finite`);
  return { kind: 'sample', sample: { device: route.match.device, tags: route.match.tags, timeMs, values: parsed.values, source: message } };
}

/** One strict UTF-8 decoder for every payload (decoding without `stream` keeps no state between calls). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Reads `payload` (UTF-8) with `codec`. Never throws. */
export function parsePayload(codec: CodecName, payload: Uint8Array, options: PayloadOptions): PayloadResult {
  let text: string;
  try {
    text = UTF8.decode(payload);
  } catch {
    return fail(codec === 'json-object' || codec === 'json-array' ? 'invalid-json' : codec === 'csv' ? 'invalid-csv' : 'not-a-number', 'payload is not valid UTF-8 text');
  }
  switch (codec) {
    case 'json-object':
      return parseJsonObject(text, options);
    case 'json-array':
      return parseJsonArray(text, options);
    case 'csv':
      return parseCsv(text, options);
    case 'number':
      return parseNumber(text, options);
  }
}

/** The `json-object` codec (see {@link CODEC_NAMES}). Never throws. */
export function parseJsonObject(text: string, options: PayloadOptions): PayloadResult {
  const json = parseJson(text);
  if (!json.ok) return json;
  const value = json.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('invalid-json', `expected a JSON object, got ${jsonKind(value)}`);
  const record = value as Record<string, unknown>;
  let timeField: string | undefined;
  for (const name of options.timestampFields) {
    if (Object.hasOwn(record, name)) {
      timeField = name;
      break;
    }
  }
  let timeMs: number | null = null;
  if (timeField !== undefined && options.timestamp === 'payload') {
    const time = parseTime(record[timeField], options.timestampFormat, `time member '${timeField}'`);
    if (!time.ok) return time;
    timeMs = time.timeMs;
  }
  const entries: (readonly [string, number])[] = [];
  for (const name in record) {
    if (name === timeField) continue;
    const field = record[name];
    if (typeof field !== 'number') return fail('not-a-number', `member '${name}' is ${jsonKind(field)}, not a number`);
    if (!Number.isFinite(field)) return fail('non-finite', `member '${name}' is ${field}`);
    entries.push([name, field]);
  }
  if (options.channel !== undefined) {
    const only = entries[0];
    if (entries.length !== 1 || only === undefined) return fail('wrong-channel-count', `per-channel topic of channel '${options.channel}' needs exactly one value member, got ${entries.length}`);
    return { ok: true, values: { kind: 'named', entries: [[options.channel, only[1]]] }, timeMs };
  }
  if (entries.length === 0) return fail('wrong-channel-count', 'the object holds no value members');
  return { ok: true, values: { kind: 'named', entries }, timeMs };
}

/** The `json-array` codec (see {@link CODEC_NAMES}). Never throws. */
export function parseJsonArray(text: string, options: PayloadOptions): PayloadResult {
  const json = parseJson(text);
  if (!json.ok) return json;
  const value = json.value;
  let items: unknown[];
  let timeMs: number | null = null;
  if (Array.isArray(value)) {
    items = value;
  } else if (typeof value === 'object' && value !== null && isTimedArray(value)) {
    items = value.v;
    if (options.timestamp === 'payload') {
      const time = parseTime(value.t, options.timestampFormat, `member 't' (the time)`);
      if (!time.ok) return time;
      timeMs = time.timeMs;
    }
  } else {
    return fail('invalid-json', `expected a JSON array or {"t": time, "v": [values]}, got ${jsonKind(value)}`);
  }
  const values: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item !== 'number') return fail('not-a-number', `element ${i} is ${jsonKind(item)}, not a number`);
    if (!Number.isFinite(item)) return fail('non-finite', `element ${i} is ${item}`);
    values.push(item);
  }
  return finish(values, timeMs, options);
}

/** The `csv` codec (see {@link CODEC_NAMES}). Never throws. */
export function parseCsv(text: string, options: PayloadOptions): PayloadResult {
  const line = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
  if (line.includes('\n') || line.includes('\r')) return fail('invalid-csv', 'expected one line');
  if (line.trim() === '') return fail('invalid-csv', 'the line is empty');
  const fields = line.split(',').map((f) => f.trim());
  const channels = options.channel !== undefined ? 1 : options.channelCount;
  let first = 0;
  let timeMs: number | null = null;
  if (channels !== undefined && fields.length === channels + 1) {
    first = 1;
    if (options.timestamp === 'payload') {
      const time = parseTime(fields[0], options.timestampFormat, 'field 1 (the time)');
      if (!time.ok) return time;
      timeMs = time.timeMs;
    }
  }
  const values: number[] = [];
  for (let i = first; i < fields.length; i++) {
    const number = parseDecimal(fields[i] ?? '');
    if (!number.ok) return fail(number.reason, `field ${i + 1}: ${number.detail}`);
    values.push(number.value);
  }
  return finish(values, timeMs, options);
}

/** The `number` codec (see {@link CODEC_NAMES}): one value, no time. Never throws. */
export function parseNumber(text: string, options: PayloadOptions): PayloadResult {
  const number = parseDecimal(text.trim());
  if (!number.ok) return number;
  return finish([number.value], null, options);
}

type Failure = { readonly ok: false; readonly reason: DeadLetterReason; readonly detail: string };
type NumberResult = { readonly ok: true; readonly value: number } | Failure;
type TimeResult = { readonly ok: true; readonly timeMs: number } | Failure;

function fail(reason: DeadLetterReason, detail: string): Failure {
  return { ok: false, reason, detail };
}

/** Positional values: named after the topic's channel on a per-channel topic (exactly one). */
function finish(values: number[], timeMs: number | null, options: PayloadOptions): PayloadResult {
  if (options.channel !== undefined) {
    const only = values[0];
    if (values.length !== 1 || only === undefined) return fail('wrong-channel-count', `per-channel topic of channel '${options.channel}' needs exactly one value, got ${values.length}`);
    return { ok: true, values: { kind: 'named', entries: [[options.channel, only]] }, timeMs };
  }
  if (values.length === 0) return fail('wrong-channel-count', 'the payload holds no values');
  return { ok: true, values: { kind: 'ordered', values }, timeMs };
}

function isTimedArray(value: object): value is { t: unknown; v: unknown[] } {
  const keys = Object.keys(value);
  return keys.length === 2 && keys.includes('t') && keys.includes('v') && Array.isArray((value as { v?: unknown }).v);
}

function parseJson(text: string): { readonly ok: true; readonly value: unknown } | Failure {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return fail('invalid-json', error instanceof Error ? error.message : String(error));
  }
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `a ${typeof value}`;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** A decimal number in text; `nan`/`inf` are recognised as non-finite, anything else is not a number. */
function parseDecimal(text: string): NumberResult {
  if (DECIMAL.test(text)) {
    const value = Number(text);
    return Number.isFinite(value) ? { ok: true, value } : fail('non-finite', `'${text}' overflows to ${value}`);
  }
  if (NON_FINITE.test(text)) return fail('non-finite', `'${text}' is not finite`);
  return fail('not-a-number', text === '' ? 'empty value' : `'${text.length > 40 ? `${text.slice(0, 40)}…` : text}' is not a number`);
}

/** A time written as `format` says (see {@link TIMESTAMP_FORMATS}), in ms since the epoch. */
function parseTime(value: unknown, format: TimestampFormat, what: string): TimeResult {
  let number: number | null = null;
  if (typeof value === 'number') {
    number = value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (DECIMAL.test(text) || NON_FINITE.test(text)) {
      const parsed = parseDecimal(text);
      if (!parsed.ok) return fail(parsed.reason, `${what}: ${parsed.detail}`);
      number = parsed.value;
    } else {
      if (format === 'epoch-ms' || format === 'epoch-s') return fail('not-a-number', `${what} '${text.slice(0, 40)}' is not a number (timestamp format ${format})`);
      const timeMs = ISO_TIME.test(text) ? Date.parse(text) : Number.NaN;
      if (Number.isNaN(timeMs)) return fail('not-a-number', `${what} '${text.slice(0, 40)}' is not an ISO 8601 time with a zone`);
      return { ok: true, timeMs };
    }
  } else {
    return fail('not-a-number', `${what} is ${jsonKind(value)}, not a time`);
  }
  if (format === 'iso') return fail('not-a-number', `${what} is the number ${number}, not an ISO 8601 string (timestamp format iso)`);
  if (!Number.isFinite(number)) return fail('non-finite', `${what} is ${number}`);
  const ms = format === 'epoch-ms' || (format === 'auto' && Math.abs(number) >= AUTO_EPOCH_MS_THRESHOLD);
  return { ok: true, timeMs: ms ? number : number * 1000 };
}
