import type { ActivationName, ActivationSpec } from './activations.js';
import type { GemmKernel } from './gemm.js';
import { isWasmSimdKernel } from './wasm-gemm.js';
import type { Tcn } from './tcn.js';
import type { TcnBatchStreamLike, TcnStreamSnapshot } from './tcn-stream.js';
import { createTcnStepInstance, TCN_STEP_ACTIVATION_CODES, type TcnStepExports, type TcnStepRing } from './wasm-tcn-instance.js';

/** Options of {@link WasmTcnBatchStream}. */
export interface WasmTcnBatchStreamOptions {
  /**
   * Columns one call computes in chunk mode (at least `capacity`, whose rows the scratch must
   * hold anyway); longer chunks run in pieces (same bits: streaming is chunking-invariant).
   * Scratch is sized for `max(capacity, chunkRows)` rows. Default
   * {@link WASM_TCN_DEFAULT_CHUNK_ROWS}; an integer ≥ 1.
   */
  chunkRows?: number;
}

/** Default {@link WasmTcnBatchStreamOptions.chunkRows}. */
export const WASM_TCN_DEFAULT_CHUNK_ROWS = 64;

/**
 * Activations the fused step computes itself, bit for bit as src/nn/activations.ts. The others
 * (gelu, tanh, sigmoid, elu) need transcendental functions whose WebAssembly versions would not
 * match V8's `Math.*` bit for bit, so models using them stream through the GEMM path.
 */
export const WASM_TCN_ACTIVATIONS: readonly ActivationName[] = ['relu', 'leaky-relu', 'identity'];

/** The kernel whose per-element arithmetic the fused step reproduces (docs/kernels.md). */
export const WASM_TCN_KERNEL_NAME = 'wasm-simd';

/** Below this many floats an element loop beats a native `set` (no call, no view). */
const SMALL_COPY = 64;

/**
 * Why {@link WasmTcnBatchStream} cannot stand in for the GEMM path of `tcn` with `kernel`, or
 * null if it can: the kernel must be the one whose arithmetic it reproduces (a kernel made by
 * `createWasmGemmKernel`, checked by identity: a kernel merely named {@link WASM_TCN_KERNEL_NAME}
 * does not qualify), and the activation one of {@link WASM_TCN_ACTIVATIONS}.
 * Says nothing about whether this runtime has WebAssembly SIMD.
 */
export function wasmTcnUnsupportedReason(tcn: Tcn, kernel: GemmKernel): string | null {
  if (!isWasmSimdKernel(kernel)) {
    return `kernel '${kernel.name}' is not a ${WASM_TCN_KERNEL_NAME} kernel from createWasmGemmKernel (the fused step reproduces that kernel's arithmetic only)`;
  }
  return unsupportedActivation(tcn.architecture.activation);
}

function unsupportedActivation(spec: Required<ActivationSpec>): string | null {
  return TCN_STEP_ACTIVATION_CODES[spec.name] === undefined
    ? `activation '${spec.name}' is not computed natively (supported: ${WASM_TCN_ACTIVATIONS.join(', ')})`
    : null;
}

/**
 * `TcnBatchStream`'s contract — many independent TCN streams (slots), advanced together one
 * column each ({@link stepSlots}) or one slot by a chunk ({@link pushChunkSlot}) — with the whole
 * network fused into one WebAssembly call per step: taps are read from the rings in place, the
 * products use the `wasm-simd` GEMM's per-element arithmetic, and bias, activation, ring pushes,
 * residual adds and the head run in the same call. Outputs are bit for bit those of
 * `tcn.forward(x, createWasmGemmKernel())` over each slot's stream, whatever the chunking or the
 * subset of slots stepping.
 *
 * Each stream owns one WebAssembly instance holding the packed weights, every slot's rings and
 * the scratch, all sized at construction: nothing grows or is allocated per step, and the whole
 * instance is garbage-collected with the stream. A process can hold on the order of ten thousand
 * live instances (each reserves address space), so serve many devices from one batch stream
 * rather than one stream per device. Snapshots have the {@link TcnStreamSnapshot} format of the
 * GEMM path, so state moves freely between the two.
 *
 * Usually reached through `tcn.createBatchStream(capacity, wasmKernel)`, which picks it when it
 * applies (see {@link wasmTcnUnsupportedReason}).
 */
export class WasmTcnBatchStream implements TcnBatchStreamLike {
  readonly capacity: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly receptiveField: number;
  /** The option as given; chunks run in pieces of `max(capacity, chunkRows)` columns. */
  readonly chunkRows: number;
  private readonly wasm: TcnStepExports;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly rings: readonly TcnStepRing[];
  private readonly seen: Float64Array;
  /** Per slot, the stamp of the last step that named it (repeated slots in one step are refused). */
  private readonly marks: Int32Array;
  private stamp = 0;
  private readonly rows: number;
  private readonly net: number;
  private readonly slotsAt: number;
  private readonly inAt: number;
  private readonly outAt: number;
  private readonly outStride: number;

