/**
 * A model trained in PyTorch runs in convwatch and scores as PyTorch + numpy say it should.
 *
 * The fixture (test/fixtures/pytorch-model/) is written by scripts/golden/export_pytorch_model.py,
 * the worked example of docs/pytorch.md: a GELU TCN forecaster (3 channels, hidden 6, kernel 2,
 * dilations [1, 2]) trained in PyTorch 1.13 with the masked next-reading loss, exported as
 * model.json + weights.safetensors, and a test series with one injected spike together with
 * PyTorch's forecast at every step and the scores numpy computed from those forecasts. Nothing
 * expected here comes from convwatch's own code.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildProgram } from '../../src/cli/program.js';
import type { Detector } from '../../src/detect/detector.js';
import { loadModel } from '../../src/io/model-dir.js';
import { normalizeReading } from '../../src/model/normalization.js';
import { jsGemmKernel, type GemmKernel } from '../../src/nn/gemm.js';
import { tensor } from '../../src/nn/tensor.js';
import { defaultGemmKernel } from '../../src/nn/wasm-gemm.js';

const REPO = join(import.meta.dirname, '..', '..');
const FIXTURE = join(REPO, 'test', 'fixtures', 'pytorch-model');
const MODEL_DIR = join(FIXTURE, 'model');
const SCRIPT = join(REPO, 'scripts', 'golden', 'export_pytorch_model.py');
const DOC = join(REPO, 'docs', 'pytorch.md');

const row = z.array(z.number());
const expectedSchema = z.object({
  generator: z.literal('scripts/golden/export_pytorch_model.py'),
  torch: z.string(),
  channels: z.array(z.string()),
  csv: z.string(),
  receptiveField: z.number().int(),
  threshold: z.number(),
  spike: z.object({ row: z.number().int(), channel: z.number().int(), size: z.number() }),
  t0Ms: z.number(),
  intervalMs: z.number(),
  weightsSha256: z.string(),
  readings: z.array(row),
  normalized: z.array(row),
  forecasts: z.array(row),
  scores: z.array(z.number().nullable()),
  exceeded: z.array(z.number().int().nullable()),
});
type Expected = z.infer<typeof expectedSchema>;

/** PyTorch's forecasts come from float32 convolutions summed in another order: atol = rtol = 1e-5. */
const FORECAST_TOL = 1e-5;
/** What the forecasts really differ by (measured 1.1e-6 with both kernels); asserted, and used for the score tolerance. */
const FORECAST_BOUND = 2e-6;

/**
 * Score tolerance: relative 1e-4, except near 0. score = mean_c z_c², z_c = (r_c − center_c) /
 * scale_c, r_c = x_c − x̂_c. The normalised readings x are bit-identical on both sides (tested
 * below), so the scores differ only through the forecast x̂, by at most FORECAST_BOUND, and the
 * float32 rounding of r that follows (< 1e-7 for |r| < 1; larger residuals come with scores
 * far above 1, where the relative term dominates); then |Δz_c| ≤ δ =
 * (FORECAST_BOUND + 1e-7) / min scale (2.3e-5 for this model) and, by Cauchy–Schwarz,
 * |Δscore| ≤ 2·√score·δ + δ². For score ≥ 1 (the threshold is above 1, so every score that can
 * change a flag) that is under 5e-5·score, inside relative 1e-4. A score near 0 (all z_c small)
 * turns the same absolute error into a large relative one, so there the bound itself is used.
 * Measured: at most 3.4e-5 relative over the whole series.
 */
const REL_SCORE_TOL = 1e-4;
function scoreTolerance(score: number, minScale: number): number {
  const delta = (FORECAST_BOUND + 1e-7) / minScale;
  return Math.max(REL_SCORE_TOL * score, 2 * Math.sqrt(score) * delta + delta * delta);
}

function expectClose(actual: number, want: number, atol: number, rtol: number, what: string): void {
  const err = Math.abs(actual - want);
  if (!(err <= atol + rtol * Math.abs(want))) {
    expect.fail(`${what}: convwatch ${actual}, PyTorch ${want} (|diff| ${err} > ${atol} + ${rtol}·|want|)`);
  }
}

async function loadExpected(): Promise<Expected> {
  return expectedSchema.parse(JSON.parse(await readFile(join(FIXTURE, 'expected.json'), 'utf8')));
}

const KERNELS: readonly [string, () => GemmKernel][] = [
  ['js', () => jsGemmKernel],
  ['default (wasm-simd when available)', () => defaultGemmKernel()],
];

