import { describeValue, quoteForMessage, SafetensorsError } from './safetensors-error.js';
import {
  isKnownUnreadableDtype,
  isReadableDtype,
  SAFETENSORS_DTYPE_BYTES,
  type SafetensorsDtype,
} from './safetensors-dtype.js';

/**
 * Reading and checking a safetensors header. The layout (huggingface/safetensors README):
 *
 *   8 bytes   N, little-endian u64
 *   N bytes   UTF-8 JSON object: `"<name>": {"dtype", "shape", "data_offsets": [begin, end]}` per
 *             tensor, and optionally `"__metadata__": {string: string}`; may end in spaces
 *   rest      the data section; offsets are relative to its start
 *
 * Every number in the header is checked against the real byte length before anything is sized
 * from it, so the memory a file can make us allocate is bounded by the file itself. Like the
 * reference reader, the tensors' byte ranges must tile the data section exactly: sorted by
 * offset, each starts where the previous ended, and the last ends at the end of the file.
 */

/** The reserved header key holding free-form string metadata. */
export const SAFETENSORS_METADATA_KEY = '__metadata__';

/** One tensor as the header describes it, after validation. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Product of `shape`. */
  readonly elementCount: number;
  /** Byte range `[begin, end)` within the data section. */
  readonly begin: number;
  readonly end: number;
}

/** A validated header. */
export interface SafetensorsHeader {
  /** Tensors in header order. */
  readonly entries: readonly SafetensorsEntry[];
  readonly metadata: Record<string, string>;
  /** Byte offset of the data section within the file: `8 + N`. */
  readonly dataStart: number;
  /** Length of the data section in bytes. */
  readonly dataLength: number;
}

/** Bounds on what a header may claim; see `parseSafetensors` for the defaults. */
export interface SafetensorsHeaderLimits {
  /** Largest accepted header length N, in bytes. */
  readonly maxHeaderBytes: number;
  /** Largest accepted element count of one tensor. */
  readonly maxTensorElements: number;
}

/**
 * Reads and validates the header of the safetensors file held in `bytes`, without touching the
 * tensor data.
 * @param source names the file in error messages.
 * @throws SafetensorsError for any malformed, inconsistent or over-limit header (see its `code`).
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  source: string,
  limits: SafetensorsHeaderLimits,
): SafetensorsHeader {
  const headerError = (code: SafetensorsError['code'], field: string, detail: string, cause?: unknown): SafetensorsError =>
    new SafetensorsError({ code, source, field, detail, cause });
  if (bytes.length < 8) {
    throw headerError('file-too-short', 'header length', `the file has ${bytes.length} bytes; at least 8 are needed for the header length`);
  }
  const claimed = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (claimed > BigInt(limits.maxHeaderBytes)) {
    throw headerError('header-too-large', 'header length', `${claimed} bytes exceeds maxHeaderBytes (${limits.maxHeaderBytes})`);
  }
  const headerLength = Number(claimed);
  if (headerLength > bytes.length - 8) {
    throw headerError('header-out-of-range', 'header length', `${headerLength} bytes, but only ${bytes.length - 8} bytes follow the length field`);
  }

  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, so JSON.parse rejects it as the reference does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch (err) {
    throw headerError('header-encoding', 'header', 'the header is not valid UTF-8', err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw headerError('header-json', 'header', `the header is not valid JSON (${err instanceof Error ? err.message : String(err)})`, err);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw headerError('header-not-object', 'header', `expected a JSON object, got ${describeValue(parsed)}`);
  }
  const header = parsed as Record<string, unknown>;
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    const where = duplicate.parent === undefined ? 'at the top level' : `inside ${quoteForMessage(duplicate.parent)}`;
    throw headerError('duplicate-key', 'header', `key ${quoteForMessage(duplicate.key)} appears twice ${where}`);
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const name of Object.keys(header)) {
    const value = header[name];
    if (name === SAFETENSORS_METADATA_KEY) metadata = checkMetadata(value, source);
    else entries.push(checkEntry(name, value, dataLength, source, limits));
  }
  checkTiling(entries, dataLength, source);
  return { entries, metadata, dataStart, dataLength };
}

/**
 * Product of `shape` for a shape already known to hold non-negative safe integers, or `undefined`
 * once it exceeds `limit`. No intermediate result exceeds `limit × 2^53`, so nothing overflows
 * into a wrong small number; a zero anywhere makes the product 0 whatever the other sizes.
 */
export function boundedElementCount(shape: readonly number[], limit: number): number | undefined {
  if (shape.includes(0)) return 0;
  let product = 1;
  for (const size of shape) {
    product *= size;
    if (product > limit) return undefined;
  }
  return product;
}

function checkMetadata(value: unknown, source: string): Record<string, string> {
  const field = SAFETENSORS_METADATA_KEY;
  // The reference reader treats `null` as absent metadata.
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SafetensorsError({ code: 'metadata-invalid', source, field, detail: `expected an object of strings, got ${describeValue(value)}` });
  }
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [key, v] of entries) {
    if (typeof v !== 'string') {
      const detail = `value of ${quoteForMessage(key)} must be a string, got ${describeValue(v)}`;
      throw new SafetensorsError({ code: 'metadata-invalid', source, field, detail });
    }
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays plain data.
  return Object.fromEntries(entries) as Record<string, string>;
}

