import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../src/io/embedded-broker.js';
import { MqttSource, type MqttSourceOptions } from '../../src/io/mqtt-source.js';
import { freePort, useMosquitto } from '../support/servers.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

function options(url: string, clientId: string, filters = ['plant/+/data']): MqttSourceOptions {
  return { url, clientId, qos: 1, cleanSession: false, sessionExpirySeconds: 3600, protocolVersion: 5, keepaliveSeconds: 30, reconnectPeriodMs: 200, filters };
}

async function publishMany(url: string, topic: string, n: number): Promise<void> {
  const pub = await mqtt.connectAsync(url, { clientId: `pub-${Math.random().toString(36).slice(2)}` });
  for (let i = 0; i < n; i++) await pub.publishAsync(topic, JSON.stringify({ i }), { qos: 1 });
  await pub.endAsync();
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A handler that records each message's `i` and holds it unsettled until the test resolves it. */
function holdingHandler(): { handler: (topic: string, payload: Buffer) => Promise<void>; seen: number[]; resolvers: Array<() => void> } {
  const seen: number[] = [];
  const resolvers: Array<() => void> = [];
  const handler = (_t: string, payload: Buffer): Promise<void> =>
    new Promise<void>((resolve) => {
      seen.push((JSON.parse(payload.toString()) as { i: number }).i);
      resolvers.push(resolve);
    });
  return { handler, seen, resolvers };
}

describe('MqttSource against a real Mosquitto', () => {
  const broker = useMosquitto();
  let source: MqttSource | null = null;
  afterEach(async () => {
    await source?.close();
    source = null;
  });

  it('handles and acknowledges every QoS-1 message, in order', async () => {
    const seen: number[] = [];
    source = new MqttSource(options(broker().url, 'src-order'), silent);
    await source.start((_t, payload) => {
      seen.push((JSON.parse(payload.toString()) as { i: number }).i);
    });
    await publishMany(broker().url, 'plant/p1/data', 500);
    await waitFor(() => seen.length === 500);
    expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(source.stats()).toMatchObject({ received: 500, acked: 500, handlerFailures: 0 });
  });

  it('a message whose handler fails is not acknowledged and comes back after a restart', async () => {
    let failNext = true;
    const seen: number[] = [];
    source = new MqttSource(options(broker().url, 'src-redeliver'), silent);
    await source.start((_t, payload) => {
      const { i } = JSON.parse(payload.toString()) as { i: number };
      if (failNext) {
        failNext = false;
        throw new Error('spool unavailable');
      }
      seen.push(i);
    });
    await publishMany(broker().url, 'plant/p2/data', 1);
    await waitFor(() => source!.stats().handlerFailures === 1);
    await source.close();
    source = new MqttSource(options(broker().url, 'src-redeliver'), silent);
    await source.start((_t, payload) => {
      seen.push((JSON.parse(payload.toString()) as { i: number }).i);
    });
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([0]);
  });

  it('keeps the session while stopped: messages published meanwhile arrive on the next start', async () => {
    const seen: number[] = [];
    source = new MqttSource(options(broker().url, 'src-session'), silent);
    await source.start(() => {});
    await source.stopIntake();
    await source.close();
    await publishMany(broker().url, 'plant/p3/data', 200);
    source = new MqttSource(options(broker().url, 'src-session'), silent);
    await source.start((_t, payload) => {
      seen.push((JSON.parse(payload.toString()) as { i: number }).i);
    });
    await waitFor(() => seen.length === 200);
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  /** Every PUBACK reached the broker: a new connection of the session receives only a new message. */
  async function expectNothingLeft(clientId: string, topic: string): Promise<void> {
    await source?.close();
    const after: number[] = [];
    source = new MqttSource(options(broker().url, clientId), silent);
    await source.start((_t, payload) => {
      after.push((JSON.parse(payload.toString()) as { i: number }).i);
    });
    await publishMany(broker().url, topic, 1);
    await waitFor(() => after.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(after).toEqual([0]);
  }

  it('hands over the next messages before earlier ones are settled, and acknowledges in arrival order', async () => {
    const { handler, seen, resolvers } = holdingHandler();
    source = new MqttSource(options(broker().url, 'src-deferred'), silent);
    await source.start(handler);
    await publishMany(broker().url, 'plant/p4/data', 10);
    // With acks waiting for each handler, only the first message would ever arrive.
    await waitFor(() => seen.length === 10);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => i));
    for (let i = 9; i >= 1; i--) resolvers[i]?.();
    await new Promise((r) => setTimeout(r, 50));
    expect(source.stats()).toMatchObject({ acked: 0, heldAcks: 10 });
    resolvers[0]?.();
    await waitFor(() => source!.stats().acked === 10);
    expect(source.stats().heldAcks).toBe(0);
    await expectNothingLeft('src-deferred', 'plant/p4/data');
  });

  it('messages not yet settled when the connection ends are redelivered to the next session', async () => {
    const seen: number[] = [];
    source = new MqttSource(options(broker().url, 'src-unsettled'), silent);
    await source.start((_t, payload) => {
      seen.push((JSON.parse(payload.toString()) as { i: number }).i);
      return new Promise<void>(() => {}); // never settles
    });
    await publishMany(broker().url, 'plant/p5/data', 20);
    await waitFor(() => seen.length === 20);
    expect(source.stats().acked).toBe(0);
    await source.close();
    const again: number[] = [];
    source = new MqttSource(options(broker().url, 'src-unsettled'), silent);
    await source.start((_t, payload) => {
      again.push((JSON.parse(payload.toString()) as { i: number }).i);
    });
    await waitFor(() => again.length === 20);
    expect(again).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('a connection cut while messages are held: redeliveries are not handled twice, and are acknowledged once the originals settle', async () => {
    // A TCP proxy in front of Mosquitto that the test can cut, like a flaky network would.
    const sockets = new Set<Socket>();
    const target = new URL(broker().url);
    const proxy = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const proxyUrl = `mqtt://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const { handler, seen, resolvers } = holdingHandler();
      source = new MqttSource(options(proxyUrl, 'src-cut'), silent);
      await source.start(handler);
      await publishMany(broker().url, 'plant/p6/data', 10);
      await waitFor(() => seen.length === 10);
      for (const s of sockets) s.destroy();
      // The client reconnects through the proxy; the broker redelivers the 10 unacknowledged messages.
      await waitFor(() => source!.stats().redeliveries === 10);
      expect(seen).toHaveLength(10);
      expect(source.stats().acked).toBe(0);
      for (const r of resolvers) r();
      await waitFor(() => source!.stats().acked === 10);
      await expectNothingLeft('src-cut', 'plant/p6/data');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('refuses to start against an unreachable broker with a clear error', async () => {
    const port = await freePort();
    const s = new MqttSource({ ...options(`mqtt://127.0.0.1:${port}`, 'src-none'), reconnectPeriodMs: 0 }, silent);
    await expect(s.start(() => {})).rejects.toThrow(new RegExp(`cannot connect to mqtt://127.0.0.1:${port}`));
    await s.close();
  });
});

describe('embedded broker', () => {
  it('starts on a free port, and falls back to a free one when the requested port is taken', async () => {
    const blocker: Server = createServer();
    const busy = await freePort();
    await new Promise<void>((r) => blocker.listen(busy, '127.0.0.1', () => r()));
    const b = await startEmbeddedBroker({ port: busy });
    try {
      expect(b.port).not.toBe(busy);
      const seen: string[] = [];
      // aedes speaks MQTT 3.1.1, not 5.
      const s = new MqttSource({ ...options(b.url, 'emb-1', ['x/#']), protocolVersion: 4 }, silent);
      await s.start((topic) => {
        seen.push(topic);
      });
      await publishMany(b.url, 'x/y', 3);
      await waitFor(() => seen.length === 3);
      await s.close();
    } finally {
      await b.close();
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
