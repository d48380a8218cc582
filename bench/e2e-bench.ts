/**
 * Issue 4 benchmark: end-to-end throughput through a real Mosquitto, side by side with a raw
 * mqtt.js QoS-1 subscriber that does nothing (the ceiling), and publish → alert latency. The
 * service scores every reading with the demo model (8 channels) and writes points to a
 * line-protocol file.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { startRun } from '../src/cli/run-command.js';
import { parseConfig } from '../src/config/load-config.js';
import type { Config } from '../src/config/resolve-config.js';
import { replay, type ReplayRow } from '../src/io/replay-publisher.js';
import { simulate } from '../src/sim/sensor-simulator.js';
import { startMosquitto } from '../test/support/servers.js';
import { markdownTable } from './harness.js';

export interface E2eRow {
  contender: string;
  readings: number;
  seconds: number;
  perSecond: number;
}

/** Runs the publisher child (bench/e2e-publisher.ts) and resolves with its report. */
function publishFromChild(url: string, clientId: string, topicTemplate: string, devices: number, rowsPerDevice: number): Promise<{ startMs: number; endMs: number; published: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./e2e-publisher.ts', import.meta.url)), url, clientId, topicTemplate, String(devices), String(rowsPerDevice)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`publisher exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop() as string) as { startMs: number; endMs: number; published: number });
    });
  });
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
};

function serviceConfig(url: string, id: string, dir: string): Config {
  const cfg = parseConfig(
    {
      mqtt: { url, clientId: id, protocolVersion: 5 },
      subscriptions: [{ topic: `${id}/{device}/t`, codec: 'json-object' }],
      models: [{ name: 'demo', path: fileURLToPath(new URL('../models/demo/', import.meta.url)) }],
      output: { kind: 'line-protocol-file', path: join(dir, `points-${id}.lp`) },
      state: { checkpointDir: join(dir, `ckpt-${id}`) },
      http: { enabled: false },
      pipeline: { maxClockSkewMs: 0 },
    },
    {},
    { cwd: dir, hostname: 'bench' },
  );
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
  return cfg.config;
}

const RAW = 'raw mqtt.js QoS-1 subscriber';
const SERVICE = 'convwatch run (score + line-protocol file)';
const RAW_DRAIN = 'raw subscriber, draining a queued backlog';
const SERVICE_DRAIN = 'convwatch run, draining a queued backlog';

/**
 * Throughput, two ways, each contender side by side in every round:
 * - live: a separate publisher process pushes the recording at full speed while the contender
 *   subscribes (readings/s from the first publish to the last reading handled — for the service,
 *   its last point appended to the file);
 * - backlog: the recording is queued in the contender's persistent session while it is offline,
 *   then drained (its processing capacity on one core, with no publisher running).
 */
export async function runE2eBench(options: { quick: boolean }): Promise<E2eRow[]> {
  const broker = await startMosquitto({ maxInflightMessages: 1000 });
  const dir = await mkdtemp(join(tmpdir(), 'convwatch-e2e-'));
  const devices = 8;
  const perDevice = options.quick ? 1000 : 6000;
  const n = devices * perDevice;
  const out: E2eRow[] = [];
  const session = { clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } };
  try {
    for (let round = 0; round < (options.quick ? 1 : 5); round++) {
      // Live, raw.
      {
        const id = `raw${round}`;
        const sub = await mqtt.connectAsync(broker.url, { clientId: id, ...session });
        let got = 0;
        let lastMs = 0;
        sub.on('message', () => {
          got++;
          lastMs = Date.now();
        });
        await sub.subscribeAsync(`${id}/+/t`, { qos: 1 });
        const pub = await publishFromChild(broker.url, `pub-${id}`, `${id}/{device}/t`, devices, perDevice);
        await until(() => got >= n);
        out.push({ contender: RAW, readings: got, seconds: (lastMs - pub.startMs) / 1000, perSecond: got / ((lastMs - pub.startMs) / 1000) });
        await sub.endAsync();
      }
      // Live, service.
      {
        const id = `svc${round}`;
        const run = await startRun(serviceConfig(broker.url, id, dir), pino({ level: 'silent' }));
        const pub = await publishFromChild(broker.url, `pub-${id}`, `${id}/{device}/t`, devices, perDevice);
        await until(() => run.service.status().points.confirmed >= n);
        const secs = (Date.now() - pub.startMs) / 1000;
        out.push({ contender: SERVICE, readings: n, seconds: secs, perSecond: n / secs });
        await run.stop('bench');
      }
      // Backlog, raw.
      {
        const id = `rawq${round}`;
        const first = await mqtt.connectAsync(broker.url, { clientId: id, ...session });
        await first.subscribeAsync(`${id}/+/t`, { qos: 1 });
        await first.endAsync();
        await publishFromChild(broker.url, `pub-${id}`, `${id}/{device}/t`, devices, perDevice);
        let got = 0;
        let t0 = 0;
        let t1 = 0;
        const sub = mqtt.connect(broker.url, { clientId: id, ...session });
        sub.on('message', () => {
          if (got++ === 0) t0 = performance.now();
          t1 = performance.now();
        });
        await until(() => got >= n);
        out.push({ contender: RAW_DRAIN, readings: got, seconds: (t1 - t0) / 1000, perSecond: got / ((t1 - t0) / 1000) });
        await sub.endAsync();
      }
      // Backlog, service.
      {
        const id = `svcq${round}`;
        const cfg = serviceConfig(broker.url, id, dir);
        const first = await startRun(cfg, pino({ level: 'silent' }));
        await first.stop('bench');
        await publishFromChild(broker.url, `pub-${id}`, `${id}/{device}/t`, devices, perDevice);
        const run = await startRun(cfg, pino({ level: 'silent' }));
        // Counted from the moment the service is up (model loading is not throughput).
        const t0 = performance.now();
        const c0 = run.service.status().points.confirmed;
        await until(() => run.service.status().points.confirmed >= n);
        const secs = (performance.now() - t0) / 1000;
        out.push({ contender: SERVICE_DRAIN, readings: n - c0, seconds: secs, perSecond: (n - c0) / secs });
        await run.stop('bench');
      }
    }
  } finally {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
  // Latency: publish → alert at a fixed 2,000 readings/s, spikes injected on one device.
  const lat = await alertLatency(options.quick);
  out.push(...lat.rows);
  const rates = (name: string): number[] => out.filter((r) => r.contender === name).map((r) => r.perSecond);
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
  };
  // Ratios are taken round by round (the two contenders ran back to back), then the median.
  const ratio = (a: string, b: string): number => median(rates(a).map((x, i) => x / (rates(b)[i] as number)));
  console.log(`\n### end to end through Mosquitto: ${n} readings of ${devices} devices × 8 channels, QoS 1, publisher window 1000 (separate process), ${rates(RAW).length} rounds\n`);
  console.log(markdownTable(['contender', 'readings/s (median)', '× raw subscriber (median of per-round ratios)', 'per-round ratios'], [
    ['live: raw mqtt.js QoS-1 subscriber (ceiling)', median(rates(RAW)).toFixed(0), '1.00', ''],
    ['live: convwatch run (decode, assemble, score, file, ack)', median(rates(SERVICE)).toFixed(0), ratio(SERVICE, RAW).toFixed(2), rates(SERVICE).map((x, i) => (x / (rates(RAW)[i] as number)).toFixed(2)).join(' ')],
    ['backlog: raw subscriber draining a queued session', median(rates(RAW_DRAIN)).toFixed(0), '1.00', ''],
    ['backlog: convwatch run draining a queued session', median(rates(SERVICE_DRAIN)).toFixed(0), ratio(SERVICE_DRAIN, RAW_DRAIN).toFixed(2), rates(SERVICE_DRAIN).map((x, i) => (x / (rates(RAW_DRAIN)[i] as number)).toFixed(2)).join(' ')],
  ]));
  console.log(`\n### publish → alert latency at 2,000 readings/s (8 devices, ${lat.alerts} alerts): p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms, max ${lat.max.toFixed(1)} ms\n`);
  return out;
}

