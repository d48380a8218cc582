// WebAssembly SIMD kernel for the GEMM contract of src/nn/gemm.ts (AssemblyScript; built by
// scripts/build-wasm.mjs, loaded by src/nn/wasm-gemm.ts).
//
//   y[i, j] = bias[j] + Σ_k a[i, k] · w[j, k]        i < m, j < n, k < kd
//
// Vectorised across output columns: each f32x4 lane holds one output's running sum, and a[i, k]
// is broadcast to all lanes. Every output element therefore sees exactly the same f32 operations
// in the same order, whatever m, i, the row's address or the blocking:
//
//   acc = +0;  for k = 0 .. kd−1: acc = acc + (a[i, k] · w[j, k]);  y = acc + bias[j]
//
// (each · and + rounded to f32; WebAssembly never fuses them). Blocking over rows and columns
// below only changes which elements share a loop, never an element's own sequence.
//
// Packed weight layout (written by the loader, wasm-gemm.ts): columns are padded with zero
// weights to np = 8·⌈n/8⌉ and cut into panels of 8; panel p holds, for each k, the 8 weights
// w[8p .. 8p+8, k] contiguously: panel[k·8 + l] = w[8p + l, k] (32 bytes per k step). Bias is
// padded to np with zeros. Inputs a are m rows of kd floats; outputs are written n per row,
// rows ldy floats apart (padded columns are computed, then dropped).
//
// Register budget: V8 hoists a loop body's loads above its arithmetic, so a body with c
// accumulators and c weight vectors needs 2c + 1 of the 15 xmm registers V8 allocates on x64; past
// that an accumulator spills and its chain runs through memory (about half speed). Hence at
// most 6 accumulators per row alone (24 columns), or 8 when 4 rows share 2 weight vectors.

// Bump allocator: memory handed out is never freed; it lives as long as the instance.
let heapTop: usize = 0;

/** Cache-line alignment for every allocation. */
const ALIGN: usize = 64;

/**
 * Reserves `bytes` (rounded up to 64) of linear memory, growing memory as needed.
 * Returns the 64-byte-aligned address, or 0 if memory cannot grow that far.
 */
export function alloc(bytes: usize): usize {
  if (heapTop == 0) heapTop = (__heap_base + ALIGN - 1) & ~(ALIGN - 1);
  const ptr = heapTop;
  const end = ptr + ((bytes + ALIGN - 1) & ~(ALIGN - 1));
  if (end < ptr) return 0; // wrapped around 4 GiB
  const have = (<usize>memory.size()) << 16;
  if (end > have) {
    const need = <i32>((end - have + 0xffff) >>> 16);
    // Grow at least geometrically so a series of packs does not grow page by page.
    const pages = memory.size();
    if (memory.grow(max(need, pages)) < 0 && memory.grow(need) < 0) return 0;
  }
  heapTop = end;
  return ptr;
}

/** Bytes of linear memory handed out so far (allocator top, for tests and diagnostics). */
export function heapUsed(): usize {
  return heapTop;
}

/**
 * Computes m rows, `y[i·ldy + j] = bias[j] + Σ_k a[i·kd + k] · w(j, k)` for j < n, with `w`
 * packed as described at the top of this file (np = n rounded up to 8). Writes exactly n floats
 * per row: when n < np, rows are computed into `tmp` (room for 4·np floats) and copied out.
 * Byte addresses: a, w, bias, y, tmp; counts in floats: kd, np, ldy, n. Rows of a are kd apart.
 */
export function gemm(m: i32, a: usize, kd: i32, w: usize, bias: usize, np: i32, y: usize, ldy: i32, n: i32, tmp: usize): void {
  if (m <= 0 || n <= 0) return;
  const rowBytes = <usize>kd << 2;
  const yStride = <usize>ldy << 2;
  const npBytes = <usize>np << 2;
  const direct = n == np;
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const ai = a + <usize>i * rowBytes;
    const yi = y + <usize>i * yStride;
    if (direct) {
      rows4(ai, kd, w, bias, np, yi, yStride);
    } else {
      rows4(ai, kd, w, bias, np, tmp, npBytes);
      for (let r: usize = 0; r < 4; r++) copyFloats(yi + r * yStride, tmp + r * npBytes, n);
    }
  }
  for (; i < m; i++) {
    const ai = a + <usize>i * rowBytes;
    const yi = y + <usize>i * yStride;
    if (direct) {
      row1(ai, kd, w, bias, np, yi);
    } else {
      row1(ai, kd, w, bias, np, tmp);
      copyFloats(yi, tmp, n);
    }
  }
}

