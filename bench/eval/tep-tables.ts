/**
 * Markdown tables of a TEP result (bench/eval/results/tep.json), as in docs/evaluation.md.
 * Run alone to re-render a stored result: `npx tsx bench/eval/tep-tables.ts [FILE]`.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { markdownTable } from '../harness.js';
import type { ConvwatchRun, RateSet, TepResult } from './tep-result.js';

/** Faults that PCA-type monitors are known not to separate from normal operation. */
const HARD_FAULTS = new Set(['03', '09', '15']);

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : (100 * x).toFixed(1);
}

function num(x: number | null | undefined, digits = 0): string {
  return x === null || x === undefined ? '—' : x.toFixed(digits);
}

function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function present(xs: ReadonlyArray<number | null>): number[] {
  return xs.filter((x): x is number => x !== null);
}

/** Mean over seeds, with the min–max range when seeds disagree. */
function spread(xs: ReadonlyArray<number | null>): string {
  const v = present(xs);
  const m = mean(v);
  if (m === null) return '—';
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return v.length > 1 && pct(lo) !== pct(hi) ? `${pct(m)} (${pct(lo)}–${pct(hi)})` : pct(m);
}

type Pick = (r: RateSet) => number | null;

function overSeeds(runs: readonly ConvwatchRun[], f: string, kind: 'event' | 'exceeded', pick: Pick): Array<number | null> {
  return runs.map((r) => {
    const x = r.perFault[f];
    return x === undefined ? null : pick(x[kind]);
  });
}

/**
 * The TEP tables: per fault detection and false alarms, delays and AUC, in-sample PCA, and a
 * summary of the normal run.
 */
export function tepTables(r: TepResult): string {
  const runs = r.convwatch;
  const faults = Object.keys(r.pca.perFault).sort();
  const det: Pick = (x) => x.detection;
  const far: Pick = (x) => x.falseAlarm;
  const rows1 = faults.map((f) => {
    const p = r.pca.perFault[f];
    return [
      f,
      spread(overSeeds(runs, f, 'exceeded', det)),
      spread(overSeeds(runs, f, 'event', det)),
      pct(p?.t2HeldOut.detection),
      pct(p?.qHeldOut.detection),
      spread(overSeeds(runs, f, 'exceeded', far)),
      spread(overSeeds(runs, f, 'event', far)),
      pct(p?.t2HeldOut.falseAlarm),
      pct(p?.qHeldOut.falseAlarm),
    ];
  });
  const avg = (pick: (f: string) => number | null, skipHard: boolean): string => pct(mean(present(faults.filter((f) => !skipHard || !HARD_FAULTS.has(f)).map(pick))));
  const cwMean = (f: string, kind: 'event' | 'exceeded', p: Pick): number | null => mean(present(overSeeds(runs, f, kind, p)));
  for (const skipHard of [false, true]) {
    rows1.push([
      skipHard ? 'mean without 3, 9, 15' : 'mean of 21',
      avg((f) => cwMean(f, 'exceeded', det), skipHard),
      avg((f) => cwMean(f, 'event', det), skipHard),
      avg((f) => r.pca.perFault[f]?.t2HeldOut.detection ?? null, skipHard),
      avg((f) => r.pca.perFault[f]?.qHeldOut.detection ?? null, skipHard),
      avg((f) => cwMean(f, 'exceeded', far), skipHard),
      avg((f) => cwMean(f, 'event', far), skipHard),
      avg((f) => r.pca.perFault[f]?.t2HeldOut.falseAlarm ?? null, skipHard),
      avg((f) => r.pca.perFault[f]?.qHeldOut.falseAlarm ?? null, skipHard),
    ]);
  }
  const t1 = markdownTable(
    ['fault', 'convwatch score > thr', 'convwatch event', 'PCA T²', 'PCA Q', 'FA convwatch score > thr', 'FA convwatch event', 'FA T²', 'FA Q'],
    rows1,
  );

  const rows2 = faults.map((f) => {
    const p = r.pca.perFault[f];
    return [
      f,
      num(median(present(overSeeds(runs, f, 'exceeded', (x) => x.delayRows)))),
      num(p?.t2HeldOut.delayRows),
      num(p?.qHeldOut.delayRows),
      num(median(present(overSeeds(runs, f, 'exceeded', (x) => x.persistentDelayRows)))),
      num(p?.t2HeldOut.persistentDelayRows),
      num(p?.qHeldOut.persistentDelayRows),
      num(mean(present(runs.map((run) => run.perFault[f]?.auc ?? null))), 3),
      num(p?.aucT2, 3),
      num(p?.aucQ, 3),
    ];
  });
  const t2 = markdownTable(['fault', 'delay convwatch', 'delay T²', 'delay Q', '6-run delay convwatch', '6-run delay T²', '6-run delay Q', 'AUC convwatch', 'AUC T²', 'AUC Q'], rows2);

  const rows3 = faults.map((f) => {
    const p = r.pca.perFault[f];
    return [f, pct(p?.t2.detection), pct(p?.q.detection), pct(p?.t2.falseAlarm), pct(p?.q.falseAlarm)];
  });
  const t3 = markdownTable(['fault', 'T² (in-sample limit)', 'Q (in-sample limit)', 'FA T²', 'FA Q'], rows3);

  const f00 = (k: 'event' | 'exceeded' | 'eventNoPrime'): string => spread(runs.map((run) => run.fault00[k]));
  const summary = [
    `test-fault00 rows flagged (%): convwatch score > thr ${f00('exceeded')}, event ${f00('event')}, event cold start ${f00('eventNoPrime')}; ` +
      `PCA held-out T² ${pct(r.pca.fault00.t2HeldOut)}, Q ${pct(r.pca.fault00.qHeldOut)}; PCA in-sample T² ${pct(r.pca.fault00.t2)}, Q ${pct(r.pca.fault00.q)}`,
    `PCA components: ${r.pca.componentsHeldOut} (held-out fit), ${r.pca.components} (all rows)`,
    `convwatch: receptive field ${runs[0]?.receptiveField ?? '—'}, thresholds ${runs.map((x) => x.threshold.value.toFixed(3)).join(', ')} (${runs[0]?.threshold.method ?? '—'} on ${runs[0]?.calibrationReadings ?? '—'} held-out readings), ` +
      `epochs run ${runs.map((x) => x.training.epochsRun).join(', ')}, fit ${runs.map((x) => (x.fitMs / 1000).toFixed(1)).join(', ')} s, scoring ${runs.map((x) => (x.scoreMs / 1000).toFixed(1)).join(', ')} s; whole run ${(r.timing.totalMs / 1000).toFixed(1)} s`,
  ];
  return [t1, '', t2, '', t3, '', ...summary].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2] ?? new URL('./results/tep.json', import.meta.url).pathname;
  const result = JSON.parse(await readFile(file, 'utf8')) as TepResult;
  process.stdout.write(`${tepTables(result)}\n`);
}
