import type { ActivationName, ActivationSpec } from './activations.js';
import { packConvWeight } from './conv-packing.js';
import type { Conv1d } from './conv1d-layer.js';
import type { GemmKernel } from './gemm.js';
import type { Tcn } from './tcn.js';
import type { TcnBatchStreamLike, TcnStreamSnapshot } from './tcn-stream.js';
import { TCN_STEP_WASM_BASE64 } from './wasm/tcn-step-binary.generated.js';

/** Options of {@link WasmTcnBatchStream}. */
export interface WasmTcnBatchStreamOptions {
  /**
   * Most columns one call computes in chunk mode; longer chunks run in pieces (same bits, since
   * streaming is chunking-invariant). Scratch is sized for `max(capacity, chunkRows)` rows.
   * Default {@link WASM_TCN_DEFAULT_CHUNK_ROWS}; an integer ≥ 1.
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

/** Must equal `abiVersion()` of src/nn/wasm/assembly/tcn-step.ts (the record layout below). */
const ABI_VERSION = 1;

// Record layout shared with src/nn/wasm/assembly/tcn-step.ts (byte offsets; see its header).
const NET_BLOCKS = 0;
const NET_ACTIVATION = 4;
const NET_SLOPE = 8;
const NET_IN_STRIDE = 16;
const NET_BUFS = 20; // four u32 addresses
const NET_OUT = 40;
const NET_TAPS = 44;
const NET_HEAD = 48;
const NET_FIRST_BLOCK = 52;
const LAYER_BYTES = 64;
const L_CIN = 0;
const L_COUT = 4;
const L_NP = 8;
const L_TAPS = 12;
const L_DILATION = 16;
const L_HISTORY = 20;
const L_WEIGHTS = 24;
const L_BIAS = 28;
const L_RINGS = 32;
const L_HEADS = 36;
const ACTIVATION_CODES: Readonly<Record<string, number>> = { identity: 0, relu: 1, 'leaky-relu': 2 };

/** Every region starts on a cache line. */
const ALIGN = 64;
/** wasm32 addresses 4 GiB; stay well inside. */
const MAX_MEMORY_BYTES = 0xc000_0000;
const PAGE_BYTES = 65536;
/** Below this many floats an element loop beats a native `set` (no call, no view). */
const SMALL_COPY = 64;

// The few members of the WebAssembly JS API used here, declared locally as in wasm-gemm.ts.
interface WasmJsApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

/** Exports of src/nn/wasm/assembly/tcn-step.ts (addresses in bytes). */
interface TcnStepExports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  abiVersion(): number;
  heapBase(): number;
  run(net: number, m: number, slots: number, chunkSlot: number, input: number): void;
}

function instantiate(): TcnStepExports {
  const api = (globalThis as { WebAssembly?: WasmJsApi }).WebAssembly;
  if (api === undefined) throw new Error('wasm tcn step: this runtime has no WebAssembly');
  const bytes = new Uint8Array(Buffer.from(TCN_STEP_WASM_BASE64, 'base64'));
  if (!api.validate(bytes)) throw new Error('wasm tcn step: this runtime rejects the module (no fixed-width SIMD support?)');
  const { exports } = new api.Instance(new api.Module(bytes), {});
  const { memory, abiVersion, heapBase, run } = exports;
  if (typeof run !== 'function' || typeof heapBase !== 'function' || typeof abiVersion !== 'function' || typeof memory !== 'object' || memory === null) {
    throw new Error('wasm tcn step: the embedded module lacks the expected exports (stale build? run `npm run build:wasm`)');
  }
  const ex = exports as unknown as TcnStepExports;
  if (ex.abiVersion() !== ABI_VERSION) {
    throw new Error(`wasm tcn step: the embedded module has layout version ${ex.abiVersion()}, this loader writes ${ABI_VERSION} (stale build? run \`npm run build:wasm\`)`);
  }
  return ex;
}

