/**
 * Issue 3 benchmark: training time of the tcn-s forecaster (8 in, 32 hidden, kernel 3, dilations
 * [1, 2, 4, 8, 16], receptive field 125) with `trainTcn`'s defaults, on a synthetic normalised
 * 8-channel series (sines of several periods + noise):
 *
 * - 10,000 rows, 20 epochs (no early stopping), target ≤ 60 s on one core;
 * - 400 rows, the default epochs (30, early stopping on), target ≤ 5 s;
 *
 * with the plain TypeScript kernel and, when it builds, the WebAssembly SIMD kernel (a fresh
 * kernel per step, see `TrainTcnOptions.kernel`). Each run also reports the losses and the
 * persistence baseline on the validation tail, so a fast but broken run shows. `--quick` runs 2
 * epochs of the long case instead of 20 (seconds then are not comparable with the target).
 */
import { trainTcn, type TrainTcnResult } from '../src/model/train-tcn.js';
import { jsGemmKernel, type GemmKernel } from '../src/nn/gemm.js';
import { Rng } from '../src/nn/random.js';
import { Tcn, type TcnConfig } from '../src/nn/tcn.js';
import { TcnTrainWorkspace } from '../src/nn/tcn-train.js';
import { markdownTable } from './harness.js';

const TCN_S: TcnConfig = { inChannels: 8, outChannels: 8, hiddenChannels: 32, kernelSize: 3, dilations: [1, 2, 4, 8, 16] };
const CHANNELS = 8;

/** A normalised-looking series `[rows, 8]`: per channel a fast and a slow sine plus N(0, 0.05²). */
function syntheticSeries(rows: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const s = new Float32Array(rows * CHANNELS);
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < CHANNELS; c++) {
      s[t * CHANNELS + c] = Math.sin((2 * Math.PI * t) / (20 + 7 * c) + c) + 0.5 * Math.sin((2 * Math.PI * t) / (97 + 13 * c)) + 0.05 * rng.normal();
    }
  }
  return s;
}

function persistenceMse(series: Float32Array, trainRows: number): number {
  const rows = series.length / CHANNELS;
  let sum = 0;
  for (let t = trainRows; t < rows; t++) for (let c = 0; c < CHANNELS; c++) sum += (series[t * CHANNELS + c] - series[(t - 1) * CHANNELS + c]) ** 2;
  return sum / ((rows - trainRows) * CHANNELS);
}

interface KernelChoice {
  readonly name: string;
  readonly kernel: GemmKernel | (() => GemmKernel);
}

async function availableKernels(): Promise<KernelChoice[]> {
  const kernels: KernelChoice[] = [{ name: 'js', kernel: jsGemmKernel }];
  try {
    const wasm = (await import('../src/nn/wasm-gemm.js')) as { createWasmGemmKernel?: () => GemmKernel };
    const create = wasm.createWasmGemmKernel;
    if (create !== undefined) {
      create(); // fails here, not mid-run, if the module is missing or stale
      kernels.push({ name: 'wasm-simd', kernel: () => create() });
    }
  } catch (e) {
    console.warn(`(wasm kernel not available: ${(e as Error).message})`);
  }
  return kernels;
}

/** One row of the JSON record. */
export interface TrainBenchRow {
  case: string;
  kernel: string;
  rows: number;
  epochsRun: number;
  stoppedEarly: boolean;
  seconds: number;
  secondsPerEpoch: number;
  targetSeconds: number | null;
  windowLength: number;
  windowsPerEpoch: number;
  positionsPerEpoch: number;
  stepsPerEpoch: number;
  trainLoss: number;
  valLoss: number | null;
  persistenceValLoss: number;
}

