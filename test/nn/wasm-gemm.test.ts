import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { causalConv1d } from '../../src/nn/causal-conv1d.js';
import { conv1d } from '../../src/nn/conv1d.js';
import { conv1dReference } from '../../src/nn/conv1d-reference.js';
import { jsGemmKernel, type GemmKernel, type PackedMatrix } from '../../src/nn/gemm.js';
import { Rng } from '../../src/nn/random.js';
import { StreamingConv1d } from '../../src/nn/streaming-conv1d.js';
import { Tcn, type TcnConfig } from '../../src/nn/tcn.js';
import { tensor, type Tensor } from '../../src/nn/tensor.js';
import { createWasmGemmKernel, defaultGemmKernel, wasmSimdAvailable } from '../../src/nn/wasm-gemm.js';
import { concatColumns, conv1dCase, conv1dConfigs, randn, randomChunking, sliceColumns } from '../support/random-tensor.js';

const FC_SEED = 20261123;
/** Unit roundoff of float32. */
const U32 = 2 ** -24;
/** Marks elements of y a run must not touch. */
const SENTINEL = 12345.5;

function normals(rng: Rng, length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.normal();
  return out;
}

/** Exact bit equality (distinguishes −0 and NaN payloads), first mismatch in the message. */
function expectSameBits(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  const x = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < e.length; i++) {
    if (x[i] !== e[i]) throw new Error(`element ${i}: ${actual[i]} (0x${x[i]!.toString(16)}) ≠ ${expected[i]} (0x${e[i]!.toString(16)})`);
  }
}

interface Product {
  m: number;
  n: number;
  kd: number;
  w: Float32Array;
  bias: Float32Array | null;
  a: Float32Array;
  aOff: number;
  yOff: number;
  ldy: number;
  yLength: number;
}

/** Runs a product on a fresh y filled with the sentinel. */
function runProduct(mat: PackedMatrix, p: Product): Float32Array {
  const y = new Float32Array(p.yLength).fill(SENTINEL);
  mat.run(p.m, p.a, p.aOff, y, p.yOff, p.ldy);
  return y;
}

/**
 * Float32 accumulation bound against an exact sum: the wasm kernel rounds kd products, kd − 1
 * running sums and the bias add (γ_{kd+1}); the JS reference adds one rounding to float32.
 * So |Δ| ≤ (kd + 3)·2⁻²⁴·(|b| + Σ|a·w|), with a little room for the reference's float64 error.
 */
function expectWithinAccumulationBound(actual: Float32Array, expected: Float32Array, p: Product): void {
  for (let i = 0; i < p.m; i++) {
    for (let j = 0; j < p.n; j++) {
      let t = p.bias === null ? 0 : Math.abs(p.bias[j]!);
      for (let k = 0; k < p.kd; k++) t += Math.abs(p.a[p.aOff + i * p.kd + k]! * p.w[j * p.kd + k]!);
      const at = p.yOff + i * p.ldy + j;
      const diff = Math.abs(actual[at]! - expected[at]!);
      if (!(diff <= (p.kd + 3) * U32 * t)) {
        throw new Error(`row ${i} column ${j}: ${actual[at]} vs reference ${expected[at]}, |Δ| ${diff} > bound ${(p.kd + 3) * U32 * t}`);
      }
    }
  }
}

const productArb = fc
  .record({
    m: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 14, max: 70 })),
    n: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(8, 24, 32, 64)),
    kd: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.constantFrom(0, 24, 96)),
    hasBias: fc.boolean(),
    aOff: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })),
    yOff: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })),
    ldyExtra: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 })),
    // Slack after the used part of a and y: small takes the whole-array copy, large the
    // element-wise copy (a 3000-value array for a few used values).
    aSlack: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 }), fc.constant(3000)),
    ySlack: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 }), fc.constant(3000)),
    seed: fc.integer(),
  })
  .map((c): Product => {
    const rng = new Rng(c.seed);
    const ldy = c.n + c.ldyExtra;
    return {
      m: c.m,
      n: c.n,
      kd: c.kd,
      w: normals(rng, c.n * c.kd),
      bias: c.hasBias ? normals(rng, c.n) : null,
      a: normals(rng, c.aOff + c.m * c.kd + c.aSlack),
      aOff: c.aOff,
      yOff: c.yOff,
      ldy,
      yLength: c.yOff + (c.m === 0 ? 0 : (c.m - 1) * ldy + c.n) + c.ySlack,
    };
  });

