import { calibrate } from '../../src/detect/calibrate.js';
import { Detector } from '../../src/detect/detector.js';
import { manifestOf } from '../../src/detect/detector-manifest.js';
import { Forecaster } from '../../src/model/forecaster.js';
import type { ModelManifest } from '../../src/model/model-manifest.js';
import { fitNormalization } from '../../src/model/normalization.js';
import { Rng } from '../../src/nn/random.js';
import { Tcn } from '../../src/nn/tcn.js';

/** Channels of the tiny test detector. */
export const TINY_CHANNELS = ['temp', 'pressure', 'flow'];
const C = TINY_CHANNELS.length;

/** A smooth 3-channel normal series with noise, `[rows, 3]` row-major, seeded. */
export function normalSeries(rows: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(rows * C);
  for (let t = 0; t < rows; t++) {
    v[t * C] = 50 + 5 * Math.sin(t / 10) + 0.2 * rng.normal();
    v[t * C + 1] = 2700 + 30 * Math.cos(t / 10) + rng.normal();
    v[t * C + 2] = 10 + 0.5 * Math.sin(t / 10 + 1) + 0.05 * rng.normal();
  }
  return v;
}

/**
 * A small, untrained but calibrated detector (receptive field 7) for tests that need real
 * scoring, events and state without training time.
 */
export function buildTinyDetector(): { detector: Detector; tcn: Tcn; manifest: Omit<ModelManifest, 'weights'> } {
  const train = normalSeries(600, 1);
  const normalization = fitNormalization(train, C);
  const tcn = Tcn.create({ inChannels: C, outChannels: C, hiddenChannels: 4, kernelSize: 2, dilations: [1, 2] }, new Rng(2));
  const forecaster = new Forecaster(TINY_CHANNELS, normalization, tcn);
  const calibration = calibrate(forecaster, train, 300, { method: 'quantile', q: 0.99, margin: 1.5 });
  const manifest = manifestOf({
    name: 'unit',
    createdAt: '2026-11-22T00:00:00Z',
    channels: TINY_CHANNELS,
    normalization,
    tcn,
    calibration,
    events: { openAfter: 1, closeAfter: 2 },
    training: { rows: 600, trainRows: 300, validationRows: 300, calibrationReadings: calibration.readings, epochs: 0, bestEpoch: 0, trainLoss: null, validationLoss: null, seed: 2, durationMs: 0, hyperParameters: {} },
  });
  const detector = new Detector({ manifest, name: 'unit', forecaster, residualStats: calibration.residualStats, threshold: calibration.threshold, events: manifest.events });
  return { detector, tcn, manifest };
}
