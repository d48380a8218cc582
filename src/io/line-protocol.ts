/**
 * InfluxDB line protocol encoding of points (docs/delivery.md, "Line protocol"):
 *
 * ```
 * measurement[,tagKey=tagValue…] fieldKey=fieldValue[,…] timestampMs
 * ```
 *
 * What is escaped, with a backslash: in the measurement `,` and space; in tag keys, tag values
 * and field keys `,`, `=` and space; in string field values `"` and `\`. Tags are sorted by key
 * and empty tag values are left out (line protocol has no empty tag value). Numbers are floats;
 * integers are `bigint` values (written `42i`), so a float field that happens to hold 2 never
 * turns into an integer field (a type conflict InfluxDB would refuse). Non-finite numbers are
 * left out; a point with no field left is not written.
 *
 * What is refused (a {@link LineProtocolError}): control characters anywhere (a newline would
 * split the point, and the spool keeps one point per line); names starting with `_` (reserved by
 * InfluxDB) or `time` as a key; a measurement starting with `#` (a comment line); and, in names
 * and tag values, a backslash that ends the string or stands before `\`, `,`, `=` or a space:
 * InfluxDB 1.x/2.x and VictoriaMetrics read those differently (measured), so no escaping is
 * right for both.
 */

/** A field value: float (`number`), integer (`bigint`, int64 range), boolean or string. */
export type FieldValue = number | bigint | boolean | string;

/** One point to write. */
export interface PointRecord {
  readonly measurement: string;
  /** Tag keys and values; empty values are left out. */
  readonly tags: Readonly<Record<string, string>>;
  /** At least one finite number, bigint, boolean or string; NaN and ±Infinity are left out. */
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** The point's time, integer ms since the epoch (written with `precision=ms`). */
  readonly timeMs: number;
  /**
   * When the reading behind the point arrived, ms since the epoch. Not written; only handed to
   * the confirmation hook for the end-to-end latency metric.
   */
  readonly receivedAtMs?: number;
}

