/**
 * A real VictoriaMetrics single-node server for integration tests. It accepts the InfluxDB v2
 * write API (`POST /api/v2/write`, line protocol): a field `f` of measurement `m` becomes the
 * metric `m_f`, tags become labels, `org`/`bucket` are ignored. Reads go through the raw export
 * API (`/api/v1/export`, JSON lines). Flags and their reasons: see `victoriaMetricsFlags` and
 * docs/testing.md.
 */
import { join } from 'node:path';
import { findExecutable, type ExecutableSpec } from './find-executable.js';
import { LOOPBACK_HOST, freePort } from './free-port.js';
import { spawnManaged, type ManagedProcess } from './managed-process.js';
import { createTempDir } from './temp-dir.js';
import { DEFAULT_START_TIMEOUT_MS, ServerStartError, waitUntilReady } from './wait-until-ready.js';

/** Options of `startVictoriaMetrics`; every field is optional. */
export interface VictoriaMetricsOptions {
  /** Port on 127.0.0.1; default: a free port from the OS. */
  readonly port?: number;
  /**
   * `-dedup.minScrapeInterval` in ms: keep one sample per series per interval, so a point written
   * twice with the same timestamp is stored once. Default 1 (exactly the InfluxDB "same series +
   * same timestamp = same point" rule at ms precision); 0 turns deduplication off.
   */
  readonly dedupIntervalMs?: number;
  /** Limit for `/health` to answer OK after each (re)start, in ms; default 15,000. */
  readonly startTimeoutMs?: number;
  /** More command-line flags, appended last (a repeated flag overrides ours). */
  readonly extraFlags?: readonly string[];
  /** Path of the binary; default: `$CONVWATCH_VICTORIA_METRICS_BIN`, `$PATH`, `/usr/bin`. */
  readonly binary?: string;
}

/** One series from `/api/v1/export`: its labels (with `__name__`) and its samples in time order. */
export interface ExportedSeries {
  readonly metric: Record<string, string>;
  /** Sample values; VictoriaMetrics keeps about 12 significant decimal digits (see docs/testing.md). */
  readonly values: number[];
  /** Sample times in Unix milliseconds, same length as `values`. */
  readonly timestamps: number[];
}

/** A running test VictoriaMetrics. Call `stop()` when done (also when the test failed). */
export interface VictoriaMetricsServer {
  /** `http://127.0.0.1:<port>`: give this to `new InfluxDB({ url })`. */
  readonly url: string;
  /** `<url>/api/v2/write`, the InfluxDB v2 write endpoint. */
  readonly writeUrlV2: string;
  /** The TCP port on 127.0.0.1; stays the same across `restart()`. */
  readonly port: number;
  /** The temp directory holding `-storageDataPath`. */
  readonly dataDir: string;
  /** Whether the server process is currently running. */
  isRunning(): boolean;
  /**
   * Process id of the running server, or `undefined` when it is not running; e.g. to pause it
   * with SIGSTOP/SIGCONT in a hang test.
   */
  pid(): number | undefined;
  /** Stops for good (default SIGTERM; SIGKILL after 10 s) and deletes `dataDir`. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Stops gracefully if running and starts again on the same port and data directory; resolves
   * when `/health` answers OK.
   *
   * @throws Error after `stop()`; ServerStartError when the new process does not come up.
   */
  restart(): Promise<void>;
  /** Kills the server with SIGKILL (a crash) and waits for the exit; keeps `dataDir`. */
  kill9(): Promise<void>;
  /**
   * Makes every sample accepted so far visible to reads (`GET /internal/force_flush`). Without
   * it, just-written samples become readable up to about a second later.
   *
   * @throws Error when the server does not answer 200.
   */
  flush(): Promise<void>;
  /**
   * All samples of the series matching `selector` (a metric name or a series selector such as
   * `{__name__=~"anomaly_.*",device="d1"}`), over all time. Flushes first unless
   * `{ flush: false }`. Series order is unspecified; samples are in time order.
   *
   * @throws Error when the server answers an error status or malformed JSON lines.
   */
  exportSeries(selector: string, options?: { readonly flush?: boolean }): Promise<ExportedSeries[]>;
  /** Number of samples over all series matching `selector` (flushes first). */
  countPoints(selector: string): Promise<number>;
  /** Output of every server process started so far (all restarts), in order. */
  logs(): string;
}

