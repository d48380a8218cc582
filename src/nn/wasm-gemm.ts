import { jsGemmKernel, type GemmKernel, type PackedMatrix } from './gemm.js';
import { GEMM_WASM_BASE64 } from './wasm/gemm-binary.generated.js';

/**
 * A {@link GemmKernel} running in WebAssembly with fixed-width SIMD (source:
 * src/nn/wasm/assembly/gemm.ts; contract, layout and speed: docs/kernels.md).
 *
 * Each kernel owns one WebAssembly instance and its linear memory. Packed matrices live in that
 * memory for as long as the kernel (or any of its matrices) is reachable: memory is never
 * reused, so pack a model's weights once and keep the matrices; do not pack per request.
 * `conv1d`, `causalConv1d` and `Tcn.forward` pack on every call: give them a kernel per call
 * (or per batch of calls) rather than one that lives for the whole process.
 * Runs are synchronous and leave no state behind, so pipelines may share one kernel.
 */
export interface WasmGemmKernel extends GemmKernel {
  readonly name: 'wasm-simd';
  /** Current size of the instance's linear memory, bytes (grows, never shrinks). */
  readonly memoryBytes: number;
}

/** Options of {@link createWasmGemmKernel}. */
export interface WasmGemmKernelOptions {
  /**
   * Largest input or output staging region a run may grow, floats (two such regions per kernel).
   * Larger products run in row blocks with slower copies. Default
   * {@link WASM_GEMM_DEFAULT_MAX_SCRATCH_FLOATS}; must be an integer ≥ 1.
   */
  maxScratchFloats?: number;
}

/** Options of {@link defaultGemmKernel}. */
export interface DefaultGemmKernelOptions extends WasmGemmKernelOptions {
  /** Told why, when WebAssembly SIMD is unavailable and the JS kernel is returned instead. */
  onFallback?: (reason: Error) => void;
}

/** Default bound of each staging region: 4 Mi floats (16 MiB). */
export const WASM_GEMM_DEFAULT_MAX_SCRATCH_FLOATS = 4_194_304;

/**
 * A caller's whole `a` is copied in with one native `set` (no view to allocate) when it holds at
 * most this many times the values a run reads, plus {@link WHOLE_COPY_SLACK}; otherwise the
 * values are copied one by one (≈ 1 ns each on V8, ≈ 10× a bulk copy; a `subarray` view per run
 * would allocate).
 */
const WHOLE_IN_FACTOR = 8;
/**
 * Likewise for `y`, which takes a round trip (in, then back) unless the run writes all of it, so
 * only when the run writes at least about half of it.
 */
const WHOLE_OUT_FACTOR = 2;
const WHOLE_COPY_SLACK = 512;

/** Views over the output staging region kept per kernel, by length (cleared when exceeded). */
const MAX_CACHED_VIEWS = 16;

/** wasm32 addresses 4 GiB; keep requests well inside. */
const MAX_ALLOC_BYTES = 0xc000_0000;

// The few members of the WebAssembly JS API used here, declared locally: the project's TypeScript
// libraries (ES2022 + node) do not describe WebAssembly, and a global declaration would leak.
interface WasmJsApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

/** Exports of src/nn/wasm/assembly/gemm.ts (addresses in bytes). */
interface GemmExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  alloc(bytes: number): number;
  gemm(m: number, a: number, kd: number, w: number, bias: number, np: number, y: number, ldy: number, n: number, tmp: number): void;
}

function instantiate(): GemmExports {
  const api = (globalThis as { WebAssembly?: WasmJsApi }).WebAssembly;
  if (api === undefined) throw new Error('wasm-simd gemm: this runtime has no WebAssembly');
  const bytes = new Uint8Array(Buffer.from(GEMM_WASM_BASE64, 'base64'));
  if (!api.validate(bytes)) throw new Error('wasm-simd gemm: this runtime rejects the module (no fixed-width SIMD support?)');
  const { exports } = new api.Instance(new api.Module(bytes), {});
  const { memory, alloc, gemm } = exports;
  if (typeof alloc !== 'function' || typeof gemm !== 'function' || gemm.length !== 10 || typeof memory !== 'object' || memory === null) {
    throw new Error('wasm-simd gemm: the embedded module lacks the expected exports (stale build? run `npm run build:wasm`)');
  }
  return exports as unknown as GemmExports;
}

/** Columns padded to whole panels of 8 (the packed layout of src/nn/wasm/assembly/gemm.ts). */
function paddedColumns(n: number): number {
  return (n + 7) & ~7;
}

