/**
 * safetensors element types and their conversion to float32.
 *
 * Floating types (F64, F32, F16, BF16) always convert; the result must be finite. Integer and
 * bool types convert only when every element is exactly representable as float32 (|v| ≤ 2^24, or
 * larger values that happen to be exact), so a PyTorch `state_dict` with an int64 buffer such as
 * BatchNorm's `num_batches_tracked` loads, while an index tensor that float32 would silently
 * corrupt is rejected. FP8/FP4/FP6 and complex types are rejected: no model of ours writes them,
 * and converting them would hide a wrong export.
 */

/** The element types this reader converts to float32. */
export type SafetensorsDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'U64'
  | 'I32'
  | 'U32'
  | 'I16'
  | 'U16'
  | 'I8'
  | 'U8'
  | 'BOOL';

/** Bytes per element of each readable dtype. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  U64: 8,
  I32: 4,
  U32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** dtypes the format defines that this reader refuses, with the reason given in errors. */
const KNOWN_UNREADABLE_DTYPES: ReadonlySet<string> = new Set([
  'F8_E4M3',
  'F8_E5M2',
  'F8_E8M0',
  'F6_E2M3',
  'F6_E3M2',
  'F4',
  'C64',
]);

/** True when `name` is a dtype this reader converts. */
export function isReadableDtype(name: string): name is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPE_BYTES, name);
}

/** True when `name` is a safetensors dtype that this reader deliberately refuses (FP8, ...). */
export function isKnownUnreadableDtype(name: string): boolean {
  return KNOWN_UNREADABLE_DTYPES.has(name);
}

/** Why a tensor's bytes could not become float32, at which flat element index. */
export interface DecodeProblem {
  readonly kind: 'non-finite' | 'not-representable';
  /** Row-major index of the first offending element. */
  readonly index: number;
  readonly detail: string;
}

/** A decoded tensor's elements, or the first problem found. */
export type DecodeResult =
  | { readonly ok: true; readonly data: Float32Array }
  | { readonly ok: false; readonly problem: DecodeProblem };

const LITTLE_ENDIAN_PLATFORM = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Converts `count` little-endian elements of `dtype` starting at `bytes[0]` to float32.
 * F32 on a little-endian machine is a zero-copy view of `bytes` when its address is 4-byte
 * aligned (the result then aliases the input buffer), otherwise a copy.
 * The caller guarantees `bytes.length === count × SAFETENSORS_DTYPE_BYTES[dtype]`.
 */
export function decodeToFloat32(dtype: SafetensorsDtype, bytes: Uint8Array, count: number): DecodeResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      return decodeF32(bytes, view, count);
    case 'F64':
      return decodeF64(view, count);
    case 'F16':
      return checkedFinite(decodeF16(bytes, count), 'F16');
    case 'BF16':
      return checkedFinite(decodeBf16(bytes, count), 'BF16');
    case 'I8':
      return convertExact(count, (i) => view.getInt8(i), dtype);
    case 'U8':
      return convertExact(count, (i) => view.getUint8(i), dtype);
    case 'I16':
      return convertExact(count, (i) => view.getInt16(2 * i, true), dtype);
    case 'U16':
      return convertExact(count, (i) => view.getUint16(2 * i, true), dtype);
    case 'I32':
      return convertExact(count, (i) => view.getInt32(4 * i, true), dtype);
    case 'U32':
      return convertExact(count, (i) => view.getUint32(4 * i, true), dtype);
    case 'I64':
      return convertExact(count, (i) => view.getBigInt64(8 * i, true), dtype);
    case 'U64':
      return convertExact(count, (i) => view.getBigUint64(8 * i, true), dtype);
    case 'BOOL':
      return decodeBool(bytes, count);
  }
}

/** The value of IEEE 754 binary16 bits `h` (0 ≤ h < 2^16). Exact: every half is a float32. */
export function halfBitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

function decodeF32(bytes: Uint8Array, view: DataView, count: number): DecodeResult {
  let data: Float32Array;
  if (LITTLE_ENDIAN_PLATFORM && bytes.byteOffset % 4 === 0) {
    data = new Float32Array(bytes.buffer, bytes.byteOffset, count);
  } else {
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
  }
  return checkedFinite(data, 'F32');
}

function decodeF64(view: DataView, count: number): DecodeResult {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = view.getFloat64(8 * i, true);
    const f = Math.fround(v);
    if (!Number.isFinite(f)) {
      const detail = Number.isFinite(v)
        ? `F64 value ${v} at index ${i} is beyond float32's range (±3.4028234663852886e38)`
        : `F64 value ${v} at index ${i} is not finite`;
      return { ok: false, problem: { kind: 'non-finite', index: i, detail } };
    }
    data[i] = f;
  }
  return { ok: true, data };
}

function decodeF16(bytes: Uint8Array, count: number): Float32Array {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = halfBitsToNumber(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  return data;
}

function decodeBf16(bytes: Uint8Array, count: number): Float32Array {
  // bfloat16 is the upper half of a float32: write the bits through an integer view of the result.
  const data = new Float32Array(count);
  const bits = new Uint32Array(data.buffer);
  for (let i = 0; i < count; i++) bits[i] = ((bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16) >>> 0;
  return data;
}

function decodeBool(bytes: Uint8Array, count: number): DecodeResult {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const b = bytes[i];
    if (b > 1) {
      const detail = `BOOL byte ${b} at index ${i} is neither 0 nor 1`;
      return { ok: false, problem: { kind: 'not-representable', index: i, detail } };
    }
    data[i] = b;
  }
  return { ok: true, data };
}

function convertExact(count: number, read: (i: number) => number | bigint, dtype: SafetensorsDtype): DecodeResult {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const raw = read(i);
    const n = Number(raw);
    const exact = (typeof raw === 'number' || BigInt(n) === raw) && Math.fround(n) === n;
    if (!exact) {
      const detail = `${dtype} value ${String(raw)} at index ${i} has no exact float32 representation`;
      return { ok: false, problem: { kind: 'not-representable', index: i, detail } };
    }
    data[i] = n;
  }
  return { ok: true, data };
}

function checkedFinite(data: Float32Array, dtype: SafetensorsDtype): DecodeResult {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      const detail = `${dtype} value ${v} at index ${i} is not finite`;
      return { ok: false, problem: { kind: 'non-finite', index: i, detail } };
    }
  }
  return { ok: true, data };
}
