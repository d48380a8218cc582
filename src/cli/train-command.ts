import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command } from 'commander';
import { fitDetector } from '../detect/fit-detector.js';
import { readCsvTable } from '../io/csv-table.js';
import { saveModel } from '../io/model-dir.js';
import { trainingKernel } from './kernels.js';
import { addCsvOptions, csvTableOptions, describeTableIssues, type CsvFlags } from './csv-options.js';
import { epochProgress } from './epoch-progress.js';
import { createLogger } from './logger.js';
import { addTrainOptions, fitOptionsOf, type TrainFlags } from './train-flags.js';

interface TrainCommandFlags extends CsvFlags, TrainFlags {
  data: string;
  out: string;
}

/** `convwatch train`: fits a detector on a CSV of normal operation and writes a model directory. */
export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('train a forecaster on normal data, calibrate its threshold on the held-out tail, and write a model directory')
    .requiredOption('--data <csv>', 'CSV of normal operation, header row, one row per reading')
    .requiredOption('--out <dir>', 'model directory to write (model.json + weights.safetensors)');
  addCsvOptions(cmd, true);
  addTrainOptions(cmd);
  cmd.action(async (flags: TrainCommandFlags) => {
    const log = createLogger();
    const bytes = await readFile(flags.data);
    const table = await readCsvTable(flags.data, csvTableOptions(flags, 'detect'));
    for (const line of describeTableIssues(table)) log.warn({ file: flags.data }, line);
    if (table.labels !== null && table.labels.some((v) => v === 1)) {
      log.warn({ labelColumn: table.labelColumn, anomalous: table.labels.reduce((s, v) => s + v, 0) }, 'the training data has rows labelled anomalous; the model learns them as normal');
    }
    const progress = epochProgress(log, flags.epochs);
    const fitted = fitDetector({
      ...fitOptionsOf(flags),
      name: flags.name ?? basename(flags.data).replace(/\.[^.]*$/, ''),
      channels: table.channels,
      values: table.values,
      createdAt: new Date().toISOString(),
      source: basename(flags.data),
      dataSha256: createHash('sha256').update(bytes).digest('hex'),
      kernel: trainingKernel(),
      clock: () => performance.now(),
      onEpoch: progress.onEpoch,
    });
    progress.stop();
    const manifest = await saveModel(flags.out, fitted.manifest, fitted.tcn);
    log.info(
      {
        out: flags.out,
        channels: manifest.channels.length,
        receptiveField: manifest.receptiveField,
        epochs: manifest.training.epochs,
        bestEpoch: manifest.training.bestEpoch,
        trainLoss: manifest.training.trainLoss,
        validationLoss: manifest.training.validationLoss,
        threshold: manifest.threshold.value,
        thresholdMethod: manifest.threshold.method,
        calibrationReadings: manifest.training.calibrationReadings,
      },
      'model written',
    );
  });
  return cmd;
}
