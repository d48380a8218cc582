import { jsGemmKernel, type GemmKernel } from '../nn/gemm.js';
import { Rng } from '../nn/random.js';
import type { Tcn } from '../nn/tcn.js';
import { TcnTrainWorkspace } from '../nn/tcn-train.js';
import { Adam } from './adam.js';
import { DEFAULT_FORECAST_KIND, FORECAST_KINDS, type ForecastKind } from './forecaster.js';

/** Which weights the model keeps when training ends. */
export type RestoreWeights =
  /** Those of the epoch with the lowest validation loss (the last epoch's without validation). */
  | 'best'
  /** Those of the last epoch run. */
  | 'last';

/** Hyper-parameter defaults of {@link trainTcn}. */
export const TRAIN_TCN_DEFAULTS = {
  epochs: 30,
  /** Windows per optimisation step. */
  batchSize: 1,
  /**
   * Loss positions per window when the window length is not given: an eighth of the training
   * positions, clamped to [minWindowPositions, maxWindowPositions] (and to what the series has),
   * so long series get long windows (small warm-up overhead) and short ones still several steps.
   */
  minWindowPositions: 64,
  maxWindowPositions: 384,
  learningRate: 2e-3,
  dropout: 0,
  weightDecay: 0,
  clipNorm: 1,
  validationFraction: 0.2,
  patience: 5,
  minDelta: 0,
  restore: 'best',
  target: DEFAULT_FORECAST_KIND,
} as const;

/** Progress after one epoch. */
export interface TrainEpochReport {
  /** 1-based. */
  readonly epoch: number;
  readonly epochs: number;
  /** Mean squared error over the epoch's training positions and channels (in training mode, with dropout). */
  readonly trainLoss: number;
  /** Mean squared error over the validation tail after the epoch; null without validation. */
  readonly valLoss: number | null;
  /** Whether this epoch's validation loss is the best so far by more than `minDelta`. */
  readonly improved: boolean;
  /** Milliseconds since training started, by the injected clock; null without one. */
  readonly elapsedMs: number | null;
}

/** Progress after one optimisation step. */
export interface TrainBatchReport {
  readonly epoch: number;
  /** 1-based within the epoch. */
  readonly batch: number;
  readonly batches: number;
  /** Mean squared error of this batch (before the step). */
  readonly loss: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
}

/** Options of {@link trainTcn}. */
export interface TrainTcnOptions {
  /** The model to train, in place; `outChannels` must equal `inChannels` (it forecasts every channel). */
  tcn: Tcn;
  /** Normalised series `[T, C]`, row-major (`series[t·C + c]`), C = the model's inChannels. */
  series: Float32Array;
  /** Seeds every random choice: window order and dropout masks. */
  seed: number;
  /** Passes over the training positions, ≥ 1. Default 30. */
  epochs?: number;
  /** Windows per optimisation step, ≥ 1. Default 1 (a window already holds up to 384 positions). */
  batchSize?: number;
  /**
   * Positions per training window, in `[receptiveField + 1, training rows]`. Each window gives
   * `windowLength − receptiveField` loss positions (the first `receptiveField − 1` see window
   * padding, and the last has no target inside the window). Default `receptiveField + p` with
   * `p = clamp(floor((trainRows − receptiveField) / 8), 64, 384)`, at most the training rows.
   */
  windowLength?: number;
  /** Adam step size, ≥ 0. Default 2e-3. */
  learningRate?: number;
  /** Dropout probability inside the blocks, in [0, 1). Default 0. */
  dropout?: number;
  /** Decoupled (AdamW) weight decay, ≥ 0. Default 0. */
  weightDecay?: number;
  /** Global gradient-norm bound, > 0, or null for none. Default 1. */
  clipNorm?: number | null;
  /** Share of the rows, taken from the end of the series, kept for validation, in [0, 1). Default 0.2. */
  validationFraction?: number;
  /** Epochs without improvement before stopping, ≥ 1, or null to never stop early. Default 5. */
  patience?: number | null;
  /** Smallest validation-loss decrease that counts as improvement, ≥ 0. Default 0. */
  minDelta?: number;
  /** Default `'best'`. */
  restore?: RestoreWeights;
  /**
   * What the output at t is trained to be: `'level'`, the normalised reading at t + 1; `'delta'`,
   * its change `x[t+1] − x[t]` from the reading at t (serve with a `'delta'` Forecaster). Default
   * `'level'`.
   */
  target?: ForecastKind;
  /**
   * Matrix kernel for the products, or a factory called once per optimisation step and once per
   * validation pass. Use a factory for kernels whose packed matrices are never freed (wasm-simd:
   * its memory grows with every pack), so each step's matrices go with its kernel. Default the
   * plain TypeScript kernel.
   */
  kernel?: GemmKernel | (() => GemmKernel);
  /** Monotonic milliseconds, used only for `elapsedMs` in reports. */
  clock?: () => number;
  onEpoch?: (report: TrainEpochReport) => void;
  onBatch?: (report: TrainBatchReport) => void;
}

