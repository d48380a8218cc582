import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActivationSpec } from '../../src/nn/activations.js';
import { jsGemmKernel } from '../../src/nn/gemm.js';
import { Rng } from '../../src/nn/random.js';
import { Tcn, type TcnConfig } from '../../src/nn/tcn.js';
import { TcnBatchStream, TcnStream, type TcnBatchStreamLike } from '../../src/nn/tcn-stream.js';
import { tensor, type Tensor } from '../../src/nn/tensor.js';
import { createWasmGemmKernel } from '../../src/nn/wasm-gemm.js';
import { WasmTcnBatchStream, wasmTcnUnsupportedReason } from '../../src/nn/wasm-tcn-stream.js';
import { concatColumns, randomChunking, sliceColumns } from '../support/random-tensor.js';

const FC_SEED = 20261122;

/** Exact bit equality (distinguishes −0 and NaN payloads), first mismatch in the message. */
function expectSameBits(actual: Float32Array, expected: Float32Array, what = ''): void {
  expect(actual.length).toBe(expected.length);
  const x = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < e.length; i++) {
    if (x[i] !== e[i]) throw new Error(`${what} element ${i}: ${actual[i]} (0x${x[i]!.toString(16)}) ≠ ${expected[i]} (0x${e[i]!.toString(16)})`);
  }
}

/** Mostly normal draws, with exact zeros of both signs and tiny values mixed in (they exercise relu's −0 and the sums' signs). */
function inputValue(rng: Rng): number {
  const u = rng.uniform();
  if (u < 0.05) return 0;
  if (u < 0.1) return -0;
  if (u < 0.13) return (rng.uniform() - 0.5) * 1e-38;
  return rng.normal() * (u < 0.2 ? 50 : 1);
}

function inputs(rng: Rng, shape: number[]): Tensor {
  const t = tensor(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = inputValue(rng);
  return t;
}

const activationArb = fc.oneof(
  fc.constant<ActivationSpec>({ name: 'relu' }),
  fc.constant<ActivationSpec>({ name: 'identity' }),
  fc.constant<ActivationSpec>({ name: 'leaky-relu' }),
  fc.double({ min: -3, max: 3, noNaN: true }).map<ActivationSpec>((negativeSlope) => ({ name: 'leaky-relu', negativeSlope })),
);

// Widths around and between multiples of 8 (panel edges), kernel sizes 1–4, dilations 1–5.
const configArb = fc.record({
  inChannels: fc.integer({ min: 1, max: 11 }),
  outChannels: fc.integer({ min: 1, max: 10 }),
  hidden: fc.array(fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(15, 16, 17, 24, 25)), { minLength: 1, maxLength: 3 }),
  kernelSize: fc.integer({ min: 1, max: 4 }),
  dilations: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 3, maxLength: 3 }),
  activation: activationArb,
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
});

type ConfigCase = typeof configArb extends fc.Arbitrary<infer T> ? T : never;

function makeTcn(c: ConfigCase): Tcn {
  const config: TcnConfig = {
    inChannels: c.inChannels,
    outChannels: c.outChannels,
    hiddenChannels: c.hidden,
    kernelSize: c.kernelSize,
    dilations: c.hidden.map((_, i) => c.dilations[i]!),
    activation: c.activation,
  };
  return Tcn.create(config, new Rng(c.seed));
}

/** Column t of a `[1, C, L]` tensor, time-major into `dst` at `at`. */
function columnInto(x: Tensor, t: number, dst: Float32Array, at: number): void {
  const [, c, l] = x.shape as [number, number, number];
  for (let ch = 0; ch < c; ch++) dst[at + ch] = x.data[ch * l + t]!;
}

/** `[length, C]` time-major rows → `[1, C, length]`. */
function fromRows(rows: Float32Array, channels: number, length: number): Tensor {
  const t = tensor([1, channels, length]);
  for (let i = 0; i < length; i++) for (let c = 0; c < channels; c++) t.data[c * length + i] = rows[i * channels + c]!;
  return t;
}

