import { createActivation, erfc, type ActivationName, type ActivationSpec } from './activations.js';

/** The derivative of an activation, for backward passes. */
export interface ActivationGrad {
  readonly spec: Required<ActivationSpec>;
  /** f′(x) at the pre-activation value `x` (float64). */
  derivative(x: number): number;
  /**
   * Chain rule in place: `grad[offset + i] *= f′(z[offset + i])` for `i < count`, where `z` holds
   * the pre-activation values of the forward pass. Allocation-free.
   */
  backwardInPlace(grad: Float32Array, z: Float32Array, offset: number, count: number): void;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const GELU_TANH_C = Math.sqrt(2 / Math.PI);
const GELU_TANH_A = 0.044715;

/**
 * Derivatives with PyTorch's conventions at the kinks: relu′(0) = 0, leaky-relu′(0) = slope,
 * elu′(0) = α (torch's backward tests `x > 0`).
 */
function derivativeFn(spec: Required<ActivationSpec>): (x: number) => number {
  switch (spec.name) {
    case 'relu':
      return (x) => (x > 0 ? 1 : 0);
    case 'leaky-relu': {
      const s = spec.negativeSlope;
      return (x) => (x > 0 ? 1 : s);
    }
    case 'gelu':
      // d/dx x·Φ(x) = Φ(x) + x·φ(x).
      return (x) => 0.5 * erfc(-x * SQRT1_2) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case 'gelu-tanh':
      return (x) => {
        const th = Math.tanh(GELU_TANH_C * (x + GELU_TANH_A * x * x * x));
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * GELU_TANH_C * (1 + 3 * GELU_TANH_A * x * x);
      };
    case 'tanh':
      return (x) => {
        const th = Math.tanh(x);
        return 1 - th * th;
      };
    case 'sigmoid':
      return (x) => {
        const s = 1 / (1 + Math.exp(-x));
        return s * (1 - s);
      };
    case 'elu': {
      const a = spec.alpha;
      return (x) => (x > 0 ? 1 : a * Math.exp(x));
    }
    case 'identity':
      return () => 1;
  }
}

/**
 * Builds the derivative of an activation from a name or spec (PyTorch's default parameters, as
 * {@link createActivation}).
 * @throws Error for an unknown name or a non-finite parameter (the messages of createActivation).
 */
export function createActivationGrad(spec: ActivationName | ActivationSpec): ActivationGrad {
  const full = createActivation(spec).spec;
  const d = derivativeFn(full);
  const backwardInPlace =
    full.name === 'identity'
      ? (): void => {}
      : full.name === 'relu'
        ? (grad: Float32Array, z: Float32Array, offset: number, count: number): void => {
            for (let i = offset, end = offset + count; i < end; i++) if (!(z[i] > 0)) grad[i] = 0;
          }
        : (grad: Float32Array, z: Float32Array, offset: number, count: number): void => {
            for (let i = offset, end = offset + count; i < end; i++) grad[i] = grad[i] * d(z[i]);
          };
  return { spec: full, derivative: d, backwardInPlace };
}
