import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';

/** A running in-process MQTT broker (aedes) for the embedded default and tests. */
export interface EmbeddedBroker {
  /** `mqtt://host:port` to connect to. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections, disconnects clients and closes the broker. */
  close(): Promise<void>;
}

/**
 * Starts aedes on `host` (default 127.0.0.1) and `port`; port 0 (the default) picks a free one,
 * so the embedded default never fails because 1883 is taken. aedes speaks MQTT 3.1.1 (connect
 * with protocolVersion 4). A requested port that is busy
 * falls back to a free one when `fallbackToFreePort` is set (the default).
 * Sessions and queued messages are kept in memory.
 */
export async function startEmbeddedBroker(options: { host?: string; port?: number; fallbackToFreePort?: boolean } = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const onError = (e: Error): void => {
        server.off('listening', onListening);
        reject(e);
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, host);
    });
  try {
    await listen(options.port ?? 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || options.fallbackToFreePort === false) {
      await new Promise<void>((r) => broker.close(() => r()));
      throw new Error(`embedded broker: cannot listen on ${host}:${options.port ?? 0}: ${(e as Error).message}`);
    }
    await listen(0);
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://${host}:${port}`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
