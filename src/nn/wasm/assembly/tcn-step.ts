// The whole streaming step of a residual TCN in one WebAssembly call (AssemblyScript; built by
// scripts/build-wasm.mjs, loaded by src/nn/wasm-tcn-instance.ts).
//
// Per causal conv, per output element, the arithmetic is exactly the GEMM kernel's
// (src/nn/wasm/assembly/gemm.ts, contract in docs/kernels.md):
//
//   acc = +0;  for k = 0 .. K·cin − 1: acc = acc + (a[k] · w[j, k]);  y = acc + bias[j]
//
// with k tap-major (k = tap·cin + ci, oldest tap first) as conv-packing.ts orders the weights.
// The GEMM reads a[] from a gathered im2col row; here each tap's cin inputs are read in place —
// from the layer's input rows of this call or from the slot's ring of past columns — through a
// table of K column addresses per row. Only where the values come from differs, never their
// order, so the bits equal those of the GEMM path (and of the offline Tcn.forward with it).
//
// Bodies (any blocking keeps each element's sequence): rows in groups of 4 run as two rows × two
// panels (8 accumulators, each weight load serving two rows; the loop is bound by instruction
// dispatch more than by arithmetic), an odd last panel as four rows × one panel; single rows
// (m = 1, leftovers) as one row × 16 or 24 columns, whose chains are latency-bound.
//
// Everything lives in linear memory described by a net record that the loader writes once
// (layout below; the loader mirrors it, and `abiVersion` guards against a stale build):
//
//   net record (bytes):  0 blocks (i32)   4 activation (0 identity, 1 relu, 2 leaky-relu)
//                        8 negative slope (f64)   16 input row stride, floats (i32)
//                        20..36 four scratch buffers, rows of np floats (u32 addresses)
//                        40 output rows (npOut floats each)   44 tap table (4·K u32)
//                        48 head layer record   52 first block (3 layer records: conv1, conv2,
//                        downsample — downsample's weights 0 when the block has none)
//   layer record (bytes): 0 cin  4 cout  8 np (cout rounded up to 8)  12 taps K  16 dilation
//                        20 history H = (K − 1)·d  24 packed weights  28 padded bias
//                        32 rings, slot-major [capacity, H, cin]  36 ring heads [capacity] (i32)
//
// Packed weights as in gemm.ts: panels of 8 output columns (zero-padded to np), panel p holding
// for each k the 8 weights w[8p .. 8p+8, k] contiguously. Activation buffers hold rows of np
// floats; the padded columns carry harmless values that no layer reads (taps and ring pushes
// read cin columns, the loader copies out outChannels).

import { row1cols16, row1cols24, row1cols8, rows2cols16, rows4cols8 } from './tcn-step-products';

/** Layout version shared with src/nn/wasm-tcn-instance.ts. */
const ABI_VERSION = 1;

const NET_BLOCKS = 0;
const NET_ACTIVATION = 4;
const NET_SLOPE = 8;
const NET_IN_STRIDE = 16;
const NET_BUF_A = 20;
const NET_BUF_B = 24;
const NET_BUF_C = 28;
const NET_BUF_D = 32;
const NET_OUT = 40;
const NET_TAPS = 44;
const NET_HEAD = 48;
const NET_FIRST_BLOCK = 52;
/** Bytes of a layer record; a block is three of them. */
const LAYER_BYTES: usize = 64;

const L_CIN = 0;
const L_NP = 8;
const L_TAPS = 12;
const L_DILATION = 16;
const L_HISTORY = 20;
const L_WEIGHTS = 24;
const L_BIAS = 28;
const L_RINGS = 32;
const L_HEADS = 36;

const ACT_RELU = 1;
const ACT_LEAKY = 2;

/** The layout version this build writes and reads (see the top of this file). */
export function abiVersion(): i32 {
  return ABI_VERSION;
}