/** Four rows (kd apart) into four output rows (ldyBytes apart), all np columns. */
function rows4(a: usize, kd: i32, w: usize, bias: usize, np: i32, y: usize, ldyBytes: usize): void {
  if (kd <= 0) {
    for (let r: usize = 0; r < 4; r++) biasOnly(bias, np, y + r * ldyBytes);
    return;
  }
  const rowBytes = <usize>kd << 2;
  const panelBytes = <usize>kd << 5;
  const panels = np >> 3;
  // Each weight load serves four rows.
  for (let p = 0; p < panels; p++) {
    const off = <usize>p << 5;
    rows4cols8(a, rowBytes, w + <usize>p * panelBytes, bias + off, y + off, ldyBytes);
  }
}

/** One row, all np columns, up to three panels per pass over the row. */
function row1(a: usize, kd: i32, w: usize, bias: usize, np: i32, y: usize): void {
  if (kd <= 0) {
    biasOnly(bias, np, y);
    return;
  }
  const rowBytes = <usize>kd << 2;
  const panelBytes = <usize>kd << 5;
  const panels = np >> 3;
  let p = 0;
  for (; p + 3 <= panels; p += 3) {
    const off = <usize>p << 5;
    row1cols24(a, rowBytes, w + <usize>p * panelBytes, panelBytes, bias + off, y + off);
  }
  const off = <usize>p << 5;
  if (panels - p == 2) row1cols16(a, rowBytes, w + <usize>p * panelBytes, panelBytes, bias + off, y + off);
  else if (panels - p == 1) row1cols8(a, rowBytes, w + <usize>p * panelBytes, bias + off, y + off);
}

/** kd = 0: every output is +0 + bias, the same sum every other path ends with. */
function biasOnly(bias: usize, np: i32, y: usize): void {
  const zero = f32x4.splat(0);
  for (let j = 0; j < np; j += 4) {
    const off = <usize>j << 2;
    v128.store(y + off, f32x4.add(zero, v128.load(bias + off)));
  }
}

/** Copies n floats (no overlap), four at a time, then the rest one by one. */
function copyFloats(dst: usize, src: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const off = <usize>j << 2;
    v128.store(dst + off, v128.load(src + off));
  }
  for (; j < n; j++) {
    const off = <usize>j << 2;
    store<u32>(dst + off, load<u32>(src + off)); // bit copy
  }
}

// Bias is loaded only at the stores: loaded ahead of the loop it would occupy registers.

// Rows a, a+rowBytes, +2, +3 against one panel: 8 accumulators, 2 weight and 4 input registers.

function rows4cols8(a: usize, rowBytes: usize, w: usize, bias: usize, y: usize, ldy: usize): void {
  let ap = a;
  const aEnd = a + rowBytes;
  let wp = w;
  let c0 = f32x4.splat(0);
  let c1 = c0;
  let d0 = c0;
  let d1 = c0;
  let e0 = c0;
  let e1 = c0;
  let f0 = c0;
  let f1 = c0;
  do {
    const w0 = v128.load(wp, 0);
    const w1 = v128.load(wp, 16);
    const x = v128.load32_splat(ap);
    c0 = f32x4.add(c0, f32x4.mul(x, w0));
    c1 = f32x4.add(c1, f32x4.mul(x, w1));
    const z = v128.load32_splat(ap + rowBytes);
    d0 = f32x4.add(d0, f32x4.mul(z, w0));
    d1 = f32x4.add(d1, f32x4.mul(z, w1));
    const u = v128.load32_splat(ap + 2 * rowBytes);
    e0 = f32x4.add(e0, f32x4.mul(u, w0));
    e1 = f32x4.add(e1, f32x4.mul(u, w1));
    const v = v128.load32_splat(ap + 3 * rowBytes);
    f0 = f32x4.add(f0, f32x4.mul(v, w0));
    f1 = f32x4.add(f1, f32x4.mul(v, w1));
    ap += 4;
    wp += 32;
  } while (ap < aEnd);
  let yp = y;
  v128.store(yp, f32x4.add(c0, v128.load(bias)), 0);
  v128.store(yp, f32x4.add(c1, v128.load(bias, 16)), 16);
  yp += ldy;
  v128.store(yp, f32x4.add(d0, v128.load(bias)), 0);
  v128.store(yp, f32x4.add(d1, v128.load(bias, 16)), 16);
  yp += ldy;
  v128.store(yp, f32x4.add(e0, v128.load(bias)), 0);
  v128.store(yp, f32x4.add(e1, v128.load(bias, 16)), 16);
  yp += ldy;
  v128.store(yp, f32x4.add(f0, v128.load(bias)), 0);
  v128.store(yp, f32x4.add(f1, v128.load(bias, 16)), 16);
}

