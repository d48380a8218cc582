import { parseRetryAfterMs } from './backoff.js';
import { SYSTEM_CLOCK, type SinkClock } from './point-sink.js';

/**
 * One InfluxDB v2 write request (`POST /api/v2/write?org=&bucket=&precision=ms`) and what its
 * answer means for the sender: confirmed, retry later, or refused for good. The answer decides
 * (the influxdb-client-js "error knows whether it can be retried" habit), not the caller.
 */

/** What became of one request. */
export type WriteOutcome =
  /** 2xx: every line was accepted. */
  | { readonly kind: 'ok'; readonly status: number }
  /** Network error, timeout, 408, 429 or 5xx: send the same lines again later. */
  | { readonly kind: 'retry'; readonly status: number | null; readonly reason: string; readonly retryAfterMs: number | null }
  /** Any other status: retrying would get the same answer. `body`: the answer's first 500 characters, token-free. */
  | { readonly kind: 'rejected'; readonly status: number; readonly body: string }
  /** The caller's signal aborted the request. */
  | { readonly kind: 'aborted' };

/** Sends one body of line protocol. `send` never rejects: every failure is a {@link WriteOutcome}. */
export interface InfluxWriteTransport {
  send(body: string, signal: AbortSignal): Promise<WriteOutcome>;
}

/** Options of {@link createInfluxWriteTransport}. */
export interface InfluxWriteTransportOptions {
  /** Base URL, `http(s)://host[:port][/prefix]`. */
  readonly url: string;
  readonly org: string;
  readonly bucket: string;
  /** Sent as `Authorization: Token <token>`; left out when empty. Never in errors or logs. */
  readonly token: string;
  /** Per-request limit, ms. */
  readonly timeoutMs: number;
  readonly clock?: SinkClock;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

const EXCERPT_CHARS = 500;

/**
 * The write endpoint for `url`, `org` and `bucket` with `precision=ms`.
 * @throws RangeError naming `influx.url` when it is not an http(s) URL, or `influx.org` /
 *   `influx.bucket` when empty.
 */
export function influxWriteUrl(url: string, org: string, bucket: string): string {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new RangeError(`influx.url must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new RangeError(`influx.url must be an http(s) URL, got ${JSON.stringify(url)}`);
  if (base.username !== '' || base.password !== '') throw new RangeError('influx.url must not hold credentials; use influx.token');
  if (org === '') throw new RangeError('influx.org must not be empty');
  if (bucket === '') throw new RangeError('influx.bucket must not be empty');
  const path = `${base.pathname.replace(/\/+$/, '')}/api/v2/write`;
  const query = new URLSearchParams({ org, bucket, precision: 'ms' });
  return `${base.origin}${path}?${query.toString()}`;
}

/** How a status is handled: 2xx ok; 408, 429 and 5xx retried; any other refused. */
export function classifyStatus(status: number): 'ok' | 'retry' | 'rejected' {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'rejected';
}

/**
 * A transport over `fetch`.
 * @throws RangeError for a bad URL, org, bucket or timeout (see {@link influxWriteUrl}).
 */
export function createInfluxWriteTransport(options: InfluxWriteTransportOptions): InfluxWriteTransport {
  const endpoint = influxWriteUrl(options.url, options.org, options.bucket);
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 1) throw new RangeError(`influx.requestTimeoutMs must be an integer ≥ 1, got ${options.timeoutMs}`);
  const clock = options.clock ?? SYSTEM_CLOCK;
  const fetchFn = options.fetch ?? fetch;
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
  if (options.token !== '') headers['Authorization'] = `Token ${options.token}`;
  const redact = (text: string): string => (options.token === '' ? text : text.split(options.token).join('[redacted]'));

  return {
    async send(body, signal) {
      if (signal.aborted) return { kind: 'aborted' };
      const timeout = new AbortController();
      const timer = clock.setTimeout(() => timeout.abort(), options.timeoutMs);
      try {
        const response = await fetchFn(endpoint, { method: 'POST', headers, body, signal: AbortSignal.any([signal, timeout.signal]) });
        const text = await response.text();
        const kind = classifyStatus(response.status);
        if (kind === 'ok') return { kind, status: response.status };
        const excerpt = redact(text.slice(0, EXCERPT_CHARS).replace(/\s+/g, ' ').trim());
        if (kind === 'rejected') return { kind, status: response.status, body: excerpt };
        return {
          kind,
          status: response.status,
          reason: `HTTP ${response.status}${excerpt === '' ? '' : `: ${excerpt}`}`,
          retryAfterMs: parseRetryAfterMs(response.headers.get('retry-after'), clock.now()),
        };
      } catch (error) {
        if (signal.aborted) return { kind: 'aborted' };
        const reason = timeout.signal.aborted ? `no answer within ${options.timeoutMs} ms` : redact(networkErrorText(error));
        return { kind: 'retry', status: null, reason, retryAfterMs: null };
      } finally {
        clock.clearTimeout(timer);
      }
    },
  };
}

/** `fetch failed: ECONNREFUSED …` from undici's error and its cause. */
function networkErrorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${error.message}: ${code === undefined ? cause.message : `${code} ${cause.message}`}`;
  }
  return error.message;
}