/** First byte after the module's static data: the loader lays out its records from here. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * Advances the network by `m` rows in one call and leaves the head's output in the net's output
 * rows. Step mode (`slots` ≠ 0): row i is one new column of slot `slots[i]` (i32 array; distinct
 * slots). Chunk mode (`slots` = 0): rows are `m` consecutive columns of slot `chunkSlot`.
 * `input` holds the rows, `inStride` floats apart. Rings and heads advance; nothing else is kept.
 */
export function run(net: usize, m: i32, slots: usize, chunkSlot: i32, input: usize): void {
  if (m <= 0) return;
  const blocks = load<i32>(net, NET_BLOCKS);
  const act = load<i32>(net, NET_ACTIVATION);
  const slope = load<f64>(net, NET_SLOPE);
  const taps = <usize>load<u32>(net, NET_TAPS);
  let cur = input;
  let ldCur = load<i32>(net, NET_IN_STRIDE);
  // Rotate through four buffers so a block's input stays readable until its residual add.
  let h1 = <usize>load<u32>(net, NET_BUF_A);
  let h2 = <usize>load<u32>(net, NET_BUF_B);
  let res = <usize>load<u32>(net, NET_BUF_C);
  let spare = <usize>load<u32>(net, NET_BUF_D);
  let block = net + NET_FIRST_BLOCK;
  for (let b = 0; b < blocks; b++, block += 3 * LAYER_BYTES) {
    const conv1 = block;
    const conv2 = block + LAYER_BYTES;
    const down = block + 2 * LAYER_BYTES;
    const np = load<i32>(conv1, L_NP);
    const count = m * np;
    conv(conv1, m, slots, chunkSlot, cur, ldCur, h1, taps);
    activate(h1, count, act, slope);
    push(conv1, m, slots, chunkSlot, cur, ldCur);
    conv(conv2, m, slots, chunkSlot, h1, np, h2, taps);
    activate(h2, count, act, slope);
    push(conv2, m, slots, chunkSlot, h1, np);
    let r = cur;
    let ldR = ldCur;
    if (load<u32>(down, L_WEIGHTS) != 0) {
      conv(down, m, slots, chunkSlot, cur, ldCur, res, taps);
      r = res;
      ldR = np;
    }
    addRows(h2, np, r, ldR, m, load<i32>(conv2, L_CIN));
    activate(h2, count, act, slope);
    cur = h2;
    ldCur = np;
    // h2 is the next block's input and is not written by it; the other three are free again.
    const next = h2;
    h2 = res;
    res = spare;
    spare = next;
  }
  conv(<usize>load<u32>(net, NET_HEAD), m, slots, chunkSlot, cur, ldCur, <usize>load<u32>(net, NET_OUT), taps);
}

/**
 * Writes the K column addresses row `r` of a layer reads (oldest tap first) to `dst`: the row's
 * own input for tap K−1 (and, in chunk mode, for taps that land inside this call's rows), else
 * the slot's ring. Taps reach back at most H = (K−1)·d columns, so one wrap-around suffices.
 */
function fillTaps(layer: usize, r: i32, slots: usize, chunkSlot: i32, cur: usize, ldCur: i32, dst: usize): void {
  const K = load<i32>(layer, L_TAPS);
  const d = load<i32>(layer, L_DILATION);
  const H = load<i32>(layer, L_HISTORY);
  const colBytes = <usize>load<i32>(layer, L_CIN) << 2;
  const rowBytes = <usize>ldCur << 2;
  if (H == 0) {
    store<u32>(dst, cur + <usize>r * rowBytes);
    return;
  }
  const slot = slots != 0 ? load<i32>(slots + (<usize>r << 2)) : chunkSlot;
  const ring = <usize>load<u32>(layer, L_RINGS) + <usize>slot * <usize>H * colBytes;
  const head = load<i32>(<usize>load<u32>(layer, L_HEADS) + (<usize>slot << 2));
  // In step mode the row is the slot's newest column (position 0 of this call for that slot).
  const t = slots != 0 ? 0 : r;
  for (let k = 0; k < K; k++) {
    const pos = t - (K - 1 - k) * d;
    let at: usize;
    if (pos >= 0) {
      at = cur + <usize>(slots != 0 ? r : pos) * rowBytes;
    } else {
      let idx = head + pos;
      if (idx < 0) idx += H;
      at = ring + <usize>idx * colBytes;
    }
    store<u32>(dst + (<usize>k << 2), at);
  }
}

