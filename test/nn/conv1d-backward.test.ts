import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv1dBackward, convRowsBackward, convSourceTable, ConvScratch, type ConvRowsGeometry } from '../../src/nn/conv1d-backward.js';
import { planCausalConv1d } from '../../src/nn/causal-conv1d.js';
import { planConv1d, type Conv1dOptions, type Padding, type PaddingMode } from '../../src/nn/conv1d-options.js';
import { jsGemmKernel, type GemmKernel } from '../../src/nn/gemm.js';
import { Rng } from '../../src/nn/random.js';
import { tensor, type Tensor } from '../../src/nn/tensor.js';
import { randn } from '../support/random-tensor.js';

const FC_SEED = 20261122;

/**
 * Independent float64 reference: the padded input built explicitly per mode (not through
 * src/nn/padding.ts), then a direct loop. Returns L = Σ gradOutput · conv(x, w, b).
 */
function padRow(row: Float64Array, left: number, right: number, mode: PaddingMode): Float64Array {
  const L = row.length;
  const out = new Float64Array(L + left + right);
  out.set(row, left);
  for (let i = 0; i < left; i++) {
    const j = left - i; // distance to the first real column
    out[i] = mode === 'zeros' ? 0 : mode === 'reflect' ? row[j]! : mode === 'replicate' ? row[0]! : row[(L - (j % L)) % L]!;
  }
  for (let i = 0; i < right; i++) {
    const j = i + 1; // distance past the last real column
    out[left + L + i] = mode === 'zeros' ? 0 : mode === 'reflect' ? row[L - 1 - j]! : mode === 'replicate' ? row[L - 1]! : row[(j - 1) % L]!;
  }
  return out;
}

interface Case64 {
  x: Float64Array;
  w: Float64Array;
  b: Float64Array;
  g: Float64Array;
  shape: { n: number; cin: number; l: number; cout: number; cinG: number; k: number; lout: number };
  o: { stride: number; dilation: number; groups: number; left: number; right: number; mode: PaddingMode };
}

function objective(c: Case64): number {
  const { n, cin, l, cout, cinG, k, lout } = c.shape;
  const { stride, dilation, groups, left, right, mode } = c.o;
  const coutG = cout / groups;
  let total = 0;
  for (let b = 0; b < n; b++) {
    const padded: Float64Array[] = [];
    for (let ch = 0; ch < cin; ch++) padded.push(padRow(c.x.subarray((b * cin + ch) * l, (b * cin + ch + 1) * l), left, right, mode));
    for (let co = 0; co < cout; co++) {
      const grp = Math.floor(co / coutG);
      for (let t = 0; t < lout; t++) {
        let acc = c.b[co]!;
        for (let ci = 0; ci < cinG; ci++) {
          for (let kk = 0; kk < k; kk++) acc += c.w[(co * cinG + ci) * k + kk]! * padded[grp * cinG + ci]![t * stride + kk * dilation]!;
        }
        total += c.g[(b * cout + co) * lout + t]! * acc;
      }
    }
  }
  return total;
}

/** Central differences of the objective with respect to every element of `which`. */
function finiteDifferences(c: Case64, which: Float64Array): Float64Array {
  const h = 1e-3;
  const out = new Float64Array(which.length);
  for (let i = 0; i < which.length; i++) {
    const v = which[i]!;
    which[i] = v + h;
    const up = objective(c);
    which[i] = v - h;
    const down = objective(c);
    which[i] = v;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

function expectNear(actual: Float32Array, expected: Float64Array, tol: number, label: string): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    if (Math.abs(actual[i]! - e) > tol * (1 + Math.abs(e))) throw new Error(`${label}[${i}]: ${actual[i]} vs finite difference ${e}`);
  }
}

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  groups: fc.integer({ min: 1, max: 3 }),
  cinG: fc.integer({ min: 1, max: 3 }),
  coutG: fc.integer({ min: 1, max: 3 }),
  k: fc.integer({ min: 1, max: 4 }),
  stride: fc.integer({ min: 1, max: 3 }),
  dilation: fc.integer({ min: 1, max: 3 }),
  l: fc.integer({ min: 1, max: 12 }),
  padding: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom<Padding>('same', 'valid')),
  mode: fc.constantFrom<PaddingMode>('zeros', 'reflect', 'replicate', 'circular'),
  seed: fc.integer(),
});

/** Options accepted by conv1d (the planner decides; the expected values never come from it). */
function tryPlan(x: Tensor, w: Tensor, o: Conv1dOptions): ReturnType<typeof planConv1d> | null {
  try {
    return planConv1d(x, w, null, o);
  } catch {
    return null;
  }
}

function countingKernel(): GemmKernel & { packs: number; rows: number } {
  const k = {
    name: 'counting',
    packs: 0,
    rows: 0,
    pack(w: Float32Array, n: number, kd: number, bias: Float32Array | null) {
      k.packs++;
      const inner = jsGemmKernel.pack(w, n, kd, bias);
      return {
        n,
        kd,
        run(m: number, a: Float32Array, aOff: number, y: Float32Array, yOff: number, ldy: number) {
          k.rows += m;
          inner.run(m, a, aOff, y, yOff, ldy);
        },
      };
    },
  };
  return k;
}

