import type { Activation } from './activations.js';
import { CausalConvRing } from './causal-conv-ring.js';
import { packConvGroups } from './conv-packing.js';
import type { Conv1d } from './conv1d-layer.js';
import type { GemmKernel, PackedMatrix } from './gemm.js';
import { formatShape, type Tensor } from './tensor.js';
import type { Tcn } from './tcn.js';
import { WasmTcnBatchStream, wasmTcnUnsupportedReason } from './wasm-tcn-stream.js';

/** Per-stream state of a TCN: every causal conv's history plus the count of inputs seen. */
export interface TcnStreamSnapshot {
  /** One history per causal conv, in order (block 0 conv1, block 0 conv2, block 1 conv1, …), each `[H, C]` oldest first. */
  readonly histories: readonly Float32Array[];
  /** Inputs this stream has consumed. */
  readonly seen: number;
}

/**
 * What every TCN batch stream offers: `capacity` independent streams (slots) advanced together
 * one column each, or one slot by a chunk, each slot's outputs equal to the offline network over
 * its own stream. Implemented by {@link TcnBatchStream} (which delegates to an engine) and by
 * `WasmTcnBatchStream`.
 */
export interface TcnBatchStreamLike {
  readonly capacity: number;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Inputs one output depends on. */
  readonly receptiveField: number;
  samplesSeen(slot: number): number;
  isReady(slot: number): boolean;
  stepSlots(slots: Int32Array, count: number, x: Float32Array, out: Float32Array): void;
  pushChunkSlot(slot: number, length: number, x: Float32Array, out: Float32Array): void;
  resetSlot(slot: number): void;
  snapshotSlot(slot: number): TcnStreamSnapshot;
  restoreSlot(slot: number, snapshot: TcnStreamSnapshot): void;
}

/**
 * How a batch stream computes:
 * - `'gemm'`: per layer, gathers in JS and one product through the kernel (any kernel, any activation);
 * - `'wasm-fused'`: the whole network in one WebAssembly call per step (`WasmTcnBatchStream`);
 *   needs the `'wasm-simd'` kernel's arithmetic and a relu, leaky-relu or identity activation;
 * - `'auto'`: `'wasm-fused'` where it applies and its instance can be created, else `'gemm'`.
 */
export type TcnStreamEngine = 'auto' | 'gemm' | 'wasm-fused';

/** Options of {@link TcnBatchStream} and {@link TcnStream}. */
export interface TcnBatchStreamOptions {
  /** Default `'auto'`. Both engines give the same bits for the same kernel. */
  engine?: TcnStreamEngine;
  /** `'wasm-fused'` only: most columns per call in chunk mode (default 64). */
  chunkRows?: number;
}

/**
 * Many independent TCN streams (e.g. one per device) in one object: the public face of both
 * engines ({@link TcnStreamEngine}). A call advances any subset of slots by one column each, or
 * one slot by a whole chunk; both give, per slot, exactly the numbers of {@link Tcn.forward}
 * with the same kernel over that slot's stream. Snapshots move between engines.
 */
export class TcnBatchStream implements TcnBatchStreamLike {
  readonly capacity: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly receptiveField: number;
  /** The engine serving this stream (what `'auto'` chose). */
  readonly engine: 'gemm' | 'wasm-fused';
  private readonly impl: TcnBatchStreamLike;