/** One layer over m rows: y (rows of np floats) = bias + taps · weights. */
function conv(layer: usize, m: i32, slots: usize, chunkSlot: i32, cur: usize, ldCur: i32, y: usize, taps: usize): void {
  const K = load<i32>(layer, L_TAPS);
  const np = load<i32>(layer, L_NP);
  const w = <usize>load<u32>(layer, L_WEIGHTS);
  const bias = <usize>load<u32>(layer, L_BIAS);
  const cinBytes = <usize>load<i32>(layer, L_CIN) << 2;
  const panelBytes = <usize>K * cinBytes * 8;
  const ldyBytes = <usize>np << 2;
  const tapBytes = <usize>K << 2;
  const panels = np >> 3;
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    for (let r = 0; r < 4; r++) fillTaps(layer, i + r, slots, chunkSlot, cur, ldCur, taps + <usize>r * tapBytes);
    const yi = y + <usize>i * ldyBytes;
    let p = 0;
    for (; p + 2 <= panels; p += 2) {
      const off = <usize>p << 5;
      rows2cols16(taps, K, cinBytes, w + <usize>p * panelBytes, panelBytes, bias + off, yi + off, ldyBytes);
      rows2cols16(taps + 2 * tapBytes, K, cinBytes, w + <usize>p * panelBytes, panelBytes, bias + off, yi + off + 2 * ldyBytes, ldyBytes);
    }
    // Each weight load serves four rows.
    for (; p < panels; p++) {
      const off = <usize>p << 5;
      rows4cols8(taps, tapBytes, K, cinBytes, w + <usize>p * panelBytes, bias + off, yi + off, ldyBytes);
    }
  }
  for (; i < m; i++) {
    fillTaps(layer, i, slots, chunkSlot, cur, ldCur, taps);
    const yi = y + <usize>i * ldyBytes;
    let p = 0;
    // 32 columns as 16 + 16 (4 chains each) beats 24 + 8, whose last pass is one long 2-chain
    // dependency; 32 at once (8 accumulators) spills on x64 and runs ~40 % slower (measured).
    if (panels == 4) {
      row1cols16(taps, K, cinBytes, w, panelBytes, bias, yi);
      row1cols16(taps, K, cinBytes, w + 2 * panelBytes, panelBytes, bias + 64, yi + 64);
      p = 4;
    }
    for (; p + 3 <= panels; p += 3) {
      const off = <usize>p << 5;
      row1cols24(taps, K, cinBytes, w + <usize>p * panelBytes, panelBytes, bias + off, yi + off);
    }
    const off = <usize>p << 5;
    if (panels - p == 2) row1cols16(taps, K, cinBytes, w + <usize>p * panelBytes, panelBytes, bias + off, yi + off);
    else if (panels - p == 1) row1cols8(taps, K, cinBytes, w + <usize>p * panelBytes, bias + off, yi + off);
  }
}

/**
 * Appends each row's input column (cin floats) to its slot's ring, after the layer has read
 * the ring. Step mode: one column per slot. Chunk mode: the m columns in order, of which only
 * the last H survive.
 */
