import { Option, type Command } from 'commander';
import { ACTIVATION_NAMES, type ActivationName } from '../nn/activations.js';
import type { CalibrationMethod } from '../detect/calibrate.js';
import { DEFAULT_FIT_FORECAST, type FitDetectorOptions } from '../detect/fit-detector.js';
import { FORECAST_KINDS, type ForecastKind } from '../model/forecaster.js';
import { DEFAULT_CLOSE_AFTER, DEFAULT_OPEN_AFTER } from '../detect/hysteresis.js';
import { DEFAULT_POT_INITIAL_QUANTILE, DEFAULT_POT_RISK_LEVEL, DEFAULT_THRESHOLD_MARGIN, DEFAULT_THRESHOLD_Q } from '../detect/threshold.js';
import { intArg, numberArg } from './cli-args.js';

/** Model and training flags shared by `train` and `eval`. */
export interface TrainFlags {
  name?: string;
  hidden: number;
  kernelSize: number;
  dilations?: string;
  activation: ActivationName;
  forecast: ForecastKind;
  epochs: number;
  batchSize?: number;
  windowLength?: number;
  lr: number;
  dropout: number;
  weightDecay: number;
  validationFraction: number;
  patience: number;
  threshold: 'auto' | 'quantile' | 'pot';
  q: number;
  margin: number;
  risk: number;
  openAfter: number;
  closeAfter: number;
  seed: number;
}

/** Adds the model and training options. */
export function addTrainOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'model name recorded in model.json (default: the data file name)')
    .option('--hidden <n>', 'channels of every residual block', intArg(1, 4096), 32)
    .option('--kernel-size <n>', 'taps of every causal convolution', intArg(1, 64), 3)
    .option('--dilations <d1,d2,...>', 'one dilation per residual block (default 1,2,4,8,16, fewer blocks for short data)')
    .addOption(new Option('--activation <name>', 'activation inside the blocks').choices(ACTIVATION_NAMES).default('relu'))
    .addOption(new Option('--forecast <kind>', 'what the network predicts: level (the next reading) or delta (its change from the last reading)').choices(FORECAST_KINDS).default(DEFAULT_FIT_FORECAST))
    .option('--epochs <n>', 'most passes over the training rows', intArg(1, 100_000), 30)
    .option('--batch-size <n>', 'windows per optimisation step (default 1)', intArg(1, 100_000))
    .option('--window-length <n>', 'rows per training window (default: receptive field + up to 384)', intArg(2, 10_000_000))
    .option('--lr <rate>', 'Adam learning rate', numberArg(0, 10), 2e-3)
    .option('--dropout <p>', 'dropout inside the blocks while training', numberArg(0, 0.99, true), 0)
    .option('--weight-decay <w>', 'decoupled weight decay', numberArg(0, 1, true), 0)
    .option('--validation-fraction <f>', 'share of rows at the end held out for early stopping and calibration', numberArg(0, 0.9), 0.2)
    .option('--patience <n>', 'epochs without validation improvement before stopping', intArg(1, 100_000), 5)
    .addOption(new Option('--threshold <method>', 'threshold calibration on held-out normal scores: auto (POT with ≥1000 readings, else a quantile), quantile, pot').choices(['auto', 'quantile', 'pot']).default('auto'))
    .option('--q <q>', 'quantile for --threshold quantile', numberArg(0, 0.999999), DEFAULT_THRESHOLD_Q)
    .option('--margin <m>', 'multiplier on the quantile for --threshold quantile', numberArg(0, 100), DEFAULT_THRESHOLD_MARGIN)
    .option('--risk <p>', 'false-alarm probability per reading for --threshold pot', numberArg(0, 0.5), DEFAULT_POT_RISK_LEVEL)
    .option('--open-after <n>', 'consecutive readings above the threshold that open an anomaly event', intArg(1, 1_000_000), DEFAULT_OPEN_AFTER)
    .option('--close-after <n>', 'consecutive readings below it that close the event', intArg(1, 1_000_000), DEFAULT_CLOSE_AFTER)
    .option('--seed <n>', 'random seed (same data and seed, same model)', intArg(0, 2 ** 31 - 1), 1);
}

function parseDilations(text: string): number[] {
  const d = text.split(',').map((s) => Number(s.trim()));
  if (d.length === 0 || d.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`--dilations: expected positive integers separated by commas, got '${text}'`);
  return d;
}

/** The fit options the flags describe (data, channels, clock and callbacks are the caller's). */
export function fitOptionsOf(f: TrainFlags): Omit<FitDetectorOptions, 'name' | 'channels' | 'values' | 'createdAt'> {
  const threshold: CalibrationMethod =
    f.threshold === 'auto' ? 'auto' : f.threshold === 'quantile' ? { method: 'quantile', q: f.q, margin: f.margin } : { method: 'pot', riskLevel: f.risk, initialQuantile: DEFAULT_POT_INITIAL_QUANTILE };
  return {
    seed: f.seed,
    hiddenChannels: f.hidden,
    kernelSize: f.kernelSize,
    ...(f.dilations === undefined ? {} : { dilations: parseDilations(f.dilations) }),
    activation: f.activation,
    forecast: f.forecast,
    epochs: f.epochs,
    batchSize: f.batchSize,
    windowLength: f.windowLength,
    learningRate: f.lr,
    dropout: f.dropout,
    weightDecay: f.weightDecay,
    validationFraction: f.validationFraction,
    patience: f.patience,
    threshold,
    events: { openAfter: f.openAfter, closeAfter: f.closeAfter },
  };
}