function checkEntry(
  name: string,
  value: unknown,
  dataLength: number,
  source: string,
  limits: SafetensorsHeaderLimits,
): SafetensorsEntry {
  const entryError = (code: SafetensorsError['code'], field: string | undefined, detail: string): SafetensorsError =>
    new SafetensorsError({ code, source, tensor: name, field, detail });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw entryError('entry-invalid', undefined, `expected an object with dtype, shape and data_offsets, got ${describeValue(value)}`);
  }
  const entry = value as Record<string, unknown>;
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.prototype.hasOwnProperty.call(entry, field)) throw entryError('entry-invalid', field, 'missing');
  }

  const dtype = entry.dtype;
  if (typeof dtype !== 'string') throw entryError('entry-invalid', 'dtype', `expected a string, got ${describeValue(dtype)}`);
  if (!isReadableDtype(dtype)) {
    const why = isKnownUnreadableDtype(dtype)
      ? `${quoteForMessage(dtype)} cannot be read as float32`
      : `${quoteForMessage(dtype)} is not a safetensors dtype`;
    throw entryError('dtype-unsupported', 'dtype', `${why}; readable: F32, F64, F16, BF16, and integer or BOOL tensors whose values float32 holds exactly`);
  }

  const shape = entry.shape;
  if (!Array.isArray(shape)) throw entryError('shape-invalid', 'shape', `expected an array of non-negative integers, got ${describeValue(shape)}`);
  for (let d = 0; d < shape.length; d++) {
    const size: unknown = shape[d];
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw entryError('shape-invalid', 'shape', `dimension ${d} is ${describeValue(size)}; expected a non-negative integer below 2^53`);
    }
  }
  const dims = shape as number[];
  const elementCount = boundedElementCount(dims, limits.maxTensorElements);
  if (elementCount === undefined) {
    throw entryError('too-many-elements', 'shape', `shape ${formatDims(dims)} holds more than maxTensorElements (${limits.maxTensorElements}) elements`);
  }

  const offsets = entry.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw entryError('offsets-invalid', 'data_offsets', `expected [begin, end], got ${describeValue(offsets)}`);
  }
  const [begin, end]: unknown[] = offsets;
  for (const [label, v] of [['begin', begin], ['end', end]] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw entryError('offsets-invalid', 'data_offsets', `${label} is ${describeValue(v)}; expected a non-negative integer`);
    }
  }
  const b = begin as number;
  const e = end as number;
  if (b > e) throw entryError('offsets-invalid', 'data_offsets', `[${b}, ${e}] has begin after end`);
  if (e > dataLength) {
    throw entryError('offsets-invalid', 'data_offsets', `[${b}, ${e}] ends past the data section, which has ${dataLength} bytes`);
  }
  const bytesPerElement = SAFETENSORS_DTYPE_BYTES[dtype];
  const needed = elementCount * bytesPerElement;
  if (e - b !== needed) {
    throw entryError('byte-size-mismatch', 'data_offsets', `[${b}, ${e}] spans ${e - b} bytes, but shape ${formatDims(dims)} of ${dtype} needs ${elementCount} × ${bytesPerElement} = ${needed} bytes`);
  }
  return { name, dtype, shape: [...dims], elementCount, begin: b, end: e };
}

function checkTiling(entries: readonly SafetensorsEntry[], dataLength: number, source: string): void {
  const sorted = [...entries].sort((x, y) => x.begin - y.begin || x.end - y.end);
  let cursor = 0;
  let previous: SafetensorsEntry | undefined;
  for (const entry of sorted) {
    if (entry.begin < cursor && previous !== undefined) {
      const detail = `[${entry.begin}, ${entry.end}] overlaps tensor ${quoteForMessage(previous.name)} at [${previous.begin}, ${previous.end}]`;
      throw new SafetensorsError({ code: 'overlap', source, tensor: entry.name, field: 'data_offsets', detail });
    }
    if (entry.begin > cursor) {
      const detail = `[${entry.begin}, ${entry.end}] leaves bytes [${cursor}, ${entry.begin}) of the data section to no tensor`;
      throw new SafetensorsError({ code: 'hole', source, tensor: entry.name, field: 'data_offsets', detail });
    }
    cursor = entry.end;
    previous = entry;
  }
  if (cursor !== dataLength) {
    const detail = `bytes [${cursor}, ${dataLength}) at the end of the data section belong to no tensor`;
    throw new SafetensorsError({ code: 'hole', source, field: 'data_offsets', detail });
  }
}

function formatDims(dims: readonly number[]): string {
  if (dims.length <= 8) return `[${dims.join(', ')}]`;
  return `[${dims.slice(0, 8).join(', ')}, … (${dims.length} dimensions)]`;
}

/**
 * Finds the first object key that repeats within one object of `text`, which must already be
 * valid JSON (JSON.parse keeps the last duplicate silently; the format forbids duplicates).
 * Iterative, so deep nesting cannot exhaust the stack.
 */
function findDuplicateKey(text: string): { key: string; parent: string | undefined } | undefined {
  // One frame per open container: the keys seen so far (objects) or null (arrays), and the key
  // under which the container itself sits, for the message.
  const frames: { keys: Set<string> | null; name: string | undefined }[] = [];
  let lastKey: string | undefined;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      let k = j + 1;
      while (k < text.length && isJsonWhitespace(text.charCodeAt(k))) k++;
      const top = frames[frames.length - 1];
      if (text.charCodeAt(k) === 0x3a /* : */ && top !== undefined && top.keys !== null) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return { key, parent: top.name };
        top.keys.add(key);
        lastKey = key;
      }
      i = j + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      frames.push({ keys: c === 0x7b ? new Set() : null, name: lastKey });
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop();
      i++;
    } else {
      i++;
    }
  }
  return undefined;
}

function isJsonWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
