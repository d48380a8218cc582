/**
 * Smoke tests of the integration-test servers: they prove that a real Mosquitto and a real
 * VictoriaMetrics, as started by test/support, behave the way convwatch's io layer relies on,
 * through the same client libraries the service uses (mqtt 5, @influxdata/influxdb-client).
 * Findings are written up in docs/testing.md.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import mqtt, { type IConnackPacket, type IClientOptions, type MqttClient } from 'mqtt';
import { InfluxDB, Point, type WriteApi, type WriteOptions } from '@influxdata/influxdb-client';
import {
  ServerStartError,
  startMosquitto,
  startVictoriaMetrics,
  useMosquitto,
  useVictoriaMetrics,
  type MosquittoServer,
} from '../support/servers.js';
import { findExecutable } from '../support/find-executable.js';
import { MOSQUITTO_EXECUTABLE } from '../support/mosquitto.js';
import { waitFor } from '../support/wait-for.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** 2024-01-01T00:00:00Z in ms: a fixed date, older than VictoriaMetrics' default 1-month retention. */
const BASE_TIME_MS = 1_704_067_200_000;

// ---------------------------------------------------------------------------------------------
// MQTT helpers

interface Subscriber {
  readonly client: MqttClient;
  readonly connack: IConnackPacket;
  /** Payloads received so far, as numbers, in arrival order. */
  readonly received: number[];
}

/**
 * Connects a persistent-session client with its 'message' listener attached BEFORE the
 * connection is made. (Attaching it after `await mqtt.connectAsync()` loses the messages the
 * broker sends right behind CONNACK: mqtt.js acknowledges them with nobody listening. See
 * docs/testing.md.)
 */
async function connectSubscriber(url: string, clientId: string): Promise<Subscriber> {
  const options: IClientOptions = { clientId, clean: false, reconnectPeriod: 0, connectTimeout: 5_000 };
  const client = mqtt.connect(url, options);
  const received: number[] = [];
  client.on('message', (_topic, payload) => received.push(Number(payload.toString())));
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, connack, received };
}

/** Creates the persistent session with a QoS 1 subscription, then goes offline. */
async function subscribeAndLeave(url: string, clientId: string, topicFilter: string): Promise<void> {
  const subscriber = await connectSubscriber(url, clientId);
  const granted = await subscriber.client.subscribeAsync(topicFilter, { qos: 1 });
  expect(granted.map((grant) => grant.qos)).toEqual([1]);
  await subscriber.client.endAsync();
}

