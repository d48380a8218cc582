/** Element-wise activations, with PyTorch's definitions and default parameters. */
export type ActivationName = 'relu' | 'leaky-relu' | 'gelu' | 'gelu-tanh' | 'tanh' | 'sigmoid' | 'elu' | 'identity';

/** An activation and its parameter, as stored in model files. */
export interface ActivationSpec {
  readonly name: ActivationName;
  /** leaky-relu: slope for x < 0 (torch default 0.01). */
  readonly negativeSlope?: number;
  /** elu: α (torch default 1.0). */
  readonly alpha?: number;
}

/** Every supported activation name, for validation and help texts. */
export const ACTIVATION_NAMES: readonly ActivationName[] = ['relu', 'leaky-relu', 'gelu', 'gelu-tanh', 'tanh', 'sigmoid', 'elu', 'identity'];

/** An activation bound to its parameters. */
export interface Activation {
  readonly spec: Required<ActivationSpec>;
  /** f(x) for one value (float64; callers store to float32). */
  value(x: number): number;
  /** Applies f in place to `data[offset .. offset + count)`. Allocation-free. */
  applyInPlace(data: Float32Array, offset: number, count: number): void;
}

/**
 * Complementary error function, Numerical Recipes' Chebyshev fit (fractional error < 1.2e−7
 * everywhere, below float32 resolution), so GELU's small negative tail keeps its relative precision.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

const SQRT1_2 = Math.SQRT1_2;
const GELU_TANH_C = Math.sqrt(2 / Math.PI);

function valueFn(spec: Required<ActivationSpec>): (x: number) => number {
  switch (spec.name) {
    case 'relu':
      return (x) => (x < 0 ? 0 : x);
    case 'leaky-relu': {
      const s = spec.negativeSlope;
      return (x) => (x > 0 ? x : s * x);
    }
    case 'gelu':
      // x·Φ(x) with Φ(x) = ½·erfc(−x/√2), torch's default (approximate='none').
      return (x) => 0.5 * x * erfc(-x * SQRT1_2);
    case 'gelu-tanh':
      return (x) => 0.5 * x * (1 + Math.tanh(GELU_TANH_C * (x + 0.044715 * x * x * x)));
    case 'tanh':
      return Math.tanh;
    case 'sigmoid':
      return (x) => 1 / (1 + Math.exp(-x));
    case 'elu': {
      const a = spec.alpha;
      return (x) => (x > 0 ? x : a * Math.expm1(x));
    }
    case 'identity':
      return (x) => x;
  }
}

/**
 * Builds an activation from a name or spec, filling PyTorch's defaults.
 * @throws Error for an unknown name or a non-finite parameter.
 */
export function createActivation(spec: ActivationName | ActivationSpec): Activation {
  const s = typeof spec === 'string' ? { name: spec } : spec;
  if (!ACTIVATION_NAMES.includes(s.name)) {
    throw new Error(`activation must be one of ${ACTIVATION_NAMES.join(', ')}, got '${String(s.name)}'`);
  }
  const full: Required<ActivationSpec> = { name: s.name, negativeSlope: s.negativeSlope ?? 0.01, alpha: s.alpha ?? 1 };
  if (!Number.isFinite(full.negativeSlope)) throw new Error(`activation negativeSlope must be finite, got ${full.negativeSlope}`);
  if (!Number.isFinite(full.alpha)) throw new Error(`activation alpha must be finite, got ${full.alpha}`);
  const f = valueFn(full);
  const applyInPlace =
    full.name === 'identity'
      ? (): void => {}
      : full.name === 'relu'
        ? (data: Float32Array, offset: number, count: number): void => {
            for (let i = offset, end = offset + count; i < end; i++) if (data[i] < 0) data[i] = 0;
          }
        : (data: Float32Array, offset: number, count: number): void => {
            for (let i = offset, end = offset + count; i < end; i++) data[i] = f(data[i]);
          };
  return { spec: full, value: f, applyInPlace };
}
