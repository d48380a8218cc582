import { readFile } from 'node:fs/promises';
import { parseDateTime } from './time-parse.js';

/** Parses one window limit: a date-time string (no zone = UTC) or epoch milliseconds. */
function limitMs(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const p = parseDateTime(v.trim());
    if (p !== null) return p.ms;
  }
  throw new Error(`${where}: expected a date-time or epoch ms, got ${JSON.stringify(v)}`);
}

function parseList(list: unknown, where: string): Array<[number, number]> {
  if (!Array.isArray(list)) throw new Error(`${where}: expected an array of [start, end] pairs`);
  return list.map((pair: unknown, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`${where}[${i}]: expected [start, end]`);
    const a = limitMs(pair[0], `${where}[${i}][0]`);
    const b = limitMs(pair[1], `${where}[${i}][1]`);
    if (b < a) throw new Error(`${where}[${i}]: end is before start`);
    return [a, b];
  });
}

/**
 * Reads anomaly windows: NAB's `combined_windows.json` (an object keyed by data file path, the
 * entry chosen by `key` or, by default, the key the data path ends with) or a plain array of
 * `[start, end]` pairs. Limits are date-times (no zone = UTC) or epoch ms.
 * @throws Error naming the file and the entry when nothing matches or a limit is malformed.
 */
export async function readNabWindows(path: string, key: string | null, dataPath: string): Promise<Array<[number, number]>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  if (Array.isArray(json)) return parseList(json, path);
  if (typeof json !== 'object' || json === null) throw new Error(`${path}: expected an object of windows per file or an array of windows`);
  const entries = json as Record<string, unknown>;
  const normalized = dataPath.replace(/\\/g, '/');
  const chosen = key ?? Object.keys(entries).find((k) => normalized.endsWith(`/${k}`) || normalized === k);
  if (chosen === undefined || !(chosen in entries)) {
    throw new Error(`${path}: no windows entry ${key === null ? `whose key the data path '${dataPath}' ends with` : `'${key}'`}; pass --windows-key`);
  }
  return parseList(entries[chosen], `${path} ['${chosen}']`);
}

/** 0/1 labels per row: 1 where the row's time lies inside a window (limits inclusive). */
export function labelsFromWindows(timesMs: Float64Array, windows: ReadonlyArray<readonly [number, number]>): Uint8Array {
  const labels = new Uint8Array(timesMs.length);
  for (let t = 0; t < timesMs.length; t++) {
    const x = timesMs[t] as number;
    for (const [a, b] of windows) if (x >= a && x <= b) labels[t] = 1;
  }
  return labels;
}