/** A point that cannot be written as line protocol; `part` names what is wrong. */
export class LineProtocolError extends Error {
  /**
   * @param part e.g. `measurement`, `tag key "a b"`, `field "x"`, `timeMs`.
   * @param value the offending text or number, as given.
   */
  constructor(
    readonly part: string,
    readonly value: string,
    reason: string,
  ) {
    super(`line protocol: ${part} ${JSON.stringify(value)} ${reason}`);
    this.name = 'LineProtocolError';
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
// Characters that need a look: control characters, backslash, and the separators.
const NEEDS_CARE = /[\u0000-\u001f\u007f\\ ,="]/;
const CONTROL = /[\u0000-\u001f\u007f]/;
// A backslash at the end or before a character some parser treats as escapable.
const AMBIGUOUS_BACKSLASH = /\\(?:[\\ ,=]|$)/;

function checkText(part: string, text: string): void {
  if (CONTROL.test(text)) throw new LineProtocolError(part, text, 'contains a control character (newline, tab, …)');
  if (AMBIGUOUS_BACKSLASH.test(text)) {
    throw new LineProtocolError(part, text, 'has a backslash at its end or before \\, comma, = or space, which InfluxDB and VictoriaMetrics read differently');
  }
}

function checkKey(part: string, key: string): void {
  if (key === '') throw new LineProtocolError(part, key, 'is empty');
  if (key.startsWith('_')) throw new LineProtocolError(part, key, 'starts with "_", which InfluxDB reserves');
  checkText(part, key);
}

/**
 * The measurement as written in a line.
 * @throws LineProtocolError when it is empty, starts with `_` or `#`, or holds a control
 *   character or an ambiguous backslash.
 */
export function escapeMeasurement(name: string): string {
  checkKey('measurement', name);
  if (name.startsWith('#')) throw new LineProtocolError('measurement', name, 'starts with "#", which makes the line a comment');
  return NEEDS_CARE.test(name) ? name.replace(/[ ,]/g, '\\$&') : name;
}

/**
 * A tag key or field key as written in a line (`,`, `=` and space escaped).
 * @param part what it is, for the error, e.g. `tag key`.
 * @throws LineProtocolError when it is empty, starts with `_`, is `time`, or holds a control
 *   character or an ambiguous backslash.
 */
export function escapeKey(key: string, part = 'key'): string {
  checkKey(part, key);
  if (key === 'time') throw new LineProtocolError(part, key, 'is "time", which InfluxDB does not accept as a key');
  return NEEDS_CARE.test(key) ? key.replace(/[ ,=]/g, '\\$&') : key;
}

/**
 * A non-empty tag value as written in a line (`,`, `=` and space escaped).
 * @throws LineProtocolError when it holds a control character or an ambiguous backslash.
 */
export function escapeTagValue(value: string, part = 'tag value'): string {
  checkText(part, value);
  return NEEDS_CARE.test(value) ? value.replace(/[ ,=]/g, '\\$&') : value;
}

/**
 * A string field value, quoted, with `"` and `\` escaped.
 * @throws LineProtocolError when it holds a newline or carriage return.
 */
export function quoteStringField(value: string, part = 'string field'): string {
  if (/[\n\r]/.test(value)) throw new LineProtocolError(part, value, 'contains a newline or carriage return');
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * A field value as written in a line, or null when it is a non-finite number (left out).
 * Floats use JavaScript's shortest round-trip form (`0.1`, `1e+21`); `-0` is written `0`.
 * @throws LineProtocolError for a bigint outside int64 or a string with a newline.
 */
export function formatFieldValue(value: FieldValue, part = 'field'): string | null {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? String(value) : null;
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) throw new LineProtocolError(part, String(value), 'is outside the int64 range');
      return `${value}i`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return quoteStringField(value, part);
    default:
      throw new LineProtocolError(part, String(value), 'is not a number, bigint, boolean or string');
  }
}

/**
 * Escaped keys and tag values by their raw text. Points repeat the same few keys and devices, so
 * the checks and escapes run once per distinct text (a refused text throws every time; the caches
 * are cleared when they grow past {@link ESCAPE_CACHE_LIMIT} entries).
 */
const ESCAPE_CACHE_LIMIT = 4096;
const measurementCache = new Map<string, string>();
const tagKeyCache = new Map<string, string>();
const fieldKeyCache = new Map<string, string>();
const tagValueCache = new Map<string, string>();

function remember(cache: Map<string, string>, raw: string, escaped: string): string {
  if (cache.size >= ESCAPE_CACHE_LIMIT) cache.clear();
  cache.set(raw, escaped);
  return escaped;
}

/**
 * The series part of a line: the escaped measurement and the non-empty tags sorted by key,
 * `measurement[,key=value…]`.
 * @throws LineProtocolError naming the bad measurement or tag.
 */
function seriesKey(measurement: string, tags: Readonly<Record<string, string>>): string {
  let line = measurementCache.get(measurement) ?? remember(measurementCache, measurement, escapeMeasurement(measurement));
  const tagKeys = Object.keys(tags);
  if (tagKeys.length > 1) tagKeys.sort();
  for (let i = 0; i < tagKeys.length; i++) {
    const key = tagKeys[i] as string;
    const value = tags[key] as string;
    if (value === '') continue;
    line += ',' + (tagKeyCache.get(key) ?? remember(tagKeyCache, key, escapeKey(key, 'tag key'))) + '=' + (tagValueCache.get(value) ?? remember(tagValueCache, value, escapeTagValue(value, `tag "${key}"`)));
  }
  return line;
}

/**
 * One point as a line (without the trailing newline), or null when no field is left after
 * leaving out non-finite numbers.
 * @throws LineProtocolError naming the bad part (see the module comment for the rules);
 *   `timeMs` must be a safe integer.
 */
export function encodePoint(point: PointRecord): string | null {
  if (!Number.isSafeInteger(point.timeMs)) throw new LineProtocolError('timeMs', String(point.timeMs), 'is not a safe integer of ms');
  let line = seriesKey(point.measurement, point.tags);
  let separator = ' ';
  const fields = point.fields;
  for (const key in fields) {
    const raw = fields[key] as FieldValue;
    let value: string | null;
    if (typeof raw === 'number') {
      if (!Number.isFinite(raw)) continue;
      value = String(raw);
    } else {
      value = formatFieldValue(raw, `field "${key}"`);
      if (value === null) continue;
    }
    line += separator + (fieldKeyCache.get(key) ?? remember(fieldKeyCache, key, escapeKey(key, 'field key'))) + '=' + value;
    separator = ',';
  }
  if (separator === ' ') return null;
  return line + ' ' + point.timeMs;
}

/**
 * A point already written as a line by a {@link LineTemplate} (names checked when the template
 * was made). Sinks take it beside {@link PointRecord}.
 */
export interface EncodedPoint {
  /** The line, without the trailing newline. */
  readonly line: string;
  /** The point's time, integer ms since the epoch (the line's timestamp). */
  readonly timeMs: number;
  /** As {@link PointRecord.receivedAtMs}. */
  readonly receivedAtMs?: number;
}

/** What a sink's `write()` takes. */
export type SinkPoint = PointRecord | EncodedPoint;

/**
 * The lines of one series (measurement and tags) with a fixed list of float fields, for a
 * producer that writes many points of the same shape: names are checked and escaped once, and a
 * point costs only its numbers. Non-finite values are left out, as in {@link encodePoint}; the
 * line is the same text {@link encodePoint} writes for the same point.
 */
export class LineTemplate {
  private readonly prefix: string;
  private readonly keys: readonly string[];
  private readonly lastValues: Float64Array;
  private readonly lastTexts: string[];

  /**
   * @throws LineProtocolError naming the bad measurement, tag or field name (the rules of
   *   {@link encodePoint}).
   */
  constructor(measurement: string, tags: Readonly<Record<string, string>>, fieldNames: readonly string[]) {
    this.prefix = seriesKey(measurement, tags);
    this.keys = fieldNames.map((name) => `${fieldKeyCache.get(name) ?? remember(fieldKeyCache, name, escapeKey(name, 'field key'))}=`);
    this.lastValues = new Float64Array(fieldNames.length).fill(Number.NaN);
    this.lastTexts = fieldNames.map(() => '');
  }

  /**
   * The point with `values[i]` for field `i`, or null when no value is finite.
   * @throws LineProtocolError when `timeMs` is not a safe integer.
   */
  encode(values: ArrayLike<number>, timeMs: number, receivedAtMs?: number): EncodedPoint | null {
    if (!Number.isSafeInteger(timeMs)) throw new LineProtocolError('timeMs', String(timeMs), 'is not a safe integer of ms');
    let line = this.prefix;
    let separator = ' ';
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) continue;
      // Fields that repeat their value (a model's threshold, 0/1 flags) reuse its text.
      let text: string;
      if (v === this.lastValues[i]) text = this.lastTexts[i] as string;
      else {
        text = String(v);
        this.lastValues[i] = v;
        this.lastTexts[i] = text;
      }
      line += separator + (keys[i] as string) + text;
      separator = ',';
    }
    if (separator === ' ') return null;
    line += ' ' + timeMs;
    return receivedAtMs === undefined ? { line, timeMs } : { line, timeMs, receivedAtMs };
  }
}

