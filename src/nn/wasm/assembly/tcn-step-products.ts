// The product bodies of the fused TCN step (src/nn/wasm/assembly/tcn-step.ts): rows whose inputs
// are read through tap tables (K column addresses per row, u32), times packed weight panels
// (layout in gemm.ts), plus bias. Bit-compatible with gemm.ts: see tcn-step.ts's header.
//
// Each f32x4 lane is one output column's running sum, fed in k order: taps in
// order, each tap's cin inputs in order, the weight pointer advancing 32 bytes per k exactly as
// in gemm.ts. Bias is loaded only at the stores (ahead of the loop it would hold registers).

/** Four rows (tap tables `tapBytes` apart) against one panel: 8 accumulators. */
export function rows4cols8(taps: usize, tapBytes: usize, K: i32, cinBytes: usize, w: usize, bias: usize, y: usize, ldy: usize): void {
  let wp = w;
  let c0 = f32x4.splat(0);
  let c1 = c0;
  let d0 = c0;
  let d1 = c0;
  let e0 = c0;
  let e1 = c0;
  let f0 = c0;
  let f1 = c0;
  for (let k = 0; k < K; k++) {
    const t = taps + (<usize>k << 2);
    let a0 = <usize>load<u32>(t);
    let a1 = <usize>load<u32>(t + tapBytes);
    let a2 = <usize>load<u32>(t + 2 * tapBytes);
    let a3 = <usize>load<u32>(t + 3 * tapBytes);
    const end = a0 + cinBytes;
    do {
      const w0 = v128.load(wp, 0);
      const w1 = v128.load(wp, 16);
      const x = v128.load32_splat(a0);
      c0 = f32x4.add(c0, f32x4.mul(x, w0));
      c1 = f32x4.add(c1, f32x4.mul(x, w1));
      const z = v128.load32_splat(a1);
      d0 = f32x4.add(d0, f32x4.mul(z, w0));
      d1 = f32x4.add(d1, f32x4.mul(z, w1));
      const u = v128.load32_splat(a2);
      e0 = f32x4.add(e0, f32x4.mul(u, w0));
      e1 = f32x4.add(e1, f32x4.mul(u, w1));
      const v = v128.load32_splat(a3);
      f0 = f32x4.add(f0, f32x4.mul(v, w0));
      f1 = f32x4.add(f1, f32x4.mul(v, w1));
      a0 += 4;
      a1 += 4;
      a2 += 4;
      a3 += 4;
      wp += 32;
    } while (a0 < end);
  }
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

/** Two rows (tap tables K·4 bytes apart) against two panels: 8 accumulators. */
export function rows2cols16(taps: usize, K: i32, cinBytes: usize, w: usize, panelBytes: usize, bias: usize, y: usize, ldy: usize): void {
  let wp = w;
  const wq = panelBytes;
  const tapBytes = <usize>K << 2;
  let c0 = f32x4.splat(0);
  let c1 = c0;
  let c2 = c0;
  let c3 = c0;
  let d0 = c0;
  let d1 = c0;
  let d2 = c0;
  let d3 = c0;
  for (let k = 0; k < K; k++) {
    const t = taps + (<usize>k << 2);
    let a0 = <usize>load<u32>(t);
    let a1 = <usize>load<u32>(t + tapBytes);
    const end = a0 + cinBytes;
    do {
      const w0 = v128.load(wp, 0);
      const w1 = v128.load(wp, 16);
      const w2 = v128.load(wp + wq, 0);
      const w3 = v128.load(wp + wq, 16);
      const x = v128.load32_splat(a0);
      c0 = f32x4.add(c0, f32x4.mul(x, w0));
      c1 = f32x4.add(c1, f32x4.mul(x, w1));
      c2 = f32x4.add(c2, f32x4.mul(x, w2));
      c3 = f32x4.add(c3, f32x4.mul(x, w3));
      const z = v128.load32_splat(a1);
      d0 = f32x4.add(d0, f32x4.mul(z, w0));
      d1 = f32x4.add(d1, f32x4.mul(z, w1));
      d2 = f32x4.add(d2, f32x4.mul(z, w2));
      d3 = f32x4.add(d3, f32x4.mul(z, w3));
      a0 += 4;
      a1 += 4;
      wp += 32;
    } while (a0 < end);
  }
  v128.store(y, f32x4.add(c0, v128.load(bias, 0)), 0);
  v128.store(y, f32x4.add(c1, v128.load(bias, 16)), 16);
  v128.store(y, f32x4.add(c2, v128.load(bias, 32)), 32);
  v128.store(y, f32x4.add(c3, v128.load(bias, 48)), 48);
  const y1 = y + ldy;
  v128.store(y1, f32x4.add(d0, v128.load(bias, 0)), 0);
  v128.store(y1, f32x4.add(d1, v128.load(bias, 16)), 16);
  v128.store(y1, f32x4.add(d2, v128.load(bias, 32)), 32);
  v128.store(y1, f32x4.add(d3, v128.load(bias, 48)), 48);
}

/** One row against three consecutive panels: 6 accumulators. */
export function row1cols24(taps: usize, K: i32, cinBytes: usize, w: usize, panelBytes: usize, bias: usize, y: usize): void {
  let wp = w;
  const wq = panelBytes;
  const wr = panelBytes << 1;
  let c0 = f32x4.splat(0);
  let c1 = c0;
  let c2 = c0;
  let c3 = c0;
  let c4 = c0;
  let c5 = c0;
  for (let k = 0; k < K; k++) {
    let ap = <usize>load<u32>(taps + (<usize>k << 2));
    const end = ap + cinBytes;
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
    } while (ap < end);
  }
  v128.store(y, f32x4.add(c0, v128.load(bias, 0)), 0);
  v128.store(y, f32x4.add(c1, v128.load(bias, 16)), 16);
  v128.store(y, f32x4.add(c2, v128.load(bias, 32)), 32);
  v128.store(y, f32x4.add(c3, v128.load(bias, 48)), 48);
  v128.store(y, f32x4.add(c4, v128.load(bias, 64)), 64);
  v128.store(y, f32x4.add(c5, v128.load(bias, 80)), 80);
}

