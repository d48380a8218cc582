import fc from 'fast-check';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../src/nn/tensor.js';
import { parseSafetensors, serializeSafetensors } from '../../src/model/safetensors.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../../src/io/safetensors-file.js';
import { SafetensorsError, type SafetensorsErrorCode } from '../../src/model/safetensors-error.js';

const FC_SEED = 20261122;
const SOURCE = 'models/pump/weights.safetensors';
const FIXTURE_DIR = join(import.meta.dirname, '..', 'fixtures', 'safetensors');
const LITTLE_ENDIAN_PLATFORM = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---- hand-built files, independent of the writer under test ------------------------------------

/** A file with header `header` (JSON text, or an object to stringify), unpadded, then `data`. */
function stFile(header: string | object, data: ArrayLike<number> = [], claimedLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, claimedLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function le(width: 2 | 4 | 8, write: (v: DataView, at: number, x: number) => void, values: number[]): number[] {
  const v = new DataView(new ArrayBuffer(width * values.length));
  values.forEach((x, i) => write(v, width * i, x));
  return [...new Uint8Array(v.buffer)];
}
const f32 = (...xs: number[]) => le(4, (v, at, x) => v.setFloat32(at, x, true), xs);
const f64 = (...xs: number[]) => le(8, (v, at, x) => v.setFloat64(at, x, true), xs);
const u16 = (...xs: number[]) => le(2, (v, at, x) => v.setUint16(at, x, true), xs);
const i32 = (...xs: number[]) => le(4, (v, at, x) => v.setInt32(at, x, true), xs);
const i64 = (...xs: bigint[]) => {
  const v = new DataView(new ArrayBuffer(8 * xs.length));
  xs.forEach((x, i) => v.setBigInt64(8 * i, x, true));
  return [...new Uint8Array(v.buffer)];
};

/** One tensor `t` of `dtype` and `shape` holding `data`. */
function single(dtype: string, shape: number[], data: number[]): Uint8Array {
  return stFile({ t: { dtype, shape, data_offsets: [0, data.length] } }, data);
}

function parseOne(bytes: Uint8Array): number[] {
  const t = parseSafetensors(bytes, { source: SOURCE }).tensors.get('t');
  if (t === undefined) throw new Error('tensor t missing');
  return [...t.data];
}

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, but the call returned');
}

interface ExpectedProblem {
  code: SafetensorsErrorCode;
  field?: string;
  tensor?: string;
  /** A fragment the detail must contain (the offending value, usually). */
  says?: string;
}

function expectProblem(err: unknown, want: ExpectedProblem, source = SOURCE): void {
  expect(err).toBeInstanceOf(SafetensorsError);
  const e = err as SafetensorsError;
  expect(e.code).toBe(want.code);
  expect(e.source).toBe(source);
  expect(e.message.startsWith(`${source}:`)).toBe(true);
  expect(e.field).toBe(want.field);
  if (want.field !== undefined) expect(e.message).toContain(`field "${want.field}"`);
  expect(e.tensor).toBe(want.tensor);
  if (want.tensor !== undefined) expect(e.message).toContain(`tensor ${JSON.stringify(want.tensor)}`);
  if (want.says !== undefined) expect(e.message).toContain(want.says);
}

// ---- fixture written from torch tensors by scripts/golden/safetensors_fixture.py ---------------

describe('the torch-made fixture', () => {
  it('parses to the values torch converts to float32, for F32, F16, BF16, F64, I64 and I32', async () => {
    const bytes = await readFile(join(FIXTURE_DIR, 'mixed-dtypes.safetensors'));
    const expected = JSON.parse(await readFile(join(FIXTURE_DIR, 'mixed-dtypes.expected.json'), 'utf8')) as {
      metadata: Record<string, string>;
      tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
    };
    const dtypes = new Set(Object.values(expected.tensors).map((t) => t.dtype));
    expect([...dtypes].sort()).toEqual(['BF16', 'F16', 'F32', 'F64', 'I32', 'I64']);

    const got = parseSafetensors(new Uint8Array(bytes), { source: SOURCE });
    expect(got.metadata).toEqual(expected.metadata);
    expect([...got.tensors.keys()]).toEqual(Object.keys(expected.tensors).sort());
    for (const [name, want] of Object.entries(expected.tensors)) {
      const t = got.tensors.get(name);
      expect(t?.shape, name).toEqual(want.shape);
      // toEqual compares numbers with Object.is, so -0 stays distinct from +0.
      expect([...(t?.data ?? [])], name).toEqual(want.values);
    }
  });

  it('gives aligned F32 tensors as views of the file buffer (the zero-copy path really runs)', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURE_DIR, 'mixed-dtypes.safetensors')));
    const { tensors } = parseSafetensors(bytes);
    const weight = tensors.get('tcn.0.conv.weight');
    const half = tensors.get('head.weight');
    expect(weight?.data.buffer === bytes.buffer).toBe(LITTLE_ENDIAN_PLATFORM);
    expect(half?.data.buffer === bytes.buffer).toBe(false);
  });
});

