/**
 * The NAB corpus as the evaluation scripts use it: every data file with its times, values,
 * labelled windows (from NAB's combined_windows.json) and those windows as row ranges.
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { windowsToRows } from '../../src/detect/evaluate.js';
import { readCsvTable } from '../../src/io/csv-table.js';
import { labelsFromWindows, readNabWindows } from '../../src/io/nab-windows.js';

/** One NAB data file, read. */
export interface NabFile {
  /** Path relative to the data folder, as NAB keys it (`realKnownCause/nyc_taxi.csv`). */
  readonly name: string;
  readonly path: string;
  /** `[T]` ms since the epoch. */
  readonly timesMs: Float64Array;
  /** `[T]` raw values (C = 1). */
  readonly values: Float32Array;
  /** Labelled windows `[startMs, endMs]`, inclusive. */
  readonly windows: Array<[number, number]>;
  /** The windows as inclusive row ranges (rows whose time lies inside). */
  readonly rowWindows: Array<[number, number]>;
  /** `[T]` 1 inside a window. */
  readonly labels: Uint8Array;
}

async function csvFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await csvFiles(p)));
    else if (e.name.endsWith('.csv')) out.push(p);
  }
  return out.sort();
}

/**
 * Reads the corpus under `nabDir` (`data/**.csv` and `labels/combined_windows.json`), files in
 * name order, optionally only those whose name contains one of `only`.
 * @throws Error when a file has no time column, is not univariate, or has no windows entry.
 */
export async function readNabCorpus(nabDir: string, only: readonly string[] = []): Promise<NabFile[]> {
  const dataDir = join(nabDir, 'data');
  const windowsPath = join(nabDir, 'labels', 'combined_windows.json');
  const files: NabFile[] = [];
  for (const path of await csvFiles(dataDir)) {
    const name = relative(dataDir, path).replace(/\\/g, '/');
    if (only.length > 0 && !only.some((s) => name.includes(s))) continue;
    const table = await readCsvTable(path, { labelColumn: null });
    if (table.timesMs === null) throw new Error(`${name}: no time column`);
    if (table.channels.length !== 1) throw new Error(`${name}: expected one value column, got ${table.channels.join(', ')}`);
    const windows = await readNabWindows(windowsPath, name, path);
    files.push({
      name,
      path,
      timesMs: table.timesMs,
      values: table.values,
      windows,
      rowWindows: windowsToRows(table.timesMs, windows),
      labels: labelsFromWindows(table.timesMs, windows),
    });
  }
  return files;
}