describe('wasm-simd GEMM kernel', () => {
  it('is what defaultGemmKernel picks on this Node (the fast path really runs)', () => {
    expect(wasmSimdAvailable()).toBe(true);
    const kernel = defaultGemmKernel({ onFallback: (e) => expect.fail(`fell back to JS: ${e.message}`) });
    expect(kernel.name).toBe('wasm-simd');
    expect(createWasmGemmKernel().name).toBe('wasm-simd');
  });

  it('computes a hand-checked product with bias, offsets and a stride', () => {
    // w = [[1, 2, 3], [−1, 0, 0.5]], b = [0.5, −2]; rows a = [1, 1, 1] and [2, 0, −4].
    const mat = createWasmGemmKernel().pack(new Float32Array([1, 2, 3, -1, 0, 0.5]), 2, 3, new Float32Array([0.5, -2]));
    const a = new Float32Array([9, 1, 1, 1, 2, 0, -4]);
    const y = new Float32Array(7).fill(SENTINEL);
    mat.run(2, a, 1, y, 1, 3);
    // row 0: 6 + 0.5, −0.5 − 2; row 1: 2 − 12 + 0.5, −2 − 2 − 2
    expect(Array.from(y)).toEqual([SENTINEL, 6.5, -2.5, SENTINEL, -9.5, -6, SENTINEL]);
  });

  it('agrees with jsGemmKernel within the float32 accumulation bound and touches nothing else (fast-check)', () => {
    const kernel = createWasmGemmKernel();
    fc.assert(
      fc.property(productArb, (p) => {
        const expected = runProduct(jsGemmKernel.pack(p.w, p.n, p.kd, p.bias), p);
        const actual = runProduct(kernel.pack(p.w, p.n, p.kd, p.bias), p);
        for (let i = 0; i < expected.length; i++) {
          // Outside the written rows and columns, y keeps what it had.
          if (expected[i] === SENTINEL) expect(actual[i]).toBe(SENTINEL);
        }
        expectWithinAccumulationBound(actual, expected, p);
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
  });

  it('gives each row the same bits alone, at any position of a batch of 7, at any offset and in row blocks', () => {
    const kernel = createWasmGemmKernel();
    const blocked = createWasmGemmKernel({ maxScratchFloats: 1 }); // forces one row per block
    const caseArb = fc.record({
      n: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(8, 24, 32, 64)),
      kd: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constantFrom(24, 96, 192)),
      hasBias: fc.boolean(),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(caseArb, (c) => {
        const rng = new Rng(c.seed);
        const { n, kd } = c;
        const w = normals(rng, n * kd);
        const bias = c.hasBias ? normals(rng, n) : null;
        const mats = [kernel.pack(w, n, kd, bias), blocked.pack(w, n, kd, bias)];
        const row = normals(rng, kd);
        const alone = new Float32Array(n);
        mats[0]!.run(1, row, 0, alone, 0, n);
        for (const mat of mats) {
          // Every position of a batch of 7: positions 0–3 take the four-row path, 4–6 the one-row path.
          for (let pos = 0; pos < 7; pos++) {
            const batch = normals(rng, 7 * kd);
            batch.set(row, pos * kd);
            const y = new Float32Array(7 * n);
            mat.run(7, batch, 0, y, 0, n);
            expectSameBits(y.subarray(pos * n, (pos + 1) * n), alone);
          }
          // Elsewhere in memory: offsets, a stride, a big array (element-wise copies).
          const big = normals(rng, 5000 + kd);
          big.set(row, 1234);
          const y = new Float32Array(4000).fill(SENTINEL);
          mat.run(1, big, 1234, y, 77, n + 5);
          expectSameBits(y.subarray(77, 77 + n), alone);
          const shifted = new Float32Array(kd + 3);
          shifted.set(row, 3);
          const y2 = new Float32Array(n + 1);
          mat.run(1, shifted, 3, y2, 1, n);
          expectSameBits(y2.subarray(1), alone);
        }
      }),
      { seed: FC_SEED + 1, numRuns: 60 },
    );
  });

  it('runs in row blocks beyond its staging bound with the same bits as in one piece', () => {
    const rng = new Rng(7);
    const [n, kd, m] = [20, 37, 150];
    const w = normals(rng, n * kd);
    const bias = normals(rng, n);
    const a = normals(rng, m * kd);
    const whole = new Float32Array(m * n);
    createWasmGemmKernel().pack(w, n, kd, bias).run(m, a, 0, whole, 0, n);
    for (const maxScratchFloats of [1, 100, 1000, 4000]) {
      const y = new Float32Array(m * n);
      createWasmGemmKernel({ maxScratchFloats }).pack(w, n, kd, bias).run(m, a, 0, y, 0, n);
      expectSameBits(y, whole);
    }
  });

  it('keeps many packed matrices apart in one kernel', () => {
    const kernel = createWasmGemmKernel();
    const rng = new Rng(11);
    const cases = Array.from({ length: 60 }, () => {
      const n = 1 + rng.int(40);
      const kd = 1 + rng.int(100);
      const m = rng.int(9);
      const w = normals(rng, n * kd);
      const bias = rng.uniform() < 0.5 ? null : normals(rng, n);
      return { n, kd, m, w, bias, a: normals(rng, m * kd), mat: kernel.pack(w, n, kd, bias) };
    });
    // Interleaved, in a scrambled order, twice: each matrix still sees only its own weights.
    for (let round = 0; round < 2; round++) {
      for (let t = 0; t < cases.length; t++) {
        const c = cases[(t * 37 + round * 11) % cases.length]!;
        const p: Product = { ...c, aOff: 0, yOff: 0, ldy: c.n, yLength: c.m * c.n };
        const expected = runProduct(jsGemmKernel.pack(c.w, c.n, c.kd, c.bias), p);
        expectWithinAccumulationBound(runProduct(c.mat, p), expected, p);
      }
    }
  });

  it('a disposed matrix gives its memory back: packing and disposing repeatedly does not grow the instance', () => {
    const kernel = createWasmGemmKernel();
    const rng = new Rng(31);
    const w = normals(rng, 256 * 1024); // 1 MiB of weights
    const a = normals(rng, 1024);
    const y = new Float32Array(256);
    const first = kernel.pack(w, 256, 1024, null);
    first.run(1, a, 0, y, 0, 256);
    const expected = Float32Array.from(y);
    first.dispose?.();
    const bytes = kernel.memoryBytes;
    for (let i = 0; i < 50; i++) {
      const m = kernel.pack(w, 256, 1024, null);
      m.run(1, a, 0, y, 0, 256);
      m.dispose?.();
    }
    // Without dispose, 50 more packs would have added 50 MiB.
    expect(kernel.memoryBytes).toBe(bytes);
    expectSameBits(y, expected);
    expect(() => first.run(1, a, 0, y, 0, 256)).toThrow(/disposed/);
    expect(() => first.dispose?.()).not.toThrow();
  });

  it('conv1d on one long-lived WebAssembly kernel keeps its memory after the first call', () => {
    const kernel = createWasmGemmKernel();
    const rng = new Rng(32);
    const x = tensor([2, 16, 300], normals(rng, 2 * 16 * 300));
    const w = tensor([32, 16, 5], normals(rng, 32 * 16 * 5));
    const b = tensor([32], normals(rng, 32));
    const out0 = conv1d(x, w, b, { padding: 'same', dilation: 2 }, kernel);
    const bytes = kernel.memoryBytes;
    for (let i = 0; i < 100; i++) expectSameBits(conv1d(x, w, b, { padding: 'same', dilation: 2 }, kernel).data, out0.data);
    expect(kernel.memoryBytes).toBe(bytes);
  });

  it('grows its memory for big matrices and big runs, and earlier matrices keep working', () => {
    const kernel = createWasmGemmKernel();
    const rng = new Rng(12);
    const small = { n: 12, kd: 30 };
    const w = normals(rng, small.n * small.kd);
    const mat = kernel.pack(w, small.n, small.kd, null);
    const a = normals(rng, 5 * small.kd);
    const before = new Float32Array(5 * small.n);
    mat.run(5, a, 0, before, 0, small.n);
    const bytes0 = kernel.memoryBytes;
    // 512 × 4096 floats = 8 MiB of weights, beyond the memory held so far.
    const bigW = normals(rng, 512 * 4096);
    const big = kernel.pack(bigW, 512, 4096, null);
    const bytes1 = kernel.memoryBytes;
    expect(bytes1).toBeGreaterThanOrEqual(bytes0 + 8 * 2 ** 20);
    // A run with a large m grows the staging regions too.
    const m = 3000;
    const rows = normals(rng, m * small.kd);
    const yBig = new Float32Array(m * small.n);
    mat.run(m, rows, 0, yBig, 0, small.n);
    expect(kernel.memoryBytes).toBeGreaterThan(bytes1);
    const after = new Float32Array(5 * small.n);
    mat.run(5, a, 0, after, 0, small.n);
    expectSameBits(after, before);
    // The big matrix is right too (one row, against the reference).
    const row = normals(rng, 4096);
    const p: Product = { m: 1, n: 512, kd: 4096, w: bigW, bias: null, a: row, aOff: 0, yOff: 0, ldy: 512, yLength: 512 };
    expectWithinAccumulationBound(runProduct(big, p), runProduct(jsGemmKernel.pack(bigW, 512, 4096, null), p), p);
    // And the large run agrees row by row with one-row runs.
    const one = new Float32Array(small.n);
    for (const i of [0, 1, 2, 3, 1499, 2999]) {
      mat.run(1, rows, i * small.kd, one, 0, small.n);
      expectSameBits(yBig.subarray(i * small.n, (i + 1) * small.n), one);
    }
  });

  it('rejects bad arguments naming them', () => {
    const kernel = createWasmGemmKernel();
    expect(() => kernel.pack(new Float32Array(5), 2, 3, null)).toThrow(/weight matrix has 5 elements, needs 2×3/);
    expect(() => kernel.pack(new Float32Array(6), 2, 3, new Float32Array(1))).toThrow(/bias has 1 elements, needs 2/);
    expect(() => kernel.pack(new Float32Array(6), -1, 3, null)).toThrow(/n must be a non-negative integer, got -1/);
    expect(() => kernel.pack(new Float32Array(6), 2, 1.5, null)).toThrow(/kd must be a non-negative integer, got 1.5/);
    const mat = kernel.pack(new Float32Array(6), 2, 3, null);
    expect(() => mat.run(2, new Float32Array(5), 0, new Float32Array(4), 0, 2)).toThrow(/a holds 5 values, needs aOff 0 \+ 2×3/);
    expect(() => mat.run(2, new Float32Array(6), 0, new Float32Array(3), 0, 2)).toThrow(/y holds 3 values/);
    expect(() => mat.run(2, new Float32Array(6), 0, new Float32Array(8), 0, 1)).toThrow(/ldy ≥ 2/);
    expect(() => mat.run(-1, new Float32Array(6), 0, new Float32Array(8), 0, 2)).toThrow(/m must be a non-negative integer, got -1/);
    expect(() => createWasmGemmKernel({ maxScratchFloats: 0 })).toThrow(/maxScratchFloats must be an integer ≥ 1, got 0/);
  });
});

describe('conv1d and the TCN on the wasm-simd kernel', () => {
  const kernel: GemmKernel = createWasmGemmKernel();

  it('conv1d agrees with conv1dReference within the float32 accumulation bound (fast-check)', () => {
    fc.assert(
      fc.property(conv1dConfigs({ maxCinG: 12, maxCoutG: 20, maxLength: 300 }), (c) => {
        const { x, w, b, opts } = conv1dCase(c);
        let expected: Tensor;
        try {
          expected = conv1dReference(x, w, b, opts);
        } catch {
          return; // invalid combination; conv1d-fast.test.ts covers the errors
        }
        // Σ|x·w| + |b| for every output, by the reference on absolute values.
        const abs = (t: Tensor): Tensor => tensor(t.shape, t.data.map(Math.abs));
        const scale = conv1dReference(abs(x), abs(w), b === null ? null : abs(b), opts);
        const actual = conv1d(x, w, b, opts, kernel);
        expect(actual.shape).toEqual(expected.shape);
        const kd = c.cinG * c.kernelSize;
        for (let i = 0; i < expected.data.length; i++) {
          const diff = Math.abs(actual.data[i]! - expected.data[i]!);
          if (!(diff <= (kd + 3) * U32 * scale.data[i]! * (1 + 1e-6))) {
            throw new Error(`output ${i}: ${actual.data[i]} vs reference ${expected.data[i]} (bound ${(kd + 3) * U32 * scale.data[i]!})`);
          }
        }
      }),
      { seed: FC_SEED + 2, numRuns: 150 },
    );
  });

  it('StreamingConv1d over any chunking ≡ offline causal conv, bit for bit (fast-check)', () => {
    const layerArb = fc.record({
      groups: fc.integer({ min: 1, max: 3 }),
      cinG: fc.integer({ min: 1, max: 12 }),
      coutG: fc.integer({ min: 1, max: 20 }),
      kernelSize: fc.integer({ min: 1, max: 4 }),
      stride: fc.integer({ min: 1, max: 3 }),
      dilation: fc.integer({ min: 1, max: 4 }),
      length: fc.integer({ min: 1, max: 80 }),
      maxChunk: fc.integer({ min: 1, max: 20 }),
      bias: fc.boolean(),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(layerArb, (c) => {
        const rng = new Rng(c.seed);
        const x = randn(rng, [1, c.cinG * c.groups, c.length]);
        const w = randn(rng, [c.coutG * c.groups, c.cinG, c.kernelSize]);
        const b = c.bias ? randn(rng, [c.coutG * c.groups]) : null;
        const opts = { stride: c.stride, dilation: c.dilation, groups: c.groups };
        const offline = causalConv1d(x, w, b, opts, kernel);
        const stream = new StreamingConv1d({ weight: w, bias: b, ...opts, kernel });
        const parts: Tensor[] = [];
        let at = 0;
        for (const n of randomChunking(rng, c.length, c.maxChunk)) {
          parts.push(stream.push(sliceColumns(x, at, at + n)));
          at += n;
        }
        expectSameBits(concatColumns(parts, c.coutG * c.groups).data, offline.data);
      }),
      { seed: FC_SEED + 4, numRuns: 80 },
    );
  });

  const tcnArb = fc.record({
    inChannels: fc.integer({ min: 1, max: 10 }),
    outChannels: fc.integer({ min: 1, max: 10 }),
    hidden: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 3 }),
    kernelSize: fc.integer({ min: 1, max: 4 }),
    dilations: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }),
    seed: fc.integer(),
  });
  const makeTcn = (c: typeof tcnArb extends fc.Arbitrary<infer T> ? T : never): Tcn =>
    Tcn.create(
      {
        inChannels: c.inChannels,
        outChannels: c.outChannels,
        hiddenChannels: c.hidden,
        kernelSize: c.kernelSize,
        dilations: c.hidden.map((_, i) => c.dilations[i]!),
      },
      new Rng(c.seed),
    );

  it('TCN stream over any chunking ≡ offline forward, bit for bit (fast-check)', () => {
    fc.assert(
      fc.property(tcnArb, fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 20 }), (c, length, maxChunk) => {
        const tcn = makeTcn(c);
        const rng = new Rng(c.seed + 1);
        const x = randn(rng, [1, c.inChannels, length]);
        const offline = tcn.forward(x, kernel);
        const stream = tcn.createStream(kernel);
        const parts: Tensor[] = [];
        let at = 0;
        for (const n of randomChunking(rng, length, maxChunk)) {
          parts.push(stream.push(sliceColumns(x, at, at + n)));
          at += n;
        }
        expectSameBits(concatColumns(parts, c.outChannels).data, offline.data);
      }),
      { seed: FC_SEED + 3, numRuns: 60 },
    );
  });

  it('tcn-s shape: 200 single steps of a batch stream ≡ offline forward per slot, bit for bit, and close to the JS kernel', () => {
    const config: TcnConfig = { inChannels: 8, outChannels: 8, hiddenChannels: 32, kernelSize: 3, dilations: [1, 2, 4, 8, 16] };
    const tcn = Tcn.create(config, new Rng(21));
    const rng = new Rng(22);
    const slots = 3;
    const steps = 200;
    const xs = Array.from({ length: slots }, () => randn(rng, [1, 8, steps]));
    const batch = tcn.createBatchStream(slots, kernel);
    const ids = new Int32Array([2, 0, 1]);
    const x = new Float32Array(slots * 8);
    const out = new Float32Array(slots * 8);
    const got = Array.from({ length: slots }, () => tensor([1, 8, steps]));
    for (let t = 0; t < steps; t++) {
      for (let i = 0; i < slots; i++) for (let ch = 0; ch < 8; ch++) x[i * 8 + ch] = xs[ids[i]!]!.data[ch * steps + t]!;
      batch.stepSlots(ids, slots, x, out);
      for (let i = 0; i < slots; i++) for (let ch = 0; ch < 8; ch++) got[ids[i]!]!.data[ch * steps + t] = out[i * 8 + ch]!;
    }
    for (let s = 0; s < slots; s++) {
      const offline = tcn.forward(xs[s]!, kernel);
      expectSameBits(got[s]!.data, offline.data);
      // Against the float64-accumulating JS kernel, ten layers deep: close, not equal.
      const js = tcn.forward(xs[s]!, jsGemmKernel);
      let worst = 0;
      for (let i = 0; i < js.data.length; i++) worst = Math.max(worst, Math.abs(offline.data[i]! - js.data[i]!) / (1 + Math.abs(js.data[i]!)));
      expect(worst).toBeLessThan(1e-5);
    }
  });
});
