import { deadLetterOf } from './dead-letter.js';
import type { DeadLetter, DeadLetterReason, DecodedSample, InboundMessage, SampleValues, TopicMatch } from './types.js';

/**
 * Payload formats:
 * - `json-object`: `{"temp": 21.5, "rpm": 900, "ts": 1700000000000}`: every field other than the
 *   timestamp field is a channel value (in payload order).
 * - `json-array`: `[21.5, 900]`, positional in the model's channel order; with payload time the
 *   first element is the time: `[1700000000000, 21.5, 900]`.
 * - `csv`: one line `21.5,900` (comma-separated, spaces around fields allowed, one trailing
 *   line break allowed); with payload time the first field is the time.
 * - `number`: one bare number, `21.5`. It has no time field: its samples always take the
 *   arrival time.
 *
 * Values must be finite numbers: JSON numbers (strings like `"21.5"` are refused), or in text
 * codecs a decimal such as `-1.5e3`. A time is a number of ms since the epoch or an ISO 8601
 * string with a zone (`2024-05-01T12:00:00.250Z`, `…+02:00`).
 *
 * On a per-channel topic (the topic match names a channel) the payload must hold exactly one
 * value (plus the time where the codec carries one); it becomes the value of that channel.
 */
export const CODEC_NAMES = ['json-object', 'json-array', 'csv', 'number'] as const;

/** One of {@link CODEC_NAMES}. */
export type CodecName = (typeof CODEC_NAMES)[number];

/** Where a sample's time comes from: the payload, or the message's arrival time. */
export type TimestampSource = 'payload' | 'arrival';

/** How one payload is read. */
export interface PayloadOptions {
  readonly timestamp: TimestampSource;
  /** `json-object`: the field holding the time. With `timestamp: 'arrival'` the field, if present, is ignored. */
  readonly timestampField: string;
  /** The channel named by a per-channel topic, if any. */
  readonly channel: string | undefined;
}

/** A parsed payload, or why it could not be parsed. */
export type PayloadResult =
  | { readonly ok: true; readonly values: SampleValues; /** ms since the epoch; null = none in the payload */ readonly timeMs: number | null }
  | { readonly ok: false; readonly reason: DeadLetterReason; readonly detail: string };

/** Which codec reads a topic's payloads, and what the topic says about them. */
export interface CodecRoute {
  readonly codec: CodecName;
  readonly match: TopicMatch;
}