describe('a TCN trained and exported in PyTorch (scripts/golden/export_pytorch_model.py)', () => {
  let expected: Expected;
  let detector: Detector;
  let C: number;
  let T: number;
  let minScale: number;
  let tmp: string;

  beforeAll(async () => {
    expected = await loadExpected();
    detector = await loadModel(MODEL_DIR);
    C = expected.channels.length;
    T = expected.readings.length;
    minScale = Math.min(...detector.residualStats.scale);
    tmp = await mkdtemp(join(tmpdir(), 'convwatch-pytorch-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('loadModel accepts the directory: manifest, SHA-256, tensor names and shapes', async () => {
    const manifest = JSON.parse(await readFile(join(MODEL_DIR, 'model.json'), 'utf8')) as { weights: { sha256: string } };
    expect(manifest.weights.sha256).toBe(expected.weightsSha256); // expected.json belongs to these weights
    expect(detector.channels).toEqual(['temperature', 'pressure', 'flow']);
    // 1 + 2·(K − 1)·(1 + 2) with K = 2
    expect(detector.warmupReadings).toBe(7);
    expect(expected.receptiveField).toBe(7);
    const a = detector.forecaster.tcn.architecture;
    expect(a.activation.name).toBe('gelu');
    expect(a.blockChannels).toEqual([6, 6]);
    // By hand: block 0 conv1 6·3·2+6 = 42, conv2 6·6·2+6 = 78, downsample 6·3+6 = 24;
    // block 1 conv1 78, conv2 78; head 3·6+3 = 21. Total 321.
    expect(detector.forecaster.tcn.parameterCount).toBe(321);
    expect([...detector.forecaster.tcn.stateDict().keys()].sort()).toEqual(
      [
        'blocks.0.conv1.weight', 'blocks.0.conv1.bias', 'blocks.0.conv2.weight', 'blocks.0.conv2.bias',
        'blocks.0.downsample.weight', 'blocks.0.downsample.bias',
        'blocks.1.conv1.weight', 'blocks.1.conv1.bias', 'blocks.1.conv2.weight', 'blocks.1.conv2.bias',
        'head.weight', 'head.bias',
      ].sort(),
    );
    expect(detector.threshold.value).toBe(expected.threshold);
  });

  it('normalises the raw readings exactly as numpy did (same float32 rounding)', () => {
    const out = new Float32Array(C);
    for (let t = 0; t < T; t++) {
      normalizeReading(expected.readings[t]!.map(Math.fround), detector.forecaster.normalization, out);
      expect(Array.from(out), `row ${t}`).toEqual(expected.normalized[t]);
    }
  });

  it.each(KERNELS)('Tcn.forward on the normalised series equals PyTorch, atol = rtol = 1e-5 (%s kernel)', (_name, kernel) => {
    const x = tensor([1, C, T]);
    for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) x.data[c * T + t] = expected.normalized[t]![c]!;
    const y = detector.forecaster.tcn.forward(x, kernel());
    expect(y.shape).toEqual([1, C, T]);
    let worst = 0;
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < C; c++) {
        const want = expected.forecasts[t]![c]!;
        expectClose(y.data[c * T + t]!, want, FORECAST_TOL, FORECAST_TOL, `forecast t=${t} c=${c}`);
        worst = Math.max(worst, Math.abs(y.data[c * T + t]! - want));
      }
    }
    // The bound is used in the score tolerance above; a regression past it should be seen here first.
    expect(worst).toBeLessThan(FORECAST_BOUND);
  });

  it.each(KERNELS)('streamed reading by reading from raw values, every forecast equals PyTorch, warm-up included (%s kernel)', (_name, kernel) => {
    const batch = detector.forecaster.createBatch(1, kernel());
    const slot = Int32Array.of(0);
    const residual = new Float32Array(C);
    const ready = new Uint8Array(1);
    let worst = 0;
    for (let t = 0; t < T; t++) {
      batch.observe(slot, 1, Float32Array.from(expected.readings[t]!), residual, ready);
      expect(ready[0], `ready at t=${t}`).toBe(t >= expected.receptiveField ? 1 : 0);
      const f = batch.forecastOf(0);
      for (let c = 0; c < C; c++) {
        expectClose(f[c]!, expected.forecasts[t]![c]!, FORECAST_TOL, FORECAST_TOL, `streamed forecast t=${t} c=${c}`);
        worst = Math.max(worst, Math.abs(f[c]! - expected.forecasts[t]![c]!));
      }
    }
    expect(worst).toBeLessThan(FORECAST_BOUND);
  });

  it.each(KERNELS)('scores equal the numpy scores computed from PyTorch forecasts (relative 1e-4), same exceedances, spike flagged (%s kernel)', (_name, kernel) => {
    const stream = detector.createStream(kernel());
    const spike = expected.spike.row;
    let spikeEvent = false;
    for (let t = 0; t < T; t++) {
      const r = stream.push(expected.readings[t]!, expected.t0Ms + t * expected.intervalMs);
      const want = expected.scores[t];
      if (want === null || want === undefined) {
        expect(r.ready, `reading ${t} is in the warm-up`).toBe(false);
        expect(r.score).toBeNaN();
        continue;
      }
      expect(r.ready, `reading ${t}`).toBe(true);
      expectClose(r.score, want, scoreTolerance(want, minScale), 0, `score of reading ${t}`);
      expect(r.exceeded, `exceedance of reading ${t} (score ${r.score}, threshold ${r.threshold})`).toBe(expected.exceeded[t]);
      if (t === spike) {
        expect(r.anomaly).toBe(1);
        expect(r.score).toBeGreaterThan(5 * r.threshold);
        // The spiked channel carries most of the score.
        expect(r.contrib[expected.spike.channel]).toBeGreaterThan(0.9);
        spikeEvent = r.event?.kind === 'start' && r.event.startMs === expected.t0Ms + spike * expected.intervalMs;
      }
    }
    expect(spikeEvent, 'an anomaly event starts at the spike').toBe(true);
  });

  it('`convwatch score --model <dir> --data <csv>` writes the same scores', async () => {
    process.env['CONVWATCH_LOG_LEVEL'] = 'silent';
    const out = join(tmp, 'scores.csv');
    const program = buildProgram().exitOverride();
    for (const c of program.commands) c.exitOverride();
    await program.parseAsync(['node', 'convwatch', 'score', '--model', MODEL_DIR, '--data', join(FIXTURE, expected.csv), '--out', out]);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines[0]!.split(',').slice(0, 5)).toEqual(['time', 'score', 'threshold', 'anomaly', 'ready']);
    expect(lines).toHaveLength(T + 1);
    for (let t = 0; t < T; t++) {
      const cells = lines[t + 1]!.split(',');
      expect(Date.parse(cells[0]!), `time of row ${t}`).toBe(expected.t0Ms + t * expected.intervalMs);
      const want = expected.scores[t];
      if (want === null || want === undefined) {
        expect(cells[1]).toBe('');
        continue;
      }
      expectClose(Number(cells[1]), want, scoreTolerance(want, minScale), 0, `CSV score of row ${t}`);
    }
    expect(lines[expected.spike.row + 1]!.split(',')[3]).toBe('1');
  });

  it('rejects the directory when a byte of the weights changed, naming the SHA-256 mismatch', async () => {
    const dir = join(tmp, 'corrupt');
    await cp(MODEL_DIR, dir, { recursive: true });
    const file = join(dir, 'weights.safetensors');
    const bytes = await readFile(file);
    bytes[bytes.length - 3]! ^= 0x01; // one bit of the last tensor's data: still a valid, finite float32
    await writeFile(file, bytes);
    await expect(loadModel(dir)).rejects.toThrow(/weights\.safetensors: has SHA-256 [0-9a-f]{64} but model\.json expects [0-9a-f]{64} \(the files do not belong together\)/);
  });

  it('rejects a manifest of another formatVersion, naming the version it reads', async () => {
    const dir = join(tmp, 'version2');
    await cp(MODEL_DIR, dir, { recursive: true });
    const manifestFile = join(dir, 'model.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
    await writeFile(manifestFile, JSON.stringify({ ...manifest, formatVersion: 2 }));
    await expect(loadModel(dir)).rejects.toThrow(/formatVersion: is 2; this convwatch reads version 1/);
  });
});

describe('docs/pytorch.md', () => {
  /** `# doc:begin <name>` … `# doc:end` regions of the script, dedented. */
  function scriptRegions(text: string): string[] {
    const regions: string[] = [];
    const re = /^([ \t]*)# doc:begin [\w-]+\n([\s\S]*?)^[ \t]*# doc:end$/gm;
    for (const m of text.matchAll(re)) {
      const indent = m[1]!;
      regions.push(
        m[2]!
          .split('\n')
          .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
          .join('\n')
          .trimEnd(),
      );
    }
    return regions;
  }

  it('shows exactly the code of the script that wrote the fixture, region by region', async () => {
    const script = await readFile(SCRIPT, 'utf8');
    const doc = await readFile(DOC, 'utf8');
    const blocks = [...doc.matchAll(/^```python\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trimEnd());
    const regions = scriptRegions(script);
    expect(regions.length).toBeGreaterThanOrEqual(6);
    expect(blocks).toEqual(regions);
  });
});