// ---- writer ---------------------------------------------------------------------------------------

describe('serializeSafetensors', () => {
  const headerOf = (bytes: Uint8Array): string => {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    return new TextDecoder().decode(bytes.subarray(8, 8 + n));
  };

  // Expected bytes are those in the reference implementation's own serialisation tests
  // (huggingface/safetensors, safetensors/src/tensor.rs), transcribed as header text.
  it('writes byte for byte what the reference writer writes', () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const a = serializeSafetensors({ 'attn.0': { shape: [1, 2, 3], data } });
    expect(a.length).toBe(8 + 64 + 24);
    expect([...a.subarray(0, 8)]).toEqual([64, 0, 0, 0, 0, 0, 0, 0]);
    expect(headerOf(a)).toBe('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}');
    expect([...a.subarray(72)]).toEqual([0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64]);

    const b = serializeSafetensors({ attn0: { shape: [1, 1, 2, 3], data } });
    expect(headerOf(b)).toBe('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');

    expect([...serializeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(headerOf(serializeSafetensors({}, { framework: 'pt' }))).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });

  it('sorts tensors and metadata keys by name and packs data in that order', () => {
    const bytes = serializeSafetensors(
      new Map<string, Tensor>([
        ['b', { shape: [1], data: new Float32Array([2]) }],
        ['a', { shape: [2], data: new Float32Array([1, -1]) }],
      ]),
      { z: '1', y: '2' },
    );
    expect(headerOf(bytes).trimEnd()).toBe(
      '{"__metadata__":{"y":"2","z":"1"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
        '"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
    );
    expect([...bytes.subarray(bytes.length - 12)]).toEqual([...f32(1, -1, 2)]);
  });

  it('refuses what the reader would refuse, naming the tensor', () => {
    const bad: [Record<string, Tensor>, ExpectedProblem][] = [
      [{ w: { shape: [2], data: new Float32Array([1, NaN]) } }, { code: 'non-finite', tensor: 'w', field: 'data', says: 'index 1' }],
      [{ w: { shape: [3], data: new Float32Array(2) } }, { code: 'tensor-invalid', tensor: 'w', says: '2 elements' }],
      [{ w: { shape: [-1], data: new Float32Array(0) } }, { code: 'tensor-invalid', tensor: 'w', field: 'shape', says: '-1' }],
      [{ __metadata__: { shape: [0], data: new Float32Array(0) } }, { code: 'tensor-invalid', tensor: '__metadata__', says: 'reserved' }],
    ];
    for (const [tensors, want] of bad) expectProblem(catchError(() => serializeSafetensors(tensors)), want, 'serializeSafetensors');
    const meta = { version: 3 } as unknown as Record<string, string>;
    expectProblem(catchError(() => serializeSafetensors({}, meta)), { code: 'metadata-invalid', field: '__metadata__', says: 'number 3' }, 'serializeSafetensors');
  });

  it('round-trips any finite tensors and metadata (fast-check)', () => {
    const shape = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });
    const named = fc.dictionary(
      fc.string({ maxLength: 12 }).filter((s) => s !== '__metadata__'),
      shape.chain((dims) =>
        fc
          .array(fc.float({ noNaN: true, noDefaultInfinity: true }), {
            minLength: dims.reduce((p, d) => p * d, 1),
            maxLength: dims.reduce((p, d) => p * d, 1),
          })
          .map((values) => ({ shape: dims, data: new Float32Array(values) })),
      ),
      { maxKeys: 5 },
    );
    const metadata = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 });
    fc.assert(
      fc.property(named, metadata, (tensors, meta) => {
        const bytes = serializeSafetensors(tensors, meta);
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(n % 8).toBe(0);
        const back = parseSafetensors(bytes);
        expect(back.metadata).toEqual(meta);
        expect(new Set(back.tensors.keys())).toEqual(new Set(Object.keys(tensors)));
        for (const [name, t] of Object.entries(tensors)) {
          expect(back.tensors.get(name)?.shape).toEqual(t.shape);
          expect([...(back.tensors.get(name)?.data ?? [])]).toEqual([...t.data]);
        }
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
  });
});