function push(layer: usize, m: i32, slots: usize, chunkSlot: i32, cur: usize, ldCur: i32): void {
  const H = load<i32>(layer, L_HISTORY);
  if (H == 0) return;
  const cin = load<i32>(layer, L_CIN);
  const colBytes = <usize>cin << 2;
  const rowBytes = <usize>ldCur << 2;
  const rings = <usize>load<u32>(layer, L_RINGS);
  const heads = <usize>load<u32>(layer, L_HEADS);
  const ringBytes = <usize>H * colBytes;
  if (slots != 0) {
    for (let r = 0; r < m; r++) {
      const slot = <usize>load<i32>(slots + (<usize>r << 2));
      const headAt = heads + (slot << 2);
      const head = load<i32>(headAt);
      copyFloats(rings + slot * ringBytes + <usize>head * colBytes, cur + <usize>r * rowBytes, cin);
      store<i32>(headAt, head + 1 == H ? 0 : head + 1);
    }
    return;
  }
  const ring = rings + <usize>chunkSlot * ringBytes;
  const headAt = heads + (<usize>chunkSlot << 2);
  if (m >= H) {
    // The last H columns, oldest first, from the start of the ring.
    const first = m - H;
    for (let c = 0; c < H; c++) copyFloats(ring + <usize>c * colBytes, cur + <usize>(first + c) * rowBytes, cin);
    store<i32>(headAt, 0);
    return;
  }
  let head = load<i32>(headAt);
  for (let r = 0; r < m; r++) {
    copyFloats(ring + <usize>head * colBytes, cur + <usize>r * rowBytes, cin);
    head = head + 1 == H ? 0 : head + 1;
  }
  store<i32>(headAt, head);
}

/** Copies n floats (no overlap), four at a time, then the rest one by one (bit copies). */
function copyFloats(dst: usize, src: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const off = <usize>j << 2;
    v128.store(dst + off, v128.load(src + off));
  }
  for (; j < n; j++) {
    const off = <usize>j << 2;
    store<u32>(dst + off, load<u32>(src + off));
  }
}

/**
 * h[i, j] = h[i, j] + r[i, j] for j < n (rows ldh and ldr floats apart): one float32 rounding,
 * the same bits as the JS float64 sum of two float32 values stored back to float32 (53 ≥ 2·24 + 2
 * bits, so that double rounding is exact).
 */
function addRows(h: usize, ldh: i32, r: usize, ldr: i32, m: i32, n: i32): void {
  const hBytes = <usize>ldh << 2;
  const rBytes = <usize>ldr << 2;
  for (let i = 0; i < m; i++) {
    const hp = h + <usize>i * hBytes;
    const rp = r + <usize>i * rBytes;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const off = <usize>j << 2;
      v128.store(hp + off, f32x4.add(v128.load(hp + off), v128.load(rp + off)));
    }
    for (; j < n; j++) {
      const off = <usize>j << 2;
      store<f32>(hp + off, load<f32>(hp + off) + load<f32>(rp + off));
    }
  }
}

/**
 * The activation over `count` floats (a multiple of 4), bit for bit as src/nn/activations.ts:
 * relu replaces x < 0 by +0 (so −0 and NaN pass unchanged); leaky-relu keeps x > 0 and otherwise
 * stores float32(x · slope) with the product rounded to float64 first, as JS computes it.
 */
function activate(p: usize, count: i32, act: i32, slope: f64): void {
  const end = p + (<usize>count << 2);
  const zero = f32x4.splat(0);
  if (act == ACT_RELU) {
    for (let q = p; q < end; q += 16) {
      const x = v128.load(q);
      v128.store(q, v128.bitselect(zero, x, f32x4.lt(x, zero)));
    }
  } else if (act == ACT_LEAKY) {
    const s = f64x2.splat(slope);
    for (let q = p; q < end; q += 16) {
      const x = v128.load(q);
      const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(x), s));
      const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1)), s));
      const scaled = i32x4.shuffle(lo, hi, 0, 1, 4, 5);
      v128.store(q, v128.bitselect(x, scaled, f32x4.gt(x, zero)));
    }
  }
}
