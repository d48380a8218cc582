import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command } from 'commander';
import type { Detector } from '../detect/detector.js';
import { evaluate, type Evaluation } from '../detect/evaluate.js';
import { nabProbationaryRows } from '../detect/nab-score.js';
import { fitDetector } from '../detect/fit-detector.js';
import { CsvWriter } from '../io/csv-writer.js';
import { readCsvTable, type CsvTable } from '../io/csv-table.js';
import { renderEvalReport, type EvalReportMetric } from '../io/html-report.js';
import { loadModel } from '../io/model-dir.js';
import { labelsFromWindows, readNabWindows } from '../io/nab-windows.js';
import { alignChannels } from './align-channels.js';
import { intArg, numberArg } from './cli-args.js';
import { addCsvOptions, csvTableOptions, describeTableIssues, type CsvFlags } from './csv-options.js';
import { epochProgress } from './epoch-progress.js';
import { scoringKernel, trainingKernel } from './kernels.js';
import { createLogger } from './logger.js';
import { addTrainOptions, fitOptionsOf, type TrainFlags } from './train-flags.js';

interface EvalFlags extends CsvFlags, TrainFlags {
  data: string;
  model?: string;
  trainRows?: number;
  trainFraction?: number;
  predictions?: string;
  json?: string;
  report?: string;
  windows?: string;
  windowsKey?: string;
}

/** Every row's detector output, for metrics and files. */
interface ScoredRows {
  scores: Float64Array;
  predicted: Uint8Array;
  ready: Uint8Array;
  contrib: Float32Array;
}

function scoreAll(detector: Detector, table: CsvTable, values: Float32Array): ScoredRows {
  const C = detector.channels.length;
  const T = table.rows;
  const out: ScoredRows = { scores: new Float64Array(T), predicted: new Uint8Array(T), ready: new Uint8Array(T), contrib: new Float32Array(T * C) };
  const stream = detector.createStream(scoringKernel());
  for (let t = 0; t < T; t++) {
    const r = stream.push(values.subarray(t * C, (t + 1) * C), table.timesMs === null ? t : (table.timesMs[t] as number));
    out.scores[t] = r.score;
    out.predicted[t] = r.anomaly;
    out.ready[t] = r.ready ? 1 : 0;
    out.contrib.set(r.contrib, t * C);
  }
  return out;
}

/** The metrics as flat rows: for the summary, the JSON file and the report. */
export function metricRows(e: Evaluation): EvalReportMetric[] {
  const rows: EvalReportMetric[] = [
    { group: 'point-wise', name: 'precision', value: e.point.precision },
    { group: 'point-wise', name: 'recall', value: e.point.recall },
    { group: 'point-wise', name: 'F1', value: e.point.f1 },
    { group: 'point-wise', name: 'false-alarm rate', value: e.point.falseAlarmRate },
    { group: 'point-wise', name: 'missed-alarm rate', value: e.point.missedAlarmRate },
    { group: 'event-wise', name: 'labelled events', value: e.event.labelledEvents },
    { group: 'event-wise', name: 'detected events', value: e.event.detectedEvents },
    { group: 'event-wise', name: 'predicted events', value: e.event.predictedEvents },
    { group: 'event-wise', name: 'precision', value: e.event.precision },
    { group: 'event-wise', name: 'recall', value: e.event.recall },
    { group: 'event-wise', name: 'F1', value: e.event.f1 },
    { group: 'event-wise', name: 'mean detection delay', value: e.event.meanDelayRows, unit: 'rows' },
    { group: 'event-wise', name: 'mean detection delay', value: e.event.meanDelayMs, unit: 'ms' },
  ];
  for (const [profile, s] of Object.entries(e.nab ?? {})) {
    rows.push({ group: `NAB (${profile})`, name: 'raw score', value: s.score });
    rows.push({ group: `NAB (${profile})`, name: 'normalised score', value: s.perfectScore === s.nullScore ? null : (100 * (s.score - s.nullScore)) / (s.perfectScore - s.nullScore) });
    rows.push({ group: `NAB (${profile})`, name: 'detected windows', value: s.detectedWindows });
    rows.push({ group: `NAB (${profile})`, name: 'scored windows', value: s.scoredWindows });
  }
  return rows;
}

