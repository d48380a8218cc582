import type { ActivationName } from '../nn/activations.js';
import { jsGemmKernel, type GemmKernel } from '../nn/gemm.js';
import { Rng } from '../nn/random.js';
import { receptiveFieldOf, Tcn, type TcnConfig } from '../nn/tcn.js';
import { DEFAULT_FORECAST_KIND, Forecaster, FORECAST_KINDS, type ForecastKind } from '../model/forecaster.js';
import type { ModelManifest } from '../model/model-manifest.js';
import { fitNormalization, normalizeSeries } from '../model/normalization.js';
import { TRAIN_TCN_DEFAULTS, trainTcn, type TrainEpochReport, type TrainTcnResult } from '../model/train-tcn.js';
import { calibrate, type Calibration, type CalibrationMethod } from './calibrate.js';
import { Detector, type EventPolicy } from './detector.js';
import { manifestOf } from './detector-manifest.js';
import { DEFAULT_CLOSE_AFTER, DEFAULT_OPEN_AFTER } from './hysteresis.js';

/** Architecture defaults, sized for gateways (the `tcn-s` reference: ~29k parameters). */
export const DEFAULT_ARCHITECTURE = {
  hiddenChannels: 32,
  kernelSize: 3,
  dilations: [1, 2, 4, 8, 16] as readonly number[],
  activation: 'relu' as ActivationName,
} as const;

/** The forecast kind {@link fitDetector} trains when none is given. */
export const DEFAULT_FIT_FORECAST: ForecastKind = DEFAULT_FORECAST_KIND;

/**
 * With the default dilations, blocks are dropped from the end until the receptive field is at
 * most this fraction of the training rows (never below two blocks), so short recordings still
 * give many training windows. Explicit dilations are used as given.
 */
export const AUTO_RECEPTIVE_FIELD_SHARE = 0.25;

/** Options of {@link fitDetector}. */
export interface FitDetectorOptions {
  /** Model name recorded in model.json. */
  name: string;
  /** Channel names, in the column order of `values`. */
  channels: readonly string[];
  /** `[T, C]` raw normal readings, row-major, in time order. */
  values: Float32Array;
  seed: number;
  hiddenChannels?: number;
  kernelSize?: number;
  /** Default: {@link DEFAULT_ARCHITECTURE}'s, shortened for short data. */
  dilations?: readonly number[];
  activation?: ActivationName;
  /**
   * What the TCN learns and serves: `'level'` forecasts the next normalised reading itself,
   * `'delta'` its change from the current one (`x̂[t+1] = x[t] + y[t]`). Default {@link DEFAULT_FIT_FORECAST}.
   */
  forecast?: ForecastKind;
  epochs?: number;
  batchSize?: number;
  windowLength?: number;
  learningRate?: number;
  dropout?: number;
  weightDecay?: number;
  /** Share of rows at the end kept out of training, for validation and calibration, in (0, 1). Default 0.2. */
  validationFraction?: number;
  patience?: number | null;
  /** Threshold calibration. Default `'auto'`. */
  threshold?: CalibrationMethod;
  events?: EventPolicy;
  /** Matrix kernel (or factory) for training and calibration. */
  kernel?: GemmKernel | (() => GemmKernel);
  /** Monotonic ms for durations; numerics never read the clock themselves. */
  clock?: () => number;
  /** ISO time recorded as `createdAt`. */
  createdAt: string;
  /** Recorded in the manifest's training section. */
  source?: string;
  dataSha256?: string;
  onEpoch?: (report: TrainEpochReport) => void;
}

/** A fitted detector and what went into it. */
export interface FittedDetector {
  readonly detector: Detector;
  readonly tcn: Tcn;
  /** The manifest to save (the writer adds the weights' hash). */
  readonly manifest: Omit<ModelManifest, 'weights'>;
  readonly training: TrainTcnResult;
  readonly calibration: Calibration;
}

/** The dilations the defaults give for `trainRows` training rows and kernel size `k`. */
export function defaultDilations(trainRows: number, kernelSize: number): number[] {
  const d = [...DEFAULT_ARCHITECTURE.dilations];
  while (d.length > 2 && receptiveFieldOf({ kernelSize, dilations: d }) > AUTO_RECEPTIVE_FIELD_SHARE * trainRows) d.pop();
  return d;
}

/**
 * Trains a forecaster on normal data and calibrates its score and threshold on the held-out tail:
 * normalise (statistics of the training rows only) → train the TCN (masked next-reading MSE, on
 * the level or the change per `forecast`) →
 * stream the whole series reading by reading → residual statistics and threshold from the
 * validation rows only. Deterministic under `seed`.
 * @throws Error naming the problem when the data is too short, has non-finite values, or an option is out of range.
 */
