/**
 * The memory figures measured for docs/deploy.md ("Memory"), used by the tests to check that
 * the resource requests and limits shipped under deploy/ cover the configurations next to them.
 *
 * Measured on Node 20.20 (x86-64, glibc) with `convwatch run` and the demo model (8 channels,
 * 32 hidden, kernel 3, dilations 1…16), see test/deploy/measure-memory.ts and docs/deploy.md.
 */

/** Resident memory of `convwatch run` with one device slot, idle, MiB. */
export const BASE_RSS_MIB = 105;
/** Added resident memory per slot of pipeline.maxDevices once the devices are live, bytes (the e2e bench, bench/RESULTS.md: 21.4–23.5 KB over six runs, the largest used; an earlier hand measurement gave 18.2). */
export const BYTES_PER_DEVICE = 23_500;
/** Added memory per point held in influx.maxBufferedPoints during an InfluxDB outage, bytes. */
export const BYTES_PER_BUFFERED_POINT = 1_700;

/** Expected resident memory in MiB for a configuration. */
export function expectedRssMiB(maxDevices: number, maxBufferedPoints: number): number {
  return BASE_RSS_MIB + (maxDevices * BYTES_PER_DEVICE + maxBufferedPoints * BYTES_PER_BUFFERED_POINT) / 2 ** 20;
}

/** A Kubernetes quantity (`256Mi`, `1Gi`, `500M`) or systemd size (`384M`, `1G`, IEC) in MiB. */
export function quantityMiB(q: string, units: 'kubernetes' | 'systemd'): number {
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(q.trim());
  if (m === null) throw new Error(`not a size: ${q}`);
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  const iec: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 ** 2 };
  const si: Record<string, number> = { k: 1e3 / 2 ** 20, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20 };
  // systemd reads K, M, G as powers of 1024.
  const sd: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 ** 2 };
  const table = units === 'kubernetes' ? { ...iec, ...si } : sd;
  const factor = unit === '' ? 1 / 2 ** 20 : table[unit];
  if (factor === undefined) throw new Error(`unknown unit in ${q}`);
  return n * factor;
}
