import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActivationGrad } from '../../src/nn/activation-grad.js';
import { ACTIVATION_NAMES, createActivation, type ActivationSpec } from '../../src/nn/activations.js';

const FC_SEED = 77031;

const specs: ActivationSpec[] = [
  ...ACTIVATION_NAMES.map((name) => ({ name })),
  { name: 'leaky-relu', negativeSlope: 0.2 },
  { name: 'elu', alpha: 0.5 },
];

const label = (s: ActivationSpec): string => `${s.name}${s.negativeSlope !== undefined ? ` slope ${s.negativeSlope}` : ''}${s.alpha !== undefined ? ` α ${s.alpha}` : ''}`;

describe('activation derivatives', () => {
  for (const spec of specs) {
    it(`${label(spec)}: matches central differences of the forward (float64), away from kinks`, () => {
      const f = createActivation(spec);
      const grad = createActivationGrad(spec);
      fc.assert(
        fc.property(fc.double({ min: -6, max: 6, noNaN: true }), (x) => {
          fc.pre(Math.abs(x) > 1e-3); // relu, leaky-relu and elu have a kink at 0
          const h = 1e-5;
          const fd = (f.value(x + h) - f.value(x - h)) / (2 * h);
          expect(Math.abs(grad.derivative(x) - fd)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(fd)));
        }),
        { seed: FC_SEED, numRuns: 300 },
      );
    });
  }

  it('has hand-checked values', () => {
    const d = (name: ActivationSpec['name'], x: number): number => createActivationGrad(name).derivative(x);
    expect(d('gelu', 0)).toBeCloseTo(0.5, 7);
    // Φ(1) + φ(1) = 0.8413447461 + 0.2419707245
    expect(d('gelu', 1)).toBeCloseTo(1.0833154706, 6);
    // Φ(−1) − φ(−1)
    expect(d('gelu', -1)).toBeCloseTo(0.1586552539 - 0.2419707245, 6);
    expect(d('gelu-tanh', 0)).toBeCloseTo(0.5, 12);
    expect(d('sigmoid', 0)).toBeCloseTo(0.25, 12);
    expect(d('tanh', 0)).toBe(1);
    expect(d('tanh', 1)).toBeCloseTo(1 - Math.tanh(1) ** 2, 12);
    expect(d('elu', -1)).toBeCloseTo(Math.exp(-1), 12);
    expect(d('identity', -3)).toBe(1);
  });

  it('uses PyTorch conventions at the kinks: relu′(0) = 0, leaky-relu′(0) = slope, elu′(0) = α', () => {
    expect(createActivationGrad('relu').derivative(0)).toBe(0);
    expect(createActivationGrad('relu').derivative(2)).toBe(1);
    expect(createActivationGrad({ name: 'leaky-relu', negativeSlope: 0.3 }).derivative(0)).toBe(0.3);
    expect(createActivationGrad('leaky-relu').derivative(-5)).toBe(0.01);
    expect(createActivationGrad({ name: 'elu', alpha: 0.7 }).derivative(0)).toBeCloseTo(0.7, 15);
  });

  it('backwardInPlace multiplies the gradient by f′ of the pre-activation, within the range only', () => {
    for (const spec of specs) {
      const grad = createActivationGrad(spec);
      const z = Float32Array.of(-2, -0.5, 0.25, 1.5, 3);
      const g = Float32Array.of(1, 2, -3, 4, 5);
      grad.backwardInPlace(g, z, 1, 3);
      expect(g[0], label(spec)).toBe(1);
      expect(g[4], label(spec)).toBe(5);
      for (const i of [1, 2, 3]) {
        expect(g[i], `${label(spec)} [${i}]`).toBeCloseTo(Math.fround([1, 2, -3, 4, 5][i]! * grad.derivative(z[i]!)), 6);
      }
    }
  });

  it('rejects what createActivation rejects', () => {
    expect(() => createActivationGrad({ name: 'elu', alpha: Number.NaN })).toThrow(/alpha must be finite/);
    expect(() => createActivationGrad('swish' as 'relu')).toThrow(/activation must be one of/);
  });
});
