import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { causalConv1d } from '../../src/nn/causal-conv1d.js';
import { conv1dReference } from '../../src/nn/conv1d-reference.js';
import { Rng } from '../../src/nn/random.js';
import { StreamingConv1d } from '../../src/nn/streaming-conv1d.js';
import { tensor, type Tensor } from '../../src/nn/tensor.js';
import { concatColumns, expectBitwiseEqual, randn, randomChunking, sliceColumns } from '../support/random-tensor.js';

const FC_SEED = 7_2026;

/** The definition: conv1d of x left-padded with (K−1)·d zeros, by the direct reference kernel. */
function leftPadReference(x: Tensor, w: Tensor, b: Tensor | null, stride: number, dilation: number, groups: number): Tensor {
  const [, c, l] = x.shape as [number, number, number];
  const h = ((w.shape[2] as number) - 1) * dilation;
  const padded = tensor([1, c, l + h]);
  for (let ch = 0; ch < c; ch++) padded.data.set(x.data.subarray(ch * l, (ch + 1) * l), ch * (l + h) + h);
  return conv1dReference(padded, w, b, { stride, dilation, groups });
}

const layerArb = fc.record({
  groups: fc.integer({ min: 1, max: 3 }),
  cinG: fc.integer({ min: 1, max: 3 }),
  coutG: fc.integer({ min: 1, max: 3 }),
  kernelSize: fc.integer({ min: 1, max: 4 }),
  stride: fc.integer({ min: 1, max: 3 }),
  dilation: fc.integer({ min: 1, max: 4 }),
  length: fc.integer({ min: 1, max: 60 }),
  maxChunk: fc.integer({ min: 1, max: 20 }),
  bias: fc.boolean(),
  seed: fc.integer(),
});

