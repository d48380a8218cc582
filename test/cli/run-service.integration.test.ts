import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun, type StartedRun } from '../../src/cli/run-command.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/resolve-config.js';
import { loadModel } from '../../src/io/model-dir.js';
import { simulate, type SimulatedRecording } from '../../src/sim/sensor-simulator.js';
import { useMosquitto, useVictoriaMetrics } from '../support/servers.js';

const MODEL_DIR = fileURLToPath(new URL('../../models/demo/', import.meta.url));
const silent = pino({ level: 'silent' });

async function waitFor<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T = await get();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await get();
  }
  return last;
}

describe('convwatch run against real Mosquitto and VictoriaMetrics', () => {
  const broker = useMosquitto();
  const vm = useVictoriaMetrics();
  let dir: string;
  let rec: SimulatedRecording;
  let watcher: MqttClient;
  const alerts: { topic: string; body: { kind: string; device: string; topChannels: { channel: string }[] } }[] = [];
  const deadLetters: { reason: string }[] = [];

  function config(): Config {
    const r = parseConfig(
      {
        mqtt: { url: broker().url, clientId: 'convwatch-it', protocolVersion: 5 },
        subscriptions: [{ topic: 'plant/{device}/telemetry', codec: 'json-object' }],
        models: [{ name: 'demo', path: MODEL_DIR, devices: ['*'] }],
        output: { kind: 'influx', measurement: 'anomaly' },
        influx: { url: vm().url, org: 'o', bucket: 'b', token: 'test-token-never-logged', flushIntervalMs: 50, spool: { dir: join(dir, 'spool') } },
        alerts: { topic: 'convwatch/alerts/{device}' },
        deadLetter: { topic: 'convwatch/dead/{reason}' },
        state: { checkpointDir: join(dir, 'checkpoints') },
        http: { listen: '127.0.0.1:0' },
        pipeline: { maxClockSkewMs: 0 },
      },
      {},
      { cwd: dir, hostname: 'test-host' },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.config;
  }

  async function publishRows(device: string, from: number, to: number): Promise<void> {
    const pub = await mqtt.connectAsync(broker().url, { clientId: `pub-${device}-${from}` });
    const d = rec.devices.find((x) => x.id === device)!;
    const C = rec.channels.length;
    for (let t = from; t < to; t++) {
      const body: Record<string, number | string> = { time: new Date(d.timesMs[t]!).toISOString() };
      rec.channels.forEach((c, i) => (body[c] = d.values[t * C + i]!));
      await pub.publishAsync(`plant/${device}/telemetry`, JSON.stringify(body), { qos: 1 });
    }
    await pub.endAsync();
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convwatch-run-'));
    rec = simulate(
      {
        devices: ['pump-a', 'pump-b'],
        rows: 420,
        anomalies: [{ kind: 'spike', device: 'pump-a', channels: ['pressure_bar'], startRow: 300, lengthRows: 3, magnitude: 12 }],
      },
      99,
    );
    watcher = await mqtt.connectAsync(broker().url, { clientId: 'watcher' });
    watcher.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString()) as never;
      if (topic.startsWith('convwatch/alerts/')) alerts.push({ topic, body });
      else deadLetters.push(body);
    });
    await watcher.subscribeAsync(['convwatch/alerts/#', 'convwatch/dead/#'], { qos: 1 });
  });
  afterAll(async () => {
    await watcher?.endAsync();
    await rm(dir, { recursive: true, force: true });
  });

  let run: StartedRun;

  it('scores every reading into one point each, alerts on the injected spike, and dead-letters bad input', async () => {
    run = await startRun(config(), silent);
    await publishRows('pump-a', 0, 400);
    await publishRows('pump-b', 0, 400);
    const bad = await mqtt.connectAsync(broker().url, { clientId: 'bad' });
    await bad.publishAsync('plant/pump-c/telemetry', '{ not json', { qos: 1 });
    await bad.publishAsync('plant/pump-c/telemetry', JSON.stringify({ time: new Date().toISOString(), pressure_bar: 'high' }), { qos: 1 });
    await bad.endAsync();
    await waitFor('800 points in VictoriaMetrics', () => vm().countPoints('anomaly_threshold'), (n) => n === 800);
    expect(await vm().countPoints('anomaly_threshold{device="pump-a",model="demo"}')).toBe(400);
    await waitFor('an alert for pump-a', async () => alerts.length, (n) => n > 0);
    const start = alerts.find((a) => a.body.kind === 'start' && a.body.device === 'pump-a');
    expect(start?.topic).toBe('convwatch/alerts/pump-a');
    expect(start?.body.topChannels[0]?.channel).toBe('pressure_bar');
    await waitFor('two dead letters', async () => deadLetters.length, (n) => n === 2);
    const scrape = await (await fetch(`${run.service.httpUrl}/metrics`)).text();
    expect(scrape).toMatch(/convwatch_readings_total\{model="demo"\} 800/);
    expect(scrape).toMatch(/convwatch_dead_letters_total\{reason="invalid-json"\} 1/);
    expect(scrape).toMatch(/convwatch_alerts_total\{kind="start"\} [1-9]/);
    expect(deadLetters.map((d) => d.reason).sort()).toEqual(['invalid-json', 'not-a-number']);
    // The token appears nowhere the service could have logged it: it is not even in the status.
    expect(JSON.stringify(run.service.status(), (_k, v: unknown) => (v instanceof Map ? [...v] : v))).not.toContain('test-token-never-logged');
  });

  it('writes the same scores the offline stream computes for the same readings (live ≡ offline)', async () => {
    const detector = await loadModel(MODEL_DIR);
    const d = rec.devices.find((x) => x.id === 'pump-b')!;
    const stream = detector.createStream();
    const C = rec.channels.length;
    const expected = new Map<number, number>();
    for (let t = 0; t < 400; t++) {
      const r = stream.push(d.values.subarray(t * C, (t + 1) * C), d.timesMs[t]!);
      if (r.ready) expected.set(d.timesMs[t]!, r.score);
    }
    const [series] = await vm().exportSeries('anomaly_score{device="pump-b"}');
    expect(series!.values.length).toBe(expected.size);
    series!.timestamps.forEach((ts, i) => {
      const e = expected.get(ts)!;
      // VictoriaMetrics keeps ~12 significant digits; the service's WASM kernel differs from the
      // JS kernel by float32 rounding only.
      expect(Math.abs(series!.values[i]! - e)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(e)));
    });
  });

  it('stops gracefully with every point confirmed and a checkpoint, then resumes without a new warm-up', async () => {
    const { unconfirmed } = await run.stop('test');
    expect(unconfirmed).toBe(0);
    expect((await readdir(join(dir, 'checkpoints'))).some((f) => f.startsWith('demo.') && f.endsWith('.ckpt'))).toBe(true);
    run = await startRun(config(), silent);
    await publishRows('pump-b', 400, 420);
    await waitFor('20 more points', () => vm().countPoints('anomaly_ready{device="pump-b"}'), (n) => n === 420);
    const [ready] = await vm().exportSeries('anomaly_ready{device="pump-b"}');
    const after = ready!.timestamps.map((ts, i) => [ts, ready!.values[i]!] as const).filter(([ts]) => ts >= rec.devices[1]!.timesMs[400]!);
    expect(after).toHaveLength(20);
    expect(after.every(([, v]) => v === 1)).toBe(true);
    // And the resumed scores are those of an uninterrupted stream over all 420 readings.
    const detector = await loadModel(MODEL_DIR);
    const d = rec.devices.find((x) => x.id === 'pump-b')!;
    const stream = detector.createStream();
    const C = rec.channels.length;
    const expected = new Map<number, number>();
    for (let t = 0; t < 420; t++) expected.set(d.timesMs[t]!, stream.push(d.values.subarray(t * C, (t + 1) * C), d.timesMs[t]!).score);
    const [scores] = await vm().exportSeries('anomaly_score{device="pump-b"}');
    const resumed = scores!.timestamps.map((ts, i) => [ts, scores!.values[i]!] as const).filter(([ts]) => ts >= d.timesMs[400]!);
    expect(resumed).toHaveLength(20);
    for (const [ts, v] of resumed) expect(Math.abs(v - expected.get(ts)!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(expected.get(ts)!)));
    await run.stop('test');
  });
});
