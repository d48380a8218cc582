import { calibrate } from '../../src/detect/calibrate.js';
import { Detector } from '../../src/detect/detector.js';
import { manifestOf } from '../../src/detect/detector-manifest.js';
import { Forecaster } from '../../src/model/forecaster.js';
import { fitNormalization } from '../../src/model/normalization.js';
import { Rng } from '../../src/nn/random.js';
import { Tcn } from '../../src/nn/tcn.js';

/** `[T, C]` smooth two-channel series with noise; `spikeEvery` adds large spikes (anomalies). */
export function tinySeries(rows: number, seed: number, spikeEvery = 0): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(rows * 2);
  for (let t = 0; t < rows; t++) {
    const spike = spikeEvery > 0 && t % spikeEvery === spikeEvery - 1 ? 40 : 0;
    v[t * 2] = 20 + 3 * Math.sin(t / 7) + 0.3 * rng.normal() + spike;
    v[t * 2 + 1] = 5 + Math.cos(t / 5) + 0.1 * rng.normal();
  }
  return v;
}

/**
 * A two-channel detector with an untrained (seeded) TCN (receptive field 7), calibrated on a
 * normal series: enough to give real scores, warm-up and events, built in milliseconds.
 */
export function tinyDetector(name = 'tiny'): Detector {
  const channels = ['a', 'b'];
  const train = tinySeries(240, 11);
  const normalization = fitNormalization(train, 2);
  const tcn = Tcn.create({ inChannels: 2, outChannels: 2, hiddenChannels: 3, kernelSize: 2, dilations: [1, 2] }, new Rng(5));
  const forecaster = new Forecaster(channels, normalization, tcn);
  const calibration = calibrate(forecaster, train, 40, { method: 'quantile', q: 0.98, margin: 1 });
  const manifest = manifestOf({
    name,
    createdAt: '2026-11-22T00:00:00Z',
    channels,
    normalization,
    tcn,
    calibration,
    events: { openAfter: 1, closeAfter: 2 },
    training: { rows: 240, trainRows: 0, validationRows: 240, calibrationReadings: calibration.readings, epochs: 0, bestEpoch: 0, trainLoss: null, validationLoss: null, seed: 5, durationMs: 0, hyperParameters: {} },
  });
  return new Detector({ manifest, name, forecaster, residualStats: calibration.residualStats, threshold: calibration.threshold, events: manifest.events });
}