describe('conv1dBackward against float64 finite differences', () => {
  it('matches ∂(Σ gradOutput·conv1d)/∂input, ∂weight, ∂bias for random options (every padding kind and mode)', () => {
    let checked = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const rng = new Rng(c.seed);
        const cin = c.cinG * c.groups;
        const cout = c.coutG * c.groups;
        const x = randn(rng, [c.n, cin, c.l]);
        const w = randn(rng, [cout, c.cinG, c.k]);
        const options: Conv1dOptions = { stride: c.stride, dilation: c.dilation, groups: c.groups, padding: c.padding, paddingMode: c.mode };
        const plan = tryPlan(x, w, options);
        fc.pre(plan !== null);
        if (plan === null) return;
        const g = randn(rng, [c.n, cout, plan.outLength]);
        const b = randn(rng, [cout]);
        const got = conv1dBackward(x, w, g, options);
        // Padding as the option says, resolved here independently of the planner.
        const span = c.dilation * (c.k - 1);
        const left = c.padding === 'same' ? Math.floor(span / 2) : c.padding === 'valid' ? 0 : c.padding;
        const right = c.padding === 'same' ? span - left : left;
        const lout = Math.floor((c.l + left + right - span - 1) / c.stride) + 1;
        expect(got.gradInput.shape).toEqual([c.n, cin, c.l]);
        const c64: Case64 = {
          x: Float64Array.from(x.data),
          w: Float64Array.from(w.data),
          b: Float64Array.from(b.data),
          g: Float64Array.from(g.data),
          shape: { n: c.n, cin, l: c.l, cout, cinG: c.cinG, k: c.k, lout },
          o: { stride: c.stride, dilation: c.dilation, groups: c.groups, left, right, mode: c.mode },
        };
        expectNear(got.gradInput.data, finiteDifferences(c64, c64.x), 1e-4, 'gradInput');
        expectNear(got.gradWeight.data, finiteDifferences(c64, c64.w), 1e-4, 'gradWeight');
        expectNear(got.gradBias.data, finiteDifferences(c64, c64.b), 1e-4, 'gradBias');
        checked++;
      }),
      { seed: FC_SEED, numRuns: 150 },
    );
    expect(checked).toBeGreaterThan(50);
  });

  it('sends padded-position gradients back to their source columns (reflect, hand-checked)', () => {
    // x = [a, b, c], K = 1, padding 1 reflect → padded [b, a, b, c, b]; gradOutput all ones, w = 1:
    // ∂/∂a = 1, ∂/∂b = 3, ∂/∂c = 1.
    const x = tensor([1, 1, 3], [1, 2, 3]);
    const w = tensor([1, 1, 1], [1]);
    const g = tensor([1, 1, 5], [1, 1, 1, 1, 1]);
    expect(Array.from(conv1dBackward(x, w, g, { padding: 1, paddingMode: 'reflect' }).gradInput.data)).toEqual([1, 3, 1]);
    // replicate: [a, a, b, c, c] → 2, 1, 2; circular: [c, a, b, c, a] → 2, 1, 2.
    expect(Array.from(conv1dBackward(x, w, g, { padding: 1, paddingMode: 'replicate' }).gradInput.data)).toEqual([2, 1, 2]);
    expect(Array.from(conv1dBackward(x, w, g, { padding: 1, paddingMode: 'circular' }).gradInput.data)).toEqual([2, 1, 2]);
    expect(Array.from(conv1dBackward(x, w, g, { padding: 1, paddingMode: 'zeros' }).gradInput.data)).toEqual([1, 1, 1]);
  });

  it('accepts an unbatched [C, L] input and returns gradients of the same shapes', () => {
    const rng = new Rng(3);
    const x = randn(rng, [2, 7]);
    const w = randn(rng, [3, 2, 3]);
    const g = randn(rng, [3, 5]);
    const batched = conv1dBackward({ shape: [1, 2, 7], data: x.data }, w, { shape: [1, 3, 5], data: g.data });
    const got = conv1dBackward(x, w, g);
    expect(got.gradInput.shape).toEqual([2, 7]);
    expect(got.gradInput.data).toEqual(batched.gradInput.data);
    expect(got.gradWeight.data).toEqual(batched.gradWeight.data);
  });
});

