import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActivation, type ActivationName } from '../../src/nn/activations.js';
import { conv1dReference } from '../../src/nn/conv1d-reference.js';
import { Rng } from '../../src/nn/random.js';
import { Tcn, type TcnConfig } from '../../src/nn/tcn.js';
import { tensor, type Tensor } from '../../src/nn/tensor.js';
import { concatColumns, expectBitwiseEqual, randn, randomChunking, sliceColumns } from '../support/random-tensor.js';

const FC_SEED = 424242;

/** An independent TCN forward built from the direct reference conv and plain loops. */
function referenceForward(tcn: Tcn, x: Tensor): Tensor {
  const act = createActivation(tcn.architecture.activation);
  const causal = (inp: Tensor, w: Tensor, b: Tensor | null, d: number): Tensor => {
    const [n, c, l] = inp.shape as [number, number, number];
    const h = ((w.shape[2] as number) - 1) * d;
    const padded = tensor([n, c, l + h]);
    for (let i = 0; i < n * c; i++) padded.data.set(inp.data.subarray(i * l, (i + 1) * l), i * (l + h) + h);
    return conv1dReference(padded, w, b, { dilation: d });
  };
  let cur = x;
  for (const blk of tcn.blocks) {
    const h1 = causal(cur, blk.conv1.weight, blk.conv1.bias, blk.dilation);
    h1.data.forEach((v, i) => (h1.data[i] = act.value(v)));
    const h2 = causal(h1, blk.conv2.weight, blk.conv2.bias, blk.dilation);
    h2.data.forEach((v, i) => (h2.data[i] = act.value(v)));
    const res = blk.downsample === null ? cur : causal(cur, blk.downsample.weight, blk.downsample.bias, 1);
    h2.data.forEach((v, i) => (h2.data[i] = act.value(v + res.data[i]!)));
    cur = h2;
  }
  return causal(cur, tcn.head.weight, tcn.head.bias, 1);
}

const configArb = fc.record({
  inChannels: fc.integer({ min: 1, max: 4 }),
  outChannels: fc.integer({ min: 1, max: 4 }),
  hidden: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
  kernelSize: fc.integer({ min: 1, max: 4 }),
  dilationSeed: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }),
  activation: fc.constantFrom<ActivationName>('relu', 'leaky-relu', 'gelu', 'gelu-tanh', 'tanh', 'sigmoid', 'elu', 'identity'),
  seed: fc.integer(),
});

type ConfigCase = typeof configArb extends fc.Arbitrary<infer T> ? T : never;

function makeTcn(c: ConfigCase): { tcn: Tcn; config: TcnConfig } {
  const config: TcnConfig = {
    inChannels: c.inChannels,
    outChannels: c.outChannels,
    hiddenChannels: c.hidden,
    kernelSize: c.kernelSize,
    dilations: c.hidden.map((_, i) => c.dilationSeed[i]!),
    activation: c.activation,
  };
  return { tcn: Tcn.create(config, new Rng(c.seed)), config };
}

