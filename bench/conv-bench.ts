/**
 * Issue 2 benchmark: the streaming TCN step against recomputing the receptive-field window per
 * sample (naive, our own offline path) and against onnxruntime-node evaluating the same model per
 * sample (the engine a user would otherwise pick). All contenders are first checked to produce
 * the same forecast.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { readSafetensorsFile } from '../src/io/safetensors-file.js';
import { jsGemmKernel, type GemmKernel } from '../src/nn/gemm.js';
import { Rng } from '../src/nn/random.js';
import { Tcn } from '../src/nn/tcn.js';
import { tensor } from '../src/nn/tensor.js';
import { compare, markdownTable, type Contender, type TimingResult } from './harness.js';

interface BenchModelJson {
  name: string;
  inChannels: number;
  outChannels: number;
  hidden: number;
  kernelSize: number;
  dilations: number[];
  activation: 'relu' | 'gelu';
  receptiveField: number;
}

const modelsDir = new URL('./models/', import.meta.url);

async function loadBenchModel(name: string): Promise<{ tcn: Tcn; meta: BenchModelJson; onnxPath: string }> {
  const meta = JSON.parse(await readFile(new URL(`${name}.json`, modelsDir), 'utf8')) as BenchModelJson;
  const { tensors } = await readSafetensorsFile(fileURLToPath(new URL(`${name}.safetensors`, modelsDir)));
  const tcn = Tcn.fromStateDict(
    { inChannels: meta.inChannels, outChannels: meta.outChannels, hiddenChannels: meta.hidden, kernelSize: meta.kernelSize, dilations: meta.dilations, activation: meta.activation },
    tensors,
  );
  if (tcn.receptiveField !== meta.receptiveField) throw new Error(`${name}: receptive field ${tcn.receptiveField} ≠ ${meta.receptiveField}`);
  return { tcn, meta, onnxPath: fileURLToPath(new URL(`${name}.onnx`, modelsDir)) };
}

async function availableKernels(): Promise<GemmKernel[]> {
  const kernels: GemmKernel[] = [jsGemmKernel];
  try {
    const wasm = (await import('../src/nn/wasm-gemm.js')) as { createWasmGemmKernel?: () => GemmKernel };
    if (wasm.createWasmGemmKernel) kernels.push(wasm.createWasmGemmKernel());
  } catch (e) {
    console.warn(`(wasm kernel not available: ${(e as Error).message})`);
  }
  return kernels;
}

export interface ConvBenchRow {
  model: string;
  contender: string;
  medianUs: number;
  gflops: number;
}

/** Runs the comparison for one model and prints a table; returns rows for the JSON record. */
async function benchModel(name: string, kernels: GemmKernel[], quick: boolean): Promise<ConvBenchRow[]> {
  const { tcn, meta, onnxPath } = await loadBenchModel(name);
  const C = meta.inChannels;
  const RF = tcn.receptiveField;
  const rng = new Rng(99);
  // A recorded-like input: long enough that every contender runs in steady state.
  const T = 4096;
  const series = new Float32Array(T * C); // time-major [T, C]
  for (let i = 0; i < series.length; i++) series[i] = rng.normal();
  const macs = tcn.macsPerStep;

  // Reference answer for the check: offline forward over the last RF samples ending at T−1.
  const windowAt = (end: number, out: Float32Array): void => {
    for (let c = 0; c < C; c++) for (let t = 0; t < RF; t++) out[c * RF + t] = series[(end - RF + 1 + t) * C + c] as number;
  };
  const win = tensor([1, C, RF]);
  windowAt(T - 1, win.data);
  const ref = tcn.forward(win);
  const lastCol = (y: Float32Array, len: number, c: number): number => y[c * len + len - 1] as number;
  const refLast = Array.from({ length: meta.outChannels }, (_, c) => lastCol(ref.data, RF, c));
  const check = (label: string, got: ArrayLike<number>): void => {
    for (let c = 0; c < refLast.length; c++) {
      const e = refLast[c] as number;
      if (Math.abs((got[c] as number) - e) > 1e-4 * (1 + Math.abs(e))) throw new Error(`${name}/${label}: output ${c} = ${got[c]} ≠ reference ${e}`);
    }
  };

  const contenders: Contender[] = [];
  const flopsPerOp = new Map<string, number>();
  for (const kernel of kernels) {
    // Streaming, one reading per step.
    const s = tcn.createStream(kernel);
    const out = new Float32Array(meta.outChannels);
    for (let t = 0; t < T; t++) s.step(series.subarray(t * C, (t + 1) * C), out);
    check(`stream-${kernel.name}`, out);
    let t = 0;
    contenders.push({
      name: `stream step L=1 (${kernel.name})`,
      opsPerCall: 1,
      run: () => {
        s.step(series.subarray(t * C, (t + 1) * C), out);
        t = t + 1 === T ? 0 : t + 1;
      },
    });
    flopsPerOp.set(`stream step L=1 (${kernel.name})`, 2 * macs);

    // Chunks of 64 readings.
    const chunkLen = 64;
    const cs = tcn.createBatchStream(1, kernel);
    const cOut = new Float32Array(chunkLen * meta.outChannels);
    let ct = 0;
    contenders.push({
      name: `stream chunk L=64 (${kernel.name}), per sample`,
      opsPerCall: chunkLen,
      run: () => {
        cs.pushChunkSlot(0, chunkLen, series.subarray(ct * C, (ct + chunkLen) * C), cOut);
        ct = ct + 2 * chunkLen > T ? 0 : ct + chunkLen;
      },
    });
    flopsPerOp.set(`stream chunk L=64 (${kernel.name}), per sample`, 2 * macs);

    // 256 independent streams advancing together.
    const B = 256;
    const bs = tcn.createBatchStream(B, kernel);
    const slots = Int32Array.from({ length: B }, (_, i) => i);
    const bx = new Float32Array(B * C);
    const bOut = new Float32Array(B * meta.outChannels);
    let bt = 0;
    contenders.push({
      name: `stream batch B=256 (${kernel.name}), per stream`,
      opsPerCall: B,
      run: () => {
        for (let i = 0; i < B; i++) bx.set(series.subarray(((bt + i) % T) * C, (((bt + i) % T) + 1) * C), i * C);
        bs.stepSlots(slots, B, bx, bOut);
        bt = bt + 1 === T ? 0 : bt + 1;
      },
    });
    flopsPerOp.set(`stream batch B=256 (${kernel.name}), per stream`, 2 * macs);

    // Naive: recompute the receptive-field window for every new sample.
    const nw = tensor([1, C, RF]);
    windowAt(T - 1, nw.data);
    const ny = tcn.forward(nw, kernel);
    check(`naive-${kernel.name}`, refLast.map((_, c) => lastCol(ny.data, RF, c)));
    let nt = RF - 1;
    contenders.push({
      name: `naive window recompute (${kernel.name})`,
      opsPerCall: 1,
      run: () => {
        windowAt(nt, nw.data);
        tcn.forward(nw, kernel);
        nt = nt + 1 === T ? RF - 1 : nt + 1;
      },
    });
    flopsPerOp.set(`naive window recompute (${kernel.name})`, 2 * macs * RF);
  }

  // onnxruntime-node, one window per sample, single intra-op thread (one core, like us).
  const session = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const ow = new Float32Array(C * RF);
  windowAt(T - 1, ow);
  const feeds = { x: new ort.Tensor('float32', ow, [1, C, RF]) };
  const oy = (await session.run(feeds))['y'];
  if (oy === undefined) throw new Error(`${name}: ONNX model has no output 'y'`);
  check('onnxruntime', refLast.map((_, c) => lastCol(oy.data as Float32Array, RF, c)));
  // session.run is async; time it in batches of awaited calls outside the sync harness.
  const ortRounds: number[] = [];
  const rounds = quick ? 3 : 7;
  const callsPerRound = quick ? 30 : 150;
  let ot = RF - 1;
  for (let w = 0; w < 20; w++) await session.run(feeds);
  const syncResults: TimingResult[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < callsPerRound; i++) {
      windowAt(ot, ow);
      await session.run(feeds);
      ot = ot + 1 === T ? RF - 1 : ot + 1;
    }
    ortRounds.push(((performance.now() - t0) * 1000) / callsPerRound);
    // Interleave: one round of the synchronous contenders after each ORT round.
    syncResults.push(...compare(contenders, { rounds: 1, roundMs: quick ? 40 : 120, warmupMs: r === 0 ? 200 : 0 }));
  }
  await session.release();
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const results = contenders.map((c) => ({ name: c.name, medianUs: median(syncResults.filter((r) => r.name === c.name).map((r) => r.medianUs)) }));
  results.push({ name: 'onnxruntime-node window per sample (1 thread)', medianUs: median(ortRounds) });
  flopsPerOp.set('onnxruntime-node window per sample (1 thread)', 2 * macs * RF);

  const ortUs = median(ortRounds);
  const rows: ConvBenchRow[] = results.map((r) => ({ model: name, contender: r.name, medianUs: r.medianUs, gflops: (flopsPerOp.get(r.name) ?? 0) / (r.medianUs * 1e3) }));
  console.log(`\n### ${name}: ${meta.inChannels} in, ${meta.hidden} hidden, kernel ${meta.kernelSize}, dilations ${meta.dilations.join(',')}, receptive field ${RF}, ${macs} MACs/step, state ${stateBytes(tcn)} bytes/stream\n`);
  console.log(
    markdownTable(
      ['contender', 'µs per sample (median)', 'GFLOP/s', '× vs onnxruntime', '× vs naive (same kernel)'],
      rows.map((r) => {
        const kernelName = /\((js|wasm-simd)/.exec(r.contender)?.[1];
        const naive = rows.find((x) => x.contender === `naive window recompute (${kernelName})`);
        return [
          r.contender,
          r.medianUs.toFixed(2),
          r.gflops.toFixed(2),
          (ortUs / r.medianUs).toFixed(1),
          naive === undefined ? '—' : (naive.medianUs / r.medianUs).toFixed(1),
        ];
      }),
    ),
  );
  return rows;
}

/** Bytes of ring-buffer state one stream of this model keeps. */
export function stateBytes(tcn: Tcn): number {
  let n = 0;
  for (const b of tcn.blocks) n += (tcn.architecture.kernelSize - 1) * b.dilation * (b.conv1.options.inChannels + b.conv2.options.inChannels);
  return n * 4;
}

export async function runConvBench(options: { quick: boolean }): Promise<ConvBenchRow[]> {
  const kernels = await availableKernels();
  const rows: ConvBenchRow[] = [];
  for (const name of ['tcn-s', 'tcn-wide']) rows.push(...(await benchModel(name, kernels, options.quick)));
  return rows;
}
