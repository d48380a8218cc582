/**
 * Issue 4 benchmark (first cut): end-to-end throughput through a real Mosquitto, side by side
 * with a raw mqtt.js QoS-1 subscriber that does nothing (the ceiling). The service scores every
 * reading with the demo model (8 channels) and writes points to a line-protocol file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { startRun } from '../src/cli/run-command.js';
import { parseConfig } from '../src/config/load-config.js';
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

function recording(devices: number, rowsPerDevice: number): ReplayRow[] {
  const rec = simulate({ devices, rows: rowsPerDevice, anomalies: 'none' }, 3);
  const C = rec.channels.length;
  const rows: ReplayRow[] = [];
  for (let t = 0; t < rowsPerDevice; t++) {
    for (const d of rec.devices) {
      const values: Record<string, number> = {};
      rec.channels.forEach((c, i) => (values[c] = d.values[t * C + i] as number));
      rows.push({ device: d.id, timeMs: d.timesMs[t] as number, values });
    }
  }
  return rows;
}

export async function runE2eBench(options: { quick: boolean }): Promise<E2eRow[]> {
  const broker = await startMosquitto({ maxInflightMessages: 1000 });
  const dir = await mkdtemp(join(tmpdir(), 'convwatch-e2e-'));
  const rows = recording(8, options.quick ? 1000 : 4000);
  const out: E2eRow[] = [];
  try {
    for (let round = 0; round < (options.quick ? 1 : 3); round++) {
      // Ceiling: a raw QoS-1 subscriber in a persistent session.
      const sub = mqtt.connect(broker.url, { clientId: `raw-${round}`, clean: false, protocolVersion: 5 });
      let got = 0;
      let last = 0;
      sub.on('message', () => {
        got++;
        last = performance.now();
      });
      await new Promise<void>((r) => sub.once('connect', () => r()));
      await sub.subscribeAsync(`raw${round}/+/t`, { qos: 1 });
      const t0 = performance.now();
      await replay(rows, { brokerUrl: broker.url, clientId: `pub-raw-${round}`, topicTemplate: `raw${round}/{device}/t`, qos: 1, pace: { kind: 'max' }, startNow: false, maxInFlight: 1000, passes: 1, protocolVersion: 5 });
      while (got < rows.length) await new Promise((r) => setTimeout(r, 5));
      out.push({ contender: 'raw mqtt.js QoS-1 subscriber', readings: got, seconds: (last - t0) / 1000, perSecond: got / ((last - t0) / 1000) });
      await sub.endAsync();

      // The service.
      const cfg = parseConfig(
        {
          mqtt: { url: broker.url, clientId: `svc-${round}`, protocolVersion: 5 },
          subscriptions: [{ topic: `svc${round}/{device}/t`, codec: 'json-object' }],
          models: [{ name: 'demo', path: fileURLToPath(new URL('../models/demo/', import.meta.url)) }],
          output: { kind: 'line-protocol-file', path: join(dir, `points-${round}.lp`) },
          state: { checkpointDir: join(dir, `ckpt-${round}`) },
          http: { enabled: false },
          pipeline: { maxClockSkewMs: 0 },
        },
        {},
        { cwd: dir, hostname: 'bench' },
      );
      if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
      const run = await startRun(cfg.config, pino({ level: 'silent' }));
      const s0 = performance.now();
      await replay(rows, { brokerUrl: broker.url, clientId: `pub-svc-${round}`, topicTemplate: `svc${round}/{device}/t`, qos: 1, pace: { kind: 'max' }, startNow: false, maxInFlight: 1000, passes: 1, protocolVersion: 5 });
      while (run.service.status().points.confirmed < rows.length) await new Promise((r) => setTimeout(r, 5));
      const secs = (performance.now() - s0) / 1000;
      out.push({ contender: 'convwatch run (score + line-protocol file)', readings: rows.length, seconds: secs, perSecond: rows.length / secs });
      await run.stop('bench');
    }
  } finally {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
  // Latency: publish → alert at a fixed 2,000 readings/s, spikes injected on one device.
  const lat = await alertLatency(options.quick);
  out.push(...lat.rows);
  const median = (name: string): number => {
    const xs = out.filter((r) => r.contender === name).map((r) => r.perSecond).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)] as number;
  };
  const raw = median('raw mqtt.js QoS-1 subscriber');
  const svc = median('convwatch run (score + line-protocol file)');
  console.log(`\n### end to end through Mosquitto: ${rows.length} readings of 8 devices × 8 channels, QoS 1, publisher window 1000\n`);
  console.log(markdownTable(['contender', 'readings/s (median)', '× raw subscriber'], [
    ['raw mqtt.js QoS-1 subscriber (ceiling)', raw.toFixed(0), '1.00'],
    ['convwatch run (decode, assemble, score, spool/file, ack)', svc.toFixed(0), (svc / raw).toFixed(2)],
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
