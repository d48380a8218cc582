import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrate } from '../../src/detect/calibrate.js';
import { Detector } from '../../src/detect/detector.js';
import { fitDetector } from '../../src/detect/fit-detector.js';
import { loadModel, saveModel, tryLoadModel } from '../../src/io/model-dir.js';
import { Forecaster } from '../../src/model/forecaster.js';
import { ModelFileError, parseModelManifest, type ModelManifest } from '../../src/model/model-manifest.js';
import { fitNormalization, normalizeSeries } from '../../src/model/normalization.js';
import { Rng } from '../../src/nn/random.js';
import { Tcn } from '../../src/nn/tcn.js';
import { tensor } from '../../src/nn/tensor.js';
import { buildTinyDetector, normalSeries, TINY_CHANNELS } from '../support/tiny-detector.js';

const C = 3;
const CHANNELS = TINY_CHANNELS;

const buildDetector = buildTinyDetector;

describe('Detector', () => {
  it('scores from the forecast residual exactly as defined: mean over channels of z², with shares', () => {
    const { detector, tcn } = buildDetector();
    const series = normalSeries(200, 3);
    const stream = detector.createStream();
    // Independent computation: offline TCN forecast on the normalised series.
    const norm = detector.forecaster.normalization;
    const z = normalizeSeries(series, norm);
    const x = tensor([1, C, 200]);
    for (let t = 0; t < 200; t++) for (let c = 0; c < C; c++) x.data[c * 200 + t] = z[t * C + c]!;
    const forecast = tcn.forward(x);
    const { center, scale } = detector.residualStats;
    for (let t = 0; t < 200; t++) {
      const r = stream.push(series.subarray(t * C, (t + 1) * C), 1000 * t);
      const rf = tcn.receptiveField;
      expect(r.ready).toBe(t >= rf);
      if (!r.ready) {
        expect(r.score).toBeNaN();
        continue;
      }
      let sum = 0;
      const z2: number[] = [];
      for (let c = 0; c < C; c++) {
        const resid = z[t * C + c]! - forecast.data[c * 200 + t - 1]!;
        const zc = (resid - center[c]!) / scale[c]!;
        z2.push(zc * zc);
        sum += zc * zc;
      }
      expect(r.score).toBeCloseTo(sum / C, 4);
      for (let c = 0; c < C; c++) expect(r.contrib[c]).toBeCloseTo(z2[c]! / sum, 5);
    }
  });

  it('flags a large deviation and emits start and end events with the top channel', () => {
    const { detector } = buildDetector();
    const series = normalSeries(300, 4);
    for (let t = 200; t < 205; t++) series[t * C + 1] += 3000; // pressure jumps
    const stream = detector.createStream();
    const events: { kind: string; top: number | undefined; t: number }[] = [];
    let flagged = 0;
    for (let t = 0; t < 300; t++) {
      const r = stream.push(series.subarray(t * C, (t + 1) * C), t * 1000);
      if (t >= 200 && t < 205) flagged += r.anomaly;
      if (r.event) events.push({ kind: r.event.kind, top: r.event.topChannels[0]?.index, t });
    }
    expect(flagged).toBe(5);
    expect(events[0]).toEqual({ kind: 'start', top: 1, t: 200 });
    expect(events.some((e) => e.kind === 'end' && e.t > 204)).toBe(true);
  });

  it('snapshot/restore resumes with identical scores and no new warm-up', () => {
    const { detector } = buildDetector();
    const series = normalSeries(160, 5);
    const a = detector.createStream();
    const whole: number[] = [];
    for (let t = 0; t < 160; t++) whole.push(a.push(series.subarray(t * C, (t + 1) * C), t).score);
    const b = detector.createStream();
    for (let t = 0; t < 100; t++) b.push(series.subarray(t * C, (t + 1) * C), t);
    const snap = JSON.parse(JSON.stringify(b.snapshot(), (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v)));
    const c2 = detector.createStream();
    c2.restore({ forecast: { tcn: { histories: snap.forecast.tcn.histories.map((h: number[]) => Float32Array.from(h)), seen: snap.forecast.tcn.seen }, forecast: Float32Array.from(snap.forecast.forecast) }, events: snap.events, lastTimeMs: snap.lastTimeMs });
    for (let t = 100; t < 160; t++) expect(c2.push(series.subarray(t * C, (t + 1) * C), t).score).toBe(whole[t]);
  });
});

