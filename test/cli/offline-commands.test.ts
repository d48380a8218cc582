import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoringKernel } from '../../src/cli/kernels.js';
import { buildProgram } from '../../src/cli/program.js';
import { loadModel } from '../../src/io/model-dir.js';
import { parseCsvTable } from '../../src/io/csv-table.js';

/** Runs the CLI in-process, as `convwatch <args…>` would. */
async function cli(...args: string[]): Promise<void> {
  const program = buildProgram().exitOverride();
  for (const c of program.commands) c.exitOverride();
  await program.parseAsync(['node', 'convwatch', ...args]);
}

const SMALL_MODEL = ['--hidden', '8', '--dilations', '1,2,4', '--epochs', '4', '--seed', '3'];

describe('offline commands on simulated data', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convwatch-cli-'));
    process.env['CONVWATCH_LOG_LEVEL'] = 'silent';
    await cli('simulate', '--out', join(dir, 'normal.csv'), '--devices', '1', '--rows', '1500', '--anomalies', 'none', '--seed', '12');
    await cli('simulate', '--out', join(dir, 'test.csv'), '--devices', '1', '--rows', '3000', '--anomalies', 'random', '--seed', '12');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('simulate writes a labelled recording and its segment list', async () => {
    const t = parseCsvTable(await readFile(join(dir, 'test.csv'), 'utf8'), { labelColumn: 'anomaly' });
    expect(t.rows).toBe(3000);
    expect(t.channels).toHaveLength(8);
    const segments = JSON.parse(await readFile(join(dir, 'test.csv.labels.json'), 'utf8')) as { anomalies: { startRow: number; lengthRows: number }[] };
    expect(segments.anomalies.length).toBeGreaterThan(0);
    const labelled = t.labels!.reduce((s, v) => s + v, 0);
    expect(labelled).toBe(segments.anomalies.reduce((s, a) => s + Math.min(a.lengthRows, 3000 - a.startRow), 0));
  });

  it('train writes a model directory that loads, with training and calibration recorded', async () => {
    await cli('train', '--data', join(dir, 'normal.csv'), '--out', join(dir, 'model'), ...SMALL_MODEL);
    const detector = await loadModel(join(dir, 'model'));
    const m = detector.manifest;
    expect(m.channels).toHaveLength(8);
    expect(m.architecture.dilations).toEqual([1, 2, 4]);
    expect(m.receptiveField).toBe(1 + 2 * 2 * (1 + 2 + 4));
    expect(m.training.rows).toBe(1500);
    expect(m.training.validationRows).toBe(300);
    expect(m.training.calibrationReadings).toBe(300);
    expect(m.training.epochs).toBeGreaterThanOrEqual(1);
    expect(m.training.dataSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.threshold.value).toBeGreaterThan(0);
  });

  it('score writes one row per reading, no score during warm-up, and the same scores as the library stream', async () => {
    await cli('score', '--model', join(dir, 'model'), '--data', join(dir, 'test.csv'), '--out', join(dir, 'scores.csv'));
    const text = await readFile(join(dir, 'scores.csv'), 'utf8');
    const lines = text.trim().split('\n');
    expect(lines[0]!.split(',').slice(0, 5)).toEqual(['time', 'score', 'threshold', 'anomaly', 'ready']);
    expect(lines).toHaveLength(3001);
    const detector = await loadModel(join(dir, 'model'));
    const rf = detector.warmupReadings;
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.slice(0, rf).every((r) => r[1] === '' && r[4] === '0')).toBe(true);
    expect(rows.slice(rf).every((r) => r[4] === '1' && Number.isFinite(Number(r[1])))).toBe(true);
    // The same readings through the library's stream give the same scores.
    const table = parseCsvTable(await readFile(join(dir, 'test.csv'), 'utf8'), { channels: detector.channels });
    const stream = detector.createStream(scoringKernel());
    for (let t = 0; t < 400; t++) {
      const r = stream.push(table.values.subarray(t * 8, (t + 1) * 8), table.timesMs![t]!);
      if (r.ready) expect(Number(rows[t]![1])).toBe(r.score);
    }
  });

  it('eval trains on the head and reports metrics; anomalies score higher than normal rows', async () => {
    const json = join(dir, 'eval.json');
    const report = join(dir, 'report.html');
    await cli('eval', '--data', join(dir, 'test.csv'), '--label-column', 'anomaly', '--train-rows', '1000', '--json', json, '--report', report, '--predictions', join(dir, 'pred.csv'), ...SMALL_MODEL);
    const out = JSON.parse(await readFile(json, 'utf8')) as { fromRow: number; evaluation: { rows: number; point: { tp: number; fp: number; fn: number; tn: number } } };
    expect(out.fromRow).toBe(1000);
    expect(out.evaluation.rows).toBe(2000);
    const p = out.evaluation.point;
    expect(p.tp + p.fp + p.fn + p.tn).toBe(2000);
    const html = await readFile(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toContain('<script');
    const pred = (await readFile(join(dir, 'pred.csv'), 'utf8')).trim().split('\n').slice(1);
    expect(pred).toHaveLength(3000);
    expect(pred.slice(1000).every((l) => l.split(',')[1] !== '')).toBe(true); // warmed up on the head
  });

  it('a model trained on normal data scores labelled anomalies far above normal rows', async () => {
    await cli('eval', '--data', join(dir, 'test.csv'), '--model', join(dir, 'model'), '--predictions', join(dir, 'pred-model.csv'));
    const rows = (await readFile(join(dir, 'pred-model.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
    // Rows after 1500 continue the device the model trained on (same seed) and were never seen.
    const held = rows.slice(1500);
    const normalRows = held.filter((r) => r[4] === '0');
    const falseAlarmRate = normalRows.filter((r) => r[3] === '1').length / normalRows.length;
    const segments: string[][][] = [];
    held.forEach((r, i) => {
      if (r[4] !== '1') return;
      if (held[i - 1]?.[4] !== '1') segments.push([]);
      segments[segments.length - 1]!.push(r);
    });
    const detected = segments.filter((seg) => seg.some((r) => r[3] === '1')).length;
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const peakInSegments = median(segments.map((seg) => Math.max(...seg.map((r) => Number(r[1])))));
    const normalScore = median(normalRows.map((r) => Number(r[1])));
    expect(segments.length).toBeGreaterThanOrEqual(2);
    expect(normalScore).toBeLessThan(3);
    expect(detected / segments.length).toBeGreaterThanOrEqual(0.5);
    expect(falseAlarmRate).toBeLessThan(0.1);
    expect(peakInSegments).toBeGreaterThan(3 * normalScore);
  });

  it('refuses ambiguous or impossible requests with clear errors', async () => {
    await expect(cli('eval', '--data', join(dir, 'test.csv'), '--model', join(dir, 'model'), '--train-rows', '10')).rejects.toThrow(/exactly one of --model <dir>, --train-rows <n> or --train-fraction <f>/);
    await expect(cli('score', '--model', join(dir, 'model'), '--data', join(dir, 'test.csv'), '--channels', 'temperature_c', '--out', join(dir, 'x.csv'))).rejects.toThrow(/the model needs channel\(s\) 'pressure_bar'/);
    await expect(cli('train', '--data', join(dir, 'missing.csv'), '--out', join(dir, 'm2'))).rejects.toThrow(/missing\.csv/);
    await expect(cli('train', '--data', join(dir, 'normal.csv'), '--out', join(dir, 'm3'), '--epochs', '0')).rejects.toThrow(/expected an integer from 1/);
  });
});
