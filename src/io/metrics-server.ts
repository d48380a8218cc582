import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/**
 * The service's HTTP side door: Prometheus `/metrics`, liveness `/healthz`, readiness `/readyz`.
 * GET and HEAD only, no request bodies, loopback by default. See docs/operations.md.
 */

/** Default {@link MetricsServerOptions.listen}: loopback only; expose it deliberately. */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9464';
/** Default {@link MetricsServerOptions.metricsPath}. */
export const DEFAULT_METRICS_PATH = '/metrics';
/** Default {@link MetricsServerOptions.maxEventLoopLagMs}. */
export const DEFAULT_MAX_EVENT_LOOP_LAG_MS = 1_000;
/** Default {@link MetricsServerOptions.lagProbeIntervalMs}. */
export const DEFAULT_LAG_PROBE_INTERVAL_MS = 250;
/** Default {@link MetricsServerOptions.closeGraceMs}. */
export const DEFAULT_CLOSE_GRACE_MS = 1_000;

/** One named check's outcome. */
export interface CheckResult {
  readonly ok: boolean;
  /** Why it fails (shown in the 503 body); ignored when ok. */
  readonly reason?: string;
}

/** What the caller adds to liveness besides the event loop (e.g. the pipeline died). */
export type HealthState = CheckResult;

/**
 * Readiness checks by name, e.g. `{ broker: { ok: true }, subscribed: { ok: false, reason:
 * 'SUBACK pending' }, models: …, sink: … }`. Ready when every check is ok (an empty set is ready).
 */
export type ReadinessState = Readonly<Record<string, CheckResult>>;

/** The logger calls the server makes (a pino logger fits). */
export type MetricsServerLogger = Pick<Logger, 'info' | 'warn' | 'debug'>;

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** The registry `/metrics` exposes (see createServiceMetrics). */
  readonly registry: Registry;
  /** `host:port`, `[ipv6]:port` or `:port` (host 127.0.0.1); port 0 picks a free port. Default {@link DEFAULT_METRICS_LISTEN}. */
  readonly listen?: string;
  /** Path of the exposition, starting with '/'. Default `/metrics`. */
  readonly metricsPath?: string;
  /** Liveness input besides the event-loop bound; default always ok. Must not throw (a throw counts as unhealthy). */
  readonly health?: () => HealthState;
  /** Readiness checks, asked on every `/readyz`. Must be cheap; a throw counts as not ready. */
  readonly readiness: () => ReadinessState;
  /** `/healthz` answers 503 while the measured event-loop lag exceeds this, ms. Default 1000. */
  readonly maxEventLoopLagMs?: number;
  /** Period of the lag probe timer, ms (the 503 after a stall lasts about this long). Default 250. */
  readonly lagProbeIntervalMs?: number;
  /** `close()` waits this long for in-flight responses before cutting connections, ms. Default 1000. */
  readonly closeGraceMs?: number;
  readonly logger?: MetricsServerLogger;
}

/** A running server; call {@link close} on shutdown. */
export interface MetricsServer {
  /** Base URL, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Event-loop lag as `/healthz` sees it now, ms. */
  eventLoopLagMs(): number;
  /**
   * Stops listening, ends idle keep-alive connections at once and the rest after
   * `closeGraceMs`; resolves when every connection is gone. Idempotent.
   */
  close(): Promise<void>;
}

/** A parsed listen address. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port`, `[ipv6]:port` or `:port` (host 127.0.0.1).
 * @throws Error naming the option and the value when it is not of that form or the port is outside 0..65535.
 */
export function parseListenAddress(listen: string, option = 'listen'): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(listen);
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || !(port <= 65_535)) {
    throw new Error(`${option}: expected "host:port", "[ipv6]:port" or ":port" with a port in 0..65535, got ${JSON.stringify(listen)}`);
  }
  const host = m[1] ?? (m[2] === undefined || m[2] === '' ? '127.0.0.1' : m[2]);
  return { host, port };
}

function positive(value: number, option: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`metrics server: ${option} must be a finite number > 0, got ${value}`);
  return value;
}