/**
 * One instance's memory as the JS side sees it: the float view (replaced when memory grows) and
 * three staging regions, each reallocated larger (never shrunk) when a run or pack needs more.
 * Float indices throughout (byte address = 4 × index).
 */
class WasmHeap {
  f32: Float32Array;
  /** Inputs of a run: the caller's whole `a`, or just the `m·kd` values used. */
  inAt = 0;
  inFloats = 0;
  /** Outputs of a run: the caller's whole `y` (round trip), or `m` padded rows. */
  outAt = 0;
  outFloats = 0;
  /** 4 padded rows, for matrices whose n is not a multiple of 8. */
  tmpAt = 0;
  tmpFloats = 0;
  private readonly outViews = new Map<number, Float32Array>();

  constructor(
    readonly exports: GemmExports,
    readonly maxScratchFloats: number,
  ) {
    this.f32 = new Float32Array(exports.memory.buffer);
  }

  /** Float index of `floats` fresh floats (64-byte aligned), or −1 if memory cannot grow. */
  tryAlloc(floats: number): number {
    const bytes = floats * 4;
    const ptr = bytes <= MAX_ALLOC_BYTES ? this.exports.alloc(bytes) >>> 0 : 0;
    if (ptr === 0) return -1;
    if (this.f32.buffer !== this.exports.memory.buffer) {
      this.f32 = new Float32Array(this.exports.memory.buffer);
      this.outViews.clear();
    }
    return ptr >>> 2;
  }

  /** Regions given back by disposed matrices, by size in floats (reused for the same size). */
  private readonly freeRegions = new Map<number, number[]>();

  /** Gives back a region that {@link alloc} returned, for a later allocation of the same size. */
  free(at: number, floats: number): void {
    const list = this.freeRegions.get(floats);
    if (list === undefined) this.freeRegions.set(floats, [at]);
    else list.push(at);
  }

  alloc(floats: number, what: string): number {
    const reused = this.freeRegions.get(floats)?.pop();
    if (reused !== undefined) return reused;
    const at = this.tryAlloc(floats);
    if (at < 0) throw new RangeError(`wasm-simd gemm: cannot grow WebAssembly memory by ${floats * 4} bytes for ${what}`);
    return at;
  }

  /** Makes the input region hold `floats` (within the bound unless `force`); false if it cannot. */
  ensureIn(floats: number, force = false): boolean {
    if (floats <= this.inFloats) return true;
    const cap = this.grownCapacity(floats, this.inFloats, force);
    const at = cap < 0 ? -1 : this.tryAlloc(cap);
    if (at < 0) return false;
    this.inAt = at;
    this.inFloats = cap;
    return true;
  }

  ensureOut(floats: number, force = false): boolean {
    if (floats <= this.outFloats) return true;
    const cap = this.grownCapacity(floats, this.outFloats, force);
    const at = cap < 0 ? -1 : this.tryAlloc(cap);
    if (at < 0) return false;
    this.outAt = at;
    this.outFloats = cap;
    this.outViews.clear();
    return true;
  }

  ensureTmp(floats: number): void {
    if (floats <= this.tmpFloats) return;
    this.tmpAt = this.alloc(floats, 'the padded-row buffer');
    this.tmpFloats = floats;
  }

  /** Doubling growth within the bound; −1 if `floats` exceeds it (and `force` is off). */
  private grownCapacity(floats: number, current: number, force: boolean): number {
    if (floats > this.maxScratchFloats) return force ? floats : -1;
    return Math.min(Math.max(floats, 2 * current), this.maxScratchFloats);
  }

  /** A view of the first `length` floats of the output region, cached so runs allocate nothing. */
  outView(length: number): Float32Array {
    let view = this.outViews.get(length);
    if (view === undefined) {
      if (this.outViews.size >= MAX_CACHED_VIEWS) this.outViews.clear();
      view = new Float32Array(this.f32.buffer, this.outAt * 4, length);
      this.outViews.set(length, view);
    }
    return view;
  }
}

class WasmPackedMatrix implements PackedMatrix {
  /** Columns padded to a multiple of 8. */
  private readonly np: number;
  private disposed = false;

  constructor(
    readonly n: number,
    readonly kd: number,
    private readonly heap: WasmHeap,
    /** Byte addresses of the packed weights and the padded bias. */
    private readonly wPtr: number,
    private readonly biasPtr: number,
  ) {
    this.np = paddedColumns(n);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.heap.free(this.wPtr >>> 2, this.np * this.kd + this.np);
  }

