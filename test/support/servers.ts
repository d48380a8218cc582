/**
 * Entry point of the integration-test servers: real Mosquitto and VictoriaMetrics processes on
 * free 127.0.0.1 ports, with data in temp folders, never orphaned. See docs/testing.md.
 *
 * In a vitest file:
 *
 * ```ts
 * const broker = useMosquitto();            // started in beforeAll, stopped in afterAll
 * const tsdb = useVictoriaMetrics();
 * it('…', async () => { const client = await mqtt.connectAsync(broker().url); … });
 * ```
 *
 * or by hand: `beforeAll(async () => { broker = await startMosquitto(); })` and
 * `afterAll(() => broker?.stop())`.
 */
import { afterAll, beforeAll } from 'vitest';
import { startMosquitto, type MosquittoOptions, type MosquittoServer } from './mosquitto.js';
import {
  startVictoriaMetrics,
  type VictoriaMetricsOptions,
  type VictoriaMetricsServer,
} from './victoria-metrics.js';

export { freePort, canConnect, LOOPBACK_HOST } from './free-port.js';
export {
  startMosquitto,
  mosquittoConfig,
  DEFAULT_MAX_INFLIGHT_MESSAGES,
  DEFAULT_MAX_QUEUED_MESSAGES,
  DEFAULT_MOSQUITTO_AUTOSAVE,
  type MosquittoAutosave,
  type MosquittoOptions,
  type MosquittoServer,
} from './mosquitto.js';
export {
  startVictoriaMetrics,
  victoriaMetricsFlags,
  parseExportLines,
  DEFAULT_DEDUP_INTERVAL_MS,
  type ExportedSeries,
  type VictoriaMetricsOptions,
  type VictoriaMetricsServer,
} from './victoria-metrics.js';
export { ServerStartError } from './wait-until-ready.js';

/**
 * Registers `beforeAll`/`afterAll` hooks in the calling suite that start one broker for the
 * suite and stop it afterwards (also when tests failed). Returns an accessor for use inside
 * tests and hooks.
 *
 * @throws Error from the accessor when called before `beforeAll` ran (e.g. at collection time)
 *   or when starting failed.
 */
export function useMosquitto(options?: MosquittoOptions): () => MosquittoServer {
  return useServer('useMosquitto', () => startMosquitto(options));
}

/** Like `useMosquitto`, for a VictoriaMetrics server. */
export function useVictoriaMetrics(options?: VictoriaMetricsOptions): () => VictoriaMetricsServer {
  return useServer('useVictoriaMetrics', () => startVictoriaMetrics(options));
}

function useServer<T extends { stop(): Promise<void> }>(what: string, start: () => Promise<T>): () => T {
  let server: T | undefined;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.stop();
    server = undefined;
  });
  return () => {
    if (server === undefined) throw new Error(`${what}: the server is not running (beforeAll has not run or failed)`);
    return server;
  };
}