// ---- element types --------------------------------------------------------------------------------

describe('dtype conversion to float32 (hand-checked bit patterns)', () => {
  it('F16: normals, signed zero, subnormals, max finite', () => {
    const bits = [0x3c00, 0xc000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x3555, 0x3800];
    expect(parseOne(single('F16', [9], u16(...bits)))).toEqual([
      1, -2, -0, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, 0.333251953125, 0.5,
    ]);
  });

  it('BF16: the upper half of a float32', () => {
    const bits = [0x3f80, 0xc020, 0x0001, 0x7f7f, 0x8000, 0x3dcd];
    expect(parseOne(single('BF16', [6], u16(...bits)))).toEqual([1, -2.5, 2 ** -133, 3.3895313892515355e38, -0, 0.10009765625]);
  });

  it('F64: rounds to nearest float32, underflows to signed zero', () => {
    expect(parseOne(single('F64', [4], f64(0.1, -1e-50, 1 + 2 ** -30, 2 ** -149)))).toEqual([
      0.10000000149011612, -0, 1, 2 ** -149,
    ]);
  });

  it('F32 at an unaligned address is copied, with the same values', () => {
    // F16 [1] first puts the F32 tensor 2 bytes into the data section of an unpadded header.
    const header = { h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] }, t: { dtype: 'F32', shape: [2], data_offsets: [2, 10] } };
    const json = JSON.stringify(header);
    expect((8 + json.length + 2) % 4).not.toBe(0);
    const bytes = stFile(header, [...u16(0x3c00), ...f32(1.5, -7.25)]);
    const t = parseSafetensors(bytes).tensors.get('t');
    expect([...(t?.data ?? [])]).toEqual([1.5, -7.25]);
    expect(t?.data.buffer === bytes.buffer).toBe(false);
  });

  it('integers and BOOL convert when float32 holds them exactly, and are refused otherwise', () => {
    expect(parseOne(single('I64', [3], i64(7n, -3n, 2n ** 40n)))).toEqual([7, -3, 2 ** 40]);
    expect(parseOne(single('I32', [2], i32(16777216, -16777216)))).toEqual([16777216, -16777216]);
    expect(parseOne(single('U8', [2], [0, 255]))).toEqual([0, 255]);
    expect(parseOne(single('BOOL', [2], [1, 0]))).toEqual([1, 0]);
    const refused: [Uint8Array, string][] = [
      [single('I64', [2], i64(1n, 2n ** 53n + 1n)), 'index 1'],
      [single('I32', [1], i32(16777217)), '16777217'],
      [single('BOOL', [2], [0, 2]), 'byte 2 at index 1'],
    ];
    for (const [bytes, says] of refused) {
      expectProblem(catchError(() => parseOne(bytes)), { code: 'not-representable', tensor: 't', field: 'data', says });
    }
  });

  it('refuses NaN and infinities, naming the first index', () => {
    const cases: [Uint8Array, string][] = [
      [single('F32', [3], f32(0, 1, NaN)), 'at index 2'],
      [single('F16', [2], u16(0x3c00, 0x7c00)), 'Infinity at index 1'],
      [single('F16', [1], u16(0x7e00)), 'NaN at index 0'],
      [single('BF16', [2], u16(0xff80, 0)), '-Infinity at index 0'],
      [single('F64', [2], f64(1, -Infinity)), 'at index 1'],
      [single('F64', [1], f64(1e39)), "beyond float32's range"],
    ];
    for (const [bytes, says] of cases) {
      expectProblem(catchError(() => parseOne(bytes)), { code: 'non-finite', tensor: 't', field: 'data', says });
    }
  });
});

// ---- validation -----------------------------------------------------------------------------------

