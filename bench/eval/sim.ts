/**
 * Simulator detection for one forecast kind: a detector trained exactly as models/demo is
 * (scripts/train-demo-model.ts: simulator seed 7, 6 devices × 6000 normal rows, 12 epochs,
 * validationFraction 0.15, seed 7), then the labelled recording of
 * test/cli/replayed-detection.integration.test.ts (seed 1, two machines × 4000 rows, one anomaly of
 * every kind per machine) streamed offline reading by reading (offline ≡ replay is a test of its
 * own), with the same measures: event recall (a flag within an anomaly or the 10 rows after it)
 * and the point false-alarm rate on the normal stretches after the 125-row warm-up. No models/
 * directory is read or written.
 *
 * `npx tsx bench/eval/sim.ts [--forecast level|delta] [--out FILE]`
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { scoringKernel, trainingKernel } from '../../src/cli/kernels.js';
import { DEFAULT_FIT_FORECAST, fitDetector } from '../../src/detect/fit-detector.js';
import { FORECAST_KINDS } from '../../src/model/forecaster.js';
import { concatenatedValues, everyKindTour } from '../../src/sim/scenarios.js';
import { simulate } from '../../src/sim/sensor-simulator.js';
import { streamRows } from './stream-rows.js';

const TRAIN_SEED = 7;
const TRAIN_DEVICES = 6;
const TRAIN_ROWS = 6000;
const TEST_ROWS = 4000;
const TEST_DEVICES = ['m-1', 'm-2'];
const CLOSE_MARGIN_ROWS = 10;
const WARMUP_ROWS = 125;

const { values: a } = parseArgs({ options: { forecast: { type: 'string', default: DEFAULT_FIT_FORECAST }, out: { type: 'string' } } });
const forecast = FORECAST_KINDS.find((f) => f === a.forecast);
if (forecast === undefined) throw new Error(`--forecast must be one of ${FORECAST_KINDS.join(', ')}, got '${a.forecast}'`);

const train = simulate({ devices: TRAIN_DEVICES, rows: TRAIN_ROWS, anomalies: 'none' }, TRAIN_SEED);
const values = concatenatedValues(train);
const t0 = performance.now();
const fitted = fitDetector({
  name: 'sim',
  channels: train.channels,
  values,
  seed: TRAIN_SEED,
  epochs: 12,
  validationFraction: 0.15,
  forecast,
  createdAt: '2026-11-22T00:00:00.000Z',
  kernel: trainingKernel(),
  clock: () => performance.now(),
});
const fitMs = performance.now() - t0;

const anomalies = everyKindTour(TEST_DEVICES);
const rec = simulate({ devices: TEST_DEVICES, rows: TEST_ROWS, anomalies }, 1);
const perKind: Record<string, { detected: number; total: number }> = {};
let falseAlarms = 0;
let normalRows = 0;
for (const d of rec.devices) {
  const out = streamRows(fitted.detector, d.values, d.timesMs, scoringKernel());
  const near = new Uint8Array(TEST_ROWS);
  for (const an of d.anomalies) {
    let hit = false;
    for (let t = an.startRow; t < Math.min(TEST_ROWS, an.startRow + an.lengthRows + CLOSE_MARGIN_ROWS); t++) {
      if (out.anomaly[t] === 1) hit = true;
      near[t] = 1;
    }
    const k = (perKind[an.kind] ??= { detected: 0, total: 0 });
    k.total++;
    k.detected += hit ? 1 : 0;
  }
  for (let t = WARMUP_ROWS; t < TEST_ROWS; t++) {
    if (near[t] === 1) continue;
    normalRows++;
    falseAlarms += out.anomaly[t] as number;
  }
}
const totals = Object.values(perKind).reduce((s, k) => ({ detected: s.detected + k.detected, total: s.total + k.total }), { detected: 0, total: 0 });
const result = {
  forecast,
  threshold: fitted.calibration.threshold.value,
  validationLoss: fitted.training.valLoss,
  epochs: fitted.training.epochsRun,
  perKind,
  eventRecall: totals.detected / totals.total,
  falseAlarmRate: falseAlarms / normalRows,
  normalRows,
  fitMs,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
if (a.out !== undefined) await writeFile(a.out, `${JSON.stringify(result, null, 1)}\n`);