/** Where to find the server binary. */
export const VICTORIA_METRICS_EXECUTABLE: ExecutableSpec = {
  name: 'victoria-metrics',
  envVar: 'CONVWATCH_VICTORIA_METRICS_BIN',
  extraDirs: ['/usr/bin', '/usr/local/bin'],
  installHint: 'Install it with `apt-get install victoria-metrics` (Debian/Ubuntu)',
};

/** Default `-dedup.minScrapeInterval` of test servers, in ms. */
export const DEFAULT_DEDUP_INTERVAL_MS = 1;

// Export end time: 2100-01-01T00:00:00Z in seconds. Without an explicit `end`, export stops at
// "now" rounded in a way that hides samples written in the last second.
const EXPORT_END_S = 4_102_444_800;
const BIND_RETRIES = 3;

/**
 * The command-line flags of a test server. Pure.
 *
 * @param port listen port on 127.0.0.1.
 * @param storageDataPath data directory.
 * @param dedupIntervalMs see `VictoriaMetricsOptions.dedupIntervalMs`.
 */
export function victoriaMetricsFlags(port: number, storageDataPath: string, dedupIntervalMs: number): string[] {
  const flags = [
    `-httpListenAddr=${LOOPBACK_HOST}:${port}`,
    `-storageDataPath=${storageDataPath}`,
    // The default retention is 1 month, and samples older than that are dropped with only a
    // log warning (the write still answers 204): fixtures with fixed dates must not vanish.
    '-retentionPeriod=100y',
    // Instant and range queries hide the last 30 s by default; tests query just-written data.
    '-search.latencyOffset=0s',
    // The rollup-result cache could serve a query result from before a write.
    '-search.disableCache',
    // Be a small neighbour on a shared 2-core machine (the default is 60 % of RAM for caches).
    '-memory.allowedBytes=256MiB',
    '-loggerLevel=INFO',
  ];
  if (dedupIntervalMs > 0) flags.push(`-dedup.minScrapeInterval=${dedupIntervalMs}ms`);
  return flags;
}

/**
 * Starts VictoriaMetrics on 127.0.0.1 and resolves when `/health` answers OK.
 *
 * @throws Error naming the option when an option is out of range; Error with an install hint
 *   when the binary is missing; ServerStartError (with the server's output) when it exits or
 *   is not healthy within `startTimeoutMs`.
 */
export async function startVictoriaMetrics(options: VictoriaMetricsOptions = {}): Promise<VictoriaMetricsServer> {
  if (options.port !== undefined) requireInteger('port', options.port, 1, 65_535);
  const dedupIntervalMs = options.dedupIntervalMs ?? DEFAULT_DEDUP_INTERVAL_MS;
  requireInteger('dedupIntervalMs', dedupIntervalMs, 0, 86_400_000);
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  requireInteger('startTimeoutMs', startTimeoutMs, 1, 600_000);
  const binary = options.binary ?? findExecutable(VICTORIA_METRICS_EXECUTABLE);
  const dir = await createTempDir('convwatch-victoria-metrics-');
  const storageDataPath = join(dir.path, 'data');
  let proc: ManagedProcess | undefined;
  let port = 0;
  let url = '';
  const pastLogs: string[] = [];
  let stopped = false;

  const launch = async (): Promise<ManagedProcess> => {
    const args = [...victoriaMetricsFlags(port, storageDataPath, dedupIntervalMs), ...(options.extraFlags ?? [])];
    const started = spawnManaged({ name: 'victoria-metrics', command: binary, args, cwd: dir.path });
    const isReady = (): Promise<boolean> => isOurHealthyServer(url, storageDataPath);
    await waitUntilReady(started, isReady, `to answer OK on ${url}/health`, startTimeoutMs);
    return started;
  };

  try {
    for (let attempt = 1; ; attempt++) {
      port = options.port ?? (await freePort());
      url = `http://${LOOPBACK_HOST}:${port}`;
      try {
        proc = await launch();
        break;
      } catch (error) {
        const retry =
          options.port === undefined &&
          attempt < BIND_RETRIES &&
          error instanceof ServerStartError &&
          error.serverLogs.includes('address already in use');
        if (!retry) throw error;
        pastLogs.push(error.serverLogs);
      }
    }
  } catch (error) {
    await dir.remove();
    throw error;
  }

  const running = (): ManagedProcess | undefined => (proc && !proc.exitInfo() ? proc : undefined);
  const flush = async (): Promise<void> => {
    const response = await fetch(`${url}/internal/force_flush`);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`victoria-metrics ${url}/internal/force_flush answered ${response.status}`);
  };
  const exportSeries = async (selector: string, exportOptions: { readonly flush?: boolean } = {}): Promise<ExportedSeries[]> => {
    if (exportOptions.flush ?? true) await flush();
    const body = new URLSearchParams({ 'match[]': selector, start: '0', end: String(EXPORT_END_S) });
    const response = await fetch(`${url}/api/v1/export`, { method: 'POST', body });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`victoria-metrics export of ${selector} answered ${response.status}: ${text.slice(0, 500)}`);
    }
    return parseExportLines(text);
  };

  return {
    url,
    writeUrlV2: `${url}/api/v2/write`,
    port,
    dataDir: dir.path,
    isRunning: () => running() !== undefined,
    pid: () => running()?.pid,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopped = true;
      await proc?.stop(signal);
      await dir.remove();
    },
    async restart() {
      if (stopped) throw new Error(`victoria-metrics on port ${port}: restart() after stop(); start a new server instead`);
      await running()?.stop('SIGTERM');
      if (proc) pastLogs.push(proc.logs());
      proc = undefined;
      proc = await launch();
    },
    async kill9() {
      await proc?.stop('SIGKILL');
    },
    flush,
    exportSeries,
    async countPoints(selector: string) {
      const series = await exportSeries(selector);
      return series.reduce((sum, s) => sum + s.values.length, 0);
    },
    logs: () => [...pastLogs, proc?.logs() ?? ''].join(''),
  };
}