/** Publishes payloads "0" … "count-1" at QoS 1 and resolves when every PUBACK arrived. */
async function publishSequence(url: string, topic: string, count: number): Promise<void> {
  const publisher = await mqtt.connectAsync(url, { clean: true, reconnectPeriod: 0 });
  try {
    await Promise.all(Array.from({ length: count }, (_, i) => publisher.publishAsync(topic, String(i), { qos: 1 })));
  } finally {
    await publisher.endAsync();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sequence(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

async function expectQueuedMessagesDelivered(broker: MosquittoServer, clientId: string, count: number): Promise<void> {
  const subscriber = await connectSubscriber(broker.url, clientId);
  try {
    expect(subscriber.connack.sessionPresent).toBe(true);
    await waitFor(() => subscriber.received.length >= count, {
      what: `${count} queued messages for ${clientId}`,
      timeoutMs: 5_000,
      progress: () => `${subscriber.received.length} received`,
    });
    // A single publisher's QoS 1 messages come out of the session queue in publish order.
    expect(subscriber.received).toEqual(sequence(count));
  } finally {
    await subscriber.client.endAsync();
  }
}

// ---------------------------------------------------------------------------------------------
// InfluxDB-client helpers

interface ConfirmedWriter {
  readonly writeApi: WriteApi;
  /** Lines the server answered 204 for (counted in `writeSuccess`). */
  confirmed(): number;
  /** Lines given up on (counted in `writeFailed` calls that will not be retried). */
  failed(): number;
}

/**
 * A write API that counts server confirmations. This is the pattern that tells when a shutdown
 * may exit: when confirmed + failed equals the lines written, not when `close()` resolves.
 */
function confirmedWriter(url: string, options: Partial<WriteOptions>): ConfirmedWriter {
  let confirmed = 0;
  let failed = 0;
  const writeOptions: Partial<WriteOptions> = {
    ...options,
    maxRetries: 0,
    writeSuccess: (lines) => {
      confirmed += lines.length;
    },
    writeFailed: (_error, lines) => {
      failed += lines.length;
    },
  };
  // VictoriaMetrics ignores org, bucket and token; they are required by the client API only.
  const writeApi = new InfluxDB({ url, token: 'unused' }).getWriteApi('convwatch', 'scores', 'ms', writeOptions);
  return { writeApi, confirmed: () => confirmed, failed: () => failed };
}

/** 10 devices × `total / 10` points of `<measurement> score=<i/8>` at BASE_TIME_MS + i ms. */
function probePoints(measurement: string, total: number): Point[] {
  const perDevice = total / 10;
  const points: Point[] = [];
  for (let device = 0; device < 10; device++) {
    for (let i = 0; i < perDevice; i++) {
      points.push(new Point(measurement).tag('device', `d${device}`).floatField('score', i / 8).timestamp(BASE_TIME_MS + i));
    }
  }
  return points;
}

// The same write as probePoints, in a separate Node process that exits as soon as close()
// resolved: the situation of the issue report.
const EXIT_AFTER_CLOSE_SCRIPT = `
import { InfluxDB, Point } from '@influxdata/influxdb-client';
const [url, measurement, total, batchSize, baseTimeMs] = process.argv.slice(1);
const writeApi = new InfluxDB({ url, token: 'unused' }).getWriteApi('convwatch', 'scores', 'ms', { batchSize: Number(batchSize) });
const perDevice = Number(total) / 10;
for (let device = 0; device < 10; device++) {
  for (let i = 0; i < perDevice; i++) {
    writeApi.writePoint(new Point(measurement).tag('device', 'd' + device).floatField('score', i / 8).timestamp(Number(baseTimeMs) + i));
  }
}
await writeApi.close();
process.exit(0);
`;

function runNodeScript(script: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

// ---------------------------------------------------------------------------------------------

describe('Mosquitto test broker', () => {
  const broker = useMosquitto();

  it('listens on a free loopback port, not on 1883', () => {
    expect(broker().url).toBe(`mqtt://127.0.0.1:${broker().port}`);
    expect(broker().port).not.toBe(1883);
    expect(broker().isRunning()).toBe(true);
  });

  it('(a) queues 1,000 QoS 1 messages for an offline persistent session and delivers all on reconnect', async () => {
    const clientId = 'convwatch-it-offline-1000';
    await subscribeAndLeave(broker().url, clientId, 'it/offline/+/reading');
    await publishSequence(broker().url, 'it/offline/dev1/reading', 1_000);
    await expectQueuedMessagesDelivered(broker(), clientId, 1_000);
  });

  it('(b) keeps queued messages of an offline persistent session across a graceful broker restart', async () => {
    const clientId = 'convwatch-it-restart';
    await subscribeAndLeave(broker().url, clientId, 'it/restart/#');
    await publishSequence(broker().url, 'it/restart/dev1', 500);
    const portBefore = broker().port;
    await broker().restart();
    expect(broker().port).toBe(portBefore);
    await expectQueuedMessagesDelivered(broker(), clientId, 500);
  });

  it('(b) keeps queued messages across a crash (SIGKILL) once they were autosaved', async () => {
    const clientId = 'convwatch-it-crash';
    await subscribeAndLeave(broker().url, clientId, 'it/crash/#');
    await publishSequence(broker().url, 'it/crash/dev1', 500);
    await broker().waitForSave();
    await broker().kill9();
    expect(broker().isRunning()).toBe(false);
    await broker().restart();
    await expectQueuedMessagesDelivered(broker(), clientId, 500);
  });

  it('without persistence, a restart forgets the session (control: the restart tests above can fail)', async () => {
    const volatile = await startMosquitto({ persistence: false });
    try {
      const clientId = 'convwatch-it-volatile';
      await subscribeAndLeave(volatile.url, clientId, 'it/volatile/#');
      await publishSequence(volatile.url, 'it/volatile/dev1', 10);
      await volatile.restart();
      const subscriber = await connectSubscriber(volatile.url, clientId);
      try {
        expect(subscriber.connack.sessionPresent).toBe(false);
        // Give a (wrongly) kept queue time to arrive before asserting that nothing came.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(subscriber.received).toEqual([]);
      } finally {
        await subscriber.client.endAsync();
      }
    } finally {
      await volatile.stop();
    }
  });
});

describe('VictoriaMetrics test TSDB (InfluxDB v2 write API)', () => {
  const tsdb = useVictoriaMetrics();

  it('(c) stores Influx points as <measurement>_<field> series with tags as labels, exact values and ms timestamps', async () => {
    const writer = confirmedWriter(tsdb().url, { batchSize: 1_000 });
    const rows = [
      { device: 'dev-1', t: BASE_TIME_MS + 0, score: 0.125, anomaly: false, contribX: 0.5 },
      { device: 'dev-1', t: BASE_TIME_MS + 1, score: 7.75, anomaly: true, contribX: -1.25 },
      { device: 'dev-1', t: BASE_TIME_MS + 1_001, score: 0.1, anomaly: false, contribX: 123456.789 },
      { device: 'dev 2', t: BASE_TIME_MS + 5, score: 42, anomaly: true, contribX: 0 },
    ];
    for (const row of rows) {
      writer.writeApi.writePoint(
        new Point('anomaly')
          .tag('device', row.device)
          .tag('model', 'tcn-v1')
          .floatField('score', row.score)
          .booleanField('anomaly', row.anomaly)
          .floatField('contrib_x', row.contribX)
          .timestamp(row.t),
      );
    }
    await writer.writeApi.close();
    // Fewer lines than batchSize: the one batch is the one close() waits for.
    expect(writer.confirmed()).toBe(rows.length);

    const series = await tsdb().exportSeries('{__name__=~"anomaly_.*"}');
    const byKey = new Map(series.map((s) => [`${s.metric.__name__}|${s.metric.device}`, s]));
    expect([...byKey.keys()].sort()).toEqual([
      'anomaly_anomaly|dev 2',
      'anomaly_anomaly|dev-1',
      'anomaly_contrib_x|dev 2',
      'anomaly_contrib_x|dev-1',
      'anomaly_score|dev 2',
      'anomaly_score|dev-1',
    ]);
    // Only the tags become labels: org and bucket do not.
    expect(byKey.get('anomaly_score|dev-1')?.metric).toEqual({ __name__: 'anomaly_score', device: 'dev-1', model: 'tcn-v1' });
    expect(byKey.get('anomaly_score|dev-1')).toMatchObject({ values: [0.125, 7.75, 0.1], timestamps: [BASE_TIME_MS, BASE_TIME_MS + 1, BASE_TIME_MS + 1_001] });
    expect(byKey.get('anomaly_contrib_x|dev-1')).toMatchObject({ values: [0.5, -1.25, 123456.789] });
    // Booleans are stored as 1 and 0.
    expect(byKey.get('anomaly_anomaly|dev-1')).toMatchObject({ values: [0, 1, 0] });
    expect(byKey.get('anomaly_score|dev 2')).toMatchObject({ values: [42], timestamps: [BASE_TIME_MS + 5] });
    expect(byKey.get('anomaly_anomaly|dev 2')).toMatchObject({ values: [1] });
    expect(byKey.get('anomaly_contrib_x|dev 2')).toMatchObject({ values: [0] });
  });

  it('(c) keeps about 12 significant digits of a float64, not all 17', async () => {
    const writer = confirmedWriter(tsdb().url, {});
    writer.writeApi.writePoint(new Point('precision').floatField('pi', Math.PI).timestamp(BASE_TIME_MS));
    await writer.writeApi.close();
    const [series] = await tsdb().exportSeries('precision_pi');
    const stored = series?.values[0] ?? NaN;
    expect(stored).not.toBe(Math.PI);
    expect(Math.abs(stored - Math.PI) / Math.PI).toBeLessThan(1e-11);
  });

  it('(c) stores a point written twice (same tags and timestamp) once, thanks to -dedup.minScrapeInterval=1ms', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      // Two separate requests, as when a replayed reading rewrites its point.
      const writer = confirmedWriter(tsdb().url, {});
      writer.writeApi.writePoint(new Point('rewrite').tag('device', 'd1').floatField('score', 0.5).timestamp(BASE_TIME_MS + 7));
      writer.writeApi.writePoint(new Point('rewrite').tag('device', 'd1').floatField('score', 0.25).timestamp(BASE_TIME_MS + 8));
      await writer.writeApi.close();
      expect(writer.confirmed()).toBe(2);
    }
    const series = await tsdb().exportSeries('rewrite_score');
    expect(series).toHaveLength(1);
    expect(series[0]).toMatchObject({ values: [0.5, 0.25], timestamps: [BASE_TIME_MS + 7, BASE_TIME_MS + 8] });
  });

  it('without the dedup flag, the same point written twice is stored twice (control)', async () => {
    const plain = await startVictoriaMetrics({ dedupIntervalMs: 0 });
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const writer = confirmedWriter(plain.url, {});
        writer.writeApi.writePoint(new Point('rewrite').tag('device', 'd1').floatField('score', 0.5).timestamp(BASE_TIME_MS + 7));
        await writer.writeApi.close();
      }
      expect(await plain.countPoints('rewrite_score')).toBe(2);
    } finally {
      await plain.stop();
    }
  });

  it('(d) close() resolves before full batches are confirmed; counting writeSuccess lines tells when all arrived', async () => {
    const total = 100_000;
    const writer = confirmedWriter(tsdb().url, { batchSize: 5_000 });
    writer.writeApi.writePoints(probePoints('closeprobe', total));
    await writer.writeApi.close();
    // close() only awaits the last, partly filled batch. 100,000 points are exactly 20 full
    // batches, each sent as soon as it filled and not awaited by close(): when close() resolves
    // (in the same turn of the event loop, before any HTTP response) nothing is confirmed yet.
    expect(writer.confirmed()).toBe(0);
    // (Counting in VictoriaMetrics at this moment, after a force flush, found 0 of 100,000 in
    // every trial; it is a race with the 20 requests in flight, so it is not asserted.)

    await waitFor(() => writer.confirmed() + writer.failed() === total, {
      what: `${total} confirmed or failed lines`,
      timeoutMs: 20_000,
      progress: () => `confirmed ${writer.confirmed()}, failed ${writer.failed()}`,
    });
    expect(writer.failed()).toBe(0);
    expect(writer.confirmed()).toBe(total);
    expect(await tsdb().countPoints('closeprobe_score')).toBe(total);
  });

  it('(d) a process that exits right after close() resolved delivers none of 100,000 points', async () => {
    const total = 100_000;
    const { code, output } = await runNodeScript(EXIT_AFTER_CLOSE_SCRIPT, [
      tsdb().url,
      'exitprobe',
      String(total),
      '5000',
      String(BASE_TIME_MS),
    ]);
    expect({ code, output }).toEqual({ code: 0, output: '' });
    // The 20 batch requests had not even connected when process.exit() ran.
    expect(await tsdb().countPoints('exitprobe_score')).toBe(0);
  });
});