/** Publishes 8 devices at 2,000 readings/s in real time with spikes and measures reading time → alert arrival. */
async function alertLatency(quick: boolean): Promise<{ rows: E2eRow[]; alerts: number; p50: number; p99: number; max: number }> {
  const broker = await startMosquitto({ maxInflightMessages: 1000 });
  const dir = await mkdtemp(join(tmpdir(), 'convwatch-lat-'));
  try {
    const seconds = quick ? 6 : 20;
    const perDevice = 250 * seconds; // 8 devices × 250/s = 2,000 readings/s
    const rec = simulate({ devices: 8, rows: perDevice, anomalies: 'none' }, 4);
    const C = rec.channels.length;
    const rows: ReplayRow[] = [];
    for (let t = 0; t < perDevice; t++) {
      for (const d of rec.devices) {
        const values: Record<string, number> = {};
        rec.channels.forEach((c, i) => (values[c] = (d.values[t * C + i] as number) + (i === 1 && t > 500 && t % 250 === 0 ? 20 : 0)));
        rows.push({ device: d.id, timeMs: Date.UTC(2026, 0, 1) + t * 4, values });
      }
    }
    const cfg = parseConfig(
      {
        mqtt: { url: broker.url, clientId: 'svc-lat', protocolVersion: 5 },
        subscriptions: [{ topic: 'lat/{device}/t', codec: 'json-object' }],
        models: [{ name: 'demo', path: fileURLToPath(new URL('../models/demo/', import.meta.url)) }],
        output: { kind: 'line-protocol-file', path: join(dir, 'points.lp') },
        state: { checkpointDir: join(dir, 'ckpt') },
        http: { enabled: false },
        alerts: { topic: 'lat-alerts/{device}', closeAfter: 1 },
        pipeline: { maxClockSkewMs: 0 },
      },
      {},
      { cwd: dir, hostname: 'bench' },
    );
    if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
    const run = await startRun(cfg.config, pino({ level: 'silent' }));
    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'lat-watch' });
    const latencies: number[] = [];
    watcher.on('message', (_t, payload) => {
      const a = JSON.parse(payload.toString()) as { kind: string; startTime: string };
      if (a.kind === 'start') latencies.push(Date.now() - Date.parse(a.startTime));
    });
    await watcher.subscribeAsync('lat-alerts/#', { qos: 1 });
    await replay(rows, { brokerUrl: broker.url, clientId: 'pub-lat', topicTemplate: 'lat/{device}/t', qos: 1, pace: { kind: 'rate', perSecond: 2000 }, startNow: true, maxInFlight: 1000, passes: 1, protocolVersion: 5 });
    await new Promise((r) => setTimeout(r, 500));
    await watcher.endAsync();
    await run.stop('bench');
    const s = [...latencies].sort((a, b) => a - b);
    const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
    return { rows: [{ contender: 'publish→alert latency p99 ms', readings: s.length, seconds: q(0.99) / 1000, perSecond: 0 }], alerts: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1] ?? Number.NaN };
  } finally {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