/** How the series was split and windowed. */
export interface TrainTcnPlan {
  readonly rows: number;
  readonly channels: number;
  readonly receptiveField: number;
  /** Rows `[0, trainRows)` give training targets; rows `[trainRows, rows)` are the validation tail. */
  readonly trainRows: number;
  readonly validationRows: number;
  readonly windowLength: number;
  readonly batchSize: number;
  /** Training windows per epoch, each with up to `windowLength − receptiveField` loss positions. */
  readonly windowsPerEpoch: number;
  readonly stepsPerEpoch: number;
  /** Forecast positions with a loss per epoch, each counted once: `trainRows − receptiveField`. */
  readonly positionsPerEpoch: number;
  /** Windows and positions of one validation pass (`validationRows` positions). */
  readonly validationWindows: number;
}

/** What {@link trainTcn} did. */
export interface TrainTcnResult {
  readonly plan: TrainTcnPlan;
  readonly history: readonly TrainEpochReport[];
  readonly epochsRun: number;
  readonly stoppedEarly: boolean;
  /** The epoch whose weights the model now holds. */
  readonly weightsEpoch: number;
  /** Training loss of the last epoch run. */
  readonly trainLoss: number;
  /** Validation loss of the weights the model now holds; null without validation. */
  readonly valLoss: number | null;
  readonly optimizerSteps: number;
}

/**
 * Sum of squared forecast errors over the positions `t ∈ [from[n], to[n])` of each window `n`:
 * the output at `t` (`forecast[(n·L + t)·C + c]`) against the input at `t + 1` (`target`
 * `'level'`, the default) or against the change `input[t + 1] − input[t]` (`'delta'`). All other
 * positions are masked out. If `grad` is given, it receives `gradScale·2·(output − target)` at
 * the included positions and 0 everywhere else (rows `[(n, t), C]`).
 * @throws Error if a range leaves `[0, L − 1)`.
 */
export function maskedForecastLoss(
  forecast: Float32Array,
  input: Float32Array,
  batch: number,
  length: number,
  channels: number,
  from: Int32Array,
  to: Int32Array,
  grad: Float32Array | null,
  gradScale: number,
  target: ForecastKind = DEFAULT_FORECAST_KIND,
): number {
  const delta = target === 'delta';
  if (grad !== null) grad.fill(0, 0, batch * length * channels);
  let sum = 0;
  for (let n = 0; n < batch; n++) {
    const a = from[n];
    const b = to[n];
    if (!(a >= 0 && a <= b && b <= length - 1)) throw new Error(`maskedForecastLoss: window ${n} range [${a}, ${b}) must lie in [0, ${length - 1})`);
    const base = n * length * channels;
    for (let i = base + a * channels, end = base + b * channels; i < end; i++) {
      // The delta target is formed in double precision, like the level error itself.
      const e = delta ? forecast[i] - (input[i + channels] - input[i]) : forecast[i] - input[i + channels];
      sum += e * e;
      if (grad !== null) grad[i] = 2 * gradScale * e;
    }
  }
  return sum;
}

function intOption(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new Error(`trainTcn: ${name} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got ${String(v)}`);
  }
  return v;
}