export function fitDetector(o: FitDetectorOptions): FittedDetector {
  const C = o.channels.length;
  if (C < 1 || o.values.length % C !== 0) throw new Error(`fitDetector: ${o.values.length} values do not form rows of ${C} channels`);
  const rows = o.values.length / C;
  const fraction = o.validationFraction ?? TRAIN_TCN_DEFAULTS.validationFraction;
  if (!(fraction > 0 && fraction < 1)) throw new Error(`fitDetector: validationFraction must be in (0, 1): the held-out tail calibrates the threshold; got ${fraction}`);
  // The same split trainTcn makes: the last round(rows·fraction) rows are held out.
  const validationRows = Math.max(1, Math.round(rows * fraction));
  const trainRows = rows - validationRows;
  if (trainRows < 2) throw new Error(`fitDetector: ${rows} rows leave ${trainRows} for training`);
  const forecast = o.forecast ?? DEFAULT_FIT_FORECAST;
  if (!FORECAST_KINDS.includes(forecast)) throw new Error(`fitDetector: forecast must be one of ${FORECAST_KINDS.join(', ')}, got '${String(forecast)}'`);
  const kernelSize = o.kernelSize ?? DEFAULT_ARCHITECTURE.kernelSize;
  const dilations = o.dilations ?? defaultDilations(trainRows, kernelSize);
  const config: TcnConfig = {
    inChannels: C,
    outChannels: C,
    hiddenChannels: o.hiddenChannels ?? DEFAULT_ARCHITECTURE.hiddenChannels,
    kernelSize,
    dilations,
    activation: o.activation ?? DEFAULT_ARCHITECTURE.activation,
  };
  const rng = new Rng(o.seed);
  const tcn = Tcn.create(config, rng);
  const normalization = fitNormalization(o.values.subarray(0, trainRows * C), C);
  const series = normalizeSeries(o.values, normalization);
  const t0 = o.clock?.() ?? 0;
  const training = trainTcn({
    tcn,
    series,
    seed: o.seed,
    epochs: o.epochs,
    batchSize: o.batchSize,
    windowLength: o.windowLength,
    learningRate: o.learningRate,
    dropout: o.dropout,
    weightDecay: o.weightDecay,
    validationFraction: fraction,
    patience: o.patience,
    target: forecast,
    kernel: o.kernel,
    clock: o.clock,
    onEpoch: o.onEpoch,
  });
  const forecaster = new Forecaster(o.channels, normalization, tcn, forecast);
  const kernel = typeof o.kernel === 'function' ? o.kernel() : (o.kernel ?? jsGemmKernel);
  const calibration = calibrate(forecaster, o.values, trainRows, o.threshold ?? 'auto', kernel);
  const events = o.events ?? { openAfter: DEFAULT_OPEN_AFTER, closeAfter: DEFAULT_CLOSE_AFTER };
  const durationMs = (o.clock?.() ?? 0) - t0;
  const manifest = manifestOf({
    name: o.name,
    createdAt: o.createdAt,
    channels: o.channels,
    normalization,
    tcn,
    forecast,
    calibration,
    events,
    training: {
      ...(o.source === undefined ? {} : { source: o.source }),
      ...(o.dataSha256 === undefined ? {} : { dataSha256: o.dataSha256 }),
      rows,
      trainRows,
      validationRows,
      calibrationReadings: calibration.readings,
      epochs: training.epochsRun,
      bestEpoch: training.weightsEpoch,
      trainLoss: training.trainLoss,
      validationLoss: training.valLoss,
      seed: o.seed,
      durationMs,
      hyperParameters: {
        windowLength: training.plan.windowLength,
        batchSize: training.plan.batchSize,
        learningRate: o.learningRate ?? TRAIN_TCN_DEFAULTS.learningRate,
        dropout: o.dropout ?? TRAIN_TCN_DEFAULTS.dropout,
        weightDecay: o.weightDecay ?? TRAIN_TCN_DEFAULTS.weightDecay,
        validationFraction: fraction,
        patience: o.patience === undefined ? TRAIN_TCN_DEFAULTS.patience : o.patience,
        maxEpochs: o.epochs ?? TRAIN_TCN_DEFAULTS.epochs,
        dilationsChosen: o.dilations === undefined ? 'default, shortened for the data' : 'given',
      },
    },
  });
  const detector = new Detector({
    manifest,
    name: o.name,
    forecaster,
    residualStats: calibration.residualStats,
    threshold: calibration.threshold,
    events,
  });
  return { detector, tcn, manifest, training, calibration };
}
