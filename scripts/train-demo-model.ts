/**
 * Trains the model bundled for `npm start` (models/demo) on the simulator's normal data:
 * several simulated machines of the same kind, so the model learns the type, not one unit.
 * Re-train with `npm run train:demo-model`; the output is deterministic under the seed.
 *
 * The devices' series are concatenated; the few windows that straddle a boundary see one jump,
 * which is negligible against ~36k rows (a multi-series trainer would remove even that).
 */
import { fitDetector } from '../src/detect/fit-detector.js';
import { saveModel } from '../src/io/model-dir.js';
import { trainingKernel } from '../src/cli/kernels.js';
import { concatenatedValues } from '../src/sim/scenarios.js';
import { simulate } from '../src/sim/sensor-simulator.js';

const SEED = 7;
const DEVICES = 6;
const ROWS = 6000;
const out = process.argv[2] ?? 'models/demo';

const rec = simulate({ devices: DEVICES, rows: ROWS, anomalies: 'none' }, SEED);
const values = concatenatedValues(rec);
const t0 = performance.now();
const fitted = fitDetector({
  name: 'demo-machine',
  channels: rec.channels,
  values,
  seed: SEED,
  epochs: 12,
  validationFraction: 0.15,
  createdAt: '2026-11-22T00:00:00.000Z',
  source: `simulator seed ${SEED}, ${DEVICES} devices × ${ROWS} rows, no anomalies`,
  kernel: trainingKernel(),
  clock: () => performance.now(),
  onEpoch: (r) => process.stderr.write(`epoch ${r.epoch}/${r.epochs} loss ${r.trainLoss.toFixed(4)} val ${r.valLoss?.toFixed(4) ?? '—'}\n`),
});
const manifest = await saveModel(out, { ...fitted.manifest, training: { ...fitted.manifest.training, durationMs: 0 } }, fitted.tcn);
process.stderr.write(`wrote ${out}: threshold ${manifest.threshold.method} ${manifest.threshold.value.toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