/**
 * Why {@link WasmTcnBatchStream} cannot stand in for the GEMM path of `tcn` with `kernel`, or
 * null if it can: the kernel must be the one whose arithmetic it reproduces (its declared name
 * {@link WASM_TCN_KERNEL_NAME}), and the activation one of {@link WASM_TCN_ACTIVATIONS}.
 * Says nothing about whether this runtime has WebAssembly SIMD.
 */
export function wasmTcnUnsupportedReason(tcn: Tcn, kernel: GemmKernel): string | null {
  if (kernel.name !== WASM_TCN_KERNEL_NAME) {
    return `kernel '${kernel.name}' accumulates differently (the fused step reproduces '${WASM_TCN_KERNEL_NAME}')`;
  }
  return unsupportedActivation(tcn.architecture.activation);
}

function unsupportedActivation(spec: Required<ActivationSpec>): string | null {
  return ACTIVATION_CODES[spec.name] === undefined
    ? `activation '${spec.name}' is not computed natively (supported: ${WASM_TCN_ACTIVATIONS.join(', ')})`
    : null;
}

/** Where one causal conv's ring state lives (float / int indices into the memory views). */
interface RingLayer {
  readonly channels: number;
  readonly history: number;
  readonly ringAt: number;
  readonly headsAt: number;
}