  /**
   * @throws Error if `capacity` is not a positive integer; if `engine` is unknown, or is
   *   `'wasm-fused'` while the kernel or activation does not allow it (the reason is named) or
   *   the runtime lacks WebAssembly SIMD.
   */
  constructor(tcn: Tcn, capacity: number, kernel: GemmKernel, options: TcnBatchStreamOptions = {}) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`TcnBatchStream: capacity must be a positive integer, got ${capacity}`);
    const engine = options.engine ?? 'auto';
    if (engine !== 'auto' && engine !== 'gemm' && engine !== 'wasm-fused') {
      throw new Error(`TcnBatchStream: engine must be 'auto', 'gemm' or 'wasm-fused', got '${String(engine)}'`);
    }
    let impl: TcnBatchStreamLike | null = null;
    if (engine !== 'gemm') {
      const reason = wasmTcnUnsupportedReason(tcn, kernel);
      if (reason !== null && engine === 'wasm-fused') throw new Error(`TcnBatchStream: engine 'wasm-fused' is not possible here: ${reason}`);
      if (reason === null) {
        try {
          impl = new WasmTcnBatchStream(tcn, capacity, options.chunkRows === undefined ? {} : { chunkRows: options.chunkRows });
        } catch (e) {
          // 'auto' only: e.g. address space for instances exhausted; the GEMM path gives the same bits.
          if (engine === 'wasm-fused') throw e;
        }
      }
    }
    this.engine = impl === null ? 'gemm' : 'wasm-fused';
    this.impl = impl ?? new GemmTcnBatchStream(tcn, capacity, kernel);
    this.capacity = capacity;
    this.inChannels = this.impl.inChannels;
    this.outChannels = this.impl.outChannels;
    this.receptiveField = this.impl.receptiveField;
  }

  /** Inputs slot `slot` has consumed since its creation or last reset. */
  samplesSeen(slot: number): number {
    return this.impl.samplesSeen(slot);
  }

  /** Whether slot `slot`'s latest output depends on real inputs only (its receptive field is filled). */
  isReady(slot: number): boolean {
    return this.impl.isReady(slot);
  }

  /**
   * Advances `count` slots by one column each. `slots[0..count)` must be distinct slot indices;
   * `x` holds their inputs `[count, inChannels]`; `out` receives `[count, outChannels]`.
   * Allocation-free once scratch has grown to the largest `count`.
   * @throws Error on a bad slot index, a repeated slot or short arrays.
   */
  stepSlots(slots: Int32Array, count: number, x: Float32Array, out: Float32Array): void {
    this.impl.stepSlots(slots, count, x, out);
  }

  /**
   * Advances one slot by a chunk of `length` columns, time-major: `x` is `[length, inChannels]`,
   * `out` receives `[length, outChannels]`.
   * @throws Error on a bad slot index or short arrays.
   */
  pushChunkSlot(slot: number, length: number, x: Float32Array, out: Float32Array): void {
    this.impl.pushChunkSlot(slot, length, x, out);
  }

  /** Slot `slot` back to a fresh stream (zero history, not ready). */
  resetSlot(slot: number): void {
    this.impl.resetSlot(slot);
  }

  /** A copy of slot `slot`'s state. */
  snapshotSlot(slot: number): TcnStreamSnapshot {
    return this.impl.snapshotSlot(slot);
  }

  /**
   * Loads a state taken from a stream of the same architecture into slot `slot`.
   * @throws Error if the snapshot's layer count or sizes do not match.
   */
  restoreSlot(slot: number, snapshot: TcnStreamSnapshot): void {
    this.impl.restoreSlot(slot, snapshot);
  }
}

interface CausalLayer {
  readonly ring: CausalConvRing;
  readonly mat: PackedMatrix;
  readonly cin: number;
  readonly cout: number;
}

interface BlockState {
  readonly conv1: CausalLayer;
  readonly conv2: CausalLayer;
  readonly downsample: PackedMatrix | null;
  readonly cout: number;
}

function packLayer(conv: Conv1d, kernel: GemmKernel): PackedMatrix {
  const o = conv.options;
  const packed = packConvGroups(conv.weight.data, conv.bias === null ? null : conv.bias.data, o.outChannels, o.inChannels, o.kernelSize, 1, kernel);
  return packed[0] as PackedMatrix;
}

/**
 * The `'gemm'` engine. Each slot has its own ring buffers; a call advances any subset of slots by
 * one column each, and every layer becomes one matrix product over those slots
 * (`[count, K·C] × [K·C, Cout]`), or one slot by a whole chunk.
 *
 * Scratch grows to the largest `count` or chunk seen, then nothing is allocated per step.
 */