/** One row against two consecutive panels: 4 accumulators. */
export function row1cols16(taps: usize, K: i32, cinBytes: usize, w: usize, panelBytes: usize, bias: usize, y: usize): void {
  let wp = w;
  const wq = panelBytes;
  let c0 = f32x4.splat(0);
  let c1 = c0;
  let c2 = c0;
  let c3 = c0;
  for (let k = 0; k < K; k++) {
    let ap = <usize>load<u32>(taps + (<usize>k << 2));
    const end = ap + cinBytes;
    do {
      const x = v128.load32_splat(ap);
      c0 = f32x4.add(c0, f32x4.mul(x, v128.load(wp, 0)));
      c1 = f32x4.add(c1, f32x4.mul(x, v128.load(wp, 16)));
      c2 = f32x4.add(c2, f32x4.mul(x, v128.load(wp + wq, 0)));
      c3 = f32x4.add(c3, f32x4.mul(x, v128.load(wp + wq, 16)));
      ap += 4;
      wp += 32;
    } while (ap < end);
  }
  v128.store(y, f32x4.add(c0, v128.load(bias, 0)), 0);
  v128.store(y, f32x4.add(c1, v128.load(bias, 16)), 16);
  v128.store(y, f32x4.add(c2, v128.load(bias, 32)), 32);
  v128.store(y, f32x4.add(c3, v128.load(bias, 48)), 48);
}

/** One row against one panel: 2 accumulators. */
export function row1cols8(taps: usize, K: i32, cinBytes: usize, w: usize, bias: usize, y: usize): void {
  let wp = w;
  let c0 = f32x4.splat(0);
  let c1 = c0;
  for (let k = 0; k < K; k++) {
    let ap = <usize>load<u32>(taps + (<usize>k << 2));
    const end = ap + cinBytes;
    do {
      const x = v128.load32_splat(ap);
      c0 = f32x4.add(c0, f32x4.mul(x, v128.load(wp, 0)));
      c1 = f32x4.add(c1, f32x4.mul(x, v128.load(wp, 16)));
      ap += 4;
      wp += 32;
    } while (ap < end);
  }
  v128.store(y, f32x4.add(c0, v128.load(bias, 0)), 0);
  v128.store(y, f32x4.add(c1, v128.load(bias, 16)), 16);
}
