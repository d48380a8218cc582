/**
 * Tennessee Eastman evaluation (issue 3): convwatch against the PCA T²/Q baseline on the Braatz
 * data, thresholds from normal data only.
 *
 * Protocol (see docs/evaluation.md):
 * - convwatch: `fitDetector` with the library defaults on train-normal.csv only (its last 20 %
 *   held out calibrate the threshold); each test file is streamed reading by reading after
 *   priming the stream with the last receptive-field rows of train-normal.csv (a running plant
 *   has history), so every test row is scored. The cold-start variant is recorded too.
 * - PCA: 90 % of the variance; limits = the 99 % empirical quantile of normal statistics, either
 *   held out (fit on the first 80 % of train-normal.csv, limits from the last 20 %: the protocol
 *   convwatch follows) or in-sample (fit and limits on all 500 rows).
 * - Per fault 01–21: detection rate on rows ≥ 160, false-alarm rate on rows < 160, delay (rows
 *   from 160 to the first flag), ROC AUC against test-fault00; false-alarm rate over all of
 *   test-fault00.csv.
 *
 * `npx tsx bench/eval/tep.ts [--data DIR] [--seeds 1,2,3,4,5] [--forecast level|delta] [--out FILE]` — writes
 * bench/eval/results/tep.json and prints the markdown tables of docs/evaluation.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { scoringKernel, trainingKernel } from '../../src/cli/kernels.js';
import { evaluate } from '../../src/detect/evaluate.js';
import { DEFAULT_FIT_FORECAST, fitDetector } from '../../src/detect/fit-detector.js';
import { FORECAST_KINDS, type ForecastKind } from '../../src/model/forecaster.js';
import { readCsvTable, type CsvTable } from '../../src/io/csv-table.js';
import { controlLimit, fitPcaMonitor, pcaStatistics } from './pca-monitor.js';
import { rocAuc } from './roc-auc.js';
import { streamRows, type StreamPrimer } from './stream-rows.js';
import type { ConvwatchFaultResult, ConvwatchRun, PcaFaultResult, RateSet, TepResult } from './tep-result.js';
import { tepTables } from './tep-tables.js';

/** Row at which every fault file switches to the fault. */
const FAULT_ROW = 160;
const FAULTS = Array.from({ length: 21 }, (_, i) => String(i + 1).padStart(2, '0'));
const SAMPLE_MS = 3 * 60_000;
/** PCA components: enough for this share of the training variance. */
const PCA_VARIANCE_KEPT = 0.9;
/** PCA control limits: this quantile of normal statistics (1 % nominal false alarms). */
const PCA_LIMIT_Q = 0.99;
/** Share of train-normal.csv held out, as fitDetector's default validation fraction. */
const HELD_OUT_FRACTION = 0.2;
/** A detection "holds" when this many consecutive rows are flagged (for the persistent delay). */
const PERSIST_ROWS = 6;

function persistentDelay(flags: Uint8Array): number | null {
  let run = 0;
  for (let t = FAULT_ROW; t < flags.length; t++) {
    run = flags[t] === 1 ? run + 1 : 0;
    if (run === PERSIST_ROWS) return t - PERSIST_ROWS + 1 - FAULT_ROW;
  }
  return null;
}

function rates(predicted: Uint8Array, ready: Uint8Array, labels: Uint8Array, times: Float64Array): RateSet {
  const e = evaluate({ timesMs: times, labels, predicted, ready }, 0, null);
  return { detection: e.point.recall, falseAlarm: e.point.falseAlarmRate, delayRows: e.event.meanDelayRows, persistentDelayRows: persistentDelay(predicted) };
}

/** Share of the scored rows that are flagged. */
function share(flags: Uint8Array, ready: Uint8Array): number {
  let n = 0;
  let k = 0;
  for (let t = 0; t < flags.length; t++) {
    if (ready[t] === 1) {
      n++;
      k += flags[t] as number;
    }
  }
  return k / n;
}

function exceeding(stat: Float64Array, limit: number): Uint8Array {
  return Uint8Array.from(stat, (x) => (x > limit ? 1 : 0));
}

/** Synthetic times, one sample every 3 minutes, row `offsetRows` at time 0. */
function rowTimes(rows: number, offsetRows = 0): Float64Array {
  return Float64Array.from({ length: rows }, (_, t) => (t + offsetRows) * SAMPLE_MS);
}