describe('WasmTcnBatchStream', () => {
  it('a stream over any chunking ≡ Tcn.forward with the wasm-simd kernel, bit for bit, and is what createStream picks', () => {
    fc.assert(
      fc.property(configArb, fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 9 }), (c, length, maxChunk, chunkRows) => {
        const tcn = makeTcn(c);
        const kernel = createWasmGemmKernel();
        const rng = new Rng(c.seed + 1);
        const x = inputs(rng, [1, c.inChannels, length]);
        const offline = tcn.forward(x, kernel);
        const stream = tcn.createStream(kernel);
        expect(stream.engine).toBe('wasm-fused');
        // Also directly, with few rows per call so that long chunks run in pieces.
        const direct = new WasmTcnBatchStream(tcn, 1, { chunkRows });
        const parts: Tensor[] = [];
        const directOut = new Float32Array(length * c.outChannels);
        let at = 0;
        for (const n of randomChunking(rng, length, maxChunk)) {
          const part = sliceColumns(x, at, at + n);
          parts.push(stream.push(part));
          const rows = new Float32Array(n * c.inChannels);
          for (let t = 0; t < n; t++) columnInto(part, t, rows, t * c.inChannels);
          const out = new Float32Array(n * c.outChannels);
          direct.pushChunkSlot(0, n, rows, out);
          directOut.set(out, at * c.outChannels);
          at += n;
        }
        expectSameBits(concatColumns(parts, c.outChannels).data, offline.data, 'createStream');
        expectSameBits(fromRows(directOut, c.outChannels, length).data, offline.data, 'direct');
        expect(stream.samplesSeen).toBe(length);
        expect(stream.ready).toBe(length >= tcn.receptiveField);
        expect(direct.samplesSeen(0)).toBe(length);
      }),
      { seed: FC_SEED, numRuns: 120 },
    );
  });

  it('any subset of slots stepping, in any order, mixed with chunks of single slots ≡ each slot alone, bit for bit', () => {
    fc.assert(
      fc.property(configArb, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), (c, capacity, rounds, chunkRows) => {
        const tcn = makeTcn(c);
        const kernel = createWasmGemmKernel();
        const rng = new Rng(c.seed + 3);
        const batch = new WasmTcnBatchStream(tcn, capacity, { chunkRows });
        const columns: number[][][] = Array.from({ length: capacity }, () => []);
        const outputs: number[][][] = Array.from({ length: capacity }, () => []);
        const slots = new Int32Array(capacity);
        const x = new Float32Array(capacity * c.inChannels);
        const out = new Float32Array(capacity * c.outChannels);
        const newColumn = (): number[] => Array.from({ length: c.inChannels }, () => Math.fround(inputValue(rng)));
        for (let r = 0; r < rounds; r++) {
          if (rng.uniform() < 0.25) {
            // One slot takes a chunk (0 to 12 columns).
            const slot = rng.int(capacity);
            const n = rng.int(13);
            const cols = Array.from({ length: n }, newColumn);
            const chunkOut = new Float32Array(n * c.outChannels);
            batch.pushChunkSlot(slot, n, Float32Array.from(cols.flat()), chunkOut);
            cols.forEach((col, t) => {
              columns[slot]!.push(col);
              outputs[slot]!.push(Array.from(chunkOut.subarray(t * c.outChannels, (t + 1) * c.outChannels)));
            });
            continue;
          }
          // A random subset, in random order: devices do not all report every tick.
          const order = Array.from({ length: capacity }, (_, i) => i).sort(() => rng.uniform() - 0.5);
          const count = rng.int(capacity + 1);
          for (let i = 0; i < count; i++) {
            slots[i] = order[i]!;
            const col = newColumn();
            x.set(col, i * c.inChannels);
            columns[order[i]!]!.push(col);
          }
          batch.stepSlots(slots, count, x, out);
          for (let i = 0; i < count; i++) outputs[order[i]!]!.push(Array.from(out.subarray(i * c.outChannels, (i + 1) * c.outChannels)));
        }
        for (let slot = 0; slot < capacity; slot++) {
          const cols = columns[slot]!;
          expect(batch.samplesSeen(slot)).toBe(cols.length);
          if (cols.length === 0) continue;
          const alone = tcn.forward(fromRows(Float32Array.from(cols.flat()), c.inChannels, cols.length), kernel);
          const got = fromRows(Float32Array.from(outputs[slot]!.flat()), c.outChannels, cols.length);
          expectSameBits(got.data, alone.data, `slot ${slot}`);
        }
      }),
      { seed: FC_SEED + 1, numRuns: 100 },
    );
  });

  it('snapshots move between the fused and the GEMM engine; restore ≡ uninterrupted, reset ≡ fresh', () => {
    fc.assert(
      fc.property(configArb, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 30 }), (c, before, after) => {
        const tcn = makeTcn(c);
        const kernel = createWasmGemmKernel();
        const rng = new Rng(c.seed + 5);
        const x = inputs(rng, [1, c.inChannels, before + after]);
        const whole = tcn.forward(x, kernel);
        const rows = new Float32Array((before + after) * c.inChannels);
        for (let t = 0; t < before + after; t++) columnInto(x, t, rows, t * c.inChannels);
        const C = c.inChannels;
        const O = c.outChannels;
        const fused = new TcnBatchStream(tcn, 3, kernel);
        const gemm = new TcnBatchStream(tcn, 2, kernel, { engine: 'gemm' });
        expect([fused.engine, gemm.engine]).toEqual(['wasm-fused', 'gemm']);
        const first = new Float32Array(before * O);
        fused.pushChunkSlot(1, before, rows, first);
        gemm.pushChunkSlot(0, before, rows, new Float32Array(before * O));
        // Same state, same bits, from either engine.
        const snap = fused.snapshotSlot(1);
        const gemmSnap = gemm.snapshotSlot(0);
        expect(snap.seen).toBe(before);
        expect(snap.histories.length).toBe(2 * tcn.blocks.length);
        snap.histories.forEach((h, i) => expectSameBits(h, gemmSnap.histories[i]!, `history ${i}`));
        const rest = rows.subarray(before * C);
        const expectedRest = new Float32Array(after * O);
        for (let t = 0; t < after; t++) for (let o = 0; o < O; o++) expectedRest[t * O + o] = whole.data[o * (before + after) + before + t]!;
        // Fused → GEMM, GEMM → fused (another slot), fused → fused after scribbling on the slot.
        const a = new Float32Array(after * O);
        gemm.restoreSlot(1, snap);
        gemm.pushChunkSlot(1, after, rest, a);
        expectSameBits(a, expectedRest, 'fused→gemm');
        fused.restoreSlot(2, gemmSnap);
        expect(fused.samplesSeen(2)).toBe(before);
        expect(fused.isReady(2)).toBe(before >= tcn.receptiveField);
        fused.pushChunkSlot(2, after, rest, a);
        expectSameBits(a, expectedRest, 'gemm→fused');
        fused.pushChunkSlot(1, 5, inputs(rng, [5, C]).data, new Float32Array(5 * O));
        fused.restoreSlot(1, snap);
        fused.pushChunkSlot(1, after, rest, a);
        expectSameBits(a, expectedRest, 'fused→fused');
        // Reset: slot 1 behaves like a fresh stream; slot 2 is untouched by it.
        fused.resetSlot(1);
        expect(fused.samplesSeen(1)).toBe(0);
        const fresh = new Float32Array(before * O);
        fused.resetSlot(1);
        fused.pushChunkSlot(1, before, rows, fresh);
        expectSameBits(fresh, first, 'after reset');
        const zeros = fused.snapshotSlot(0);
        for (const h of zeros.histories) expect(h.every((v) => Object.is(v, 0))).toBe(true);
      }),
      { seed: FC_SEED + 2, numRuns: 60 },
    );
  });

  it('tcn-s: 300 single steps of 4 interleaved streams ≡ offline per stream, and within 1e-5 of the float64 JS kernel', () => {
    const config: TcnConfig = { inChannels: 8, outChannels: 8, hiddenChannels: 32, kernelSize: 3, dilations: [1, 2, 4, 8, 16] };
    const tcn = Tcn.create(config, new Rng(31));
    const kernel = createWasmGemmKernel();
    const rng = new Rng(32);
    const steps = 300;
    const xs = Array.from({ length: 4 }, () => inputs(rng, [1, 8, steps]));
    const batch = tcn.createBatchStream(4, kernel);
    expect(batch.engine).toBe('wasm-fused');
    const js = tcn.createBatchStream(4, jsGemmKernel);
    const x = new Float32Array(32);
    const out = new Float32Array(32);
    const jsOut = new Float32Array(32);
    const got = Array.from({ length: 4 }, () => tensor([1, 8, steps]));
    let worst = 0;
    for (let t = 0; t < steps; t++) {
      const ids = new Int32Array(t % 2 === 0 ? [3, 1, 0, 2] : [0, 2, 3, 1]);
      ids.forEach((s, i) => columnInto(xs[s]!, t, x, i * 8));
      batch.stepSlots(ids, 4, x, out);
      js.stepSlots(ids, 4, x, jsOut);
      ids.forEach((s, i) => {
        for (let o = 0; o < 8; o++) {
          got[s]!.data[o * steps + t] = out[i * 8 + o]!;
          worst = Math.max(worst, Math.abs(out[i * 8 + o]! - jsOut[i * 8 + o]!) / (1 + Math.abs(jsOut[i * 8 + o]!)));
        }
      });
    }
    for (let s = 0; s < 4; s++) expectSameBits(got[s]!.data, tcn.forward(xs[s]!, kernel).data, `stream ${s}`);
    expect(worst).toBeGreaterThan(0); // float32 vs float64 accumulation: close, not equal
    expect(worst).toBeLessThan(1e-5);
  });

  it('keeps the JS+GEMM path for other activations and kernels, and says why when fused is demanded', () => {
    const base: TcnConfig = { inChannels: 2, outChannels: 2, hiddenChannels: 3, kernelSize: 2, dilations: [1, 2] };
    const kernel = createWasmGemmKernel();
    const gelu = Tcn.create({ ...base, activation: 'gelu' }, new Rng(1));
    const relu = Tcn.create(base, new Rng(1));
    expect(gelu.createBatchStream(2, kernel).engine).toBe('gemm');
    expect(gelu.createStream(kernel).engine).toBe('gemm');
    expect(relu.createStream(jsGemmKernel).engine).toBe('gemm');
    expect(relu.createStream(kernel).engine).toBe('wasm-fused');
    expect(new TcnStream(relu, kernel, { engine: 'gemm' }).engine).toBe('gemm');
    expect(wasmTcnUnsupportedReason(gelu, kernel)).toMatch(/activation 'gelu' is not computed natively \(supported: relu, leaky-relu, identity\)/);
    expect(wasmTcnUnsupportedReason(relu, jsGemmKernel)).toMatch(/kernel 'js' is not a wasm-simd kernel from createWasmGemmKernel/);
    // A kernel that only borrows the name does not get the fused step (its arithmetic may differ).
    const impostor = { name: 'wasm-simd', pack: jsGemmKernel.pack.bind(jsGemmKernel) };
    expect(wasmTcnUnsupportedReason(relu, impostor)).toMatch(/kernel 'wasm-simd' is not a wasm-simd kernel from createWasmGemmKernel/);
    expect(wasmTcnUnsupportedReason(relu, kernel)).toBeNull();
    expect(() => new TcnBatchStream(relu, 2, jsGemmKernel, { engine: 'wasm-fused' })).toThrow(/engine 'wasm-fused' is not possible here: kernel 'js'/);
    expect(() => new TcnBatchStream(gelu, 2, kernel, { engine: 'wasm-fused' })).toThrow(/activation 'gelu'/);
    expect(() => new TcnBatchStream(relu, 2, kernel, { engine: 'fast' as 'gemm' })).toThrow(/engine must be 'auto', 'gemm' or 'wasm-fused', got 'fast'/);
    expect(() => new WasmTcnBatchStream(gelu, 1)).toThrow(/activation 'gelu' is not computed natively/);
    expect(() => new WasmTcnBatchStream(relu, 0)).toThrow(/capacity must be a positive integer, got 0/);
    expect(() => new WasmTcnBatchStream(relu, 1, { chunkRows: 2.5 })).toThrow(/chunkRows must be a positive integer, got 2.5/);
  });

  it('refuses bad slots, repeated slots and short arrays without changing any state', () => {
    const tcn = Tcn.create({ inChannels: 2, outChannels: 3, hiddenChannels: 4, kernelSize: 3, dilations: [1, 2] }, new Rng(4));
    const s: TcnBatchStreamLike = new WasmTcnBatchStream(tcn, 3);
    const x = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const out = new Float32Array(9);
    s.stepSlots(new Int32Array([0, 1]), 2, x, out);
    const before = [0, 1, 2].map((i) => s.snapshotSlot(i));
    expect(() => s.stepSlots(new Int32Array([0, 3]), 2, x, out)).toThrow(/slot 3 is outside \[0, 3\)/);
    expect(() => s.stepSlots(new Int32Array([2, 1, 2]), 3, Float32Array.from([...x, 7, 8]), out)).toThrow(/slot 2 appears twice in one step/);
    expect(() => s.stepSlots(new Int32Array([0, 1]), 4, x, out)).toThrow(/count 4 exceeds the 2 slots given/);
    expect(() => s.stepSlots(new Int32Array([0, 1]), 2, x.subarray(0, 3), out)).toThrow(/x holds 3 values, needs 2×2/);
    expect(() => s.stepSlots(new Int32Array([0, 1]), 2, x, out.subarray(0, 5))).toThrow(/out holds 5 values, needs 2×3/);
    expect(() => s.pushChunkSlot(1, 3, x.subarray(0, 5), out)).toThrow(/x holds 5 values, needs 3×2/);
    expect(() => s.pushChunkSlot(-1, 1, x, out)).toThrow(/slot -1 is outside/);
    expect(() => s.restoreSlot(0, { histories: [new Float32Array(4), new Float32Array(1), new Float32Array(16), new Float32Array(16)], seen: 1 })).toThrow(
      /ring restore: history has 1 values, expected 8 \(2 columns × 4 channels\)/,
    );
    expect(() => s.restoreSlot(0, { histories: [new Float32Array(4)], seen: 0 })).toThrow(/snapshot has 1 layer histories, this model has 4/);
    expect(() => s.restoreSlot(0, { histories: before[0]!.histories, seen: -1 })).toThrow(/seen must be a non-negative integer, got -1/);
    [0, 1, 2].forEach((i) => {
      const now = s.snapshotSlot(i);
      expect(now.seen).toBe(before[i]!.seen);
      now.histories.forEach((h, j) => expectSameBits(h, before[i]!.histories[j]!));
    });
    // The slot named twice was not marked as used for the next step either.
    s.stepSlots(new Int32Array([2, 1]), 2, x, out);
    expect([s.samplesSeen(0), s.samplesSeen(1), s.samplesSeen(2)]).toEqual([1, 2, 1]);
  });

  it('sizes its memory once: steps and long chunks do not grow it, and dropped streams are collected', () => {
    const tcn = Tcn.create({ inChannels: 8, outChannels: 8, hiddenChannels: 32, kernelSize: 3, dilations: [1, 2, 4, 8, 16] }, new Rng(7));
    const s = new WasmTcnBatchStream(tcn, 16, { chunkRows: 32 });
    const bytes = s.memoryBytes;
    // Weights (≈ 116 KB) + rings of 16 slots (16 × 15.7 KB) + scratch, in 64 KiB pages.
    expect(bytes).toBeGreaterThan(116_000 + 16 * 15_680);
    expect(bytes).toBeLessThan(1 << 20);
    const rng = new Rng(8);
    const long = inputs(rng, [1, 8, 1000]);
    const rows = new Float32Array(8000);
    for (let t = 0; t < 1000; t++) columnInto(long, t, rows, t * 8);
    s.pushChunkSlot(3, 1000, rows, new Float32Array(8000));
    s.stepSlots(Int32Array.from({ length: 16 }, (_, i) => i), 16, rows, new Float32Array(128));
    expect(s.memoryBytes).toBe(bytes);
    // Far more instances than a process could hold alive at once if they leaked (~13 000 here).
    const small = Tcn.create({ inChannels: 2, outChannels: 2, hiddenChannels: 4, kernelSize: 2, dilations: [1] }, new Rng(9));
    for (let i = 0; i < 15_000; i++) new WasmTcnBatchStream(small, 1).stepSlots(new Int32Array(1), 1, rows, new Float32Array(2));
  }, 120_000);
});