describe('parseSafetensors validation', () => {
  const entry = (dtype: unknown, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
  const ok4 = f32(1);
  const cases: [string, Uint8Array, ExpectedProblem, { maxHeaderBytes?: number; maxTensorElements?: number }?][] = [
    ['file shorter than 8 bytes', new Uint8Array(5), { code: 'file-too-short', field: 'header length', says: '5 bytes' }],
    ['header length past the end', stFile('{}', [], 100n), { code: 'header-out-of-range', field: 'header length', says: '100 bytes' }],
    ['header length 2^64 − 1', stFile('{}', [], 2n ** 64n - 1n), { code: 'header-too-large', field: 'header length', says: '18446744073709551615' }],
    ['header above maxHeaderBytes', stFile(' '.repeat(30) + '{}'), { code: 'header-too-large', field: 'header length', says: 'maxHeaderBytes (16)' }, { maxHeaderBytes: 16 }],
    ['invalid UTF-8', (() => { const b = stFile('{_}'); b[9] = 0xff; return b; })(), { code: 'header-encoding', field: 'header', says: 'UTF-8' }],
    ['byte-order mark', (() => { const b = stFile('___{}'); b.set([0xef, 0xbb, 0xbf], 8); return b; })(), { code: 'header-json', field: 'header' }],
    ['truncated JSON', stFile('{"t":{"dtype":"F32"'), { code: 'header-json', field: 'header' }],
    ['header is an array', stFile('[1,2]'), { code: 'header-not-object', field: 'header', says: 'array of length 2' }],
    ['header is null', stFile('null'), { code: 'header-not-object', field: 'header', says: 'null' }],
    ['duplicate tensor', stFile(`{"t":${JSON.stringify(entry('F32', [1], [0, 4]))},"t":${JSON.stringify(entry('F32', [1], [0, 4]))}}`, ok4), { code: 'duplicate-key', field: 'header', says: '"t" appears twice at the top level' }],
    ['duplicate field', stFile('{"t":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}', ok4), { code: 'duplicate-key', field: 'header', says: '"dtype" appears twice inside "t"' }],
    ['entry not an object', stFile({ t: [1] }), { code: 'entry-invalid', tensor: 't', says: 'array of length 1' }],
    ['missing dtype', stFile({ t: { shape: [1], data_offsets: [0, 4] } }, ok4), { code: 'entry-invalid', tensor: 't', field: 'dtype', says: 'missing' }],
    ['missing shape', stFile({ t: { dtype: 'F32', data_offsets: [0, 4] } }, ok4), { code: 'entry-invalid', tensor: 't', field: 'shape', says: 'missing' }],
    ['missing data_offsets', stFile({ t: { dtype: 'F32', shape: [1] } }, ok4), { code: 'entry-invalid', tensor: 't', field: 'data_offsets', says: 'missing' }],
    ['dtype not a string', stFile({ t: entry(4, [1], [0, 4]) }, ok4), { code: 'entry-invalid', tensor: 't', field: 'dtype', says: 'number 4' }],
    ['FP8 dtype', stFile({ t: entry('F8_E4M3', [4], [0, 4]) }, ok4), { code: 'dtype-unsupported', tensor: 't', field: 'dtype', says: '"F8_E4M3" cannot be read' }],
    ['unknown dtype', stFile({ t: entry('Q4', [1], [0, 4]) }, ok4), { code: 'dtype-unsupported', tensor: 't', field: 'dtype', says: '"Q4" is not a safetensors dtype' }],
    ['shape not an array', stFile({ t: entry('F32', 1, [0, 4]) }, ok4), { code: 'shape-invalid', tensor: 't', field: 'shape', says: 'number 1' }],
    ['negative dimension', stFile({ t: entry('F32', [1, -1], [0, 4]) }, ok4), { code: 'shape-invalid', tensor: 't', field: 'shape', says: 'dimension 1 is number -1' }],
    ['fractional dimension', stFile({ t: entry('F32', [1.5], [0, 4]) }, ok4), { code: 'shape-invalid', tensor: 't', field: 'shape', says: 'number 1.5' }],
    ['string dimension', stFile({ t: entry('F32', ['1'], [0, 4]) }, ok4), { code: 'shape-invalid', tensor: 't', field: 'shape', says: 'string "1"' }],
    ['dimension 2^53', stFile({ t: entry('F32', [2 ** 53], [0, 4]) }, ok4), { code: 'shape-invalid', tensor: 't', field: 'shape', says: '9007199254740992' }],
    ['above maxTensorElements', stFile({ t: entry('F32', [3, 4], [0, 48]) }, f32(...new Array<number>(12).fill(0))), { code: 'too-many-elements', tensor: 't', field: 'shape', says: 'maxTensorElements (10)' }, { maxTensorElements: 10 }],
    ['offsets of length 3', stFile({ t: entry('F32', [1], [0, 4, 8]) }, ok4), { code: 'offsets-invalid', tensor: 't', field: 'data_offsets', says: 'array of length 3' }],
    ['negative offset', stFile({ t: entry('F32', [1], [-4, 0]) }, ok4), { code: 'offsets-invalid', tensor: 't', field: 'data_offsets', says: 'begin is number -4' }],
    ['fractional offset', stFile({ t: entry('F32', [1], [0, 4.5]) }, ok4), { code: 'offsets-invalid', tensor: 't', field: 'data_offsets', says: 'end is number 4.5' }],
    ['begin after end', stFile({ t: entry('F32', [0], [4, 0]) }, ok4), { code: 'offsets-invalid', tensor: 't', field: 'data_offsets', says: 'begin after end' }],
    ['end past the data', stFile({ t: entry('F32', [2], [0, 8]) }, ok4), { code: 'offsets-invalid', tensor: 't', field: 'data_offsets', says: 'data section, which has 4 bytes' }],
    ['size ≠ shape × dtype', stFile({ t: entry('F16', [1], [0, 4]) }, ok4), { code: 'byte-size-mismatch', tensor: 't', field: 'data_offsets', says: 'needs 1 × 2 = 2 bytes' }],
    ['overlapping tensors', stFile({ a: entry('F32', [2], [0, 8]), b: entry('F32', [1], [4, 8]) }, f32(1, 2)), { code: 'overlap', tensor: 'b', field: 'data_offsets', says: 'overlaps tensor "a"' }],
    ['hole between tensors', stFile({ a: entry('F32', [1], [0, 4]), b: entry('F32', [1], [8, 12]) }, f32(1, 2, 3)), { code: 'hole', tensor: 'b', field: 'data_offsets', says: 'bytes [4, 8)' }],
    ['trailing bytes', stFile({ a: entry('F32', [1], [0, 4]) }, f32(1, 2)), { code: 'hole', field: 'data_offsets', says: 'bytes [4, 8) at the end' }],
    ['metadata not an object', stFile({ __metadata__: ['pt'] }), { code: 'metadata-invalid', field: '__metadata__', says: 'array of length 1' }],
    ['metadata value not a string', stFile({ __metadata__: { format: 'pt', epochs: 12 } }), { code: 'metadata-invalid', field: '__metadata__', says: '"epochs" must be a string, got number 12' }],
  ];

  for (const [what, bytes, want, options] of cases) {
    it(`rejects: ${what}`, () => {
      expectProblem(catchError(() => parseSafetensors(bytes, { ...options, source: SOURCE })), want);
    });
  }

  it('accepts what the format allows: empty file, rank 0, zero-size tensors, null metadata, padding, unknown fields', () => {
    expect(parseSafetensors(stFile('{}      ')).tensors.size).toBe(0);
    const bytes = stFile(
      {
        __metadata__: null,
        scalar: { dtype: 'F32', shape: [], data_offsets: [0, 4], note: 'ignored' },
        none: { dtype: 'F64', shape: [4, 0, 1e15], data_offsets: [4, 4] },
      },
      f32(2.5),
    );
    const got = parseSafetensors(bytes);
    expect(got.metadata).toEqual({});
    expect(got.tensors.get('scalar')).toEqual({ shape: [], data: new Float32Array([2.5]) });
    expect(got.tensors.get('none')?.shape).toEqual([4, 0, 1e15]);
    expect(got.tensors.get('none')?.data.length).toBe(0);
  });

  it('keeps a "__proto__" metadata key as plain data', () => {
    const got = parseSafetensors(stFile('{"__metadata__":{"__proto__":"x"}}'));
    expect(Object.getPrototypeOf(got.metadata)).toBe(Object.prototype);
    expect(Object.entries(got.metadata)).toEqual([['__proto__', 'x']]);
  });

  it('rejects an invalid option with its name', () => {
    expect(() => parseSafetensors(stFile('{}'), { maxHeaderBytes: 0 })).toThrow(/maxHeaderBytes must be a positive integer, got 0/);
    expect(() => parseSafetensors(stFile('{}'), { maxTensorElements: 1.5 })).toThrow(/maxTensorElements/);
  });

  it('defaults the source to <bytes>', () => {
    expectProblem(catchError(() => parseSafetensors(new Uint8Array(3))), { code: 'file-too-short', field: 'header length' }, '<bytes>');
  });
});

// ---- hostile files --------------------------------------------------------------------------------

describe('hostile files', () => {
  it('rejects huge claimed shapes before allocating anything for them', () => {
    const before = process.memoryUsage().arrayBuffers;
    const claims: [object, SafetensorsErrorCode][] = [
      // 2^78 elements: beyond even a 2^53 limit; the product is cut off before it overflows.
      [{ t: { dtype: 'F32', shape: [2 ** 26, 2 ** 26, 2 ** 26], data_offsets: [0, 4] } }, 'too-many-elements'],
      // 2^25 elements (128 MiB) is within the limit, but the file holds 4 bytes.
      [{ t: { dtype: 'F32', shape: [2 ** 25], data_offsets: [0, 2 ** 27] } }, 'offsets-invalid'],
      // Shape and offsets agree (2^40 elements, 2^43 bytes), but the file holds 4 bytes.
      [{ t: { dtype: 'F64', shape: [2 ** 20, 2 ** 20], data_offsets: [0, 2 ** 43] } }, 'offsets-invalid'],
    ];
    for (const [header, code] of claims) {
      const err = catchError(() => parseSafetensors(stFile(header, f32(1)), { source: SOURCE, maxTensorElements: Number.MAX_SAFE_INTEGER }));
      expectProblem(err, { code, tensor: 't', field: code === 'too-many-elements' ? 'shape' : 'data_offsets' });
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('survives a deeply nested header without exhausting the stack', () => {
    const depth = 100_000;
    const header = `{"t":{"dtype":"F32","shape":${'['.repeat(depth)}${']'.repeat(depth)},"data_offsets":[0,0]}}`;
    expectProblem(catchError(() => parseSafetensors(stFile(header), { source: SOURCE })), { code: 'shape-invalid', tensor: 't', field: 'shape' });
  });

  it('turns any mutation of a valid file into a valid result or a SafetensorsError (fast-check)', async () => {
    const fixture = new Uint8Array(await readFile(join(FIXTURE_DIR, 'mixed-dtypes.safetensors')));
    const small = serializeSafetensors({ 'a.weight': { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }, b: { shape: [], data: new Float32Array([5]) } }, { k: 'v' });
    const headerChars = [...'{}[]":,0123456789-.e '].map((c) => c.charCodeAt(0));
    type Mutation =
      | { kind: 'set'; at: number; byte: number }
      | { kind: 'truncate'; at: number }
      | { kind: 'insert'; at: number; bytes: Uint8Array }
      | { kind: 'delete'; at: number; count: number }
      | { kind: 'length'; value: bigint };
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 }, { arbitrary: fc.constantFrom(...headerChars), weight: 3 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('length' as const), value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 1024n })) }),
    );
    const apply = (input: Uint8Array, m: Mutation): Uint8Array => {
      const b = Uint8Array.from(input);
      const at = 'at' in m ? m.at % (b.length + 1) : 0;
      switch (m.kind) {
        case 'set':
          if (b.length > 0) b[at % b.length] = m.byte;
          return b;
        case 'truncate':
          return b.slice(0, at);
        case 'insert':
          return Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
        case 'delete':
          return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.count)]);
        case 'length':
          if (b.length >= 8) new DataView(b.buffer).setBigUint64(0, m.value, true);
          return b;
      }
    };
    let parsedCount = 0;
    let rejectedCount = 0;
    fc.assert(
      fc.property(fc.constantFrom(fixture, small), fc.array(mutation, { minLength: 1, maxLength: 4 }), (base, ms) => {
        const bytes = ms.reduce(apply, base);
        let result: ReturnType<typeof parseSafetensors>;
        try {
          result = parseSafetensors(bytes, { source: 'fuzzed.safetensors' });
        } catch (err) {
          expect(err).toBeInstanceOf(SafetensorsError);
          expect((err as Error).message.startsWith('fuzzed.safetensors:')).toBe(true);
          rejectedCount++;
          return;
        }
        parsedCount++;
        for (const [, t] of result.tensors) {
          expect(t.data.length).toBe(t.shape.reduce((p, d) => p * d, 1));
          expect(t.data.every((v) => Number.isFinite(v))).toBe(true);
        }
        expect(Object.values(result.metadata).every((v) => typeof v === 'string')).toBe(true);
      }),
      { seed: FC_SEED, numRuns: 3000 },
    );
    // Both outcomes must occur, or the fuzzer is not exploring the parser.
    expect(parsedCount).toBeGreaterThan(0);
    expect(rejectedCount).toBeGreaterThan(0);
  });

  it('turns any rewritten header field into a valid result or a SafetensorsError (fast-check)', async () => {
    // Byte mutations mostly break the JSON; this rewrites fields of a well-formed header instead,
    // to reach the entry, limit and tiling checks.
    const fixture = new Uint8Array(await readFile(join(FIXTURE_DIR, 'mixed-dtypes.safetensors')));
    const n = Number(new DataView(fixture.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(fixture.subarray(8, 8 + n))) as Record<string, Record<string, unknown>>;
    const data = fixture.subarray(8 + n);
    const names = Object.keys(header);
    const small = fc.integer({ min: -2, max: 200 });
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.array(small, { maxLength: 4 }),
      fc.tuple(small, small),
      fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'U8', 'BOOL', 'F8_E5M2'),
    );
    const edit = fc.record({
      name: fc.constantFrom(...names),
      field: fc.constantFrom('dtype', 'shape', 'data_offsets', 'format', ''),
      value,
    });
    const codes = new Set<string>();
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), fc.integer({ min: -16, max: 16 }), (edits, dataDelta) => {
        const h = structuredClone(header);
        for (const e of edits) {
          if (e.field === '') h[e.name] = e.value as Record<string, unknown>;
          else if (typeof h[e.name] === 'object' && h[e.name] !== null) h[e.name][e.field] = e.value;
        }
        const body = dataDelta >= 0 ? Uint8Array.from([...data, ...new Uint8Array(dataDelta)]) : data.subarray(0, data.length + dataDelta);
        try {
          const got = parseSafetensors(stFile(h, body), { source: 'edited.safetensors' });
          for (const [, t] of got.tensors) expect(t.data.length).toBe(t.shape.reduce((p, d) => p * d, 1));
        } catch (err) {
          expect(err).toBeInstanceOf(SafetensorsError);
          codes.add((err as SafetensorsError).code);
        }
      }),
      { seed: FC_SEED, numRuns: 1500 },
    );
    // The edits must reach the entry-level and layout checks, not only the header's framing.
    for (const code of ['entry-invalid', 'dtype-unsupported', 'shape-invalid', 'offsets-invalid', 'byte-size-mismatch', 'hole']) {
      expect(codes, code).toContain(code);
    }
  });
});