  /**
   * Packs `tcn`'s weights (later edits to the model are not seen) into a new instance.
   * @throws Error if `capacity` or `chunkRows` is not a positive integer, if the activation is
   *   not one of {@link WASM_TCN_ACTIVATIONS}, or if the runtime lacks WebAssembly SIMD;
   *   RangeError if the instance's memory cannot hold the model and `capacity` slots.
   */
  constructor(tcn: Tcn, capacity: number, options: WasmTcnBatchStreamOptions = {}) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`WasmTcnBatchStream: capacity must be a positive integer, got ${capacity}`);
    const chunkRows = options.chunkRows ?? WASM_TCN_DEFAULT_CHUNK_ROWS;
    if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new Error(`WasmTcnBatchStream: chunkRows must be a positive integer, got ${chunkRows}`);
    const arch = tcn.architecture;
    const actReason = unsupportedActivation(arch.activation);
    if (actReason !== null) throw new Error(`WasmTcnBatchStream: ${actReason}`);
    this.capacity = capacity;
    this.chunkRows = chunkRows;
    this.inChannels = arch.inChannels;
    this.outChannels = arch.outChannels;
    this.receptiveField = tcn.receptiveField;
    this.seen = new Float64Array(capacity);
    this.marks = new Int32Array(capacity);
    this.rows = Math.max(capacity, chunkRows);
    const instance = createTcnStepInstance(tcn, capacity, this.rows);
    this.wasm = instance.exports;
    this.f32 = instance.f32;
    this.i32 = instance.i32;
    this.net = instance.net;
    this.slotsAt = instance.slotsAt;
    this.inAt = instance.inAt;
    this.outAt = instance.outAt;
    this.outStride = instance.outStride;
    this.rings = instance.rings;
  }

  /** Bytes of linear memory this stream's instance holds (weights, rings, scratch). */
  get memoryBytes(): number {
    return this.f32.buffer.byteLength;
  }

  /** Inputs slot `slot` has consumed since its creation or last reset. */
  samplesSeen(slot: number): number {
    return this.seen[this.checkSlot(slot)] as number;
  }

  /** Whether slot `slot`'s latest output depends on real inputs only (its receptive field is filled). */
  isReady(slot: number): boolean {
    return this.samplesSeen(slot) >= this.receptiveField;
  }

  /**
   * Advances `count` slots by one column each, in one WebAssembly call. `slots[0..count)` must be
   * distinct slot indices; `x` holds their inputs `[count, inChannels]`; `out` receives
   * `[count, outChannels]`. Allocation-free.
   * @throws Error on a bad slot index, a repeated slot or short arrays (state unchanged).
   */
  stepSlots(slots: Int32Array, count: number, x: Float32Array, out: Float32Array): void {
    if (count === 0) return;
    if (!Number.isInteger(count) || count < 0 || count > this.capacity || count > slots.length) {
      throw new Error(`WasmTcnBatchStream.stepSlots: count ${count} exceeds the ${Math.min(this.capacity, slots.length)} slots given`);
    }
    const C = this.inChannels;
    if (x.length < count * C) throw new Error(`WasmTcnBatchStream.stepSlots: x holds ${x.length} values, needs ${count}×${C}`);
    if (out.length < count * this.outChannels) throw new Error(`WasmTcnBatchStream.stepSlots: out holds ${out.length} values, needs ${count}×${this.outChannels}`);
    const { i32, marks, slotsAt } = this;
    if (this.stamp === 0x7fff_ffff) {
      marks.fill(0);
      this.stamp = 0;
    }
    const stamp = ++this.stamp;
    const at = slotsAt >> 2;
    for (let i = 0; i < count; i++) {
      const s = this.checkSlot(slots[i] as number);
      // A repeated slot would read history that the same call is about to overwrite.
      if (marks[s] === stamp) throw new Error(`WasmTcnBatchStream.stepSlots: slot ${s} appears twice in one step`);
      marks[s] = stamp;
      i32[at + i] = s;
    }
    this.copyIn(x, 0, count * C);
    this.wasm.run(this.net, count, slotsAt, 0, this.inAt);
    this.copyOut(out, 0, count);
    const seen = this.seen;
    for (let i = 0; i < count; i++) seen[slots[i] as number] += 1;
  }

  /**
   * Advances one slot by a chunk of `length` columns, time-major: `x` is `[length, inChannels]`,
   * `out` receives `[length, outChannels]`. One WebAssembly call per `max(capacity, chunkRows)`
   * columns. Allocation-free.
   * @throws Error on a bad slot index or short arrays (state unchanged).
   */
  pushChunkSlot(slot: number, length: number, x: Float32Array, out: Float32Array): void {
    this.checkSlot(slot);
    if (length === 0) return;
    if (!Number.isInteger(length) || length < 0) throw new Error(`WasmTcnBatchStream.pushChunkSlot: length must be a non-negative integer, got ${length}`);
    const C = this.inChannels;
    if (x.length < length * C) throw new Error(`WasmTcnBatchStream.pushChunkSlot: x holds ${x.length} values, needs ${length}×${C}`);
    if (out.length < length * this.outChannels) throw new Error(`WasmTcnBatchStream.pushChunkSlot: out holds ${out.length} values, needs ${length}×${this.outChannels}`);
    const piece = this.rows;
    for (let t0 = 0; t0 < length; t0 += piece) {
      const n = Math.min(piece, length - t0);
      this.copyIn(x, t0 * C, n * C);
      this.wasm.run(this.net, n, 0, slot, this.inAt);
      this.copyOut(out, t0, n);
    }
    this.seen[slot] += length;
  }

  /** Slot `slot` back to a fresh stream (zero history, not ready). */
  resetSlot(slot: number): void {
    this.checkSlot(slot);
    for (const r of this.rings) {
      const n = r.history * r.channels;
      if (n === 0) continue;
      this.f32.fill(0, r.ringAt + slot * n, r.ringAt + (slot + 1) * n);
      this.i32[r.headsAt + slot] = 0;
    }
    this.seen[slot] = 0;
  }

  /** A copy of slot `slot`'s state, in the format of every TCN batch stream. */
  snapshotSlot(slot: number): TcnStreamSnapshot {
    this.checkSlot(slot);
    const histories: Float32Array[] = [];
    for (const r of this.rings) {
      const { channels: C, history: H } = r;
      const out = new Float32Array(H * C);
      const base = r.ringAt + slot * H * C;
      const head = this.i32[r.headsAt + slot] as number;
      for (let b = 0; b < H; b++) {
        const src = base + ((head + b) % H) * C;
        for (let c = 0; c < C; c++) out[b * C + c] = this.f32[src + c] as number;
      }
      histories.push(out);
    }
    return { histories, seen: this.seen[slot] as number };
  }

  /**
   * Loads a state taken from a stream of the same architecture (either implementation) into
   * slot `slot`. Checks everything before changing anything.
   * @throws Error if the snapshot's layer count, sizes or count of inputs do not fit.
   */
  restoreSlot(slot: number, snapshot: TcnStreamSnapshot): void {
    this.checkSlot(slot);
    const rings = this.rings;
    if (snapshot.histories.length !== rings.length) {
      throw new Error(`TCN stream restore: snapshot has ${snapshot.histories.length} layer histories, this model has ${rings.length}`);
    }
    if (!Number.isInteger(snapshot.seen) || snapshot.seen < 0) throw new Error(`TCN stream restore: seen must be a non-negative integer, got ${snapshot.seen}`);
    rings.forEach((r, i) => {
      const n = r.history * r.channels;
      const h = snapshot.histories[i] as Float32Array;
      if (h.length !== n) throw new Error(`ring restore: history has ${h.length} values, expected ${n} (${r.history} columns × ${r.channels} channels)`);
    });
    rings.forEach((r, i) => {
      if (r.history === 0) return;
      this.f32.set(snapshot.histories[i] as Float32Array, r.ringAt + slot * r.history * r.channels);
      this.i32[r.headsAt + slot] = 0;
    });
    this.seen[slot] = snapshot.seen;
  }

  private checkSlot(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.capacity) {
      throw new Error(`WasmTcnBatchStream: slot ${slot} is outside [0, ${this.capacity})`);
    }
    return slot;
  }

  /** `x[from .. from + count)` into the input rows (contiguous, `inChannels` floats per row). */
  private copyIn(x: Float32Array, from: number, count: number): void {
    const f32 = this.f32;
    const at = this.inAt >> 2;
    if (count > SMALL_COPY && from === 0 && x.length <= count + SMALL_COPY) {
      // Whole-array native copy: no view to allocate, a few spare values are harmless.
      if (x.length <= this.rows * this.inChannels) {
        f32.set(x, at);
        return;
      }
    }
    const shift = at - from;
    const end = from + count;
    let t = from;
    for (; t + 4 <= end; t += 4) {
      f32[shift + t] = x[t] as number;
      f32[shift + t + 1] = x[t + 1] as number;
      f32[shift + t + 2] = x[t + 2] as number;
      f32[shift + t + 3] = x[t + 3] as number;
    }
    for (; t < end; t++) f32[shift + t] = x[t] as number;
  }

  /** `rows` output rows (padded in memory) to `out[firstRow·outChannels …]`, packed. */
  private copyOut(out: Float32Array, firstRow: number, rows: number): void {
    const { f32, outStride: ld, outChannels: n } = this;
    const at = this.outAt >> 2;
    let o = firstRow * n;
    if (ld === n) {
      const end = at + rows * n;
      for (let s = at; s < end; s++, o++) out[o] = f32[s] as number;
      return;
    }
    for (let r = 0; r < rows; r++) {
      const src = at + r * ld;
      for (let j = 0; j < n; j++, o++) out[o] = f32[src + j] as number;
    }
  }
}