/** `convwatch eval`: scores a labelled CSV and reports detection metrics. */
export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('evaluate a detector on a labelled CSV: point-wise, event-wise and NAB metrics, with optional predictions, JSON and an HTML report')
    .requiredOption('--data <csv>', 'labelled CSV (header row; a 0/1 label column)')
    .option('--model <dir>', 'evaluate this trained model on every row')
    .option('--train-rows <n>', 'instead: train a fresh model on the first n rows (taken as normal) and evaluate the rows after', intArg(2, 1e9))
    .option('--train-fraction <f>', 'instead: train on the first fraction of the rows (NAB protocol: 0.15) and evaluate the rest', numberArg(0, 0.99))
    .option('--predictions <csv>', 'write per row: time, score, threshold, anomaly, label')
    .option('--json <file>', 'write all metrics as JSON')
    .option('--report <html>', 'write a self-contained HTML report with plots of channels, score, threshold and segments')
    .option('--windows <json>', "NAB-style anomaly windows: NAB's combined_windows.json, or a JSON array of [start, end]")
    .option('--windows-key <key>', 'entry of the windows file for this data (default: the entry whose path ends like --data)');
  addCsvOptions(cmd, true);
  addTrainOptions(cmd);
  cmd.action(async (flags: EvalFlags) => {
    const log = createLogger();
    const modes = [flags.model !== undefined, flags.trainRows !== undefined, flags.trainFraction !== undefined].filter(Boolean).length;
    if (modes !== 1) throw new Error('eval: give exactly one of --model <dir>, --train-rows <n> or --train-fraction <f>');
    const table = await readCsvTable(flags.data, csvTableOptions(flags, 'flag'));
    for (const line of describeTableIssues(table)) log.warn({ file: flags.data }, line);
    const windows = flags.windows === undefined ? null : await readNabWindows(flags.windows, flags.windowsKey ?? null, flags.data);
    const labels = table.labels ?? (windows === null || table.timesMs === null ? null : labelsFromWindows(table.timesMs, windows));
    if (labels === null) throw new Error(`${flags.data}: no label column found; name it with --label-column, or give --windows`);
    let detector: Detector;
    let fromRow = 0;
    let values: Float32Array;
    if (flags.model !== undefined) {
      detector = await loadModel(flags.model);
      values = alignChannels(table, detector.channels);
    } else {
      fromRow = flags.trainRows ?? Math.round(table.rows * (flags.trainFraction ?? 0));
      // NAB scores from its probationary length (capped at 750 rows for 0.15); training on more
      // would score rows the model learned from.
      if (windows !== null && flags.trainFraction !== undefined) fromRow = Math.min(fromRow, nabProbationaryRows(table.rows, flags.trainFraction));
      if (fromRow >= table.rows) throw new Error(`eval: training on ${fromRow} rows leaves none of the ${table.rows} to evaluate`);
      values = table.values;
      const progress = epochProgress(log, flags.epochs);
      const bytes = await readFile(flags.data);
      detector = fitDetector({
        ...fitOptionsOf(flags),
        name: flags.name ?? basename(flags.data).replace(/\.[^.]*$/, ''),
        channels: table.channels,
        values: values.subarray(0, fromRow * table.channels.length),
        createdAt: new Date().toISOString(),
        source: `${basename(flags.data)} rows 0–${fromRow - 1}`,
        dataSha256: createHash('sha256').update(bytes).digest('hex'),
        kernel: trainingKernel(),
        clock: () => performance.now(),
        onEpoch: progress.onEpoch,
      }).detector;
      progress.stop();
    }
    const scored = scoreAll(detector, table, values);
    const result = evaluate({ timesMs: table.timesMs, labels, predicted: scored.predicted, ready: scored.ready }, fromRow, windows);
    const metrics = metricRows(result);

    if (flags.predictions !== undefined) {
      const w = await CsvWriter.open(flags.predictions, ['time', 'score', 'threshold', 'anomaly', 'label']);
      try {
        for (let t = 0; t < table.rows; t++) {
          await w.write([
            table.timesMs === null ? t : new Date(table.timesMs[t] as number).toISOString(),
            scored.ready[t] === 1 ? (scored.scores[t] as number) : '',
            detector.threshold.value,
            scored.predicted[t] as number,
            labels[t] as number,
          ]);
        }
      } finally {
        await w.close();
      }
    }
    if (flags.json !== undefined) {
      await writeFile(flags.json, `${JSON.stringify({ data: flags.data, model: detector.name, threshold: detector.threshold, fromRow, evaluation: result }, null, 2)}\n`);
    }
    if (flags.report !== undefined) {
      const m = detector.manifest;
      const html = renderEvalReport({
        title: `convwatch eval — ${basename(flags.data)}`,
        generatedAt: new Date().toISOString(),
        modelName: detector.name,
        modelSummary: `TCN ${m.channels.length}→${JSON.stringify(m.architecture.hiddenChannels)}×${m.architecture.dilations.length} blocks→${m.channels.length}, kernel ${m.architecture.kernelSize}, dilations ${m.architecture.dilations.join(',')}, receptive field ${m.receptiveField}; threshold ${m.threshold.method} ${m.threshold.value.toPrecision(4)}`,
        timesMs: table.timesMs,
        channels: detector.channels,
        values,
        scores: scored.scores,
        threshold: detector.threshold.value,
        predicted: scored.predicted,
        labels,
        contrib: scored.contrib,
        metrics,
        notes: [
          fromRow > 0 ? `Rows 0–${fromRow - 1} trained the model and are not evaluated.` : `Every row is evaluated with model ${flags.model ?? ''}.`,
          `The first ${detector.warmupReadings} readings warm the stream up and get no score.`,
          ...describeTableIssues(table),
        ],
      });
      await writeFile(flags.report, html);
    }
    const summary = metrics.map((r) => `${r.group.padEnd(18)} ${r.name.padEnd(22)} ${r.value === null ? '—' : Number.isInteger(r.value) ? r.value : r.value.toFixed(4)}${r.unit === undefined ? '' : ` ${r.unit}`}`);
    process.stdout.write(`evaluated rows ${fromRow}–${table.rows - 1} of ${basename(flags.data)} (${result.unscoredRows} without a score)\n${summary.join('\n')}\n`);
  });
  return cmd;
}