describe('model directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convwatch-model-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips: a saved model loads and scores identically', async () => {
    const { detector, tcn, manifest } = buildDetector();
    await saveModel(dir, manifest, tcn);
    const loaded = await loadModel(dir);
    expect(loaded.channels).toEqual(CHANNELS);
    expect(loaded.threshold.value).toBe(detector.threshold.value);
    const series = normalSeries(120, 6);
    const s1 = detector.createStream();
    const s2 = loaded.createStream();
    for (let t = 0; t < 120; t++) {
      const a = s1.push(series.subarray(t * C, (t + 1) * C), t).score;
      const b = s2.push(series.subarray(t * C, (t + 1) * C), t).score;
      expect(Object.is(a, b) || a === b).toBe(true);
    }
  });

  it("round-trips a 'delta' model: architecture.forecast is saved and the loaded model scores identically", async () => {
    const fitted = fitDetector({ name: 'delta', channels: CHANNELS, values: normalSeries(500, 7), seed: 3, hiddenChannels: 4, kernelSize: 2, dilations: [1, 2], epochs: 2, forecast: 'delta', createdAt: '2026-11-22T00:00:00Z' });
    expect(fitted.manifest.architecture.forecast).toBe('delta');
    expect(fitted.detector.forecaster.forecast).toBe('delta');
    const deltaDir = join(dir, 'delta');
    await saveModel(deltaDir, fitted.manifest, fitted.tcn);
    expect((JSON.parse(await readFile(join(deltaDir, 'model.json'), 'utf8')) as ModelManifest).architecture.forecast).toBe('delta');
    const loaded = await loadModel(deltaDir);
    expect(loaded.forecaster.forecast).toBe('delta');
    // The same weights served as 'level' give other scores, so equality below is not vacuous.
    const asLevel = new Detector({ ...fitted.detector, manifest: fitted.manifest, forecaster: new Forecaster(CHANNELS, fitted.detector.forecaster.normalization, fitted.tcn, 'level') });
    const series = normalSeries(120, 8);
    const s1 = fitted.detector.createStream();
    const s2 = loaded.createStream();
    const s3 = asLevel.createStream();
    let differs = 0;
    for (let t = 0; t < 120; t++) {
      const x = series.subarray(t * C, (t + 1) * C);
      const a = s1.push(x, t).score;
      const b = s2.push(x, t).score;
      const c = s3.push(x, t).score;
      expect(Object.is(a, b) || a === b).toBe(true);
      if (Number.isFinite(a) && a !== c) differs++;
    }
    expect(differs).toBeGreaterThan(100);
  });

  it('rejects a wrong version, a bad field, mismatched weights and a missing file, naming file and field', async () => {
    const { tcn, manifest } = buildDetector();
    await saveModel(dir, manifest, tcn);
    const manifestPath = join(dir, 'model.json');
    const good = JSON.parse(await readFile(manifestPath, 'utf8')) as ModelManifest;

    await writeFile(manifestPath, JSON.stringify({ ...good, formatVersion: 7 }));
    await expect(loadModel(dir)).rejects.toThrow(/model\.json: formatVersion: is 7; this convwatch reads version 1/);

    await writeFile(manifestPath, JSON.stringify({ ...good, architecture: { ...good.architecture, dilations: [1, 2, 0] } }));
    await expect(loadModel(dir)).rejects.toThrow(/model\.json: .*architecture\.dilations\.2/);

    await writeFile(manifestPath, JSON.stringify({ ...good, normalization: { ...good.normalization, std: [1, 0, 1] } }));
    await expect(loadModel(dir)).rejects.toThrow(/normalization\.std\.1: must be > 0/);

    await writeFile(manifestPath, JSON.stringify({ ...good, weights: { ...good.weights, sha256: 'a'.repeat(64) } }));
    await expect(loadModel(dir)).rejects.toThrow(/weights\.safetensors: has SHA-256 [0-9a-f]{64} but model\.json expects a{64}/);

    await writeFile(manifestPath, '{ not json');
    const r = await tryLoadModel(dir);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBeInstanceOf(ModelFileError);

    await expect(loadModel(join(dir, 'nope'))).rejects.toThrow(/nope\/model\.json: does not exist/);
  });

  it('rejects weights whose shapes do not match the architecture', async () => {
    const { tcn, manifest } = buildDetector();
    // Same manifest, weights of a wider network: hash matches (saved together), shapes do not.
    const other = Tcn.create({ inChannels: C, outChannels: C, hiddenChannels: 5, kernelSize: 2, dilations: [1, 2] }, new Rng(9));
    await saveModel(dir, manifest, other);
    await expect(loadModel(dir)).rejects.toThrow(/weights\.safetensors: .*'blocks\.0\.conv1\.weight' has shape \[5, 3, 2\], expected \[4, 3, 2\]/);
    await saveModel(dir, manifest, tcn);
    await expect(loadModel(dir)).resolves.toBeInstanceOf(Detector);
  });

  it('the manifest parser lists several problems at once', () => {
    expect(() => parseModelManifest(JSON.stringify({ format: 'convwatch-model', formatVersion: 1 }), 'm.json')).toThrow(/m\.json: name: .*; createdAt: /);
  });
});

describe('model directory: manifest values that break float32 or the threshold', () => {
  it('rejects a std that underflows float32 and threshold params the detector cannot use, naming model.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'convwatch-model-f32-'));
    try {
      const { tcn, manifest } = buildDetector();
      await saveModel(dir, manifest, tcn);
      const path = join(dir, 'model.json');
      const good = JSON.parse(await readFile(path, 'utf8')) as ModelManifest;
      await writeFile(path, JSON.stringify({ ...good, normalization: { ...good.normalization, std: [1, 1e-50, 1] } }));
      await expect(loadModel(dir)).rejects.toThrow(/model\.json: normalization\.std\.1: must be > 0 as a float32/);
      await writeFile(path, JSON.stringify({ ...good, normalization: { ...good.normalization, mean: [1e39, 0, 0] } }));
      await expect(loadModel(dir)).rejects.toThrow(/normalization\.mean\.0: is outside the float32 range/);
      await writeFile(path, JSON.stringify({ ...good, threshold: { method: 'quantile', value: 3, params: {} } }));
      await expect(loadModel(dir)).rejects.toThrow(/model\.json: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('calibration on constant data', () => {
  it('never returns a threshold below 1 (a zero threshold would flag every reading)', () => {
    const values = new Float32Array(600 * C).fill(3);
    const tcn = Tcn.create({ inChannels: C, outChannels: C, hiddenChannels: 2, kernelSize: 2, dilations: [1] }, new Rng(3));
    const normalization = fitNormalization(values, C);
    const cal = calibrate(new Forecaster(CHANNELS, normalization, tcn), values, 300, 'auto');
    expect(cal.threshold.value).toBe(1);
  });
});