class GemmTcnBatchStream implements TcnBatchStreamLike {
  readonly capacity: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly receptiveField: number;
  private readonly blocks: BlockState[];
  private readonly head: PackedMatrix;
  private readonly act: Activation;
  private readonly seen: Float64Array;
  private readonly maxChannels: number;
  private readonly maxKd: number;
  private rowsCapacity = 0;
  private cols = new Float32Array(0);
  private bufA = new Float32Array(0);
  private bufB = new Float32Array(0);
  private bufC = new Float32Array(0);
  private bufD = new Float32Array(0);

  /** @throws Error if `capacity` is not a positive integer. */
  constructor(tcn: Tcn, capacity: number, kernel: GemmKernel) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`TcnBatchStream: capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    const arch = tcn.architecture;
    this.inChannels = arch.inChannels;
    this.outChannels = arch.outChannels;
    this.receptiveField = tcn.receptiveField;
    this.act = tcn.activation;
    this.seen = new Float64Array(capacity);
    let maxC = Math.max(arch.inChannels, arch.outChannels);
    let maxKd = 0;
    this.blocks = tcn.blocks.map((b) => {
      const cin = b.conv1.options.inChannels;
      const cout = b.conv1.options.outChannels;
      maxC = Math.max(maxC, cin, cout);
      maxKd = Math.max(maxKd, arch.kernelSize * Math.max(cin, cout));
      const layer = (conv: Conv1d): CausalLayer => ({
        ring: new CausalConvRing(capacity, conv.options.inChannels, arch.kernelSize, b.dilation),
        mat: packLayer(conv, kernel),
        cin: conv.options.inChannels,
        cout: conv.options.outChannels,
      });
      return { conv1: layer(b.conv1), conv2: layer(b.conv2), downsample: b.downsample === null ? null : packLayer(b.downsample, kernel), cout };
    });
    this.head = packLayer(tcn.head, kernel);
    this.maxChannels = maxC;
    this.maxKd = maxKd;
  }

  samplesSeen(slot: number): number {
    return this.seen[this.checkSlot(slot)] as number;
  }

  isReady(slot: number): boolean {
    return this.samplesSeen(slot) >= this.receptiveField;
  }

  stepSlots(slots: Int32Array, count: number, x: Float32Array, out: Float32Array): void {
    if (count === 0) return;
    if (count > this.capacity || count > slots.length) throw new Error(`TcnBatchStream.stepSlots: count ${count} exceeds the ${Math.min(this.capacity, slots.length)} slots given`);
    if (x.length < count * this.inChannels) throw new Error(`TcnBatchStream.stepSlots: x holds ${x.length} values, needs ${count}×${this.inChannels}`);
    if (out.length < count * this.outChannels) throw new Error(`TcnBatchStream.stepSlots: out holds ${out.length} values, needs ${count}×${this.outChannels}`);
    for (let i = 0; i < count; i++) {
      const s = this.checkSlot(slots[i] as number);
      // A repeated slot would read history that the same call is about to overwrite.
      for (let j = 0; j < i; j++) if (slots[j] === s) throw new Error(`TcnBatchStream.stepSlots: slot ${s} appears twice in one step`);
    }
    this.ensureRows(count);
    this.run(count, x, out, slots, -1);
    for (let i = 0; i < count; i++) this.seen[slots[i] as number] += 1;
  }

  pushChunkSlot(slot: number, length: number, x: Float32Array, out: Float32Array): void {
    this.checkSlot(slot);
    if (length === 0) return;
    if (x.length < length * this.inChannels) throw new Error(`TcnBatchStream.pushChunkSlot: x holds ${x.length} values, needs ${length}×${this.inChannels}`);
    if (out.length < length * this.outChannels) throw new Error(`TcnBatchStream.pushChunkSlot: out holds ${out.length} values, needs ${length}×${this.outChannels}`);
    this.ensureRows(length);
    this.run(length, x, out, null, slot);
    this.seen[slot] += length;
  }

  resetSlot(slot: number): void {
    this.checkSlot(slot);
    for (const b of this.blocks) {
      b.conv1.ring.resetSlot(slot);
      b.conv2.ring.resetSlot(slot);
    }
    this.seen[slot] = 0;
  }

  snapshotSlot(slot: number): TcnStreamSnapshot {
    this.checkSlot(slot);
    const histories: Float32Array[] = [];
    for (const b of this.blocks) histories.push(b.conv1.ring.snapshotSlot(slot), b.conv2.ring.snapshotSlot(slot));
    return { histories, seen: this.seen[slot] as number };
  }

  restoreSlot(slot: number, snapshot: TcnStreamSnapshot): void {
    this.checkSlot(slot);
    const n = this.blocks.length * 2;
    if (snapshot.histories.length !== n) throw new Error(`TCN stream restore: snapshot has ${snapshot.histories.length} layer histories, this model has ${n}`);
    if (!Number.isInteger(snapshot.seen) || snapshot.seen < 0) throw new Error(`TCN stream restore: seen must be a non-negative integer, got ${snapshot.seen}`);
    // Check every history before changing any, so a bad snapshot leaves the slot as it was.
    this.blocks.forEach((b, i) => {
      for (const [ring, h] of [[b.conv1.ring, snapshot.histories[2 * i]], [b.conv2.ring, snapshot.histories[2 * i + 1]]] as const) {
        const n = ring.historyLength * ring.channels;
        if (h === undefined || h.length !== n) {
          throw new Error(`ring restore: history has ${h?.length} values, expected ${n} (${ring.historyLength} columns × ${ring.channels} channels)`);
        }
      }
    });
    this.blocks.forEach((b, i) => {
      b.conv1.ring.restoreSlot(slot, snapshot.histories[2 * i] as Float32Array);
      b.conv2.ring.restoreSlot(slot, snapshot.histories[2 * i + 1] as Float32Array);
    });
    this.seen[slot] = snapshot.seen;
  }

  private checkSlot(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.capacity) {
      throw new Error(`TcnBatchStream: slot ${slot} is outside [0, ${this.capacity})`);
    }
    return slot;
  }

  private ensureRows(rows: number): void {
    if (rows <= this.rowsCapacity) return;
    let cap = Math.max(this.rowsCapacity, 1);
    while (cap < rows) cap *= 2;
    this.rowsCapacity = cap;
    this.cols = new Float32Array(cap * this.maxKd);
    this.bufA = new Float32Array(cap * this.maxChannels);
    this.bufB = new Float32Array(cap * this.maxChannels);
    this.bufC = new Float32Array(cap * this.maxChannels);
    this.bufD = new Float32Array(cap * this.maxChannels);
  }

  /**
   * The layer sequence shared by step and chunk mode; only how im2col rows are gathered and how
   * history is appended differ. Rows are time- or slot-major `[m, C]` throughout.
   */
  /** Step mode (`slots` given): row i is slot `slots[i]`'s new column. Chunk mode (`slots` null): `m` columns of slot `chunkSlot`. */
  private gather(layer: CausalLayer, m: number, cur: Float32Array, slots: Int32Array | null, chunkSlot: number): void {
    if (slots !== null) layer.ring.gatherStep(slots, m, cur, this.cols, 0, layer.cin);
    else layer.ring.gatherChunk(chunkSlot, m, cur, 0, 1, this.cols, 0, layer.cin);
  }

  private push(layer: CausalLayer, m: number, cur: Float32Array, slots: Int32Array | null, chunkSlot: number): void {
    if (slots !== null) layer.ring.pushStep(slots, m, cur);
    else layer.ring.pushChunk(chunkSlot, m, cur);
  }

  private run(m: number, x: Float32Array, out: Float32Array, slots: Int32Array | null, chunkSlot: number): void {
    const act = this.act;
    const cols = this.cols;
    let cur = x;
    // Rotate through scratch buffers so a block's input stays readable until its residual add.
    let h1 = this.bufA;
    let h2 = this.bufB;
    let res = this.bufC;
    let spare = this.bufD;
    for (const b of this.blocks) {
      const c = b.cout;
      this.gather(b.conv1, m, cur, slots, chunkSlot);
      b.conv1.mat.run(m, cols, 0, h1, 0, c);
      act.applyInPlace(h1, 0, m * c);
      this.push(b.conv1, m, cur, slots, chunkSlot);
      this.gather(b.conv2, m, h1, slots, chunkSlot);
      b.conv2.mat.run(m, cols, 0, h2, 0, c);
      act.applyInPlace(h2, 0, m * c);
      this.push(b.conv2, m, h1, slots, chunkSlot);
      let r = cur;
      if (b.downsample !== null) {
        b.downsample.run(m, cur, 0, res, 0, c);
        r = res;
      }
      for (let i = 0, n = m * c; i < n; i++) h2[i] = h2[i] + r[i];
      act.applyInPlace(h2, 0, m * c);
      cur = h2;
      // h2 is the next block's input and is not written by it; the other three are free again.
      const next = h2;
      h2 = res;
      res = spare;
      spare = next;
    }
    this.head.run(m, cur, 0, out, 0, this.outChannels);
  }
}

/**
 * One TCN stream (one device) that takes chunks `[1, C, L]` of any length `L ≥ 0`.
 * Concatenated outputs equal {@link Tcn.forward} over the whole stream, whatever the chunking.
 */
export class TcnStream {
  private readonly batch: TcnBatchStream;
  private inScratch = new Float32Array(0);
  private outScratch = new Float32Array(0);

  /** @throws Error as {@link TcnBatchStream}'s constructor does for `options`. */
  constructor(tcn: Tcn, kernel: GemmKernel, options: TcnBatchStreamOptions = {}) {
    this.batch = new TcnBatchStream(tcn, 1, kernel, options);
  }

  /** The engine serving this stream (see {@link TcnStreamEngine}). */
  get engine(): 'gemm' | 'wasm-fused' {
    return this.batch.engine;
  }

  get receptiveField(): number {
    return this.batch.receptiveField;
  }

  /** Inputs consumed since creation or reset. */
  get samplesSeen(): number {
    return this.batch.samplesSeen(0);
  }

  /** Whether the receptive field is filled, so outputs no longer depend on the zero padding. */
  get ready(): boolean {
    return this.batch.isReady(0);
  }

  /**
   * `[1, inChannels, L]` → `[1, outChannels, L]`.
   * @throws Error for a chunk of another shape.
   */
  push(chunk: Tensor): Tensor {
    const { inChannels: cin, outChannels: cout } = this.batch;
    const s = chunk.shape;
    if (s.length !== 3 || s[0] !== 1 || s[1] !== cin || chunk.data.length !== cin * (s[2] as number)) {
      throw new Error(`TcnStream.push: chunk must be [1, ${cin}, L], got ${formatShape(s)}`);
    }
    const length = s[2] as number;
    if (this.inScratch.length < length * cin) this.inScratch = new Float32Array(length * cin);
    if (this.outScratch.length < length * cout) this.outScratch = new Float32Array(length * cout);
    const xin = this.inScratch;
    for (let c = 0; c < cin; c++) for (let t = 0; t < length; t++) xin[t * cin + c] = chunk.data[c * length + t];
    this.batch.pushChunkSlot(0, length, xin, this.outScratch);
    const out = new Float32Array(cout * length);
    for (let c = 0; c < cout; c++) for (let t = 0; t < length; t++) out[c * length + t] = this.outScratch[t * cout + c];
    return { shape: [1, cout, length], data: out };
  }

  /** One reading in (`[inChannels]`), its forecast out (`[outChannels]`). Allocation-free. */
  step(x: Float32Array, out: Float32Array): void {
    this.batch.pushChunkSlot(0, 1, x, out);
  }

  reset(): void {
    this.batch.resetSlot(0);
  }

  snapshot(): TcnStreamSnapshot {
    return this.batch.snapshotSlot(0);
  }

  /** @throws Error if the snapshot does not fit this model. */
  restore(snapshot: TcnStreamSnapshot): void {
    this.batch.restoreSlot(0, snapshot);
  }
}