describe('Tcn', () => {
  it('reports the receptive field 1 + Σ 2(K−1)d (tcn-s: 125)', () => {
    const tcn = Tcn.create({ inChannels: 8, outChannels: 8, hiddenChannels: 32, kernelSize: 3, dilations: [1, 2, 4, 8, 16] }, new Rng(1));
    expect(tcn.receptiveField).toBe(125);
    // 5 blocks × (32·8·3 or 32·32·3 + 32·32·3) + downsample 32·8 + head 8·32, plus biases
    const weights = 32 * 8 * 3 + 32 * 32 * 3 + 4 * 2 * 32 * 32 * 3 + 32 * 8 + 8 * 32;
    const biases = 10 * 32 + 32 + 8;
    expect(tcn.parameterCount).toBe(weights + biases);
    expect(tcn.macsPerStep).toBe(weights);
  });

  it('offline forward matches an independent reference built from direct convolutions', () => {
    fc.assert(
      fc.property(configArb, fc.integer({ min: 1, max: 30 }), (c, length) => {
        const { tcn } = makeTcn(c);
        const x = randn(new Rng(c.seed + 1), [2, c.inChannels, length]);
        const y = tcn.forward(x);
        const ref = referenceForward(tcn, x);
        expect(y.shape).toEqual([2, c.outChannels, length]);
        for (let i = 0; i < ref.data.length; i++) {
          expect(Math.abs(y.data[i]! - ref.data[i]!)).toBeLessThanOrEqual(1e-4 + 1e-4 * Math.abs(ref.data[i]!));
        }
      }),
      { seed: FC_SEED, numRuns: 60 },
    );
  });

  it('stream over any chunking ≡ offline forward, bit for bit', () => {
    fc.assert(
      fc.property(configArb, fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 17 }), (c, length, maxChunk) => {
        const { tcn } = makeTcn(c);
        const rng = new Rng(c.seed + 2);
        const x = randn(rng, [1, c.inChannels, length]);
        const offline = tcn.forward(x);
        const stream = tcn.createStream();
        const parts: Tensor[] = [];
        let at = 0;
        for (const n of randomChunking(rng, length, maxChunk)) {
          parts.push(stream.push(sliceColumns(x, at, at + n)));
          at += n;
        }
        expectBitwiseEqual(concatColumns(parts, c.outChannels).data, offline.data);
        expect(stream.samplesSeen).toBe(length);
        expect(stream.ready).toBe(length >= tcn.receptiveField);
      }),
      { seed: FC_SEED + 1, numRuns: 80 },
    );
  });

  it('batched streams with any subset of slots stepping ≡ each stream run alone', () => {
    fc.assert(
      fc.property(configArb, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 40 }), (c, capacity, steps) => {
        const { tcn } = makeTcn(c);
        const rng = new Rng(c.seed + 3);
        const batch = tcn.createBatchStream(capacity);
        const inputs: number[][][] = Array.from({ length: capacity }, () => []);
        const outputs: number[][][] = Array.from({ length: capacity }, () => []);
        const slots = new Int32Array(capacity);
        const x = new Float32Array(capacity * c.inChannels);
        const out = new Float32Array(capacity * c.outChannels);
        for (let s = 0; s < steps; s++) {
          // A random subset, in random order: devices do not all report every tick.
          const order = Array.from({ length: capacity }, (_, i) => i).sort(() => rng.uniform() - 0.5);
          const count = rng.int(capacity + 1);
          for (let i = 0; i < count; i++) {
            slots[i] = order[i]!;
            const col = Array.from({ length: c.inChannels }, () => Math.fround(rng.normal()));
            x.set(col, i * c.inChannels);
            inputs[order[i]!]!.push(col);
          }
          batch.stepSlots(slots, count, x, out);
          for (let i = 0; i < count; i++) outputs[order[i]!]!.push(Array.from(out.subarray(i * c.outChannels, (i + 1) * c.outChannels)));
        }
        for (let slot = 0; slot < capacity; slot++) {
          const cols = inputs[slot]!;
          if (cols.length === 0) continue;
          const xs = tensor([1, c.inChannels, cols.length]);
          cols.forEach((col, t) => col.forEach((v, ch) => (xs.data[ch * cols.length + t] = v)));
          const alone = tcn.forward(xs);
          const got = tensor([1, c.outChannels, cols.length]);
          outputs[slot]!.forEach((col, t) => col.forEach((v, ch) => (got.data[ch * cols.length + t] = v)));
          expectBitwiseEqual(got.data, alone.data);
          expect(batch.samplesSeen(slot)).toBe(cols.length);
        }
      }),
      { seed: FC_SEED + 2, numRuns: 60 },
    );
  });

  it('snapshot/restore of a slot ≡ uninterrupted, also into another slot', () => {
    const tcn = Tcn.create({ inChannels: 3, outChannels: 2, hiddenChannels: [4, 5], kernelSize: 3, dilations: [1, 2] }, new Rng(9));
    const rng = new Rng(10);
    const x = randn(rng, [1, 3, 30]);
    const whole = tcn.forward(x);
    const a = tcn.createStream();
    const first = a.push(sliceColumns(x, 0, 13));
    const snap = a.snapshot();
    const b = tcn.createBatchStream(3);
    b.restoreSlot(2, snap);
    expect(b.samplesSeen(2)).toBe(13);
    const rest = new Float32Array(17 * 2);
    const xt = new Float32Array(17 * 3);
    for (let t = 0; t < 17; t++) for (let c = 0; c < 3; c++) xt[t * 3 + c] = x.data[c * 30 + 13 + t]!;
    b.pushChunkSlot(2, 17, xt, rest);
    const combined = new Float32Array(60);
    for (let c = 0; c < 2; c++) {
      combined.set(first.data.subarray(c * 13, (c + 1) * 13), c * 30);
      for (let t = 0; t < 17; t++) combined[c * 30 + 13 + t] = rest[t * 2 + c]!;
    }
    expectBitwiseEqual(combined, whole.data);
    expect(() => b.restoreSlot(0, { histories: [new Float32Array(1)], seen: 0 })).toThrow(/snapshot has 1 layer histories, this model has 4/);
  });

  it('is causal: a change at time t0 leaves every output before t0 unchanged', () => {
    const tcn = Tcn.create({ inChannels: 2, outChannels: 2, hiddenChannels: 4, kernelSize: 2, dilations: [1, 2, 4] }, new Rng(11));
    const x1 = randn(new Rng(12), [1, 2, 40]);
    const x2 = tensor(x1.shape, x1.data.slice());
    x2.data[25] = 1e3; // channel 0, t = 25
    const y1 = tcn.forward(x1);
    const y2 = tcn.forward(x2);
    for (let c = 0; c < 2; c++) {
      for (let t = 0; t < 25; t++) expect(y2.data[c * 40 + t]).toBe(y1.data[c * 40 + t]);
      expect(y2.data[c * 40 + 25]).not.toBe(y1.data[c * 40 + 25]);
    }
  });

  it('round-trips parameters through its state_dict and rejects mismatched ones', () => {
    const config: TcnConfig = { inChannels: 3, outChannels: 3, hiddenChannels: 5, kernelSize: 2, dilations: [1, 2] };
    const a = Tcn.create(config, new Rng(5));
    const sd = a.stateDict();
    expect([...sd.keys()]).toEqual([
      'blocks.0.conv1.weight', 'blocks.0.conv1.bias', 'blocks.0.conv2.weight', 'blocks.0.conv2.bias',
      'blocks.0.downsample.weight', 'blocks.0.downsample.bias',
      'blocks.1.conv1.weight', 'blocks.1.conv1.bias', 'blocks.1.conv2.weight', 'blocks.1.conv2.bias',
      'head.weight', 'head.bias',
    ]);
    const b = Tcn.fromStateDict(config, sd);
    const x = randn(new Rng(6), [1, 3, 12]);
    expectBitwiseEqual(b.forward(x).data, a.forward(x).data);
    const missing = new Map(sd);
    missing.delete('head.bias');
    expect(() => Tcn.fromStateDict(config, missing)).toThrow(/missing tensor 'head.bias' \(expected shape \[3\]\)/);
    const wrong = new Map(sd);
    wrong.set('blocks.1.conv1.weight', tensor([5, 5, 3]));
    expect(() => Tcn.fromStateDict(config, wrong)).toThrow(/'blocks.1.conv1.weight' has shape \[5, 5, 3\], expected \[5, 5, 2\]/);
    const extra = new Map(sd);
    extra.set('blocks.9.conv1.weight', tensor([1]));
    expect(() => Tcn.fromStateDict(config, extra)).toThrow(/unexpected tensor\(s\) 'blocks.9.conv1.weight'/);
  });

  it('rejects absurd or malformed configurations naming the field', () => {
    const base: TcnConfig = { inChannels: 2, outChannels: 2, hiddenChannels: 4, kernelSize: 3, dilations: [1] };
    expect(() => Tcn.create({ ...base, kernelSize: 0 }, new Rng(1))).toThrow(/kernelSize must be an integer in \[1, 64\], got 0/);
    expect(() => Tcn.create({ ...base, dilations: [] }, new Rng(1))).toThrow(/dilations must list 1 to 64 blocks/);
    expect(() => Tcn.create({ ...base, hiddenChannels: [4, 4] }, new Rng(1))).toThrow(/lists 2 widths but dilations lists 1/);
    expect(() => Tcn.create({ ...base, inChannels: 1e9 }, new Rng(1))).toThrow(/inChannels must be an integer/);
    expect(() => Tcn.create({ ...base, activation: 'swish' as ActivationName }, new Rng(1))).toThrow(/activation must be one of/);
  });
});
