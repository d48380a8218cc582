/**
 * Loopback ports for test servers: ask the operating system for a free one, and probe whether a
 * server accepts connections on one. Only 127.0.0.1 is ever used.
 */
import { createConnection, createServer } from 'node:net';

/** The only address test servers listen on and test clients connect to. */
export const LOOPBACK_HOST = '127.0.0.1';

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago: the OS picks it for a listener
 * that is closed again at once. Another process may take it before the caller binds it, so a
 * caller that starts a server on it should retry with a new port when the bind fails.
 *
 * @throws Error when the OS refuses the listener (no free port, no loopback interface).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error) => reject(new Error(`freePort: cannot listen on ${LOOPBACK_HOST}: ${error.message}`)));
    server.listen({ host: LOOPBACK_HOST, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected listener address ${String(address)}`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * Resolves `true` when a TCP connection to 127.0.0.1:`port` is accepted within `timeoutMs`
 * (default 1,000 ms), `false` when it is refused, reset or times out. Never rejects.
 */
export function canConnect(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: LOOPBACK_HOST, port });
    const finish = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