  run(m: number, a: Float32Array, aOff: number, y: Float32Array, yOff: number, ldy: number): void {
    const { n, kd, np, heap } = this;
    if (this.disposed) throw new Error('gemm run: the matrix was disposed');
    if (!Number.isInteger(m) || m < 0) throw new RangeError(`gemm run: m must be a non-negative integer, got ${m}`);
    if (m === 0 || n === 0) return;
    const count = m * kd;
    if (!Number.isInteger(aOff) || aOff < 0 || aOff + count > a.length) {
      throw new RangeError(`gemm run: a holds ${a.length} values, needs aOff ${aOff} + ${m}×${kd}`);
    }
    const touched = (m - 1) * ldy + n; // span of y written, from yOff
    if (!Number.isInteger(yOff) || yOff < 0 || !Number.isInteger(ldy) || (m > 1 && ldy < n) || yOff + touched > y.length) {
      throw new RangeError(`gemm run: y holds ${y.length} values, needs yOff ${yOff} + ${m - 1}×ldy ${ldy} + ${n} (ldy ≥ ${n})`);
    }
    const wholeA = a.length <= WHOLE_IN_FACTOR * count + WHOLE_COPY_SLACK;
    const wholeY = y.length <= WHOLE_OUT_FACTOR * touched + WHOLE_COPY_SLACK;
    if (!heap.ensureIn(wholeA ? a.length : count) || !heap.ensureOut(wholeY ? y.length : m * np)) {
      this.runBlocked(m, a, aOff, y, yOff, ldy);
      return;
    }
    const f32 = heap.f32; // read after the ensures: growth replaces it
    let aPtr: number;
    if (wholeA) {
      f32.set(a, heap.inAt);
      aPtr = (heap.inAt + aOff) * 4;
    } else {
      copyValues(f32, heap.inAt, a, aOff, count);
      aPtr = heap.inAt * 4;
    }
    const tmpPtr = heap.tmpAt * 4;
    if (wholeY) {
      // Round trip the caller's y so that values between and around the written rows survive.
      if (yOff !== 0 || touched !== y.length || (m > 1 && ldy !== n)) f32.set(y, heap.outAt);
      heap.exports.gemm(m, aPtr, kd, this.wPtr, this.biasPtr, np, (heap.outAt + yOff) * 4, ldy, n, tmpPtr);
      y.set(heap.outView(y.length));
    } else {
      heap.exports.gemm(m, aPtr, kd, this.wPtr, this.biasPtr, np, heap.outAt * 4, np, np, tmpPtr);
      copyRowsOut(f32, heap.outAt, np, m, n, y, yOff, ldy);
    }
  }

  /** Products beyond the staging bound: blocks of rows, element-wise copies. Same arithmetic. */
  private runBlocked(m: number, a: Float32Array, aOff: number, y: Float32Array, yOff: number, ldy: number): void {
    const { n, kd, np, heap } = this;
    const rowsPerBlock = Math.max(1, Math.min(kd === 0 ? m : Math.floor(heap.inFloats / kd), Math.floor(heap.outFloats / np)));
    for (let i0 = 0; i0 < m; i0 += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, m - i0);
      const f32 = heap.f32;
      copyValues(f32, heap.inAt, a, aOff + i0 * kd, rows * kd);
      heap.exports.gemm(rows, heap.inAt * 4, kd, this.wPtr, this.biasPtr, np, heap.outAt * 4, np, np, heap.tmpAt * 4);
      copyRowsOut(f32, heap.outAt, np, rows, n, y, yOff + i0 * ldy, ldy);
    }
  }
}

/** `dst[at + t] = src[from + t]` for t < count; unrolled by four (about twice the speed on V8). */
function copyValues(dst: Float32Array, at: number, src: Float32Array, from: number, count: number): void {
  const shift = at - from;
  const end = from + count;
  let t = from;
  for (; t + 4 <= end; t += 4) {
    dst[shift + t] = src[t];
    dst[shift + t + 1] = src[t + 1];
    dst[shift + t + 2] = src[t + 2];
    dst[shift + t + 3] = src[t + 3];
  }
  for (; t < end; t++) dst[shift + t] = src[t];
}

/** `y[yOff + r·ldy + j] = f32[at + r·np + j]` for r < rows, j < n. */
function copyRowsOut(f32: Float32Array, at: number, np: number, rows: number, n: number, y: Float32Array, yOff: number, ldy: number): void {
  for (let r = 0; r < rows; r++) copyValues(y, yOff + r * ldy, f32, at + r * np, n);
}

/** Kernels made by {@link createWasmGemmKernel} (a name can be copied; this cannot). */
const WASM_SIMD_KERNELS = new WeakSet<GemmKernel>();

/**
 * Whether `kernel` is a WebAssembly SIMD kernel made by {@link createWasmGemmKernel}: one whose
 * per-element arithmetic the fused TCN step reproduces. Decided by identity, not by `name`.
 */