// ---- files ----------------------------------------------------------------------------------------

describe('readSafetensorsFile / writeSafetensorsFile', () => {
  const withDir = async (run: (dir: string) => Promise<void>): Promise<void> => {
    const dir = await mkdtemp(join(tmpdir(), 'convwatch-safetensors-'));
    try {
      await run(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const weights = { 'tcn.0.conv.weight': { shape: [1, 2, 2], data: new Float32Array([0.5, -1, 2, 3]) } };

  it('writes atomically (no temporary left behind), overwrites, and reads back', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'weights.safetensors');
      await writeFile(path, 'old contents');
      await writeSafetensorsFile(path, weights, { format: 'pt' });
      expect(await readdir(dir)).toEqual(['weights.safetensors']);
      const got = await readSafetensorsFile(path);
      expect(got.metadata).toEqual({ format: 'pt' });
      expect(got.tensors.get('tcn.0.conv.weight')).toEqual({ shape: [1, 2, 2], data: new Float32Array([0.5, -1, 2, 3]) });
    });
  });

  it('writes nothing when serialisation fails', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'weights.safetensors');
      await expect(writeSafetensorsFile(path, { w: { shape: [1], data: new Float32Array([Infinity]) } })).rejects.toThrow(SafetensorsError);
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('names the file in errors and checks maxFileBytes before reading', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'weights.safetensors');
      await writeFile(path, stFile({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1)));
      const err = await readSafetensorsFile(path).catch((e: unknown) => e);
      expectProblem(err, { code: 'offsets-invalid', tensor: 't', field: 'data_offsets' }, path);
      const big = await readSafetensorsFile(path, { maxFileBytes: 16 }).catch((e: unknown) => e);
      expectProblem(big, { code: 'file-too-large', says: 'maxFileBytes (16)' }, path);
      await expect(readSafetensorsFile(join(dir, 'missing.safetensors'))).rejects.toThrow(/ENOENT/);
    });
  });
});