/** AUC of the fault rows (≥ 160) of a file against all rows of the normal test file. */
function faultAuc(scores: Float64Array, normalScores: Float64Array): number | null {
  return rocAuc(scores.subarray(FAULT_ROW), normalScores);
}

function labelsOf(table: CsvTable): Uint8Array {
  if (table.labels === null) throw new Error(`${table.source}: no 'anomaly' label column`);
  return table.labels;
}

function runPca(train: CsvTable, tests: Map<string, CsvTable>, normal: CsvTable): TepResult['pca'] {
  const C = train.channels.length;
  const pca = fitPcaMonitor(train.values, C, PCA_VARIANCE_KEPT);
  const inSample = pcaStatistics(pca, train.values);
  const t2Limit = controlLimit(inSample.t2, PCA_LIMIT_Q);
  const qLimit = controlLimit(inSample.q, PCA_LIMIT_Q);
  const fitRows = train.rows - Math.round(train.rows * HELD_OUT_FRACTION);
  const pcaHo = fitPcaMonitor(train.values.subarray(0, fitRows * C), C, PCA_VARIANCE_KEPT);
  const heldOut = pcaStatistics(pcaHo, train.values.subarray(fitRows * C));
  const t2LimitHeldOut = controlLimit(heldOut.t2, PCA_LIMIT_Q);
  const qLimitHeldOut = controlLimit(heldOut.q, PCA_LIMIT_Q);
  const normalHo = pcaStatistics(pcaHo, normal.values);
  const ready = new Uint8Array(normal.rows).fill(1);
  const normalIn = pcaStatistics(pca, normal.values);
  const fault00 = {
    t2: share(exceeding(normalIn.t2, t2Limit), ready),
    q: share(exceeding(normalIn.q, qLimit), ready),
    t2HeldOut: share(exceeding(normalHo.t2, t2LimitHeldOut), ready),
    qHeldOut: share(exceeding(normalHo.q, qLimitHeldOut), ready),
  };
  const perFault: Record<string, PcaFaultResult> = {};
  for (const [f, table] of tests) {
    const labels = labelsOf(table);
    const times = rowTimes(table.rows);
    const all = new Uint8Array(table.rows).fill(1);
    const s = pcaStatistics(pca, table.values);
    const sHo = pcaStatistics(pcaHo, table.values);
    perFault[f] = {
      t2: rates(exceeding(s.t2, t2Limit), all, labels, times),
      q: rates(exceeding(s.q, qLimit), all, labels, times),
      t2HeldOut: rates(exceeding(sHo.t2, t2LimitHeldOut), all, labels, times),
      qHeldOut: rates(exceeding(sHo.q, qLimitHeldOut), all, labels, times),
      aucT2: faultAuc(sHo.t2, normalHo.t2),
      aucQ: faultAuc(sHo.q, normalHo.q),
    };
  }
  return { components: pca.components, componentsHeldOut: pcaHo.components, t2Limit, qLimit, t2LimitHeldOut, qLimitHeldOut, fault00, perFault };
}