export function isWasmSimdKernel(kernel: GemmKernel): boolean {
  return WASM_SIMD_KERNELS.has(kernel);
}

class WasmKernel implements WasmGemmKernel {
  readonly name = 'wasm-simd' as const;
  private readonly heap: WasmHeap;

  constructor(maxScratchFloats: number) {
    this.heap = new WasmHeap(instantiate(), maxScratchFloats);
    WASM_SIMD_KERNELS.add(this);
  }

  get memoryBytes(): number {
    return this.heap.exports.memory.buffer.byteLength;
  }

  pack(w: Float32Array, n: number, kd: number, bias: Float32Array | null): PackedMatrix {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`gemm: n must be a non-negative integer, got ${n}`);
    if (!Number.isInteger(kd) || kd < 0) throw new RangeError(`gemm: kd must be a non-negative integer, got ${kd}`);
    if (w.length < n * kd) throw new RangeError(`gemm: weight matrix has ${w.length} elements, needs ${n}×${kd}`);
    if (bias !== null && bias.length < n) throw new RangeError(`gemm: bias has ${bias.length} elements, needs ${n}`);
    const heap = this.heap;
    const np = paddedColumns(n);
    // Whatever the bound, one row must always fit (the blocked path relies on it).
    const room = heap.ensureIn(kd, true) && heap.ensureOut(np, true);
    if (!room) throw new RangeError(`wasm-simd gemm: cannot grow WebAssembly memory for a ${kd}-value row`);
    heap.ensureTmp(4 * np);
    const wAt = heap.alloc(np * kd + np, `a ${n}×${kd} matrix`);
    const biasAt = wAt + np * kd;
    const f32 = heap.f32;
    // Panels of 8 columns: panel[k·8 + l] = w[8p + l, k], so one k step reads 32 contiguous bytes.
    for (let j = 0; j < np; j++) {
      const at = wAt + (j >> 3) * kd * 8 + (j & 7);
      if (j < n) {
        for (let k = 0; k < kd; k++) f32[at + k * 8] = w[j * kd + k];
      } else {
        for (let k = 0; k < kd; k++) f32[at + k * 8] = 0;
      }
    }
    for (let j = 0; j < np; j++) f32[biasAt + j] = bias !== null && j < n ? bias[j] : 0;
    return new WasmPackedMatrix(n, kd, heap, wAt * 4, biasAt * 4);
  }
}

/**
 * Creates a WebAssembly SIMD GEMM kernel with its own instance and memory. It compiles a few KB
 * of WebAssembly synchronously, so create one per model or pipeline and reuse it. Its matrices
 * give each output row bitwise the same values whatever the batch, offset or row count (the
 * {@link GemmKernel} contract) and agree with `jsGemmKernel` to float32 accumulation error.
 * @throws Error if the runtime lacks WebAssembly or fixed-width SIMD, or the embedded module is
 *   stale; RangeError if `maxScratchFloats` is not an integer ≥ 1.
 */
export function createWasmGemmKernel(options: WasmGemmKernelOptions = {}): WasmGemmKernel {
  const max = options.maxScratchFloats ?? WASM_GEMM_DEFAULT_MAX_SCRATCH_FLOATS;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`createWasmGemmKernel: maxScratchFloats must be an integer ≥ 1, got ${max}`);
  return new WasmKernel(max);
}

/** Whether this runtime can instantiate the WebAssembly SIMD kernel. Never throws. */
export function wasmSimdAvailable(): boolean {
  try {
    instantiate();
    return true;
  } catch {
    return false;
  }
}

/**
 * The fastest kernel this runtime supports: a new {@link createWasmGemmKernel} kernel, or
 * `jsGemmKernel` if WebAssembly SIMD is unavailable (`onFallback` hears why). Call once per
 * model or pipeline and reuse the result.
 * @throws RangeError if `maxScratchFloats` is invalid (a caller error, not a fallback case).
 */
export function defaultGemmKernel(options: DefaultGemmKernelOptions = {}): GemmKernel {
  const { onFallback, ...wasmOptions } = options;
  if (wasmOptions.maxScratchFloats !== undefined && (!Number.isInteger(wasmOptions.maxScratchFloats) || wasmOptions.maxScratchFloats < 1)) {
    throw new RangeError(`defaultGemmKernel: maxScratchFloats must be an integer ≥ 1, got ${wasmOptions.maxScratchFloats}`);
  }
  try {
    return createWasmGemmKernel(wasmOptions);
  } catch (e) {
    onFallback?.(e instanceof Error ? e : new Error(String(e)));
    return jsGemmKernel;
  }
}
