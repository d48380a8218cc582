import type { Tensor } from '../nn/tensor.js';
import { decodeToFloat32 } from './safetensors-dtype.js';
import { describeValue, quoteForMessage, SafetensorsError } from './safetensors-error.js';
import { boundedElementCount, parseSafetensorsHeader, SAFETENSORS_METADATA_KEY } from './safetensors-header.js';

/**
 * The safetensors format for model weights (`weights.safetensors` beside `model.json`): tensor
 * names and shapes equal those of the PyTorch module's `state_dict`, so a file written by
 * `safetensors.torch.save_file(model.state_dict(), ...)` loads here and ours loads there.
 *
 * Reading accepts F32, F64, F16 and BF16 (converted to float32; every value must be finite) and
 * integer/BOOL tensors whose values float32 holds exactly (see safetensors-dtype.ts). Writing
 * always produces F32, tensors and metadata keys sorted by name, header padded with spaces to a
 * multiple of 8 bytes so every tensor starts 8-byte aligned, as the reference writer does.
 */

/** Default {@link ParseSafetensorsOptions.maxHeaderBytes}: 16 MiB. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Default {@link ParseSafetensorsOptions.maxTensorElements}: 2^26 (256 MiB as float32). */
export const DEFAULT_MAX_TENSOR_ELEMENTS = 2 ** 26;

/** Options of {@link parseSafetensors}. */
export interface ParseSafetensorsOptions {
  /** Names the file in error messages. Default `'<bytes>'`. */
  readonly source?: string;
  /** Largest accepted header, in bytes. Default {@link DEFAULT_MAX_HEADER_BYTES}. */
  readonly maxHeaderBytes?: number;
  /** Largest accepted element count of any one tensor. Default {@link DEFAULT_MAX_TENSOR_ELEMENTS}. */
  readonly maxTensorElements?: number;
}


/** What a safetensors file holds. */
export interface SafetensorsContents {
  /** Tensors by name, in name order. Shapes are the file's, e.g. Conv1d weights `[Cout, Cin/groups, K]`. */
  readonly tensors: Map<string, Tensor>;
  /** The header's `__metadata__` (empty when absent). */
  readonly metadata: Record<string, string>;
}

/**
 * Parses a whole safetensors file held in memory.
 *
 * An F32 tensor whose bytes are 4-byte aligned in memory (always so for files from a writer that
 * pads the header, like ours and the reference) is a zero-copy view: it shares `bytes`' buffer,
 * so writing to one changes the other. Other tensors are fresh arrays. Memory allocated is at most
 * 4 × `bytes.length` plus the header's JSON, whatever the header claims.
 *
 * @param bytes the complete file.
 * @throws SafetensorsError for any malformed, inconsistent, unsupported or over-limit content, or
 *   a non-finite value; the message names `options.source`, the tensor and the field.
 * @throws Error when an option is not a positive integer.
 */
export function parseSafetensors(bytes: Uint8Array, options: ParseSafetensorsOptions = {}): SafetensorsContents {
  const source = options.source ?? '<bytes>';
  const maxHeaderBytes = positiveIntegerOption('maxHeaderBytes', options.maxHeaderBytes, DEFAULT_MAX_HEADER_BYTES);
  const maxTensorElements = positiveIntegerOption('maxTensorElements', options.maxTensorElements, DEFAULT_MAX_TENSOR_ELEMENTS);
  const header = parseSafetensorsHeader(bytes, source, { maxHeaderBytes, maxTensorElements });

  const entries = [...header.entries].sort((a, b) => compareCodePoints(a.name, b.name));
  const tensors = new Map<string, Tensor>();
  for (const entry of entries) {
    const start = header.dataStart + entry.begin;
    const decoded = decodeToFloat32(entry.dtype, bytes.subarray(start, header.dataStart + entry.end), entry.elementCount);
    if (!decoded.ok) {
      throw new SafetensorsError({ code: decoded.problem.kind, source, tensor: entry.name, field: 'data', detail: decoded.problem.detail });
    }
    tensors.set(entry.name, { shape: [...entry.shape], data: decoded.data });
  }
  return { tensors, metadata: header.metadata };
}

/**
 * Serialises tensors as a safetensors file of F32 tensors: the header lists `__metadata__` first
 * (omitted when empty), then the tensors sorted by name (Unicode code point order), packed in
 * that order; the header is padded with spaces to a multiple of 8 bytes.
 *
 * @param tensors by name; names are free-form (PyTorch `state_dict` keys like `tcn.0.conv.weight`)
 *   except the reserved `__metadata__`.
 * @param metadata free-form string pairs, e.g. `{ format: 'pt' }`.
 * @throws SafetensorsError (`tensor-invalid`) for a reserved name, a shape that is not
 *   non-negative integers, or `data.length` ≠ product of shape; (`non-finite`) for NaN or ±Infinity,
 *   which {@link parseSafetensors} would refuse; (`metadata-invalid`) for a non-string value.
 */
export function serializeSafetensors(
  tensors: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const source = 'serializeSafetensors';
  const named: [string, Tensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  named.sort((a, b) => compareCodePoints(a[0], b[0]));

  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort(compareCodePoints);
  if (metaKeys.length > 0) {
    const pairs = metaKeys.map((key) => {
      const value: unknown = metadata[key];
      if (typeof value !== 'string') {
        const detail = `value of ${quoteForMessage(key)} must be a string, got ${describeValue(value)}`;
        throw new SafetensorsError({ code: 'metadata-invalid', source, field: SAFETENSORS_METADATA_KEY, detail });
      }
      return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    });
    parts.push(`${JSON.stringify(SAFETENSORS_METADATA_KEY)}:{${pairs.join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of named) {
    checkTensorForWriting(name, t, source);
    const end = offset + 4 * t.data.length;
    parts.push(`${JSON.stringify(name)}:{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, t] of named) {
    for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i], true);
    at += 4 * t.data.length;
  }
  return out;
}

function checkTensorForWriting(name: string, t: Tensor, source: string): void {
  const invalid = (detail: string): SafetensorsError =>
    new SafetensorsError({ code: 'tensor-invalid', source, tensor: name, detail });
  if (name === SAFETENSORS_METADATA_KEY) throw invalid(`the name ${SAFETENSORS_METADATA_KEY} is reserved for metadata`);
  if (!(t.data instanceof Float32Array)) throw invalid(`data must be a Float32Array, got ${describeValue(t.data)}`);
  for (let d = 0; d < t.shape.length; d++) {
    const size = t.shape[d];
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new SafetensorsError({ code: 'tensor-invalid', source, tensor: name, field: 'shape', detail: `dimension ${d} is ${size}; expected a non-negative integer` });
    }
  }
  const count = boundedElementCount(t.shape, t.data.length);
  if (count !== t.data.length) {
    throw invalid(`data has ${t.data.length} elements but shape [${t.shape.join(', ')}] needs ${count ?? 'more'}`);
  }
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i])) {
      throw new SafetensorsError({ code: 'non-finite', source, tensor: name, field: 'data', detail: `value ${t.data[i]} at index ${i} is not finite` });
    }
  }
}

/** Checks an optional positive-integer option, returning `fallback` when absent. */
export function positiveIntegerOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`safetensors option ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Orders strings by Unicode code point, as the reference writer orders (UTF-8 byte order). */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true || y.done === true) return (x.done === true ? 0 : 1) - (y.done === true ? 0 : 1);
    const cx = x.value.codePointAt(0) ?? 0;
    const cy = y.value.codePointAt(0) ?? 0;
    if (cx !== cy) return cx - cy;
  }
}