function runConvwatch(seed: number, forecast: ForecastKind, train: CsvTable, tests: Map<string, CsvTable>, normal: CsvTable): ConvwatchRun {
  const C = train.channels.length;
  const tFit = performance.now();
  const fitted = fitDetector({
    name: 'tep',
    channels: train.channels,
    values: train.values,
    seed,
    forecast,
    kernel: trainingKernel(),
    clock: () => performance.now(),
    createdAt: new Date().toISOString(),
    source: 'tep/train-normal.csv',
  });
  const fitMs = performance.now() - tFit;
  const det = fitted.detector;
  const kernel = scoringKernel();
  const P = det.warmupReadings;
  const primer: StreamPrimer = { values: train.values.subarray((train.rows - P) * C), timesMs: rowTimes(P, -P) };
  const tScore = performance.now();
  const normalTimes = rowTimes(normal.rows);
  const warm = streamRows(det, normal.values, normalTimes, kernel, primer);
  const cold = streamRows(det, normal.values, normalTimes, kernel, null);
  const fault00 = { event: share(warm.anomaly, warm.ready), exceeded: share(warm.exceeded, warm.ready), eventNoPrime: share(cold.anomaly, cold.ready) };
  const perFault: Record<string, ConvwatchFaultResult> = {};
  for (const [f, table] of tests) {
    const labels = labelsOf(table);
    const times = rowTimes(table.rows);
    const r = streamRows(det, table.values, times, kernel, primer);
    const c = streamRows(det, table.values, times, kernel, null);
    perFault[f] = {
      event: rates(r.anomaly, r.ready, labels, times),
      exceeded: rates(r.exceeded, r.ready, labels, times),
      eventNoPrime: rates(c.anomaly, c.ready, labels, times),
      auc: faultAuc(r.scores, warm.scores),
    };
  }
  const scoreMs = performance.now() - tScore;
  const m = fitted.manifest;
  const t = fitted.training;
  return {
    seed,
    fitMs,
    scoreMs,
    receptiveField: m.receptiveField,
    architecture: m.architecture,
    threshold: fitted.calibration.threshold,
    calibrationReadings: fitted.calibration.readings,
    training: { epochsRun: t.epochsRun, bestEpoch: t.weightsEpoch, trainLoss: t.trainLoss, valLoss: t.valLoss },
    fault00,
    perFault,
  };
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      data: { type: 'string', default: '/work/shared/data' },
      seeds: { type: 'string', default: '1,2,3,4,5' },
      forecast: { type: 'string', default: DEFAULT_FIT_FORECAST },
      out: { type: 'string', default: new URL('./results/tep.json', import.meta.url).pathname },
    },
  });
  const seeds = String(a.seeds).split(',').map(Number);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`--seeds: expected non-negative integers separated by commas, got '${a.seeds}'`);
  const forecast = FORECAST_KINDS.find((f) => f === a.forecast);
  if (forecast === undefined) throw new Error(`--forecast must be one of ${FORECAST_KINDS.join(', ')}, got '${a.forecast}'`);
  const out = String(a.out);
  const dir = `${a.data}/tep`;
  const t0 = performance.now();
  const train = await readCsvTable(`${dir}/train-normal.csv`);
  const normal = await readCsvTable(`${dir}/test-fault00.csv`);
  const tests = new Map<string, CsvTable>();
  for (const f of FAULTS) tests.set(f, await readCsvTable(`${dir}/test-fault${f}.csv`));
  const readMs = performance.now() - t0;

  const pca = runPca(train, tests, normal);
  const runs: ConvwatchRun[] = [];
  for (const seed of seeds) {
    const run = runConvwatch(seed, forecast, train, tests, normal);
    runs.push(run);
    process.stderr.write(`seed ${seed}: fit ${(run.fitMs / 1000).toFixed(1)} s, score ${(run.scoreMs / 1000).toFixed(1)} s, threshold ${run.threshold.value.toFixed(3)}, fault00 flagged ${(100 * run.fault00.event).toFixed(1)} %\n`);
  }
  const result: TepResult = {
    corpus: 'tep',
    protocol: {
      train: `train-normal.csv only (${train.rows} rows); fitDetector holds out the last ${HELD_OUT_FRACTION * 100} % to calibrate the threshold`,
      priming: 'each test stream is first fed the last receptive-field rows of train-normal.csv (outputs dropped); eventNoPrime is the cold start, where the first receptive-field − 1 rows are unscored',
      detection: `share of scored rows >= ${FAULT_ROW} flagged`,
      falseAlarm: `share of scored rows < ${FAULT_ROW} flagged; fault00: share of all its scored rows flagged`,
      delay: `rows from ${FAULT_ROW} to the first flag at or after it; persistent: to the first run of ${PERSIST_ROWS} consecutive flags starting at or after it`,
      auc: `ROC AUC of the scores of rows >= ${FAULT_ROW} against all rows of test-fault00.csv (PCA: the held-out model)`,
      pca: `${PCA_VARIANCE_KEPT * 100} % of the variance; limits = ${PCA_LIMIT_Q} empirical quantile; heldOut: fit on the first ${100 - HELD_OUT_FRACTION * 100} %, limits from the last ${HELD_OUT_FRACTION * 100} %; in-sample: fit and limits on all rows`,
    },
    config: { detector: 'fitDetector defaults (hidden 32, kernel 3, dilations shortened for the data, 30 epochs with early stopping, threshold auto, events openAfter 1 / closeAfter 3)', forecast, seeds },
    pca,
    convwatch: runs,
    timing: { readMs, totalMs: performance.now() - t0 },
    machine: { node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length },
  };
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 1)}\n`);
  process.stdout.write(`${tepTables(result)}\n`);
  process.stderr.write(`total ${(result.timing.totalMs / 1000).toFixed(1)} s → ${out}\n`);
}

await main();
