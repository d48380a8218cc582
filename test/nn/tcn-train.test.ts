import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, createActivation, type ActivationName } from '../../src/nn/activations.js';
import { Rng } from '../../src/nn/random.js';
import { Tcn, type TcnConfig } from '../../src/nn/tcn.js';
import { tcnBackward, tcnBackwardFull, tcnForwardTrain, TcnTrainWorkspace } from '../../src/nn/tcn-train.js';
import { tensor, type Tensor } from '../../src/nn/tensor.js';
import { createWasmGemmKernel } from '../../src/nn/wasm-gemm.js';
import { expectBitwiseEqual, randn } from '../support/random-tensor.js';

const FC_SEED = 31337;

/**
 * Independent float64 forward of a TCN (plain loops over `[N, C, L]`, no im2col, no kernel),
 * with parameters taken from `params` (float64 copies of the state dict).
 */
function forward64(tcn: Tcn, params: Map<string, Float64Array>, x: Float64Array, n: number, l: number): Float64Array {
  const act = createActivation(tcn.architecture.activation);
  const conv = (inp: Float64Array, cin: number, name: string, cout: number, k: number, d: number): Float64Array => {
    const w = params.get(`${name}.weight`)!;
    const b = params.get(`${name}.bias`)!;
    const out = new Float64Array(n * cout * l);
    for (let bn = 0; bn < n; bn++) {
      for (let co = 0; co < cout; co++) {
        for (let t = 0; t < l; t++) {
          let acc = b[co]!;
          for (let ci = 0; ci < cin; ci++) {
            for (let kk = 0; kk < k; kk++) {
              const s = t - (k - 1 - kk) * d;
              if (s >= 0) acc += w[(co * cin + ci) * k + kk]! * inp[(bn * cin + ci) * l + s]!;
            }
          }
          out[(bn * cout + co) * l + t] = acc;
        }
      }
    }
    return out;
  };
  const K = tcn.architecture.kernelSize;
  let cur = x;
  let cin = tcn.architecture.inChannels;
  tcn.blocks.forEach((blk, i) => {
    const c = blk.conv1.options.outChannels;
    const h1 = conv(cur, cin, `blocks.${i}.conv1`, c, K, blk.dilation).map((v) => act.value(v));
    const h2 = conv(h1, c, `blocks.${i}.conv2`, c, K, blk.dilation).map((v) => act.value(v));
    const res = blk.downsample === null ? cur : conv(cur, cin, `blocks.${i}.downsample`, c, 1, 1);
    cur = h2.map((v, j) => act.value(v + res[j]!));
    cin = c;
  });
  return conv(cur, cin, 'head', tcn.architecture.outChannels, 1, 1);
}

function params64(tcn: Tcn): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const [k, t] of tcn.stateDict()) m.set(k, Float64Array.from(t.data));
  return m;
}

