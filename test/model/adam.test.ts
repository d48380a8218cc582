import { describe, expect, it } from 'vitest';
import { Adam, ADAM_DEFAULTS, type AdamState } from '../../src/model/adam.js';

const f32 = Math.fround;

describe('Adam', () => {
  it('first step moves each parameter by lr·g/(|g| + ε) (bias correction makes m̂ = g, v̂ = g²)', () => {
    const theta = Float32Array.of(1, -2, 0.5);
    const adam = new Adam(new Map([['w', theta]]), { learningRate: 0.1 });
    const report = adam.step(new Map([['w', Float32Array.of(0.5, -0.1, 0)]]));
    expect(theta[0]).toBe(f32(1 - (0.1 * 0.5) / (0.5 + 1e-8)));
    expect(theta[1]).toBe(f32(-2 + (0.1 * f32(0.1)) / (f32(0.1) + 1e-8)));
    expect(theta[2]).toBe(0.5); // zero gradient: m = 0, no move
    expect(report.gradNorm).toBeCloseTo(Math.sqrt(0.25 + 0.01), 7);
    expect(report.clipScale).toBe(1);
    expect(adam.stepCount).toBe(1);
  });

  it('second step follows the hand-computed bias-corrected moments', () => {
    const theta = Float32Array.of(1, -2);
    const adam = new Adam(new Map([['w', theta]]), { learningRate: 0.1 });
    adam.step(new Map([['w', Float32Array.of(0.5, -0.1)]]));
    const after1 = Float64Array.from(theta);
    adam.step(new Map([['w', Float32Array.of(0.5, 0.3)]]));
    // Parameter 0, same gradient twice: m̂ = 0.5, v̂ = 0.25 → another lr step of 0.1.
    expect(theta[0]).toBeCloseTo(after1[0]! - 0.1, 6);
    // Parameter 1: m = 0.9·(0.1·−0.1) + 0.1·0.3 = 0.021, v = 0.999·(0.001·0.01) + 0.001·0.09 = 9.999e−5
    // m̂ = 0.021 / (1 − 0.81) = 0.110526…, v̂ = 9.999e−5 / (1 − 0.998001) = 0.0500200…
    const step = (0.1 * (0.021 / 0.19)) / (Math.sqrt(9.999e-5 / 0.001999) + 1e-8);
    expect(step).toBeCloseTo(0.049419, 5);
    expect(theta[1]).toBeCloseTo(after1[1]! - step, 6);
  });

  it('clips by the global norm over every parameter (torch clip_grad_norm_: scale = max/(norm + 1e-6))', () => {
    const a = Float32Array.of(0);
    const b = Float32Array.of(0);
    // Plain SGD-like probe: with β1 = β2 = 0, the step is lr·g/(|g| + ε) ≈ lr·sign(g), so use ε large
    // enough that the step is ∝ g: ε = 1e6 → Δθ ≈ −lr·g/1e6.
    const adam = new Adam(
      new Map([
        ['a', a],
        ['b', b],
      ]),
      { learningRate: 1e6, beta1: 0, beta2: 0, epsilon: 1e6, clipNorm: 1 },
    );
    const report = adam.step(
      new Map([
        ['a', Float32Array.of(3)],
        ['b', Float32Array.of(4)],
      ]),
    );
    expect(report.gradNorm).toBe(5);
    expect(report.clipScale).toBeCloseTo(1 / (5 + 1e-6), 12);
    // Clipped gradients (0.6, 0.8): Δθ = −g·1e6/(|g| + 1e6) ≈ −g.
    expect(a[0]).toBeCloseTo(-0.6, 5);
    expect(b[0]).toBeCloseTo(-0.8, 5);
  });

  it('does not clip below the bound', () => {
    const a = Float32Array.of(0);
    const adam = new Adam(new Map([['a', a]]), { clipNorm: 10 });
    expect(adam.step(new Map([['a', Float32Array.of(3)]])).clipScale).toBe(1);
  });

  it('decoupled weight decay shrinks θ by lr·wd before the step; l2 adds wd·θ to the gradient', () => {
    const d = Float32Array.of(2);
    new Adam(new Map([['w', d]]), { learningRate: 0.1, weightDecay: 0.5, weightDecayMode: 'decoupled' }).step(new Map([['w', Float32Array.of(1)]]));
    // 2·(1 − 0.05) − 0.1·1/(1 + 1e−8)
    expect(d[0]).toBeCloseTo(1.9 - 0.1, 6);
    const l = Float32Array.of(2);
    new Adam(new Map([['w', l]]), { learningRate: 0.1, weightDecay: 0.5, weightDecayMode: 'l2' }).step(new Map([['w', Float32Array.of(-0.5)]]));
    // g = −0.5 + 0.5·2 = 0.5 → first step −lr·sign(g)
    expect(l[0]).toBeCloseTo(2 - 0.1, 6);
    // With a zero gradient, decoupled decay still shrinks; the Adam part does not move.
    const z = Float32Array.of(4);
    new Adam(new Map([['w', z]]), { learningRate: 0.1, weightDecay: 0.5 }).step(new Map([['w', Float32Array.of(0)]]));
    expect(z[0]).toBeCloseTo(4 * 0.95, 6);
  });

  it('state round-trips through JSON and continues bit-identically', () => {
    const grads = [Float32Array.of(0.3, -1.2), Float32Array.of(0.7, 0.1), Float32Array.of(-0.2, 0.4)];
    const p1 = Float32Array.of(0.1, 0.2);
    const a1 = new Adam(new Map([['w', p1]]), { learningRate: 0.01, weightDecay: 0.01 });
    for (const g of grads) a1.step(new Map([['w', g]]));

    const p2 = Float32Array.of(0.1, 0.2);
    const a2 = new Adam(new Map([['w', p2]]), { learningRate: 0.01, weightDecay: 0.01 });
    a2.step(new Map([['w', grads[0]!]]));
    const saved = JSON.parse(JSON.stringify(a2.state())) as AdamState;
    const p3 = Float32Array.from(p2);
    const a3 = new Adam(new Map([['w', p3]]), { learningRate: 0.01, weightDecay: 0.01 });
    a3.loadState(saved);
    expect(a3.stepCount).toBe(1);
    for (const g of grads.slice(1)) a3.step(new Map([['w', g]]));
    expect(Array.from(p3)).toEqual(Array.from(p1));
  });

  it('rejects bad options, gradients and states with messages naming them', () => {
    const p = Float32Array.of(1, 2);
    expect(() => new Adam(new Map([['w', p]]), { learningRate: -1 })).toThrow(/learningRate must be a finite number ≥ 0, got -1/);
    expect(() => new Adam(new Map([['w', p]]), { beta1: 1 })).toThrow(/beta1 must be in \[0, 1\), got 1/);
    expect(() => new Adam(new Map([['w', p]]), { clipNorm: 0 })).toThrow(/clipNorm must be a finite number > 0 or null, got 0/);
    expect(() => new Adam(new Map([['w', p]]), { weightDecayMode: 'sgd' as 'l2' })).toThrow(/weightDecayMode must be 'decoupled' or 'l2'/);
    const adam = new Adam(new Map([['w', p]]));
    expect(() => adam.step(new Map())).toThrow(/gradient 'w' must have 2 values, got none/);
    expect(() => adam.step(new Map([['w', Float32Array.of(1)]]))).toThrow(/gradient 'w' must have 2 values, got 1/);
    expect(() => adam.step(new Map([['w', Float32Array.of(1, Number.NaN)]]))).toThrow(/gradient norm is NaN \(parameter 'w' has a non-finite gradient\)/);
    expect(Array.from(p)).toEqual([1, 2]);
    expect(adam.stepCount).toBe(0);
    expect(() => adam.loadState({ step: 1, moments: {} })).toThrow(/missing parameter 'w'/);
    expect(() => adam.loadState({ step: 1, moments: { w: { m: [0, 0], v: [0, 0] }, x: { m: [], v: [] } } })).toThrow(/unexpected parameter 'x'/);
    expect(() => adam.loadState({ step: 1, moments: { w: { m: [0], v: [0] } } })).toThrow(/'w' has 1\/1 moments, expected 2/);
    expect(() => adam.loadState({ step: -1, moments: { w: { m: [0, 0], v: [0, 0] } } })).toThrow(/step must be a non-negative integer/);
  });

  it('exports torch.optim.Adam defaults', () => {
    expect(ADAM_DEFAULTS).toMatchObject({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, clipNorm: null });
  });
});