describe('StreamingConv1d', () => {
  it('concatenated pushes ≡ offline causal conv under any chunking (bitwise), and match the definition', () => {
    fc.assert(
      fc.property(layerArb, (c) => {
        const rng = new Rng(c.seed);
        const cin = c.cinG * c.groups;
        const cout = c.coutG * c.groups;
        const x = randn(rng, [1, cin, c.length]);
        const w = randn(rng, [cout, c.cinG, c.kernelSize]);
        const b = c.bias ? randn(rng, [cout]) : null;
        const opts = { stride: c.stride, dilation: c.dilation, groups: c.groups };
        const offline = causalConv1d(x, w, b, opts);
        const stream = new StreamingConv1d({ weight: w, bias: b, ...opts });
        const parts: Tensor[] = [];
        let at = 0;
        for (const n of randomChunking(rng, c.length, c.maxChunk)) {
          expect(stream.outputsFor(n)).toBeGreaterThanOrEqual(0);
          parts.push(stream.push(sliceColumns(x, at, at + n)));
          at += n;
        }
        parts.push(stream.push(tensor([1, cin, 0]))); // an empty chunk changes nothing
        const streamed = concatColumns(parts, cout);
        expect(streamed.shape).toEqual(offline.shape);
        expectBitwiseEqual(streamed.data, offline.data);
        const def = leftPadReference(x, w, b, c.stride, c.dilation, c.groups);
        for (let i = 0; i < def.data.length; i++) {
          expect(Math.abs(offline.data[i]! - def.data[i]!)).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(def.data[i]!));
        }
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
  });

  it('is causal: changing future inputs never changes past outputs', () => {
    fc.assert(
      fc.property(layerArb, fc.integer({ min: 0, max: 59 }), (c, cut) => {
        const rng = new Rng(c.seed);
        const cin = c.cinG * c.groups;
        const cout = c.coutG * c.groups;
        const w = randn(rng, [cout, c.cinG, c.kernelSize]);
        const x1 = randn(rng, [1, cin, c.length]);
        const x2 = tensor(x1.shape, x1.data.slice());
        const t0 = cut % c.length;
        for (let ch = 0; ch < cin; ch++) for (let t = t0; t < c.length; t++) x2.data[ch * c.length + t] = rng.normal() * 100;
        const opts = { weight: w, bias: null, stride: c.stride, dilation: c.dilation, groups: c.groups };
        const y1 = new StreamingConv1d(opts).push(x1);
        const y2 = new StreamingConv1d(opts).push(x2);
        const l = y1.shape[2] as number;
        // Output j sees inputs ≤ j·stride, so outputs with j·stride < t0 must be unchanged.
        for (let co = 0; co < cout; co++) {
          for (let j = 0; j < l && j * c.stride < t0; j++) expect(y2.data[co * l + j]).toBe(y1.data[co * l + j]);
        }
      }),
      { seed: FC_SEED + 1, numRuns: 150 },
    );
  });

  it('snapshot/restore ≡ uninterrupted, including into a new instance', () => {
    fc.assert(
      fc.property(layerArb, fc.integer({ min: 0, max: 60 }), (c, cutRaw) => {
        const rng = new Rng(c.seed);
        const cin = c.cinG * c.groups;
        const cout = c.coutG * c.groups;
        const w = randn(rng, [cout, c.cinG, c.kernelSize]);
        const b = randn(rng, [cout]);
        const x = randn(rng, [1, cin, c.length]);
        const cut = cutRaw % (c.length + 1);
        const opts = { weight: w, bias: b, stride: c.stride, dilation: c.dilation, groups: c.groups };
        const whole = new StreamingConv1d(opts).push(x);
        const a = new StreamingConv1d(opts);
        const first = a.push(sliceColumns(x, 0, cut));
        const snap = a.snapshot();
        a.push(randn(rng, [1, cin, 5])); // diverge, then restore
        const bStream = new StreamingConv1d(opts);
        bStream.restore(snap);
        a.restore(snap);
        const restA = a.push(sliceColumns(x, cut, c.length));
        const restB = bStream.push(sliceColumns(x, cut, c.length));
        expectBitwiseEqual(concatColumns([first, restA], cout).data, whole.data);
        expectBitwiseEqual(concatColumns([first, restB], cout).data, whole.data);
      }),
      { seed: FC_SEED + 2, numRuns: 150 },
    );
  });

  it('reset() returns to a fresh stream', () => {
    const rng = new Rng(3);
    const w = randn(rng, [2, 2, 3]);
    const x = randn(rng, [1, 2, 10]);
    const s = new StreamingConv1d({ weight: w, bias: null, dilation: 2 });
    const y1 = s.push(x);
    s.reset();
    expectBitwiseEqual(s.push(x).data, y1.data);
  });

  it('step() emits one output every `stride` inputs and allocates nothing per step', () => {
    const rng = new Rng(4);
    const w = randn(rng, [3, 2, 2]);
    const x = randn(rng, [1, 2, 9]);
    const s = new StreamingConv1d({ weight: w, bias: null, stride: 3 });
    const expected = causalConv1d(x, w, null, { stride: 3 });
    const col = new Float32Array(2);
    const out = new Float32Array(3);
    const emitted: number[] = [];
    for (let t = 0; t < 9; t++) {
      col[0] = x.data[t]!;
      col[1] = x.data[9 + t]!;
      if (s.step(col, out)) emitted.push(t, ...out);
    }
    // Outputs at inputs 0, 3, 6.
    expect(emitted.filter((_, i) => i % 4 === 0)).toEqual([0, 3, 6]);
    const values = emitted.filter((_, i) => i % 4 !== 0);
    const exp = [0, 1, 2].flatMap((j) => [0, 1, 2].map((co) => expected.data[co * 3 + j]!));
    expect(values).toEqual(exp);
  });

  it('rejects bad chunks and snapshots with clear errors', () => {
    const w = tensor([2, 1, 3]);
    const s = new StreamingConv1d({ weight: w, bias: null, dilation: 2 });
    expect(() => s.push(tensor([1, 2, 4]))).toThrow(/chunk must be \[1, 1, L\], got \[1, 2, 4\]/);
    expect(() => s.restore({ history: new Float32Array(3), phase: 0 })).toThrow(/history has 3 values, expected 4/);
    expect(() => new StreamingConv1d({ weight: tensor([3, 1, 2]), bias: null, groups: 2 })).toThrow(/divisible by groups 2/);
  });
});
