import type { ActivationName } from './activations.js';
import { packConvWeight } from './conv-packing.js';
import type { Conv1d } from './conv1d-layer.js';
import type { Tcn } from './tcn.js';
import { TCN_STEP_WASM_BASE64 } from './wasm/tcn-step-binary.generated.js';

/** Activation codes of src/nn/wasm/assembly/tcn-step.ts; names missing here are not fused. */
export const TCN_STEP_ACTIVATION_CODES: Readonly<Partial<Record<ActivationName, number>>> = { identity: 0, relu: 1, 'leaky-relu': 2 };

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

/** Every region starts on a cache line. */
const ALIGN = 64;
/** wasm32 addresses 4 GiB; stay well inside. */
const MAX_MEMORY_BYTES = 0xc000_0000;
const PAGE_BYTES = 65536;

// The few members of the WebAssembly JS API used here, declared locally as in wasm-gemm.ts.
interface WasmJsApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

/** Exports of src/nn/wasm/assembly/tcn-step.ts (addresses in bytes). */
export interface TcnStepExports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  abiVersion(): number;
  heapBase(): number;
  /** See `run` in tcn-step.ts: `slots` 0 means chunk mode for `chunkSlot`. */
  run(net: number, m: number, slots: number, chunkSlot: number, input: number): void;
}

/** Where one causal conv's ring state lives (float / int indices into the memory views). */
export interface TcnStepRing {
  readonly channels: number;
  /** Columns kept, `(K − 1)·d` (0 for K = 1: no ring, no head). */
  readonly history: number;
  readonly ringAt: number;
  readonly headsAt: number;
}

