/**
 * What went wrong with a safetensors file, as data. Every problem the reader or writer detects is
 * one of these; the message repeats them for people.
 */
export type SafetensorsErrorCode =
  /** The file is shorter than the 8-byte header length. */
  | 'file-too-short'
  /** The file on disk is larger than `maxFileBytes`. */
  | 'file-too-large'
  /** The header length exceeds `maxHeaderBytes`. */
  | 'header-too-large'
  /** The header length points past the end of the file. */
  | 'header-out-of-range'
  /** The header bytes are not valid UTF-8. */
  | 'header-encoding'
  /** The header is not valid JSON. */
  | 'header-json'
  /** The header's JSON value is not an object. */
  | 'header-not-object'
  /** A JSON object in the header repeats a key. */
  | 'duplicate-key'
  /** A tensor entry is not an object, or lacks `dtype`, `shape` or `data_offsets`. */
  | 'entry-invalid'
  /** `dtype` is unknown, or known but not readable as float32 (F8, F4, ...). */
  | 'dtype-unsupported'
  /** `shape` is not an array of non-negative integers. */
  | 'shape-invalid'
  /** The product of `shape` exceeds `maxTensorElements`. */
  | 'too-many-elements'
  /** `data_offsets` is not `[begin, end]` with `0 ≤ begin ≤ end ≤ data length`. */
  | 'offsets-invalid'
  /** `end − begin` differs from `product(shape) × bytes per element`. */
  | 'byte-size-mismatch'
  /** Two tensors' byte ranges overlap. */
  | 'overlap'
  /** Bytes of the data section that belong to no tensor (between tensors or at the end). */
  | 'hole'
  /** `__metadata__` is not an object of string values. */
  | 'metadata-invalid'
  /** A tensor holds NaN or ±Infinity, or a float64 value beyond float32's range. */
  | 'non-finite'
  /** An integer or bool element that float32 cannot hold exactly (or a bool byte other than 0/1). */
  | 'not-representable'
  /** A tensor handed to the writer is malformed (shape, data length, data type, reserved name). */
  | 'tensor-invalid';

/** Where and what, for {@link SafetensorsError}'s constructor. */
export interface SafetensorsErrorInit {
  readonly code: SafetensorsErrorCode;
  /** The file (or other origin) the bytes came from, e.g. `models/pump/weights.safetensors`. */
  readonly source: string;
  /** The tensor name concerned, if any. */
  readonly tensor?: string;
  /** The field concerned: `dtype`, `shape`, `data_offsets`, `__metadata__`, `header length`, ... */
  readonly field?: string;
  /** What is wrong, with the offending value and what was expected. */
  readonly detail: string;
  readonly cause?: unknown;
}

const MAX_NAME_CHARS_IN_MESSAGE = 80;

/**
 * A malformed, malicious or unsupported safetensors file, or a tensor set that cannot be written
 * as one. The message reads `<source>: tensor "<name>" field "<field>": <detail>`; the same parts
 * are available as properties, so callers can branch on `code` rather than on text.
 */
export class SafetensorsError extends Error {
  /** What kind of problem this is. */
  readonly code: SafetensorsErrorCode;
  /** The file (or `'<bytes>'`, or `'serializeSafetensors'`) the problem is in. */
  readonly source: string;
  /** The tensor concerned, if the problem belongs to one. */
  readonly tensor: string | undefined;
  /** The header field or part concerned, if any. */
  readonly field: string | undefined;

  /** Builds the error and its message from `init`. */
  constructor(init: SafetensorsErrorInit) {
    super(formatMessage(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'SafetensorsError';
    this.code = init.code;
    this.source = init.source;
    this.tensor = init.tensor;
    this.field = init.field;
  }
}

function formatMessage(init: SafetensorsErrorInit): string {
  const where: string[] = [];
  if (init.tensor !== undefined) where.push(`tensor ${quoteForMessage(init.tensor)}`);
  if (init.field !== undefined) where.push(`field "${init.field}"`);
  const location = where.length > 0 ? ` ${where.join(' ')}` : '';
  return `${init.source}:${location}: ${init.detail}`;
}

/**
 * Quotes a name from an untrusted file for an error message: JSON-escaped (control characters
 * stay visible) and cut to a readable length, since a hostile header can hold megabyte names.
 */
export function quoteForMessage(name: string): string {
  if (name.length <= MAX_NAME_CHARS_IN_MESSAGE) return JSON.stringify(name);
  return `${JSON.stringify(name.slice(0, MAX_NAME_CHARS_IN_MESSAGE))}… (${name.length} chars)`;
}

/**
 * Describes an untrusted JSON value for an error message without serialising it whole (a value
 * may be megabytes long or deeply nested): numbers, booleans and null as written, strings quoted
 * and cut, arrays and objects by kind and size.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `string ${quoteForMessage(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}