function runCase(name: string, rows: number, epochs: number | undefined, earlyStopping: boolean, target: number | null, k: KernelChoice): TrainBenchRow {
  const series = syntheticSeries(rows, 1);
  const tcn = Tcn.create(TCN_S, new Rng(2));
  const t0 = performance.now();
  const result: TrainTcnResult = trainTcn({
    tcn,
    series,
    seed: 3,
    ...(epochs === undefined ? {} : { epochs }),
    ...(earlyStopping ? {} : { patience: null }),
    kernel: k.kernel,
  });
  const seconds = (performance.now() - t0) / 1000;
  const p = result.plan;
  return {
    case: name,
    kernel: k.name,
    rows,
    epochsRun: result.epochsRun,
    stoppedEarly: result.stoppedEarly,
    seconds,
    secondsPerEpoch: seconds / result.epochsRun,
    targetSeconds: target,
    windowLength: p.windowLength,
    windowsPerEpoch: p.windowsPerEpoch,
    positionsPerEpoch: p.positionsPerEpoch,
    stepsPerEpoch: p.stepsPerEpoch,
    trainLoss: result.trainLoss,
    valLoss: result.valLoss,
    persistenceValLoss: persistenceMse(series, p.trainRows),
  };
}

/**
 * Largest relative difference between the parameter gradients of one tcn-s window computed with
 * `kernel` and with the JS kernel (the faster kernel accumulates in float32, the JS one in float64).
 */
function gradientAgreement(kernel: GemmKernel): number {
  const tcn = Tcn.create(TCN_S, new Rng(4));
  const length = 509;
  const x = syntheticSeries(length, 5);
  const gy = syntheticSeries(length, 6);
  const grads = (k: GemmKernel): Map<string, Float32Array> => {
    const ws = new TcnTrainWorkspace(tcn, 1, length);
    ws.forwardRows(x, 1, length, { dropout: 0, rng: new Rng(0), kernel: k });
    const g = ws.createGradients();
    ws.backwardRows(gy, g);
    return g;
  };
  const ref = grads(jsGemmKernel);
  const got = grads(kernel);
  let worst = 0;
  for (const [name, r] of ref) {
    const scale = r.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const g = got.get(name) as Float32Array;
    for (let i = 0; i < r.length; i++) worst = Math.max(worst, Math.abs(g[i] - r[i]) / scale);
  }
  return worst;
}

/** Runs the training benchmark and prints a table; returns the rows for the JSON record. */
export async function runTrainBench(options: { quick: boolean }): Promise<TrainBenchRow[]> {
  const kernels = await availableKernels();
  for (const k of kernels) {
    if (k.name === 'js') continue;
    const kernel = typeof k.kernel === 'function' ? k.kernel() : k.kernel;
    console.log(`${k.name}: max |Δ gradient| / max |gradient| per tensor vs the js kernel, one tcn-s window: ${gradientAgreement(kernel).toExponential(2)}`);
  }
  const rows: TrainBenchRow[] = [];
  for (const k of kernels) {
    const longEpochs = options.quick ? 2 : 20;
    rows.push(runCase(`tcn-s 10000×8, ${longEpochs} epochs`, 10_000, longEpochs, false, options.quick ? null : 60, k));
    rows.push(runCase('tcn-s 400×8, default epochs', 400, undefined, true, 5, k));
  }
  const fmt = (v: number | null, digits: number): string => (v === null ? '–' : v.toFixed(digits));
  console.log(`\n## Training (trainTcn defaults; ${options.quick ? 'quick' : 'full'})\n`);
  console.log(
    markdownTable(
      ['case', 'kernel', 'epochs', 's total', 's/epoch', 'target s', 'window', 'windows/epoch', 'positions/epoch', 'train MSE', 'val MSE', 'persistence MSE'],
      rows.map((r) => [
        r.case,
        r.kernel,
        `${r.epochsRun}${r.stoppedEarly ? ' (early stop)' : ''}`,
        fmt(r.seconds, 2),
        fmt(r.secondsPerEpoch, 3),
        r.targetSeconds === null ? '–' : `${r.targetSeconds} ${r.seconds <= r.targetSeconds ? '✓' : '✗'}`,
        String(r.windowLength),
        String(r.windowsPerEpoch),
        String(r.positionsPerEpoch),
        fmt(r.trainLoss, 5),
        fmt(r.valLoss, 5),
        fmt(r.persistenceValLoss, 5),
      ]),
    ),
  );
  return rows;
}
