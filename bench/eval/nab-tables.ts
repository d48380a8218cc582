/**
 * Markdown tables of a NAB result (bench/eval/results/nab*.json), as in docs/evaluation.md.
 * Run alone to re-render a stored result: `npx tsx bench/eval/nab-tables.ts [FILE]`.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { markdownTable } from '../harness.js';
import type { NabResult } from './nab-result.js';

const PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;
const LABELS: Record<string, string> = {
  convwatch: 'convwatch, alarms = event starts',
  zscore3: 'static z-score k = 3, alarms = event starts',
  zscore4: 'static z-score k = 4, alarms = event starts',
  'convwatch-rows': 'convwatch, every row above threshold (NAB convention)',
  'zscore3-rows': 'static z-score k = 3, every row above threshold',
  'zscore4-rows': 'static z-score k = 4, every row above threshold',
  null: 'null detector',
};

function num(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '—' : x.toFixed(digits);
}

/** Corpus table, per-category table and per-file table of one run. */
export function nabTables(r: NabResult): string {
  const detectors = Object.keys(r.corpusScores);
  const corpus = markdownTable(
    ['detector (this run)', 'standard', 'reward low FP', 'reward low FN', 'detections', 'false positives', 'windows detected', 'time flagged (mean over files)'],
    detectors.map((d) => {
      const alarms = r.files.reduce((s, f) => s + (f.detectors[d]?.alarms ?? 0), 0);
      const fa = r.files.reduce((s, f) => s + (f.detectors[d]?.falseAlarms ?? 0), 0);
      const det = r.files.reduce((s, f) => s + (f.detectors[d]?.profiles.standard?.detectedWindows ?? 0), 0);
      const scored = r.files.reduce((s, f) => s + (f.detectors[d]?.profiles.standard?.scoredWindows ?? 0), 0);
      const share = r.files.reduce((s, f) => s + (f.detectors[d]?.alarmRowShare ?? 0), 0) / Math.max(1, r.files.length);
      return [LABELS[d] ?? d, ...PROFILES.map((p) => num(r.corpusScores[d]?.[p]?.normalizedScore)), String(alarms), String(fa), `${det}/${scored}`, `${(100 * share).toFixed(1)} %`];
    }),
  );

  const categories = [...new Set(r.files.map((f) => f.name.split('/')[0] ?? ''))];
  const byCategory = markdownTable(
    ['category', 'files', 'windows detected (convwatch)', 'alarms', 'false alarms', 'raw standard (convwatch)', 'raw standard (z-score 4)', 'raw standard (null)'],
    categories.map((c) => {
      const fs = r.files.filter((f) => f.name.startsWith(`${c}/`));
      const sum = (d: string, pick: (x: { score: number; detectedWindows: number; scoredWindows: number }) => number): number =>
        fs.reduce((s, f) => {
          const p = f.detectors[d]?.profiles.standard;
          return s + (p === undefined ? 0 : pick(p));
        }, 0);
      return [
        c,
        String(fs.length),
        `${sum('convwatch', (p) => p.detectedWindows)}/${sum('convwatch', (p) => p.scoredWindows)}`,
        String(fs.reduce((s, f) => s + (f.detectors.convwatch?.alarms ?? 0), 0)),
        String(fs.reduce((s, f) => s + (f.detectors.convwatch?.falseAlarms ?? 0), 0)),
        num(sum('convwatch', (p) => p.score), 2),
        num(sum('zscore4', (p) => p.score), 2),
        num(sum('null', (p) => p.score), 2),
      ];
    }),
  );

  const perFile = markdownTable(
    ['file', 'rows', 'train rows', 'RF', 'windows detected', 'alarms', 'false alarms', 'time in alarm', 'standard (convwatch)', 'standard (convwatch, rows)', 'standard (z-score 4)', 'standard (null)'],
    r.files.map((f) => {
      const cw = f.detectors.convwatch;
      const s = cw?.profiles.standard;
      return [
        f.name,
        String(f.rows),
        String(f.trainRows),
        f.error === null ? String(f.receptiveField ?? '—') : `error: ${f.error.slice(0, 60)}`,
        `${s?.detectedWindows ?? 0}/${s?.scoredWindows ?? 0}`,
        String(cw?.alarms ?? 0),
        String(cw?.falseAlarms ?? 0),
        `${(100 * (cw?.alarmRowShare ?? 0)).toFixed(0)} %`,
        num(s?.score, 2),
        num(f.detectors['convwatch-rows']?.profiles.standard?.score, 2),
        num(f.detectors.zscore4?.profiles.standard?.score, 2),
        num(f.detectors.null?.profiles.standard?.score, 2),
      ];
    }),
  );
  const sweep = markdownTable(
    ['closeAfter', 'detector', 'standard', 'reward low FP', 'reward low FN', 'alarms', 'false alarms', 'windows detected', 'time in alarm'],
    r.policySweep.flatMap((e) =>
      Object.entries(e.detectors).map(([d, o]) => [
        String(e.closeAfter),
        d,
        ...PROFILES.map((p) => num(o.scores[p])),
        String(o.alarms),
        String(o.falseAlarms),
        `${o.detectedWindows}/${o.scoredWindows}`,
        `${(100 * o.timeInAlarm).toFixed(1)} %`,
      ]),
    ),
  );
  const oracle = markdownTable(
    ['detector', ...PROFILES.map((p) => `${p} (best threshold)`)],
    Object.entries(r.oracle).map(([d, byProfile]) => [
      d === 'convwatch' ? 'convwatch (× calibrated threshold)' : d === 'zscore' ? 'static z-score (k)' : d,
      ...PROFILES.map((p) => {
        const o = byProfile[p];
        return o === undefined ? '—' : `${num(o.normalizedScore)} (${o.bestThreshold.toPrecision(3)})`;
      }),
    ]),
  );
  const errors = r.files.filter((f) => f.error !== null).length;
  const c = r.config;
  const summary =
    `protocol ${r.protocol}; config hidden ${c.hiddenChannels}, kernel ${c.kernelSize}, dilations ${c.dilations === null ? 'default (shortened)' : c.dilations.join(',')}, ` +
    `epochs ≤ ${c.epochs}, events ${c.openAfter}/${c.closeAfter}, seed ${c.seed}, forecast ${c.forecast ?? 'level'}; ${r.files.length} files, ${errors} failed to fit; ` +
    `wall ${(r.timing.totalMs / 1000).toFixed(0)} s (fit ${(r.timing.fitMs / 1000).toFixed(0)} s, scoring ${(r.timing.scoreMs / 1000).toFixed(0)} s)`;
  return [corpus, '', sweep, '', oracle, '', byCategory, '', perFile, '', summary].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2] ?? new URL('./results/nab.json', import.meta.url).pathname;
  const result = JSON.parse(await readFile(file, 'utf8')) as NabResult;
  process.stdout.write(`${nabTables(result)}\n`);
}