/**
 * Parses the body of `/api/v1/export` (one JSON object per line:
 * `{"metric":{...},"values":[...],"timestamps":[...]}`). Pure. Non-finite values, which the
 * export may write as strings (`"NaN"`, `"Inf"`), become the corresponding numbers.
 *
 * @throws Error naming the line number when a line is not such an object.
 */
export function parseExportLines(text: string): ExportedSeries[] {
  const series: ExportedSeries[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `export line ${index + 1}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where} is not JSON (${error instanceof Error ? error.message : String(error)}): ${line.slice(0, 200)}`);
    }
    if (!isRecord(parsed) || !isRecord(parsed.metric) || !Array.isArray(parsed.values) || !Array.isArray(parsed.timestamps)) {
      throw new Error(`${where} lacks metric/values/timestamps: ${line.slice(0, 200)}`);
    }
    const metric: Record<string, string> = {};
    for (const [name, value] of Object.entries(parsed.metric)) {
      if (typeof value !== 'string') throw new Error(`${where}: label ${name} is not a string`);
      metric[name] = value;
    }
    const values = parsed.values.map((value: unknown) => toSampleValue(value, where));
    const timestamps = parsed.timestamps.map((ts: unknown) => {
      if (typeof ts !== 'number' || !Number.isInteger(ts)) throw new Error(`${where}: timestamp ${String(ts)} is not an integer`);
      return ts;
    });
    if (values.length !== timestamps.length) {
      throw new Error(`${where}: ${values.length} values but ${timestamps.length} timestamps`);
    }
    series.push({ metric, values, timestamps });
  });
  return series;
}

function toSampleValue(value: unknown, where: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const special: Record<string, number> = { NaN: NaN, Inf: Infinity, '+Inf': Infinity, '-Inf': -Infinity };
    const parsed = special[value] ?? Number(value);
    if (!Number.isNaN(parsed) || value === 'NaN') return parsed;
  }
  throw new Error(`${where}: value ${JSON.stringify(value)} is not a number`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `/health` answers OK, and `/flags` (which lists the flags set on the command line) shows our
 * data path: a server answering on the port could otherwise be another one that holds the port
 * while ours is still on its way to failing the bind.
 */
async function isOurHealthyServer(url: string, storageDataPath: string): Promise<boolean> {
  const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
  if (!health.ok || (await health.text()).trim() !== 'OK') return false;
  const flags = await fetch(`${url}/flags`, { signal: AbortSignal.timeout(1_000) });
  return flags.ok && (await flags.text()).includes(`-storageDataPath=${JSON.stringify(storageDataPath)}`);
}

function requireInteger(option: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`startVictoriaMetrics: option ${option} must be an integer in [${min}, ${max}], got ${value}`);
  }
}
