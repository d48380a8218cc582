import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv1d } from '../../src/nn/conv1d.js';
import { conv1dReference } from '../../src/nn/conv1d-reference.js';
import { tensor, type Tensor } from '../../src/nn/tensor.js';
import { conv1dCase, conv1dConfigs } from '../support/random-tensor.js';


const FC_SEED = 20261122;

describe('conv1d fast path ≡ direct reference', () => {
  it('agrees on random valid configurations (fast-check)', () => {
    fc.assert(
      fc.property(conv1dConfigs({ maxCinG: 4, maxCoutG: 4, maxLength: 40 }), (c) => {
        const { x, w, b, opts } = conv1dCase(c);
        let expected: Tensor;
        try {
          expected = conv1dReference(x, w, b, opts);
        } catch (e) {
          // Invalid combination: the fast path must reject it with the same message.
          expect(() => conv1d(x, w, b, opts)).toThrow((e as Error).message);
          return;
        }
        const actual = conv1d(x, w, b, opts);
        expect(actual.shape).toEqual(expected.shape);
        for (let i = 0; i < expected.data.length; i++) {
          expect(Math.abs(actual.data[i]! - expected.data[i]!)).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(expected.data[i]!));
        }
      }),
      { seed: FC_SEED, numRuns: 300 },
    );
  });

  it('computes a hand-checked example (kernel [1, 2], bias 0.5, padding 1)', () => {
    const x = tensor([1, 1, 3], [1, 2, 3]);
    const w = tensor([1, 1, 2], [1, 2]);
    const b = tensor([1], [0.5]);
    // padded input: 0 1 2 3 0 → windows (0,1) (1,2) (2,3) (3,0) → 2, 5, 8, 3 (+0.5)
    expect(Array.from(conv1d(x, w, b, { padding: 1 }).data)).toEqual([2.5, 5.5, 8.5, 3.5]);
  });

  it('pads reflect, replicate and circular as PyTorch does (hand-checked)', () => {
    const x = tensor([1, 1, 4], [1, 2, 3, 4]);
    const pick = tensor([1, 1, 1], [1]); // identity kernel exposes the padded input
    expect(Array.from(conv1d(x, pick, null, { padding: 2, paddingMode: 'reflect' }).data)).toEqual([3, 2, 1, 2, 3, 4, 3, 2]);
    expect(Array.from(conv1d(x, pick, null, { padding: 2, paddingMode: 'replicate' }).data)).toEqual([1, 1, 1, 2, 3, 4, 4, 4]);
    expect(Array.from(conv1d(x, pick, null, { padding: 2, paddingMode: 'circular' }).data)).toEqual([3, 4, 1, 2, 3, 4, 1, 2]);
    expect(Array.from(conv1d(x, pick, null, { padding: 2 }).data)).toEqual([0, 0, 1, 2, 3, 4, 0, 0]);
  });

  it("pads the extra column of 'same' with an even kernel on the right", () => {
    const x = tensor([1, 1, 4], [1, 2, 3, 4]);
    // K = 2: total padding 1 → left 0, right 1 → windows (1,2) (2,3) (3,4) (4,0)
    const w = tensor([1, 1, 2], [1, 10]);
    expect(Array.from(conv1d(x, w, null, { padding: 'same' }).data)).toEqual([21, 32, 43, 4]);
  });

  it('accepts unbatched [C, L] input like PyTorch', () => {
    const x = tensor([1, 3], [1, 2, 3]);
    const w = tensor([2, 1, 1], [1, -1]);
    const y = conv1d(x, w, null);
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(y.data)).toEqual([1, 2, 3, -1, -2, -3]);
  });
});
