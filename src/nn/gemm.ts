/**
 * The one matrix product every convolution path in `nn` goes through:
 *
 *   y[i·ldy + j] = bias[j] + Σ_k a[i·kd + k] · w[j·kd + k]     for i < m, j < n
 *
 * `w` is a weight matrix `[n, kd]` fixed at pack time (weight-stationary), `a` holds `m` rows of
 * `kd` inputs (im2col rows of an offline conv, or one gathered row per stream when streaming).
 *
 * Contract that makes streaming bitwise equal to offline: each output element is a function of
 * its own `a` row and `w` row only, computed in an order that does not depend on `m`, on `i` or
 * on where the rows sit in memory. So the same row gives the same bits in any batch.
 */
export interface GemmKernel {
  /** Short name for logs and benchmarks, e.g. `'js'` or `'wasm-simd'`. */
  readonly name: string;
  /**
   * Prepares `w` (`[n, kd]`, row-major) and an optional `bias` (`[n]`) for repeated products.
   * The kernel may copy them; later changes to the arrays are not seen (pack again).
   */
  pack(w: Float32Array, n: number, kd: number, bias: Float32Array | null): PackedMatrix;
}

/** A weight matrix bound to a kernel. See {@link GemmKernel}. */
export interface PackedMatrix {
  readonly n: number;
  readonly kd: number;
  /**
   * Computes `m` rows: reads `a[aOff + i·kd + k]`, writes `y[yOff + i·ldy + j]` (float32-rounded).
   * Allocates nothing.
   */
  run(m: number, a: Float32Array, aOff: number, y: Float32Array, yOff: number, ldy: number): void;
  /**
   * Gives the matrix's storage back to its kernel for the next `pack` (the WebAssembly kernel's
   * memory never shrinks, so a caller that packs per call must dispose, or memory grows with
   * every call). The matrix must not be run afterwards. Absent where the garbage collector
   * frees the storage (the TypeScript kernel).
   */
  dispose?(): void;
}

/**
 * Dot product of `a[aOff .. aOff+n)` and `b[bOff .. bOff+n)`, accumulated in float64 over four
 * interleaved partial sums (k ≡ 0, 1, 2, 3 mod 4) then combined as ((s0 + s1) + (s2 + s3)).
 * The fixed order is part of the {@link GemmKernel} contract.
 */
export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  const n4 = n - (n % 4);
  for (; k < n4; k += 4) {
    s0 += a[aOff + k] * b[bOff + k];
    s1 += a[aOff + k + 1] * b[bOff + k + 1];
    s2 += a[aOff + k + 2] * b[bOff + k + 2];
    s3 += a[aOff + k + 3] * b[bOff + k + 3];
  }
  for (; k < n; k++) s0 += a[aOff + k] * b[bOff + k];
  return s0 + s1 + (s2 + s3);
}

class JsPackedMatrix implements PackedMatrix {
  constructor(
    readonly n: number,
    readonly kd: number,
    private readonly w: Float32Array,
    private readonly bias: Float32Array | null,
  ) {}

  run(m: number, a: Float32Array, aOff: number, y: Float32Array, yOff: number, ldy: number): void {
    const { n, kd, w, bias } = this;
    for (let i = 0; i < m; i++) {
      const ai = aOff + i * kd;
      const yi = yOff + i * ldy;
      for (let j = 0; j < n; j++) {
        const acc = dot(a, ai, w, j * kd, kd);
        y[yi + j] = bias === null ? acc : acc + bias[j];
      }
    }
  }
}

/** The plain TypeScript kernel: the reference every faster kernel is tested against. */
export const jsGemmKernel: GemmKernel = {
  name: 'js',
  pack(w: Float32Array, n: number, kd: number, bias: Float32Array | null): PackedMatrix {
    if (w.length < n * kd) throw new Error(`gemm: weight matrix has ${w.length} elements, needs ${n}×${kd}`);
    if (bias !== null && bias.length < n) throw new Error(`gemm: bias has ${bias.length} elements, needs ${n}`);
    return new JsPackedMatrix(n, kd, w.slice(0, n * kd), bias === null ? null : bias.slice(0, n));
  },
};