/** Hands out 64-byte-aligned byte ranges of the instance's memory, all planned before growing it. */
class Layout {
  top: number;
  constructor(base: number) {
    this.top = align(base);
  }
  take(bytes: number): number {
    const at = this.top;
    this.top = align(at + Math.max(bytes, 0));
    return at;
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

/** Columns padded to whole panels of 8 (the packed layout of the WASM kernels). */
function paddedColumns(n: number): number {
  return (n + 7) & ~7;
}

/**
 * {@link TcnBatchStream}'s contract — many independent TCN streams (slots), advanced together one
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
  /** Most columns one call computes (chunks run in pieces of this size). */
  readonly chunkRows: number;
  private readonly wasm: TcnStepExports;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly rings: readonly RingLayer[];
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
    const K = arch.kernelSize;
    const rows = this.rows;

    // Plan every region, grow memory once, then write.
    this.wasm = instantiate();
    const layout = new Layout(this.wasm.heapBase());
    const nBlocks = tcn.blocks.length;
    this.net = layout.take(NET_FIRST_BLOCK + 3 * LAYER_BYTES * nBlocks);
    const headRecord = layout.take(LAYER_BYTES);
    const tapsAt = layout.take(4 * K * 4);
    this.slotsAt = layout.take(4 * capacity);
    this.inAt = layout.take(4 * rows * arch.inChannels);
    const maxNp = Math.max(...arch.blockChannels.map(paddedColumns));
    const bufs = [0, 1, 2, 3].map(() => layout.take(4 * rows * maxNp));
    this.outStride = paddedColumns(arch.outChannels);
    this.outAt = layout.take(4 * rows * this.outStride);
    interface Planned {
      readonly record: number;
      readonly conv: Conv1d;
      readonly kernelSize: number;
      readonly dilation: number;
      readonly history: number;
      readonly weights: number;
      readonly rings: number;
      readonly heads: number;
      /** A block's causal conv (it has a ring, possibly of zero columns), not a 1×1 conv. */
      readonly causal: boolean;
    }
    const planned: Planned[] = [];
    const plan = (record: number, conv: Conv1d, kernelSize: number, dilation: number, causal: boolean): void => {
      const { inChannels: cin, outChannels: cout } = conv.options;
      const np = paddedColumns(cout);
      const history = (kernelSize - 1) * dilation;
      const weights = layout.take(4 * (np * kernelSize * cin + np));
      const rings = layout.take(4 * capacity * history * cin);
      const heads = layout.take(history > 0 ? 4 * capacity : 0);
      planned.push({ record, conv, kernelSize, dilation, history, weights, rings, heads, causal });
    };
    tcn.blocks.forEach((b, i) => {
      const block = this.net + NET_FIRST_BLOCK + 3 * LAYER_BYTES * i;
      plan(block, b.conv1, K, b.dilation, true);
      plan(block + LAYER_BYTES, b.conv2, K, b.dilation, true);
      if (b.downsample !== null) plan(block + 2 * LAYER_BYTES, b.downsample, 1, 1, false);
    });
    plan(headRecord, tcn.head, 1, 1, false);
    if (layout.top > MAX_MEMORY_BYTES) {
      throw new RangeError(`WasmTcnBatchStream: ${layout.top} bytes of WebAssembly memory needed for ${capacity} slots exceed the ${MAX_MEMORY_BYTES}-byte limit`);
    }
    const memory = this.wasm.memory;
    const pages = Math.ceil(layout.top / PAGE_BYTES) - memory.buffer.byteLength / PAGE_BYTES;
    if (pages > 0 && memory.grow(pages) < 0) {
      throw new RangeError(`WasmTcnBatchStream: cannot grow WebAssembly memory to ${layout.top} bytes for ${capacity} slots`);
    }
    // Memory never grows again, so these views stay valid.
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    const i32 = this.i32;
    const f64 = new Float64Array(memory.buffer, this.net, 2);
    const net = this.net >> 2;
    i32[net + NET_BLOCKS / 4] = nBlocks;
    i32[net + NET_ACTIVATION / 4] = ACTIVATION_CODES[arch.activation.name] as number;
    f64[NET_SLOPE / 8] = arch.activation.negativeSlope;
    i32[net + NET_IN_STRIDE / 4] = arch.inChannels;
    bufs.forEach((at, i) => (i32[net + NET_BUFS / 4 + i] = at));
    i32[net + NET_OUT / 4] = this.outAt;
    i32[net + NET_TAPS / 4] = tapsAt;
    i32[net + NET_HEAD / 4] = headRecord;
    const rings: RingLayer[] = [];
    for (const p of planned) {
      const { inChannels: cin, outChannels: cout } = p.conv.options;
      const np = paddedColumns(cout);
      const r = p.record >> 2;
      i32[r + L_CIN / 4] = cin;
      i32[r + L_COUT / 4] = cout;
      i32[r + L_NP / 4] = np;
      i32[r + L_TAPS / 4] = p.kernelSize;
      i32[r + L_DILATION / 4] = p.dilation;
      i32[r + L_HISTORY / 4] = p.history;
      i32[r + L_WEIGHTS / 4] = p.weights;
      i32[r + L_BIAS / 4] = p.weights + 4 * np * p.kernelSize * cin;
      i32[r + L_RINGS / 4] = p.rings;
      i32[r + L_HEADS / 4] = p.heads;
      this.packWeights(p.conv, p.kernelSize, p.weights >> 2);
      if (p.causal) rings.push({ channels: cin, history: p.history, ringAt: p.rings >> 2, headsAt: p.heads >> 2 });
    }
    // Planned in snapshot order: block 0 conv1, block 0 conv2, block 1 conv1, …
    this.rings = rings;
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
   * `out` receives `[length, outChannels]`. One WebAssembly call per {@link chunkRows} columns.
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

  /**
   * Writes conv weights `[cout, cin, K]` as the WASM kernels' panels: tap-major rows
   * (`k·cin + ci`, as conv-packing.ts orders them), 8 columns per panel, zero padding, then the
   * padded bias.
   */
  private packWeights(conv: Conv1d, kernelSize: number, at: number): void {
    const { inChannels: cin, outChannels: n } = conv.options;
    const kd = kernelSize * cin;
    const np = paddedColumns(n);
    const w = packConvWeight(conv.weight.data, n, cin, kernelSize);
    const f32 = this.f32;
    for (let j = 0; j < np; j++) {
      const col = at + (j >> 3) * kd * 8 + (j & 7);
      for (let k = 0; k < kd; k++) f32[col + k * 8] = j < n ? (w[j * kd + k] as number) : 0;
    }
    const biasAt = at + np * kd;
    const bias = conv.bias === null ? null : conv.bias.data;
    for (let j = 0; j < np; j++) f32[biasAt + j] = bias !== null && j < n ? (bias[j] as number) : 0;
  }
}
