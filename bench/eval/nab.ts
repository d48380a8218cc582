/**
 * NAB evaluation (issue 3): one convwatch configuration for all 58 files, a fresh model per
 * file trained on the file's first rows only, thresholds from those rows only.
 *
 * Per file: `fitDetector` on the training rows (`--protocol probation`: NAB's probationary
 * period, min(floor(0.15·T), 750) rows — default; `--protocol fraction`: round(0.15·T) rows, as
 * `convwatch eval --train-fraction 0.15`), the whole file streamed reading by reading and
 * NAB-scored after the probationary period, two ways: alarms = starts of anomaly events (the
 * library's `evaluate`), and every row above the threshold (NAB's own scorer). Baselines on the
 * same files: the null detector and a static z-score (k = 3 and 4) fitted on the same rows.
 * Corpus scores with `nabCorpusScore` for the three NAB profiles. Also recorded: the same models
 * under other event policies (closeAfter), and, for reference only, NAB's label-optimised
 * global threshold (its `optimize` step) applied to convwatch's and the z-score's scores.
 *
 * `npx tsx bench/eval/nab.ts [--data DIR] [--files a,b] [--protocol probation|fraction]
 * [--hidden 16] [--kernel-size 3] [--dilations 1,2,4,8,16] [--epochs 30] [--open-after 1]
 * [--close-after N] [--sweep 3,12,72,288] [--seed 1] [--out FILE]`
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { scoringKernel, trainingKernel } from '../../src/cli/kernels.js';
import { Detector, type EventPolicy } from '../../src/detect/detector.js';
import { evaluate, eventStarts } from '../../src/detect/evaluate.js';
import { DEFAULT_FIT_FORECAST, fitDetector } from '../../src/detect/fit-detector.js';
import { FORECAST_KINDS, type ForecastKind } from '../../src/model/forecaster.js';
import { nabCorpusScore } from '../../src/detect/nab-corpus-score.js';
import { NAB_PROFILES } from '../../src/detect/nab-profiles.js';
import { nabProbationaryRows, type NabFileInput } from '../../src/detect/nab-score.js';
import { readNabCorpus, type NabFile } from './nab-corpus.js';
import type { NabCorpusEntry, NabDetectorConfig, NabFileOutcome, NabFileResult, NabOracleEntry, NabPolicyOutcome, NabPolicySweepEntry, NabResult, NabTrainProtocol } from './nab-result.js';
import { nabTables } from './nab-tables.js';
import { staticZScoreFlags, staticZScores } from './static-zscore.js';
import { streamRows } from './stream-rows.js';

/** The chosen configuration (see docs/evaluation.md for how it was chosen). */
const DEFAULT_CONFIG: NabDetectorConfig = { hiddenChannels: 16, kernelSize: 3, dilations: null, epochs: 30, openAfter: 1, closeAfter: 288, seed: 1, forecast: DEFAULT_FIT_FORECAST };
/** closeAfter values the subset comparison tried; all are also run on the whole corpus. */
const DEFAULT_SWEEP = [3, 12, 72, 288];
const Z_BASELINES = [3, 4] as const;
const NAB_TRAIN_FRACTION = 0.15;
/** Geometric grids for the label-optimised reference thresholds. */
const ORACLE_MULTIPLIERS = Array.from({ length: 81 }, (_, i) => 0.25 * 2 ** (i / 4)); // 0.25 … 262144
const ORACLE_K = Array.from({ length: 41 }, (_, i) => 2 ** (i / 5)); // 1 … 256