function dot64(a: Float64Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

const smallConfig = (activation: ActivationName, hidden: number | number[]): TcnConfig => ({
  inChannels: 3,
  outChannels: 2,
  hiddenChannels: hidden,
  kernelSize: 3,
  dilations: [1, 2],
  activation,
});

describe('tcnForwardTrain', () => {
  it('with dropout 0 equals tcn.forward bit for bit, for any architecture and activation', () => {
    fc.assert(
      fc.property(
        fc.record({
          inChannels: fc.integer({ min: 1, max: 4 }),
          outChannels: fc.integer({ min: 1, max: 4 }),
          hidden: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
          kernelSize: fc.integer({ min: 1, max: 4 }),
          dilation: fc.integer({ min: 1, max: 4 }),
          activation: fc.constantFrom<ActivationName>(...ACTIVATION_NAMES),
          n: fc.integer({ min: 1, max: 3 }),
          l: fc.integer({ min: 1, max: 40 }),
          seed: fc.integer(),
        }),
        (c) => {
          const tcn = Tcn.create(
            { inChannels: c.inChannels, outChannels: c.outChannels, hiddenChannels: c.hidden, kernelSize: c.kernelSize, dilations: c.hidden.map((_, i) => c.dilation ** i), activation: c.activation },
            new Rng(c.seed),
          );
          const x = randn(new Rng(c.seed + 1), [c.n, c.inChannels, c.l]);
          const { output } = tcnForwardTrain(tcn, x, { dropout: 0, rng: new Rng(0) });
          const expected = tcn.forward(x);
          expect(output.shape).toEqual(expected.shape);
          expectBitwiseEqual(output.data, expected.data);
        },
      ),
      { seed: FC_SEED, numRuns: 120 },
    );
  });

  it('rejects a mis-shaped input and a dropout outside [0, 1)', () => {
    const tcn = Tcn.create(smallConfig('relu', 4), new Rng(1));
    expect(() => tcnForwardTrain(tcn, tensor([1, 2, 5]), { dropout: 0, rng: new Rng(1) })).toThrow(/input must be \[N, 3, L\].*got \[1, 2, 5\]/);
    expect(() => tcnForwardTrain(tcn, tensor([1, 3, 5]), { dropout: 1, rng: new Rng(1) })).toThrow(/dropout must be a number in \[0, 1\), got 1/);
    expect(() => tcnForwardTrain(tcn, tensor([1, 3, 5]), { dropout: -0.1, rng: new Rng(1) })).toThrow(/dropout/);
  });

  it('applies inverted dropout: same seed → same output; the mean over masks equals the eval output (identity activation)', () => {
    // With identity activations the network is linear in each dropout multiplier, and the masks
    // of different layers are independent, so E[output] = eval output exactly when the kept
    // values are scaled by 1/(1−p). Without the scaling the mean would shrink by (1−p)^k.
    const tcn = Tcn.create({ ...smallConfig('identity', 4), dilations: [1] }, new Rng(5));
    const x = randn(new Rng(6), [1, 3, 6]);
    const evalOut = tcn.forward(x).data;
    const p = 0.3;
    const a = tcnForwardTrain(tcn, x, { dropout: p, rng: new Rng(9) }).output.data;
    const b = tcnForwardTrain(tcn, x, { dropout: p, rng: new Rng(9) }).output.data;
    expectBitwiseEqual(a, b);
    expect(a.some((v, i) => v !== evalOut[i])).toBe(true);
    const draws = 4000;
    const sum = new Float64Array(evalOut.length);
    const sumSq = new Float64Array(evalOut.length);
    const rng = new Rng(10);
    for (let r = 0; r < draws; r++) {
      const out = tcnForwardTrain(tcn, x, { dropout: p, rng }).output.data;
      out.forEach((v, i) => {
        sum[i] += v;
        sumSq[i] += v * v;
      });
    }
    evalOut.forEach((e, i) => {
      const mean = sum[i]! / draws;
      const sd = Math.sqrt(Math.max(sumSq[i]! / draws - mean * mean, 0));
      // 5 standard errors.
      expect(Math.abs(mean - e), `output ${i}`).toBeLessThanOrEqual((5 * sd) / Math.sqrt(draws) + 1e-6);
    });
  });
});

describe('training with the wasm-simd kernel', () => {
  it('forward with dropout 0 equals tcn.forward with the same kernel bit for bit; gradients agree with the JS kernel', () => {
    const kernel = createWasmGemmKernel();
    const tcn = Tcn.create({ inChannels: 4, outChannels: 4, hiddenChannels: [16, 24], kernelSize: 3, dilations: [1, 4], activation: 'gelu' }, new Rng(50));
    const x = randn(new Rng(51), [2, 4, 70]);
    const g = randn(new Rng(52), [2, 4, 70]);
    const wasm = tcnForwardTrain(tcn, x, { dropout: 0, rng: new Rng(0), kernel });
    expectBitwiseEqual(wasm.output.data, tcn.forward(x, kernel).data);
    const js = tcnForwardTrain(tcn, x, { dropout: 0, rng: new Rng(0) });
    const gw = tcnBackwardFull(tcn, wasm.cache, g);
    const gj = tcnBackwardFull(tcn, js.cache, g);
    // Float32 (wasm) against float64 (js) accumulation: within 1e-5 of each tensor's largest gradient.
    for (const [name, ref] of gj.params) {
      const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const got = gw.params.get(name)!;
      ref.forEach((v, i) => expect(Math.abs(got[i]! - v), `${name}[${i}]`).toBeLessThanOrEqual(1e-5 * scale));
    }
    const scaleX = gj.input.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    gj.input.data.forEach((v, i) => expect(Math.abs(gw.input.data[i]! - v)).toBeLessThanOrEqual(1e-5 * scaleX));
  });
});

describe('tcnBackward', () => {
  const cases: { activation: ActivationName; hidden: number | number[] }[] = [
    ...ACTIVATION_NAMES.map((activation) => ({ activation, hidden: [4, 5] })),
    { activation: 'gelu', hidden: 3 }, // identity residuals (widths equal the input)
    { activation: 'relu', hidden: [3, 5] },
  ];
  for (const c of cases) {
    it(`${c.activation}, hidden ${JSON.stringify(c.hidden)}: parameter and input gradients match float64 finite differences`, () => {
      const tcn = Tcn.create(smallConfig(c.activation, c.hidden), new Rng(100));
      const rng = new Rng(200);
      const n = 2;
      const l = 13;
      const x = randn(rng, [n, 3, l]);
      const g = randn(rng, [n, 2, l]);
      const { output, cache } = tcnForwardTrain(tcn, x, { dropout: 0, rng: new Rng(0) });
      const { params: grads, input: gradInput } = tcnBackwardFull(tcn, cache, g);
      // Same names and sizes as the state dict.
      expect([...grads.keys()]).toEqual([...tcn.stateDict().keys()]);
      for (const [k, t] of tcn.stateDict()) expect(grads.get(k)!.length, k).toBe(t.data.length);

      const p64 = params64(tcn);
      const x64 = Float64Array.from(x.data);
      const loss = (): number => dot64(forward64(tcn, p64, x64, n, l), g.data);
      // The float64 reference agrees with the float32 network.
      forward64(tcn, p64, x64, n, l).forEach((v, i) => expect(Math.abs(v - output.data[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(v))));

      const h = 1e-6;
      const fd = (arr: Float64Array, i: number): number => {
        const v = arr[i]!;
        arr[i] = v + h;
        const up = loss();
        arr[i] = v - h;
        const down = loss();
        arr[i] = v;
        return (up - down) / (2 * h);
      };
      // Error bound: |analytic − fd| ≤ 1e-3·|fd| + 1e-4·(largest |gradient| of that tensor):
      // the analytic side is float32 arithmetic, the finite differences are float64.
      const pick = new Rng(300);
      let checked = 0;
      for (const [name, arr] of p64) {
        const analytic = grads.get(name)!;
        const scale = analytic.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        for (let r = 0; r < 3; r++) {
          const i = pick.int(arr.length);
          const e = fd(arr, i);
          expect(Math.abs(analytic[i]! - e), `${name}[${i}]: ${analytic[i]} vs ${e}`).toBeLessThanOrEqual(1e-3 * Math.abs(e) + 1e-4 * scale);
          checked++;
        }
      }
      const scaleX = gradInput.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (let r = 0; r < 6; r++) {
        const i = pick.int(x64.length);
        const e = fd(x64, i);
        expect(Math.abs(gradInput.data[i]! - e), `input[${i}]`).toBeLessThanOrEqual(1e-3 * Math.abs(e) + 1e-4 * scaleX);
      }
      expect(checked).toBeGreaterThanOrEqual(3 * grads.size);
    });
  }

  it('with dropout: gradients match float32 finite differences under the same masks (loose bound)', () => {
    // Rerunning the forward with the same seed gives the same masks, so the loss is a smooth
    // function of the parameters. Float32 finite differences with h = 1e-2 carry ~1e-3 relative noise.
    const tcn = Tcn.create(smallConfig('tanh', [4, 5]), new Rng(7));
    const x = randn(new Rng(8), [2, 3, 11]);
    const g = randn(new Rng(9), [2, 2, 11]);
    const lossAt = (): number => {
      const y = tcnForwardTrain(tcn, x, { dropout: 0.25, rng: new Rng(42) }).output.data;
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i]! * g.data[i]!;
      return s;
    };
    const { cache } = tcnForwardTrain(tcn, x, { dropout: 0.25, rng: new Rng(42) });
    const grads = tcnBackward(tcn, cache, g);
    const h = 1e-2;
    const pick = new Rng(1);
    for (const [name, t] of tcn.stateDict()) {
      const scale = grads.get(name)!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (let r = 0; r < 2; r++) {
        const i = pick.int(t.data.length);
        const v = t.data[i]!;
        t.data[i] = v + h;
        const up = lossAt();
        t.data[i] = v - h;
        const down = lossAt();
        t.data[i] = v;
        const e = (up - down) / (2 * h);
        expect(Math.abs(grads.get(name)![i]! - e), `${name}[${i}]`).toBeLessThanOrEqual(2e-2 * Math.abs(e) + 2e-3 * scale + 1e-4);
      }
    }
  });

  it('respects causality: ∂output[t]/∂input[s] is zero for s > t and for s ≤ t − receptiveField, nonzero inside', () => {
    const tcn = Tcn.create({ ...smallConfig('gelu', [4, 5]), dilations: [1, 2] }, new Rng(3));
    const rf = tcn.receptiveField; // 1 + 2·2·(1 + 2) = 13
    expect(rf).toBe(13);
    const n = 2;
    const l = 30;
    const x = randn(new Rng(4), [n, 3, l]);
    const { cache } = tcnForwardTrain(tcn, x, { dropout: 0, rng: new Rng(0) });
    for (const t of [0, 5, 17, 29]) {
      const g = tensor([n, 2, l]);
      g.data[(1 * 2 + 1) * l + t] = 1; // sequence 1, channel 1, position t
      const gx = tcnBackwardFull(tcn, cache, g).input;
      for (let b = 0; b < n; b++) {
        for (let c = 0; c < 3; c++) {
          for (let s = 0; s < l; s++) {
            const v = gx.data[(b * 3 + c) * l + s]!;
            if (b !== 1 || s > t || s <= t - rf) expect(v, `seq ${b} ch ${c} s ${s} for t ${t}`).toBe(0);
          }
        }
      }
      // Inside the receptive field the input matters (gelu is nowhere flat).
      const inside = [t, Math.max(0, t - rf + 1)].map((s) => Math.abs(gx.data[(1 * 3 + 0) * l + s]!) + Math.abs(gx.data[(1 * 3 + 1) * l + s]!) + Math.abs(gx.data[(1 * 3 + 2) * l + s]!));
      for (const v of inside) expect(v).toBeGreaterThan(0);
    }
  });

  it('rejects a cache of another model and a mis-shaped gradOutput', () => {
    const tcn = Tcn.create(smallConfig('relu', 4), new Rng(1));
    const other = Tcn.create(smallConfig('relu', 4), new Rng(2));
    const { cache } = tcnForwardTrain(tcn, randn(new Rng(3), [1, 3, 8]), { dropout: 0, rng: new Rng(0) });
    expect(() => tcnBackward(other, cache, tensor([1, 2, 8]))).toThrow(/cache does not come from tcnForwardTrain on this Tcn/);
    expect(() => tcnBackward(tcn, cache, tensor([1, 2, 7]))).toThrow(/gradOutput must have the output's shape \[1, 2, 8\], got \[1, 2, 7\]/);
    const ws = new TcnTrainWorkspace(tcn, 1, 8);
    expect(() => ws.backwardRows(new Float32Array(16), ws.createGradients())).toThrow(/no forward pass/);
    expect(() => ws.forwardRows(new Float32Array(27), 1, 9, { dropout: 0, rng: new Rng(0) })).toThrow(/length must be an integer in \[1, 8\], got 9/);
  });

  it('a workspace reused for shorter batches and lengths gives the numbers of a fresh one', () => {
    const tcn = Tcn.create(smallConfig('elu', [4, 5]), new Rng(21));
    const ws = new TcnTrainWorkspace(tcn, 3, 20);
    const big = randn(new Rng(22), [3 * 20 * 3]).data;
    ws.forwardRows(big, 3, 20, { dropout: 0, rng: new Rng(0) });
    ws.backwardRows(randn(new Rng(23), [3 * 20 * 2]).data, ws.createGradients());
    const x: Tensor = randn(new Rng(24), [2, 3, 9]);
    const g: Tensor = randn(new Rng(25), [2, 2, 9]);
    const fresh = tcnForwardTrain(tcn, x, { dropout: 0, rng: new Rng(0) });
    const freshGrads = tcnBackward(tcn, fresh.cache, g);
    const rowsX = new Float32Array(2 * 9 * 3);
    for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) for (let t = 0; t < 9; t++) rowsX[(b * 9 + t) * 3 + c] = x.data[(b * 3 + c) * 9 + t]!;
    const rowsG = new Float32Array(2 * 9 * 2);
    for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) for (let t = 0; t < 9; t++) rowsG[(b * 9 + t) * 2 + c] = g.data[(b * 2 + c) * 9 + t]!;
    const y = ws.forwardRows(rowsX, 2, 9, { dropout: 0, rng: new Rng(0) });
    for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) for (let t = 0; t < 9; t++) expect(y[(b * 9 + t) * 2 + c]).toBe(fresh.output.data[(b * 2 + c) * 9 + t]);
    const grads = ws.createGradients();
    ws.backwardRows(rowsG, grads);
    for (const [k, v] of freshGrads) expectBitwiseEqual(grads.get(k)!, v);
  });
});