function numberOption(name: string, v: unknown, ok: (x: number) => boolean, expected: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new Error(`trainTcn: ${name} must be ${expected}, got ${String(v)}`);
  return v;
}

/** Validates the options and the series and lays out the windows. */
function planTraining(o: TrainTcnOptions): TrainTcnPlan {
  const { tcn, series } = o;
  const channels = tcn.architecture.inChannels;
  if (tcn.architecture.outChannels !== channels) {
    throw new Error(`trainTcn: the model forecasts the next reading of every channel, so outChannels (${tcn.architecture.outChannels}) must equal inChannels (${channels})`);
  }
  if (!(series instanceof Float32Array)) throw new Error('trainTcn: series must be a Float32Array [T, C] in row-major order');
  if (series.length % channels !== 0) throw new Error(`trainTcn: series has ${series.length} values, not a whole number of rows of ${channels} channels`);
  for (let i = 0; i < series.length; i++) {
    if (!Number.isFinite(series[i])) {
      throw new Error(`trainTcn: series value at row ${Math.floor(i / channels)}, channel ${i % channels} is ${series[i]}; fill gaps and normalise before training`);
    }
  }
  numberOption('seed', o.seed, () => true, 'a finite number');
  const rows = series.length / channels;
  const rf = tcn.receptiveField;
  const fraction = numberOption('validationFraction', o.validationFraction ?? TRAIN_TCN_DEFAULTS.validationFraction, (x) => x >= 0 && x < 1, 'in [0, 1)');
  const validationRows = fraction > 0 ? Math.max(1, Math.round(rows * fraction)) : 0;
  const trainRows = rows - validationRows;
  if (trainRows < rf + 1) {
    throw new Error(
      `trainTcn: series of ${rows} rows is too short: training needs at least receptiveField + 1 = ${rf + 1} rows ` +
        `before the validation tail of ${validationRows} rows (validationFraction ${fraction})`,
    );
  }
  const available = trainRows - rf;
  const defaultPositions = Math.min(available, Math.max(TRAIN_TCN_DEFAULTS.minWindowPositions, Math.min(TRAIN_TCN_DEFAULTS.maxWindowPositions, Math.floor(available / 8))));
  const windowLength = o.windowLength === undefined ? rf + defaultPositions : intOption('windowLength', o.windowLength, rf + 1, trainRows);
  const batchSize = intOption('batchSize', o.batchSize ?? TRAIN_TCN_DEFAULTS.batchSize, 1);
  const positionsPerEpoch = trainRows - rf;
  const step = windowLength - rf;
  const windowsPerEpoch = Math.ceil(positionsPerEpoch / step);
  return {
    rows,
    channels,
    receptiveField: rf,
    trainRows,
    validationRows,
    windowLength,
    batchSize,
    windowsPerEpoch,
    stepsPerEpoch: Math.ceil(windowsPerEpoch / batchSize),
    positionsPerEpoch,
    validationWindows: Math.ceil(validationRows / step),
  };
}

/**
 * Trains a TCN forecaster in place on one normalised multichannel series: the output at each
 * position is compared with the next reading of every channel (`target` `'level'`) or with its
 * change from the current reading (`'delta'`), as a mean squared error, on windows of the series,
 * with Adam. For `'delta'` the error of `x[t] + y[t]` against `x[t+1]` is the same number, so
 * training and validation losses of both targets are forecast MSEs in normalised units.
 *
 * Training ≡ serving: the loss covers only positions `t ≥ receptiveField − 1` of each window,
 * whose receptive field lies inside the window, so the trained function is exactly the streamed
 * one; every forecast position of the training rows is counted once per epoch (windows overlap by
 * `receptiveField` rows; their order is shuffled each epoch). The last `validationFraction` of the
 * rows is held out: its loss is computed the same way after each epoch, over every position whose
 * target lies in the tail. Training stops early after `patience` epochs without improvement and,
 * by default, restores the best epoch's weights.
 *
 * Deterministic: the same series, model, options and seed give bit-identical weights (with the
 * same kernel).
 *
 * Callbacks run synchronously between steps; one that throws ends training there, with the
 * weights of that moment.
 *
 * @throws Error naming the option or data problem: a series too short for one window plus the
 *   validation tail, a non-finite value, a model whose outChannels ≠ inChannels, an option out of
 *   range, or a loss that becomes non-finite (divergence).
 */