function intOption(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name}: expected a non-negative integer, got '${text}'`);
  return v;
}

function intList(text: string | undefined, name: string, fallback: readonly number[]): number[] {
  return text === undefined ? [...fallback] : text.split(',').map((s) => intOption(s, name, 1));
}

function forecastOption(v: string | undefined, fallback: ForecastKind): ForecastKind {
  if (v === undefined) return fallback;
  const k = FORECAST_KINDS.find((f) => f === v);
  if (k === undefined) throw new Error(`--forecast must be one of ${FORECAST_KINDS.join(', ')}, got '${v}'`);
  return k;
}

function configFrom(a: Record<string, string | boolean | undefined>): NabDetectorConfig {
  const d = DEFAULT_CONFIG;
  const str = (k: string): string | undefined => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
  return {
    hiddenChannels: intOption(str('hidden'), 'hidden', d.hiddenChannels),
    kernelSize: intOption(str('kernel-size'), 'kernel-size', d.kernelSize),
    dilations: str('dilations') === undefined ? d.dilations : intList(str('dilations'), 'dilations', []),
    epochs: intOption(str('epochs'), 'epochs', d.epochs),
    openAfter: intOption(str('open-after'), 'open-after', d.openAfter),
    closeAfter: intOption(str('close-after'), 'close-after', d.closeAfter),
    seed: intOption(str('seed'), 'seed', d.seed),
    forecast: forecastOption(str('forecast'), d.forecast ?? DEFAULT_FIT_FORECAST),
  };
}

/** The file as NAB scores it: rows numbered 0..T−1, windows as row ranges; `detections` per row. */
function nabInput(f: NabFile, detections: Uint8Array): NabFileInput {
  return { name: f.name, timestamps: Float64Array.from({ length: f.values.length }, (_, i) => i), detections, windows: f.rowWindows };
}

/** Share of rows from `fromRow` on that are flagged. */
function flaggedShare(flags: Uint8Array, fromRow: number): number {
  let k = 0;
  for (let t = fromRow; t < flags.length; t++) k += flags[t] as number;
  return k / Math.max(1, flags.length - fromRow);
}

function above(scores: Float64Array, threshold: number): Uint8Array {
  return Uint8Array.from(scores, (x) => (x > threshold ? 1 : 0));
}

/** One file's fitted model and outputs. */
interface FileRun {
  readonly file: NabFile;
  readonly trainRows: number;
  readonly probationaryRows: number;
  readonly error: string | null;
  readonly receptiveField: number | null;
  readonly threshold: number | null;
  readonly epochsRun: number | null;
  readonly fitMs: number;
  readonly scoreMs: number;
  /** `[T]` convwatch score / calibrated threshold (0 where unscored or when fitting failed). */
  readonly ratio: Float64Array;
  /** closeAfter → `[T]` convwatch event flags. */
  readonly anomaly: Map<number, Uint8Array>;
  /** `[T]` |z| of the static z-score. */
  readonly z: Float64Array;
}

function runFile(f: NabFile, protocol: NabTrainProtocol, c: NabDetectorConfig, closeAfters: readonly number[]): FileRun {
  const T = f.values.length;
  const probationaryRows = nabProbationaryRows(T);
  const trainRows = protocol === 'probation' ? probationaryRows : Math.round(NAB_TRAIN_FRACTION * T);
  const z = staticZScores(f.values, trainRows);
  const t0 = performance.now();
  let fitted;
  try {
    fitted = fitDetector({
      name: f.name,
      channels: ['value'],
      values: f.values.subarray(0, trainRows),
      seed: c.seed,
      hiddenChannels: c.hiddenChannels,
      kernelSize: c.kernelSize,
      ...(c.dilations === null ? {} : { dilations: c.dilations }),
      epochs: c.epochs,
      ...(c.forecast === undefined ? {} : { forecast: c.forecast }),
      events: { openAfter: c.openAfter, closeAfter: c.closeAfter },
      kernel: trainingKernel(),
      clock: () => performance.now(),
      createdAt: new Date().toISOString(),
      source: f.name,
    });
  } catch (e) {
    // A file the detector cannot be fitted on counts as the null detector; the reason is kept.
    const none = new Map(closeAfters.map((ca) => [ca, new Uint8Array(T)]));
    return { file: f, trainRows, probationaryRows, error: (e as Error).message, receptiveField: null, threshold: null, epochsRun: null, fitMs: performance.now() - t0, scoreMs: 0, ratio: new Float64Array(T), anomaly: none, z };
  }
  const fitMs = performance.now() - t0;
  const t1 = performance.now();
  const det = fitted.detector;
  const kernel = scoringKernel();
  const anomaly = new Map<number, Uint8Array>();
  let ratio = new Float64Array(T);
  for (const closeAfter of closeAfters) {
    // The same trained parts under another event policy: what a redeployed model.json would do.
    const d = closeAfter === c.closeAfter ? det : new Detector({ manifest: det.manifest, name: det.name, forecaster: det.forecaster, residualStats: det.residualStats, threshold: det.threshold, events: { openAfter: c.openAfter, closeAfter } });
    const r = streamRows(d, f.values, f.timesMs, kernel);
    anomaly.set(closeAfter, r.anomaly);
    if (closeAfter === c.closeAfter) ratio = Float64Array.from(r.scores, (s) => (Number.isNaN(s) ? 0 : s / det.threshold.value));
  }
  return {
    file: f,
    trainRows,
    probationaryRows,
    error: null,
    receptiveField: det.warmupReadings,
    threshold: det.threshold.value,
    epochsRun: fitted.training.epochsRun,
    fitMs,
    scoreMs: performance.now() - t1,
    ratio,
    anomaly,
    z,
  };
}

/** Corpus outcome of per-file detections under one profile set. */
function policyOutcome(runs: readonly FileRun[], flagsOf: (r: FileRun) => Uint8Array): NabPolicyOutcome {
  const inputs = runs.map((r) => nabInput(r.file, eventStarts(flagsOf(r))));
  const scores: Record<string, number | null> = {};
  let standard = null;
  for (const p of NAB_PROFILES) {
    const c = nabCorpusScore(inputs, p);
    scores[p.name] = c.normalizedScore;
    if (p.name === 'standard') standard = c;
  }
  const files = standard?.files ?? [];
  return {
    scores,
    alarms: files.reduce((s, f) => s + f.tp + f.fp, 0),
    falseAlarms: files.reduce((s, f) => s + f.fp, 0),
    detectedWindows: files.reduce((s, f) => s + f.detectedWindows, 0),
    scoredWindows: files.reduce((s, f) => s + f.scoredWindows, 0),
    timeInAlarm: runs.reduce((s, r) => s + flaggedShare(flagsOf(r), r.probationaryRows), 0) / Math.max(1, runs.length),
  };
}

/** NAB's optimize step: the global threshold on `series` maximising each profile's raw score. */
function oracle(runs: readonly FileRun[], series: (r: FileRun) => Float64Array, grid: readonly number[]): Record<string, NabOracleEntry> {
  const out: Record<string, NabOracleEntry> = {};
  const best = new Map<string, { raw: number; threshold: number; normalized: number | null }>();
  for (const th of grid) {
    const inputs = runs.map((r) => nabInput(r.file, above(series(r), th)));
    for (const p of NAB_PROFILES) {
      const c = nabCorpusScore(inputs, p);
      const b = best.get(p.name);
      if (b === undefined || c.rawScore > b.raw) best.set(p.name, { raw: c.rawScore, threshold: th, normalized: c.normalizedScore });
    }
  }
  for (const [profile, b] of best) out[profile] = { bestThreshold: b.threshold, normalizedScore: b.normalized, grid };
  return out;
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      data: { type: 'string', default: '/work/shared/data' },
      files: { type: 'string' },
      protocol: { type: 'string', default: 'probation' },
      hidden: { type: 'string' },
      'kernel-size': { type: 'string' },
      dilations: { type: 'string' },
      epochs: { type: 'string' },
      'open-after': { type: 'string' },
      'close-after': { type: 'string' },
      sweep: { type: 'string' },
      seed: { type: 'string' },
      forecast: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const protocol = a.protocol as NabTrainProtocol;
  if (protocol !== 'probation' && protocol !== 'fraction') throw new Error(`--protocol must be 'probation' or 'fraction', got '${a.protocol}'`);
  const config = configFrom(a);
  const sweep = [...new Set([...intList(a.sweep, 'sweep', DEFAULT_SWEEP), config.closeAfter])].sort((x, y) => x - y);
  const out = a.out ?? new URL(`./results/nab${protocol === 'fraction' ? '-fraction' : ''}.json`, import.meta.url).pathname;
  const only = a.files === undefined ? [] : a.files.split(',');
  const t0 = performance.now();
  const corpus = await readNabCorpus(`${a.data}/nab`, only);
  const events: EventPolicy = { openAfter: config.openAfter, closeAfter: config.closeAfter };

  const runs: FileRun[] = [];
  for (const f of corpus) {
    const r = runFile(f, protocol, config, sweep);
    runs.push(r);
    process.stderr.write(`${f.name}: ${f.values.length} rows, train ${r.trainRows}, fit ${(r.fitMs / 1000).toFixed(1)} s, score ${(r.scoreMs / 1000).toFixed(1)} s${r.error === null ? '' : `, ERROR ${r.error}`}\n`);
  }

  // Per file, the configured policy: alarms = event starts, and every row above the threshold.
  const detections: Record<string, (r: FileRun) => { detections: Uint8Array; flagged: Uint8Array }> = {
    convwatch: (r) => {
      const an = r.anomaly.get(config.closeAfter) ?? new Uint8Array(r.file.values.length);
      return { detections: eventStarts(an), flagged: an };
    },
    'convwatch-rows': (r) => {
      const ex = above(r.ratio, 1);
      return { detections: ex, flagged: ex };
    },
    null: (r) => ({ detections: new Uint8Array(r.file.values.length), flagged: new Uint8Array(r.file.values.length) }),
  };
  for (const k of Z_BASELINES) {
    detections[`zscore${k}`] = (r) => {
      const an = staticZScoreFlags(r.file.values, r.file.timesMs, r.trainRows, k, events).anomaly;
      return { detections: eventStarts(an), flagged: an };
    };
    detections[`zscore${k}-rows`] = (r) => {
      const ex = above(r.z, k);
      return { detections: ex, flagged: ex };
    };
  }
  const corpusScores: NabResult['corpusScores'] = {};
  const perFile: Array<Record<string, NabFileOutcome>> = runs.map(() => ({}));
  for (const [detector, of] of Object.entries(detections)) {
    const outputs = runs.map(of);
    const inputs = runs.map((r, i) => nabInput(r.file, (outputs[i] as { detections: Uint8Array }).detections));
    const scores: Record<string, NabCorpusEntry> = {};
    for (const profile of NAB_PROFILES) {
      const c = nabCorpusScore(inputs, profile);
      scores[profile.name] = { normalizedScore: c.normalizedScore, rawScore: c.rawScore, nullScore: c.nullScore, perfectScore: c.perfectScore };
      c.files.forEach((fs, i) => {
        const slot = perFile[i] as Record<string, NabFileOutcome>;
        const run = runs[i] as FileRun;
        const profiles = { ...(slot[detector]?.profiles ?? {}), [profile.name]: { score: fs.score, detectedWindows: fs.detectedWindows, scoredWindows: fs.scoredWindows } };
        slot[detector] = { alarms: fs.tp + fs.fp, falseAlarms: fs.fp, alarmRowShare: flaggedShare((outputs[i] as { flagged: Uint8Array }).flagged, run.probationaryRows), profiles };
      });
    }
    corpusScores[detector] = scores;
  }
  // Self-check: the library's per-file evaluate() agrees with the corpus scorer for convwatch.
  runs.forEach((r, i) => {
    const an = r.anomaly.get(config.closeAfter) ?? new Uint8Array(r.file.values.length);
    const ev = evaluate({ timesMs: r.file.timesMs, labels: r.file.labels, predicted: an, ready: new Uint8Array(an.length).fill(1) }, r.trainRows, r.file.windows);
    const mine = perFile[i]?.convwatch?.profiles.standard?.score;
    if (ev.nab?.standard === undefined || mine === undefined || Math.abs(ev.nab.standard.score - mine) > 1e-9) {
      throw new Error(`${r.file.name}: evaluate() gives NAB ${ev.nab?.standard?.score}, nabCorpusScore ${mine}`);
    }
  });

  const policySweep: NabPolicySweepEntry[] = sweep.map((closeAfter) => {
    const policy = { openAfter: config.openAfter, closeAfter };
    const d: Record<string, NabPolicyOutcome> = { convwatch: policyOutcome(runs, (r) => r.anomaly.get(closeAfter) ?? new Uint8Array(r.file.values.length)) };
    for (const k of Z_BASELINES) d[`zscore${k}`] = policyOutcome(runs, (r) => staticZScoreFlags(r.file.values, r.file.timesMs, r.trainRows, k, policy).anomaly);
    return { closeAfter, detectors: d };
  });
  const tOracle = performance.now();
  const oracles = { convwatch: oracle(runs, (r) => r.ratio, ORACLE_MULTIPLIERS), zscore: oracle(runs, (r) => r.z, ORACLE_K) };
  process.stderr.write(`oracle sweeps ${((performance.now() - tOracle) / 1000).toFixed(1)} s\n`);

  const files: NabFileResult[] = runs.map((r, i) => ({
    name: r.file.name,
    rows: r.file.values.length,
    trainRows: r.trainRows,
    probationaryRows: r.probationaryRows,
    windows: r.file.windows.length,
    error: r.error,
    receptiveField: r.receptiveField,
    threshold: r.threshold,
    epochsRun: r.epochsRun,
    fitMs: r.fitMs,
    scoreMs: r.scoreMs,
    detectors: perFile[i] as Record<string, NabFileOutcome>,
  }));
  const result: NabResult = {
    corpus: 'nab',
    protocol,
    config,
    files,
    corpusScores,
    policySweep,
    oracle: oracles,
    timing: { totalMs: performance.now() - t0, fitMs: files.reduce((s, f) => s + f.fitMs, 0), scoreMs: files.reduce((s, f) => s + f.scoreMs, 0) },
    machine: { node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length },
  };
  await mkdir(dirname(out), { recursive: true });
  // Six significant digits are plenty for scores and keep the committed file small.
  await writeFile(out, `${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v))}\n`);
  process.stdout.write(`${nabTables(result)}\n`);
  process.stderr.write(`total ${(result.timing.totalMs / 1000).toFixed(1)} s → ${out}\n`);
}

await main();
