import type { GemmKernel } from './gemm.js';
import { GemmTcnBatchStream } from './gemm-tcn-batch-stream.js';
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
