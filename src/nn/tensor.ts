/**
 * A dense float32 tensor in row-major order. Convolution code uses PyTorch's layout:
 * activations `[N, C, L]` (batch, channels, length), weights `[Cout, Cin/groups, K]`.
 */
export interface Tensor {
  /** Sizes of each dimension, outermost first. */
  readonly shape: readonly number[];
  /** Elements in row-major order; `data.length` equals the product of `shape`. */
  readonly data: Float32Array;
}

/** Number of elements a tensor of `shape` holds; throws on a negative or fractional size. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const s = shape[i] as number;
    if (!Number.isInteger(s) || s < 0) {
      throw new Error(`tensor shape [${shape.join(', ')}] has an invalid size ${s} at dimension ${i}: sizes must be non-negative integers`);
    }
    n *= s;
  }
  return n;
}

/**
 * Builds a tensor. With `data` it checks that the element count matches the shape (the array
 * is used as is, not copied); without it the tensor is zero-filled.
 * @throws Error when `data.length` differs from the product of `shape`.
 */
export function tensor(shape: readonly number[], data?: Float32Array | ArrayLike<number>): Tensor {
  const n = numel(shape);
  if (data === undefined) return { shape: [...shape], data: new Float32Array(n) };
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  if (arr.length !== n) {
    throw new Error(`tensor data has ${arr.length} elements but shape [${shape.join(', ')}] needs ${n}`);
  }
  return { shape: [...shape], data: arr };
}

/** A zero-filled tensor of `shape`. */
export function zeros(shape: readonly number[]): Tensor {
  return tensor(shape);
}

/** Formats a shape the way error messages in this project print it: `[2, 3, 4]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