describe('conv1dBackward validation and kernel use', () => {
  it('rejects a gradOutput whose shape is not the output shape, naming both', () => {
    const x = tensor([1, 2, 8]);
    const w = tensor([3, 2, 3]);
    expect(() => conv1dBackward(x, w, tensor([1, 3, 8]))).toThrow(/gradOutput must have the output's shape \[1, 3, 6\], got \[1, 3, 8\]/);
  });

  it('rejects what conv1d rejects, with the forward planner messages', () => {
    const x = tensor([1, 2, 8]);
    const w = tensor([3, 2, 3]);
    expect(() => conv1dBackward(x, w, tensor([1, 3, 6]), { stride: 0 })).toThrow(/stride must be a positive integer, got 0/);
    expect(() => conv1dBackward(x, w, tensor([1, 3, 8]), { padding: 'same', stride: 2 })).toThrow(/'same' is not supported for strided/);
  });

  it('runs its products through the given kernel (and gives the default kernel\'s numbers)', () => {
    const rng = new Rng(11);
    const x = randn(rng, [2, 4, 40]);
    const w = randn(rng, [6, 2, 3]);
    const g = randn(rng, [2, 6, 38]);
    const k = countingKernel();
    const viaCounting = conv1dBackward(x, w, g, { groups: 2 }, k);
    const plain = conv1dBackward(x, w, g, { groups: 2 });
    // Per group: one pack of dyᵀ and one of wᵀ; rows: kd for gradW plus N·Lout for gradCols.
    expect(k.packs).toBe(4);
    expect(k.rows).toBe(2 * (2 * 3 + 2 * 38));
    expect(viaCounting.gradInput.data).toEqual(plain.gradInput.data);
    expect(viaCounting.gradWeight.data).toEqual(plain.gradWeight.data);
  });
});

describe('causal (left-padded) convolution backward, as the TCN uses it', () => {
  it('matches finite differences of the causal conv and leaves no gradient on future inputs', () => {
    fc.assert(
      fc.property(
        fc.record({ k: fc.integer({ min: 1, max: 4 }), d: fc.integer({ min: 1, max: 4 }), cin: fc.integer({ min: 1, max: 3 }), cout: fc.integer({ min: 1, max: 3 }), l: fc.integer({ min: 1, max: 20 }), n: fc.integer({ min: 1, max: 2 }), seed: fc.integer() }),
        (c) => {
          const rng = new Rng(c.seed);
          const x = randn(rng, [c.n, c.cin, c.l]);
          const w = randn(rng, [c.cout, c.cin, c.k]);
          const g = randn(rng, [c.n, c.cout, c.l]);
          const plan = planCausalConv1d(x, w, null, { dilation: c.d });
          const geo: ConvRowsGeometry = { batch: c.n, length: c.l, outLength: c.l, inChannels: c.cin, outChannels: c.cout, kernelSize: c.k, groups: 1, src: convSourceTable(plan) };
          const rows = (t: Tensor, ch: number): Float32Array => {
            const out = new Float32Array(t.data.length);
            for (let b = 0; b < c.n; b++) for (let cc = 0; cc < ch; cc++) for (let i = 0; i < c.l; i++) out[(b * c.l + i) * ch + cc] = t.data[(b * ch + cc) * c.l + i]!;
            return out;
          };
          const gradX = new Float32Array(x.data.length);
          const gradW = new Float32Array(w.data.length);
          const gradB = new Float32Array(c.cout);
          convRowsBackward(geo, rows(x, c.cin), rows(g, c.cout), w.data, jsGemmKernel, { gradX, gradW, gradB }, new ConvScratch());
          const c64: Case64 = {
            x: Float64Array.from(x.data),
            w: Float64Array.from(w.data),
            b: new Float64Array(c.cout),
            g: Float64Array.from(g.data),
            shape: { n: c.n, cin: c.cin, l: c.l, cout: c.cout, cinG: c.cin, k: c.k, lout: c.l },
            o: { stride: 1, dilation: c.d, groups: 1, left: (c.k - 1) * c.d, right: 0, mode: 'zeros' },
          };
          const fdX = finiteDifferences(c64, c64.x);
          // fdX is [N, C, L]; gradX is in rows [(n, l), C].
          const fdRows = rows({ shape: [c.n, c.cin, c.l], data: Float32Array.from(fdX) }, c.cin);
          expectNear(gradX, Float64Array.from(fdRows), 1e-4, 'causal gradInput');
          expectNear(gradW, finiteDifferences(c64, c64.w), 1e-4, 'causal gradWeight');
          expectNear(gradB, finiteDifferences(c64, c64.b), 1e-4, 'causal gradBias');

          // Causality: a gradient on output t only reaches inputs ≤ t.
          const t = c.l - 1 - (c.seed >>> 0) % c.l;
          const onehot = new Float32Array(c.n * c.l * c.cout);
          onehot[t * c.cout] = 1;
          const gx = new Float32Array(gradX.length);
          convRowsBackward(geo, rows(x, c.cin), onehot, w.data, jsGemmKernel, { gradX: gx, gradW: new Float32Array(w.data.length), gradB: null }, new ConvScratch());
          for (let s = t + 1; s < c.l; s++) for (let ch = 0; ch < c.cin; ch++) expect(gx[s * c.cin + ch]).toBe(0);
        },
      ),
      { seed: FC_SEED + 1, numRuns: 100 },
    );
  });
});