/** A TCN laid out in its own instance, ready for `exports.run`. */
export interface TcnStepInstance {
  readonly exports: TcnStepExports;
  /** Views of the whole memory (it never grows after creation). */
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  /** Byte address of the net record (first argument of `run`). */
  readonly net: number;
  /** Byte address of the `[capacity]` i32 slot list of a step. */
  readonly slotsAt: number;
  /** Byte address of the input rows, `inChannels` floats each. */
  readonly inAt: number;
  /** Byte address of the output rows, `outStride` floats each. */
  readonly outAt: number;
  readonly outStride: number;
  /** Every block's two causal convs in snapshot order (block 0 conv1, block 0 conv2, …). */
  readonly rings: readonly TcnStepRing[];
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

/** Columns padded to whole panels of 8 (the packed layout of the WASM kernels). */
function paddedColumns(n: number): number {
  return (n + 7) & ~7;
}

function align(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

/** One conv as planned: its record, its regions. */
interface PlannedLayer {
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

/**
 * Instantiates the fused-step module and lays `tcn` out in its memory for `capacity` slots and
 * `rows` rows of scratch: net and layer records, packed weights, zeroed rings and heads, input,
 * output and activation rows. Memory is grown once, here.
 * @throws Error if the runtime lacks WebAssembly SIMD, the embedded module is stale or the
 *   activation has no code; RangeError if the memory cannot be grown that far.
 */
export function createTcnStepInstance(tcn: Tcn, capacity: number, rows: number): TcnStepInstance {
  const arch = tcn.architecture;
  const activation = TCN_STEP_ACTIVATION_CODES[arch.activation.name];
  if (activation === undefined) throw new Error(`wasm tcn step: activation '${arch.activation.name}' has no WebAssembly code`);
  const exports = instantiate();
  const K = arch.kernelSize;
  let top = align(exports.heapBase());
  const take = (bytes: number): number => {
    const at = top;
    top = align(at + bytes);
    return at;
  };
  const nBlocks = tcn.blocks.length;
  const net = take(NET_FIRST_BLOCK + 3 * LAYER_BYTES * nBlocks);
  const headRecord = take(LAYER_BYTES);
  const tapsAt = take(4 * K * 4);
  const slotsAt = take(4 * capacity);
  const inAt = take(4 * rows * arch.inChannels);
  const maxNp = Math.max(...arch.blockChannels.map(paddedColumns));
  const bufs = [0, 1, 2, 3].map(() => take(4 * rows * maxNp));
  const outStride = paddedColumns(arch.outChannels);
  const outAt = take(4 * rows * outStride);
  const planned: PlannedLayer[] = [];
  const plan = (record: number, conv: Conv1d, kernelSize: number, dilation: number, causal: boolean): void => {
    const { inChannels: cin, outChannels: cout } = conv.options;
    const np = paddedColumns(cout);
    const history = (kernelSize - 1) * dilation;
    const weights = take(4 * (np * kernelSize * cin + np));
    const rings = take(4 * capacity * history * cin);
    const heads = take(history > 0 ? 4 * capacity : 0);
    planned.push({ record, conv, kernelSize, dilation, history, weights, rings, heads, causal });
  };
  tcn.blocks.forEach((b, i) => {
    const block = net + NET_FIRST_BLOCK + 3 * LAYER_BYTES * i;
    plan(block, b.conv1, K, b.dilation, true);
    plan(block + LAYER_BYTES, b.conv2, K, b.dilation, true);
    if (b.downsample !== null) plan(block + 2 * LAYER_BYTES, b.downsample, 1, 1, false);
  });
  plan(headRecord, tcn.head, 1, 1, false);
  if (top > MAX_MEMORY_BYTES) {
    throw new RangeError(`wasm tcn step: ${top} bytes of WebAssembly memory needed for ${capacity} slots exceed the ${MAX_MEMORY_BYTES}-byte limit`);
  }
  const memory = exports.memory;
  const pages = Math.ceil(top / PAGE_BYTES) - memory.buffer.byteLength / PAGE_BYTES;
  if (pages > 0 && memory.grow(pages) < 0) throw new RangeError(`wasm tcn step: cannot grow WebAssembly memory to ${top} bytes for ${capacity} slots`);
  // Fresh pages are zero: rings and heads start as causal zero padding.
  const f32 = new Float32Array(memory.buffer);
  const i32 = new Int32Array(memory.buffer);
  const n = net >> 2;
  i32[n + NET_BLOCKS / 4] = nBlocks;
  i32[n + NET_ACTIVATION / 4] = activation;
  new Float64Array(memory.buffer, net + NET_SLOPE, 1)[0] = arch.activation.negativeSlope;
  i32[n + NET_IN_STRIDE / 4] = arch.inChannels;
  bufs.forEach((at, i) => (i32[n + NET_BUFS / 4 + i] = at));
  i32[n + NET_OUT / 4] = outAt;
  i32[n + NET_TAPS / 4] = tapsAt;
  i32[n + NET_HEAD / 4] = headRecord;
  const rings: TcnStepRing[] = [];
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
    packWeights(f32, p.conv, p.kernelSize, p.weights >> 2);
    if (p.causal) rings.push({ channels: cin, history: p.history, ringAt: p.rings >> 2, headsAt: p.heads >> 2 });
  }
  return { exports, f32, i32, net, slotsAt, inAt, outAt, outStride, rings };
}

/**
 * Writes conv weights `[cout, cin, K]` at float index `at` as the WASM kernels' panels:
 * tap-major rows (`k·cin + ci`, as conv-packing.ts orders them), 8 columns per panel, zero
 * padding, then the bias padded with zeros (zeros for a conv without bias, as the GEMM packs).
 */
function packWeights(f32: Float32Array, conv: Conv1d, kernelSize: number, at: number): void {
  const { inChannels: cin, outChannels: n } = conv.options;
  const kd = kernelSize * cin;
  const np = paddedColumns(n);
  const w = packConvWeight(conv.weight.data, n, cin, kernelSize);
  for (let j = 0; j < np; j++) {
    const col = at + (j >> 3) * kd * 8 + (j & 7);
    for (let k = 0; k < kd; k++) f32[col + k * 8] = j < n ? (w[j * kd + k] as number) : 0;
  }
  const biasAt = at + np * kd;
  const bias = conv.bias === null ? null : conv.bias.data;
  for (let j = 0; j < np; j++) f32[biasAt + j] = bias !== null && j < n ? (bias[j] as number) : 0;
}