// One row against three consecutive panels: 6 accumulators, enough to hide the add latency.

function row1cols24(a: usize, rowBytes: usize, w: usize, panelBytes: usize, bias: usize, y: usize): void {
  let ap = a;
  const aEnd = a + rowBytes;
  let wp = w;
  const wq = panelBytes;
  const wr = panelBytes << 1;
  let c0 = f32x4.splat(0);
  let c1 = c0;
  let c2 = c0;
  let c3 = c0;
  let c4 = c0;
  let c5 = c0;
  do {
    const x = v128.load32_splat(ap);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(wp, 0)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(wp, 16)));
    c2 = f32x4.add(c2, f32x4.mul(x, v128.load(wp + wq, 0)));
    c3 = f32x4.add(c3, f32x4.mul(x, v128.load(wp + wq, 16)));
    c4 = f32x4.add(c4, f32x4.mul(x, v128.load(wp + wr, 0)));
    c5 = f32x4.add(c5, f32x4.mul(x, v128.load(wp + wr, 16)));
    ap += 4;
    wp += 32;
  } while (ap < aEnd);
  v128.store(y, f32x4.add(c0, v128.load(bias, 0)), 0);
  v128.store(y, f32x4.add(c1, v128.load(bias, 16)), 16);
  v128.store(y, f32x4.add(c2, v128.load(bias, 32)), 32);
  v128.store(y, f32x4.add(c3, v128.load(bias, 48)), 48);
  v128.store(y, f32x4.add(c4, v128.load(bias, 64)), 64);
  v128.store(y, f32x4.add(c5, v128.load(bias, 80)), 80);
}


function row1cols16(a: usize, rowBytes: usize, w: usize, panelBytes: usize, bias: usize, y: usize): void {
  let ap = a;
  const aEnd = a + rowBytes;
  let wp = w;
  const wq = panelBytes;
  let c0 = f32x4.splat(0);
  let c1 = c0;
  let c2 = c0;
  let c3 = c0;
  do {
    const x = v128.load32_splat(ap);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(wp, 0)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(wp, 16)));
    c2 = f32x4.add(c2, f32x4.mul(x, v128.load(wp + wq, 0)));
    c3 = f32x4.add(c3, f32x4.mul(x, v128.load(wp + wq, 16)));
    ap += 4;
    wp += 32;
  } while (ap < aEnd);
  v128.store(y, f32x4.add(c0, v128.load(bias, 0)), 0);
  v128.store(y, f32x4.add(c1, v128.load(bias, 16)), 16);
  v128.store(y, f32x4.add(c2, v128.load(bias, 32)), 32);
  v128.store(y, f32x4.add(c3, v128.load(bias, 48)), 48);
}


function row1cols8(a: usize, rowBytes: usize, w: usize, bias: usize, y: usize): void {
  let ap = a;
  const aEnd = a + rowBytes;
  let wp = w;
  let c0 = f32x4.splat(0);
  let c1 = c0;
  do {
    const x = v128.load32_splat(ap);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(wp, 0)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(wp, 16)));
    ap += 4;
    wp += 32;
  } while (ap < aEnd);
  v128.store(y, f32x4.add(c0, v128.load(bias, 0)), 0);
  v128.store(y, f32x4.add(c1, v128.load(bias, 16)), 16);
}