/** The result of {@link encodePoints}. */
export interface EncodedPoints {
  /** One line per encodable point, in input order, without newlines. */
  readonly lines: string[];
  /** `[lines.length]` the points' times, ms since the epoch. */
  readonly timesMs: Float64Array;
  /** `[lines.length]` the points' `receivedAtMs` (NaN when absent), or null when none had one. */
  readonly receivedAtMs: Float64Array | null;
  /** Points refused with a LineProtocolError. */
  readonly invalid: number;
  /** Points left without any finite field. */
  readonly empty: number;
  /** The first refusal's message, for one log line per call; null when none. */
  readonly firstError: string | null;
}

/**
 * Encodes a batch, skipping (and counting) points that cannot be written, so one bad point
 * never blocks its neighbours. Points already encoded by a {@link LineTemplate} are taken as
 * they are. Never throws for bad points; rethrows anything else.
 */
export function encodePoints(points: readonly SinkPoint[]): EncodedPoints {
  const lines: string[] = [];
  const times: number[] = [];
  let received: number[] | null = null;
  let invalid = 0;
  let empty = 0;
  let firstError: string | null = null;
  for (const point of points) {
    let line: string | null;
    if ('line' in point) line = point.line;
    else {
      try {
        line = encodePoint(point);
      } catch (error) {
        if (!(error instanceof LineProtocolError)) throw error;
        invalid++;
        firstError ??= error.message;
        continue;
      }
    }
    if (line === null) {
      empty++;
      continue;
    }
    if (point.receivedAtMs !== undefined && received === null) received = new Array<number>(lines.length).fill(NaN);
    received?.push(point.receivedAtMs ?? NaN);
    lines.push(line);
    times.push(point.timeMs);
  }
  return { lines, timesMs: Float64Array.from(times), receivedAtMs: received === null ? null : Float64Array.from(received), invalid, empty, firstError };
}

/**
 * The timestamp of a line written by {@link encodePoint}: the number after its last space.
 * Returns NaN when there is none.
 */
export function lineTimestampMs(line: string): number {
  const space = line.lastIndexOf(' ');
  return space < 0 ? NaN : Number(line.slice(space + 1));
}