/** Message-level checks around the codec. Units: bytes and ms. */
export interface DecodeMessageOptions {
  /** Larger payloads are refused unread (`oversized`). */
  readonly maxPayloadBytes: number;
  readonly timestamp: TimestampSource;
  readonly timestampField: string;
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
  if (message.payload.length > options.maxPayloadBytes) {
    return dead('oversized', `payload of ${message.payload.length} bytes exceeds maxPayloadBytes ${options.maxPayloadBytes}`);
  }
  const parsed = parsePayload(route.codec, message.payload, { timestamp: options.timestamp, timestampField: options.timestampField, channel: route.match.channel });
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

/** Reads `payload` (UTF-8) with `codec`. Never throws. */
export function parsePayload(codec: CodecName, payload: Uint8Array, options: PayloadOptions): PayloadResult {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
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
  const entries: (readonly [string, number])[] = [];
  let timeMs: number | null = null;
  for (const [name, field] of Object.entries(value)) {
    if (name === options.timestampField) {
      if (options.timestamp === 'payload') {
        const time = parseTime(field, `timestamp field '${name}'`);
        if (!time.ok) return time;
        timeMs = time.timeMs;
      }
      continue;
    }
    if (typeof field !== 'number') return fail('not-a-number', `field '${name}' is ${jsonKind(field)}, not a number`);
    if (!Number.isFinite(field)) return fail('non-finite', `field '${name}' is ${field}`);
    entries.push([name, field]);
  }
  if (options.timestamp === 'payload' && timeMs === null) return fail('invalid-json', `timestamp field '${options.timestampField}' is missing`);
  if (options.channel !== undefined) {
    const only = entries[0];
    if (entries.length !== 1 || only === undefined) return fail('wrong-channel-count', `per-channel topic of channel '${options.channel}' needs exactly one value field, got ${entries.length}`);
    return { ok: true, values: { kind: 'named', entries: [[options.channel, only[1]]] }, timeMs };
  }
  if (entries.length === 0) return fail('wrong-channel-count', 'the object holds no value fields');
  return { ok: true, values: { kind: 'named', entries }, timeMs };
}

/** The `json-array` codec (see {@link CODEC_NAMES}). Never throws. */
export function parseJsonArray(text: string, options: PayloadOptions): PayloadResult {
  const json = parseJson(text);
  if (!json.ok) return json;
  const value = json.value;
  if (!Array.isArray(value)) return fail('invalid-json', `expected a JSON array, got ${jsonKind(value)}`);
  const items: unknown[] = value;
  return positional(
    items.length,
    (i) => {
      const item = items[i];
      if (typeof item !== 'number') return fail('not-a-number', `element ${i} is ${jsonKind(item)}, not a number`);
      if (!Number.isFinite(item)) return fail('non-finite', `element ${i} is ${item}`);
      return { ok: true, value: item };
    },
    (i) => parseTime(items[i], `element ${i} (the time)`),
    options,
  );
}

/** The `csv` codec (see {@link CODEC_NAMES}). Never throws. */
export function parseCsv(text: string, options: PayloadOptions): PayloadResult {
  const line = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
  if (line.includes('\n') || line.includes('\r')) return fail('invalid-csv', 'expected one line');
  if (line.trim() === '') return fail('invalid-csv', 'the line is empty');
  const fields = line.split(',').map((f) => f.trim());
  return positional(
    fields.length,
    (i) => {
      const number = parseDecimal(fields[i] ?? '');
      return number.ok ? number : fail(number.reason, `field ${i + 1}: ${number.detail}`);
    },
    (i) => parseTime(fields[i] ?? '', `field ${i + 1} (the time)`),
    options,
  );
}

/** The `number` codec (see {@link CODEC_NAMES}): one value, no time. Never throws. */
export function parseNumber(text: string, options: PayloadOptions): PayloadResult {
  const number = parseDecimal(text.trim());
  if (!number.ok) return number;
  const values: SampleValues = options.channel !== undefined ? { kind: 'named', entries: [[options.channel, number.value]] } : { kind: 'ordered', values: [number.value] };
  return { ok: true, values, timeMs: null };
}

type Failure = { readonly ok: false; readonly reason: DeadLetterReason; readonly detail: string };
type NumberResult = { readonly ok: true; readonly value: number } | Failure;
type TimeResult = { readonly ok: true; readonly timeMs: number } | Failure;

function fail(reason: DeadLetterReason, detail: string): Failure {
  return { ok: false, reason, detail };
}

/** Shared by the positional codecs: optional leading time, then values (one on a per-channel topic). */
function positional(count: number, valueAt: (i: number) => NumberResult, timeAt: (i: number) => TimeResult, options: PayloadOptions): PayloadResult {
  let first = 0;
  let timeMs: number | null = null;
  if (options.timestamp === 'payload') {
    if (count === 0) return fail('wrong-channel-count', 'expected the time followed by values, got nothing');
    const time = timeAt(0);
    if (!time.ok) return time;
    timeMs = time.timeMs;
    first = 1;
  }
  const values: number[] = [];
  for (let i = first; i < count; i++) {
    const value = valueAt(i);
    if (!value.ok) return value;
    values.push(value.value);
  }
  if (options.channel !== undefined) {
    const only = values[0];
    if (values.length !== 1 || only === undefined) return fail('wrong-channel-count', `per-channel topic of channel '${options.channel}' needs exactly one value, got ${values.length}`);
    return { ok: true, values: { kind: 'named', entries: [[options.channel, only]] }, timeMs };
  }
  if (values.length === 0) return fail('wrong-channel-count', 'the payload holds no values');
  return { ok: true, values: { kind: 'ordered', values }, timeMs };
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

/** A time: ms since the epoch (JSON number or decimal text) or an ISO 8601 string with a zone. */
function parseTime(value: unknown, what: string): TimeResult {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? { ok: true, timeMs: value } : fail('non-finite', `${what} is ${value}`);
  }
  if (typeof value !== 'string') return fail('not-a-number', `${what} is ${jsonKind(value)}, not a time`);
  const text = value.trim();
  if (DECIMAL.test(text) || NON_FINITE.test(text)) {
    const number = parseDecimal(text);
    return number.ok ? { ok: true, timeMs: number.value } : fail(number.reason, `${what}: ${number.detail}`);
  }
  const timeMs = ISO_TIME.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(timeMs)) return fail('not-a-number', `${what} '${text.slice(0, 40)}' is neither ms since the epoch nor an ISO 8601 time with a zone`);
  return { ok: true, timeMs };
}