describe('test server lifecycle', () => {
  it('stop() ends the processes and deletes their data directories', async () => {
    const broker = await startMosquitto();
    const tsdb = await startVictoriaMetrics();
    const pids = [broker.pid(), tsdb.pid()];
    expect(pids.every((pid) => pid !== undefined && isAlive(pid))).toBe(true);
    expect(existsSync(broker.dataDir) && existsSync(tsdb.dataDir)).toBe(true);
    await Promise.all([broker.stop(), tsdb.stop()]);
    expect(pids.map((pid) => pid !== undefined && isAlive(pid))).toEqual([false, false]);
    expect([existsSync(broker.dataDir), existsSync(tsdb.dataDir)]).toEqual([false, false]);
    await expect(broker.restart()).rejects.toThrow(/restart\(\) after stop\(\)/);
  });

  it('a busy port fails the start with the server output in the error', async () => {
    const first = await startMosquitto({ persistence: false });
    try {
      const second = startMosquitto({ port: first.port, persistence: false });
      await expect(second).rejects.toBeInstanceOf(ServerStartError);
      await expect(second).rejects.toThrow(/exited with exit code 1 before it was ready[\s\S]*Address already in use/);
    } finally {
      await first.stop();
    }
  });

  it('a port held by another VictoriaMetrics fails the start instead of adopting that server', async () => {
    const first = await startVictoriaMetrics();
    try {
      await expect(startVictoriaMetrics({ port: first.port })).rejects.toThrow(/exited with exit code \d+[\s\S]*address already in use/);
    } finally {
      await first.stop();
    }
  });

  it('a bad flag fails the start with the server output in the error', async () => {
    await expect(startVictoriaMetrics({ extraFlags: ['-no.such.flag=1'] })).rejects.toThrow(
      /victoria-metrics .* exited with exit code \d+ before it was ready[\s\S]*no.such.flag/,
    );
  });

  it('a missing binary is reported with how to install it', () => {
    expect(() => findExecutable(MOSQUITTO_EXECUTABLE, { PATH: '/nonexistent' })).not.toThrow(); // found in /usr/sbin
    expect(() => findExecutable({ ...MOSQUITTO_EXECUTABLE, extraDirs: [] }, { PATH: '/nonexistent' })).toThrow(
      'mosquitto not found: the integration tests start a real mosquitto server. Install it with `apt-get install mosquitto`',
    );
    expect(() => findExecutable(MOSQUITTO_EXECUTABLE, { CONVWATCH_MOSQUITTO_BIN: '/nonexistent/mosquitto' })).toThrow(
      'CONVWATCH_MOSQUITTO_BIN=/nonexistent/mosquitto is not an executable file',
    );
  });

  it('rejects out-of-range options before starting anything', async () => {
    await expect(startMosquitto({ port: 70_000 })).rejects.toThrow('startMosquitto: option port must be an integer in [1, 65535], got 70000');
    await expect(startVictoriaMetrics({ dedupIntervalMs: -1 })).rejects.toThrow('option dedupIntervalMs must be an integer');
  });
});