/**
 * Starts the HTTP server. Routes (GET and HEAD; other methods 405, bodies 413, other paths 404):
 * - `metricsPath`: the registry in the Prometheus text format (its own content type);
 * - `/healthz`: 200 `{status:'ok'}` while the process serves requests, the event-loop lag is
 *   under `maxEventLoopLagMs` and `health()` is ok; else 503 with `reasons`;
 * - `/readyz`: 200 when every check of `readiness()` is ok; else 503 listing the failing ones.
 * @throws Error (rejects) for bad options or when the address cannot be bound (names it).
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const listen = options.listen ?? DEFAULT_METRICS_LISTEN;
  const address = parseListenAddress(listen, 'metrics server: listen');
  const metricsPath = options.metricsPath ?? DEFAULT_METRICS_PATH;
  if (!/^\/[\x21-\x7e]*$/.test(metricsPath) || metricsPath.includes('?') || metricsPath === '/healthz' || metricsPath === '/readyz') {
    throw new Error(`metrics server: metricsPath must start with '/', hold no spaces or '?', and differ from /healthz and /readyz, got ${JSON.stringify(metricsPath)}`);
  }
  const maxLagMs = positive(options.maxEventLoopLagMs ?? DEFAULT_MAX_EVENT_LOOP_LAG_MS, 'maxEventLoopLagMs');
  const probeMs = positive(options.lagProbeIntervalMs ?? DEFAULT_LAG_PROBE_INTERVAL_MS, 'lagProbeIntervalMs');
  const graceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new Error(`metrics server: closeGraceMs must be a finite number ≥ 0, got ${graceMs}`);
  const logger = options.logger;

  const lag = new LagProbe(probeMs);
  const routes: Record<string, () => Promise<Reply>> = {
    [metricsPath]: async () => ({ status: 200, contentType: options.registry.contentType, body: await options.registry.metrics() }),
    '/healthz': async () => healthReply(lag.currentMs(), maxLagMs, options.health),
    '/readyz': async () => readinessReply(options.readiness),
  };

  const server = createServer({ maxHeaderSize: 8_192, requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    handle(req, res, routes).catch((error: unknown) => {
      logger?.warn({ err: error, path: req.url }, 'metrics server: request failed');
      if (!res.headersSent) send(req, res, { status: 500, contentType: JSON_TYPE, body: json({ error: 'internal error' }) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      lag.stop();
      reject(new Error(`metrics server: cannot listen on ${listen}: ${error.code ?? error.message}`));
    };
    server.once('error', onError);
    server.listen({ host: address.host, port: address.port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => logger?.warn({ err: error }, 'metrics server: error'));
  const bound = server.address();
  const port = bound !== null && typeof bound === 'object' ? bound.port : address.port;
  const url = `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${port}`;
  logger?.info({ url, metricsPath }, 'metrics server listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    host: address.host,
    port,
    eventLoopLagMs: () => lag.currentMs(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        lag.stop();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function json(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: Record<string, () => Promise<Reply>>): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(req, res, { status: 405, contentType: JSON_TYPE, body: json({ error: `method ${req.method ?? '?'} not allowed` }), headers: { allow: 'GET, HEAD' } });
    return;
  }
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) {
    // The body is never read: answer and drop the connection rather than drain it.
    send(req, res, { status: 413, contentType: JSON_TYPE, body: json({ error: 'request bodies are not accepted' }), headers: { connection: 'close' } });
    return;
  }
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (route === undefined) {
    send(req, res, { status: 404, contentType: JSON_TYPE, body: json({ error: 'not found' }) });
    return;
  }
  send(req, res, await route());
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const body = Buffer.from(reply.body, 'utf8');
  res.writeHead(reply.status, {
    'content-type': reply.contentType,
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...reply.headers,
  });
  if (req.method === 'HEAD') res.end();
  else res.end(body);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function healthReply(lagMs: number, maxLagMs: number, health: (() => HealthState) | undefined): Reply {
  const reasons: string[] = [];
  if (lagMs > maxLagMs) reasons.push(`event loop lag ${Math.round(lagMs)} ms exceeds ${maxLagMs} ms`);
  if (health !== undefined) {
    try {
      const state = health();
      if (!state.ok) reasons.push(state.reason ?? 'health check failed');
    } catch (error) {
      reasons.push(`health check threw: ${errorText(error)}`);
    }
  }
  const eventLoopLagMs = Math.round(lagMs * 10) / 10;
  if (reasons.length === 0) return { status: 200, contentType: JSON_TYPE, body: json({ status: 'ok', eventLoopLagMs }) };
  return { status: 503, contentType: JSON_TYPE, body: json({ status: 'unhealthy', reasons, eventLoopLagMs }) };
}

function readinessReply(readiness: () => ReadinessState): Reply {
  let state: ReadinessState;
  try {
    state = readiness();
  } catch (error) {
    const failing = [{ check: 'readiness', reason: `readiness callback threw: ${errorText(error)}` }];
    return { status: 503, contentType: JSON_TYPE, body: json({ status: 'not-ready', failing }) };
  }
  const checks: Record<string, CheckResult> = {};
  const failing: { check: string; reason: string }[] = [];
  for (const [name, result] of Object.entries(state)) {
    const ok = result.ok === true;
    checks[name] = ok ? { ok } : { ok, reason: result.reason ?? 'failing' };
    if (!ok) failing.push({ check: name, reason: result.reason ?? 'failing' });
  }
  if (failing.length === 0) return { status: 200, contentType: JSON_TYPE, body: json({ status: 'ready', checks }) };
  return { status: 503, contentType: JSON_TYPE, body: json({ status: 'not-ready', failing, checks }) };
}

/**
 * Event-loop lag from a periodic timer: how late the latest tick fired, or how overdue the next
 * one already is (a request handled right after a stall, before the timer phase, still sees it).
 */
class LagProbe {
  private lastTickMs = performance.now();
  private lastLagMs = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly intervalMs: number) {
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lastLagMs = Math.max(0, now - this.lastTickMs - this.intervalMs);
      this.lastTickMs = now;
    }, intervalMs);
    // The probe alone must not keep the process alive.
    this.timer.unref();
  }

  currentMs(): number {
    const overdue = performance.now() - this.lastTickMs - this.intervalMs;
    return Math.max(this.lastLagMs, overdue, 0);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
