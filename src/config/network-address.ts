/**
 * Checks of the network addresses in the configuration. Syntax only: nothing here resolves a
 * name or opens a connection (configuration is validated without touching the network).
 */

/** URL schemes `mqtt.url` accepts: plain TCP, TLS, WebSocket, WebSocket over TLS. */
export const MQTT_URL_SCHEMES: readonly string[] = Object.freeze(['mqtt', 'mqtts', 'ws', 'wss']);
/** URL schemes of the InfluxDB write API. */
export const HTTP_URL_SCHEMES: readonly string[] = Object.freeze(['http', 'https']);

/** What is wrong with a URL (the end of "… must be …"), or null. */
export function urlProblem(value: string, schemes: readonly string[]): string | null {
  const wanted = `a URL with scheme ${schemes.map((s) => `${s}://`).join(', ')} and a host`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be ${wanted}`;
  }
  const scheme = url.protocol.slice(0, -1);
  if (!schemes.includes(scheme)) return `must be ${wanted} (scheme ${JSON.stringify(scheme)} is not supported)`;
  if (url.hostname.length === 0) return `must be ${wanted} (the host is missing)`;
  return null;
}

/** Whether a URL uses TLS (`mqtts`, `wss`, `https`). */
export function isTlsUrl(value: string): boolean {
  return /^(mqtts|wss|https):/i.test(value);
}

/**
 * The URL with the password of its user-info part (`scheme://user:password@host`) replaced by
 * `[redacted]`. Works on strings that do not parse as URLs too; when in doubt it hides more.
 */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:).*@/is, '$1[redacted]@');
}

/** Whether a URL carries a password in its user-info part. */
export function urlHasPassword(value: string): boolean {
  return redactUrl(value) !== value;
}

/** A `host:port` listen address. Port 0 lets the OS pick a free port. */
export interface ListenAddress {
  /** IPv4 address, host name, or IPv6 address without brackets. */
  readonly host: string;
  /** 0 to 65535. */
  readonly port: number;
}

/**
 * Parses `host:port` or `[ipv6]:port` (a host is required, so nothing binds every interface by
 * accident: write `0.0.0.0:9464` for that).
 * @returns the address, or a string saying what is wrong (the end of "… must be …").
 */
export function parseListenAddress(value: string): ListenAddress | string {
  const wanted = 'must be host:port or [ipv6]:port with a port from 0 to 65535 (0 = any free port), e.g. 127.0.0.1:9464';
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  if (m === null) return wanted;
  const port = Number(m[3]);
  if (port > 65_535) return wanted;
  return { host: m[1] ?? m[2], port };
}