export function trainTcn(options: TrainTcnOptions): TrainTcnResult {
  const plan = planTraining(options);
  const { tcn, series } = options;
  const epochs = intOption('epochs', options.epochs ?? TRAIN_TCN_DEFAULTS.epochs, 1);
  const learningRate = numberOption('learningRate', options.learningRate ?? TRAIN_TCN_DEFAULTS.learningRate, (x) => x >= 0, 'a finite number ≥ 0');
  const dropout = numberOption('dropout', options.dropout ?? TRAIN_TCN_DEFAULTS.dropout, (x) => x >= 0 && x < 1, 'in [0, 1)');
  const weightDecay = numberOption('weightDecay', options.weightDecay ?? TRAIN_TCN_DEFAULTS.weightDecay, (x) => x >= 0, 'a finite number ≥ 0');
  const clipNorm = options.clipNorm === undefined ? TRAIN_TCN_DEFAULTS.clipNorm : options.clipNorm;
  if (clipNorm !== null) numberOption('clipNorm', clipNorm, (x) => x > 0, 'a finite number > 0 or null');
  const patience = options.patience === undefined ? TRAIN_TCN_DEFAULTS.patience : options.patience === null ? null : intOption('patience', options.patience, 1);
  const minDelta = numberOption('minDelta', options.minDelta ?? TRAIN_TCN_DEFAULTS.minDelta, (x) => x >= 0, 'a finite number ≥ 0');
  const restore = options.restore ?? TRAIN_TCN_DEFAULTS.restore;
  if (restore !== 'best' && restore !== 'last') throw new Error(`trainTcn: restore must be 'best' or 'last', got '${String(restore)}'`);
  const target = options.target ?? TRAIN_TCN_DEFAULTS.target;
  if (!FORECAST_KINDS.includes(target)) throw new Error(`trainTcn: target must be one of ${FORECAST_KINDS.join(', ')}, got '${String(target)}'`);
  const k = options.kernel ?? jsGemmKernel;
  const kernelFor: () => GemmKernel = typeof k === 'function' ? k : () => k;
  const clock = options.clock;
  const t0 = clock === undefined ? 0 : clock();

  const { channels: C, receptiveField: rf, trainRows, rows, windowLength: W, batchSize } = plan;
  const step = W - rf;
  const rng = new Rng(options.seed);
  // Windows processed together: a batch never holds more windows than an epoch or a validation pass has.
  const capacity = Math.min(batchSize, Math.max(plan.windowsPerEpoch, plan.validationWindows));
  const ws = new TcnTrainWorkspace(tcn, capacity, W);
  const params = new Map<string, Float32Array>();
  for (const [name, t] of tcn.stateDict()) params.set(name, t.data);
  const adam = new Adam(params, { learningRate, weightDecay, clipNorm, weightDecayMode: 'decoupled' });
  const grads = ws.createGradients();
  const best = new Map<string, Float32Array>();
  for (const [name, p] of params) best.set(name, Float32Array.from(p));
  const x = new Float32Array(capacity * W * C);
  const gradY = new Float32Array(capacity * W * C);
  const from = new Int32Array(capacity);
  const to = new Int32Array(capacity);

  // Training segments: forecast positions q ∈ [0, P) (series position q + rf − 1) split into
  // windowsPerEpoch balanced runs of ≤ step positions; each run's window starts as early as fits.
  const P = plan.positionsPerEpoch;
  const nWin = plan.windowsPerEpoch;
  const segStart = new Int32Array(nWin + 1);
  for (let j = 0; j <= nWin; j++) segStart[j] = Math.floor((j * P) / nWin);
  const order = new Int32Array(nWin);

  const validate = (): number | null => {
    if (plan.validationRows === 0) return null;
    const kernel = kernelFor();
    const noRng = new Rng(0); // dropout 0 draws nothing
    let sum = 0;
    // Validation forecast positions p ∈ [trainRows − 1, rows − 2], `step` per window.
    for (let p0 = trainRows - 1; p0 <= rows - 2; ) {
      let nb = 0;
      let len = 0;
      while (nb < capacity && p0 <= rows - 2) {
        const count = Math.min(step, rows - 1 - p0);
        const wl = count + rf;
        if (nb > 0 && wl !== len) break; // only equal lengths in one batch
        len = wl;
        const s = p0 - (rf - 1);
        x.set(series.subarray(s * C, (s + len) * C), nb * len * C);
        from[nb] = rf - 1;
        to[nb] = len - 1;
        nb++;
        p0 += count;
      }
      const y = ws.forwardRows(x, nb, len, { dropout: 0, rng: noRng, kernel });
      sum += maskedForecastLoss(y, x, nb, len, C, from, to, null, 0, target);
    }
    return sum / (plan.validationRows * C);
  };

  const history: TrainEpochReport[] = [];
  let bestVal = Infinity;
  let bestEpoch = 0;
  let sinceBest = 0;
  let stoppedEarly = false;
  let trainLoss = NaN;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let j = 0; j < nWin; j++) order[j] = j;
    for (let j = nWin - 1; j > 0; j--) {
      const r = rng.int(j + 1);
      const tmp = order[j];
      order[j] = order[r];
      order[r] = tmp;
    }
    let epochSum = 0;
    for (let b0 = 0, batch = 1; b0 < nWin; b0 += capacity, batch++) {
      const nb = Math.min(capacity, nWin - b0);
      let terms = 0;
      for (let j = 0; j < nb; j++) {
        const seg = order[b0 + j];
        const a = segStart[seg];
        const e = segStart[seg + 1];
        const s = Math.min(a, trainRows - W);
        x.set(series.subarray(s * C, (s + W) * C), j * W * C);
        from[j] = a - s + rf - 1;
        to[j] = e - s + rf - 1;
        terms += (e - a) * C;
      }
      const y = ws.forwardRows(x, nb, W, { dropout, rng, kernel: kernelFor() });
      const sum = maskedForecastLoss(y, x, nb, W, C, from, to, gradY, 1 / terms, target);
      if (!Number.isFinite(sum)) {
        throw new Error(`trainTcn: loss became ${sum} at epoch ${epoch}, batch ${batch}; lower learningRate or set clipNorm`);
      }
      ws.backwardRows(gradY, grads);
      const { gradNorm } = adam.step(grads);
      epochSum += sum;
      options.onBatch?.({ epoch, batch, batches: plan.stepsPerEpoch, loss: sum / terms, gradNorm });
    }
    trainLoss = epochSum / (P * C);
    const valLoss = validate();
    if (valLoss !== null && !Number.isFinite(valLoss)) throw new Error(`trainTcn: validation loss became ${valLoss} at epoch ${epoch}; lower learningRate or set clipNorm`);
    const improved = valLoss === null || valLoss < bestVal - minDelta;
    if (improved) {
      if (valLoss !== null) bestVal = valLoss;
      bestEpoch = epoch;
      sinceBest = 0;
      if (restore === 'best' && valLoss !== null) for (const [name, p] of params) (best.get(name) as Float32Array).set(p);
    } else {
      sinceBest++;
    }
    const report: TrainEpochReport = { epoch, epochs, trainLoss, valLoss, improved, elapsedMs: clock === undefined ? null : clock() - t0 };
    history.push(report);
    options.onEpoch?.(report);
    if (valLoss !== null && patience !== null && sinceBest >= patience) {
      stoppedEarly = epoch < epochs;
      break;
    }
  }
  const last = history[history.length - 1] as TrainEpochReport;
  let weightsEpoch = last.epoch;
  let valLoss = last.valLoss;
  if (restore === 'best' && last.valLoss !== null && bestEpoch !== last.epoch) {
    for (const [name, p] of params) p.set(best.get(name) as Float32Array);
    weightsEpoch = bestEpoch;
    valLoss = bestVal;
  }
  return { plan, history, epochsRun: history.length, stoppedEarly, weightsEpoch, trainLoss, valLoss, optimizerSteps: adam.stepCount };
}
