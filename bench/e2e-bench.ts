/**
 * Issue 4 benchmark: end-to-end throughput through a real Mosquitto, side by side with a raw
 * mqtt.js QoS-1 subscriber that does nothing (the ceiling), and publish → alert latency. The
 * service scores every reading with the demo model (8 channels) and writes points to a
 * line-protocol file.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { parseConfig } from '../src/config/load-config.js';
import { replay, type ReplayRow } from '../src/io/replay-publisher.js';
import { simulate } from '../src/sim/sensor-simulator.js';
import { type ManagedProcess, spawnManaged } from '../test/support/managed-process.js';
import { startMosquitto } from '../test/support/servers.js';
import { waitFor } from '../test/support/wait-for.js';
import { markdownTable } from './harness.js';

export interface E2eRow {
  contender: string;
  readings: number;
  seconds: number;
  perSecond: number;
}

const NODE_TSX = [process.execPath, '--import', 'tsx'] as const;
const DIST_MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** A managed child (test/support: output kept, never outlives the bench) whose lines are collected from the start. */
interface Child {
  readonly process: ManagedProcess;
  /** Resolves with the first line, seen or to come, that contains `text`. */
  lineWith(text: string, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the child has exited (keeps the bench alive meanwhile). */
  exitCode(timeoutMs?: number): Promise<number | null>;
}

function startChild(name: string, command: readonly string[], env?: NodeJS.ProcessEnv): Child {
  const proc = spawnManaged({ name, command: command[0] as string, args: command.slice(1), ...(env === undefined ? {} : { env }) });
  const lines: string[] = [];
  proc.onLine((line) => lines.push(line));
  const failure = (what: string): Error => new Error(`${name}: ${what}:\n${proc.logs().slice(-2000)}`);
  return {
    process: proc,
    // Event-driven (no polling in the bench process while contenders are measured); the timer
    // keeps the event loop alive, since managed children are unref'd.
    lineWith: (text, timeoutMs = 60_000) =>
      new Promise<string>((resolve, reject) => {
        const seen = lines.find((l) => l.includes(text));
        if (seen !== undefined) return resolve(seen);
        const timer = setTimeout(() => reject(failure(`no line with ${JSON.stringify(text)} within ${timeoutMs} ms`)), timeoutMs);
        const off = proc.onLine((line) => {
          if (!line.includes(text)) return;
          clearTimeout(timer);
          off();
          resolve(line);
        });
        void proc.exited.then((exit) => {
          clearTimeout(timer);
          off();
          const late = lines.find((l) => l.includes(text));
          if (late !== undefined) resolve(late);
          else reject(failure(`exited (${JSON.stringify(exit)}) before a line with ${JSON.stringify(text)}`));
        });
      }),
    exitCode: async (timeoutMs = 60_000) => {
      await waitFor(() => proc.exitInfo() !== undefined, { what: `${name} to exit`, timeoutMs, progress: () => proc.logs().slice(-2000) });
      return (proc.exitInfo() as { code: number | null }).code;
    },
  };
}

/** Runs the publisher child (bench/e2e-publisher.ts) and resolves with its report. */
async function publishFromChild(url: string, clientId: string, topicTemplate: string, devices: number, rowsPerDevice: number): Promise<{ startMs: number; endMs: number; published: number }> {
  const child = startChild('publisher', [...NODE_TSX, fileURLToPath(new URL('./e2e-publisher.ts', import.meta.url)), url, clientId, topicTemplate, String(devices), String(rowsPerDevice)]);
  const line = await child.lineWith('"startMs"', 600_000);
  await child.exitCode();
  return JSON.parse(line) as { startMs: number; endMs: number; published: number };
}

/** The raw subscriber child (bench/e2e-raw-subscriber.ts). */
function rawSubscriber(url: string, id: string, mode: 'register' | 'count', expected = 0): Child {
  return startChild('raw subscriber', [...NODE_TSX, fileURLToPath(new URL('./e2e-raw-subscriber.ts', import.meta.url)), url, id, `${id}/+/t`, mode, String(expected)]);
}

/** Writes the service's configuration file: demo model, one JSON topic per device, points to a file. */
async function serviceConfigFile(url: string, id: string, dir: string): Promise<{ file: string; output: string }> {
  const output = join(dir, `points-${id}.lp`);
  const config = {
    mqtt: { url, clientId: id, protocolVersion: 5 },
    subscriptions: [{ topic: `${id}/{device}/t`, codec: 'json-object' }],
    models: [{ name: 'demo', path: fileURLToPath(new URL('../models/demo/', import.meta.url)) }],
    output: { kind: 'line-protocol-file', path: output },
    state: { checkpointDir: join(dir, `ckpt-${id}`) },
    http: { enabled: false },
    pipeline: { maxClockSkewMs: 0 },
  };
  const parsed = parseConfig(config, {}, { cwd: dir, hostname: 'bench' });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const file = join(dir, `${id}.json`);
  await writeFile(file, JSON.stringify(config));
  return { file, output };
}

/** Starts `node dist/cli/main.js run` (the shipped build) and resolves once it runs, with its own start time. */
async function startServiceChild(configFile: string): Promise<{ child: Child; runningAtMs: number; running: string }> {
  const child = startChild('convwatch run', [process.execPath, DIST_MAIN, 'run', '--config', configFile], { ...process.env, CONVWATCH_LOG_LEVEL: 'info' });
  const running = await child.lineWith('"convwatch running"');
  return { child, runningAtMs: (JSON.parse(running) as { time: number }).time, running };
}

async function stopServiceChild(child: Child): Promise<void> {
  const exit = await child.process.stop('SIGTERM', 60_000);
  if (exit.code !== 0) throw new Error(`service exited with ${JSON.stringify(exit)}:\n${child.process.logs().slice(-2000)}`);
}

/**
 * Waits until the service's output file holds `n` points and returns the time of the last write
 * (the file's mtime). Only `stat` is polled: the service is not disturbed.
 */
async function lastPointWrittenMs(file: string, n: number): Promise<number> {
  let size = -1;
  let stableSince = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const st = await stat(file).catch(() => null);
    const now = Date.now();
    if (st === null || st.size !== size) {
      size = st?.size ?? -1;
      stableSince = now;
      continue;
    }
    if (now - stableSince < 400) continue;
    const lines = (await readFile(file, 'utf8')).split('\n').length - 1;
    if (lines >= n) return st.mtimeMs;
    if (now - stableSince > 10_000) throw new Error(`${file}: ${lines} of ${n} points, no progress for 10 s`);
  }
}

const RAW = 'raw mqtt.js QoS-1 subscriber';
const SERVICE = 'convwatch run (score + line-protocol file)';
const RAW_DRAIN = 'raw subscriber, draining a queued backlog';
const SERVICE_DRAIN = 'convwatch run, draining a queued backlog';

/**
 * Throughput, two ways, each contender side by side in every round. Every party is its own
 * process: the publisher, the raw subscriber, and the service as shipped (`node dist/cli/main.js
 * run`; `npm run bench` builds it first).
 * - live: the publisher pushes the recording at full speed while the contender is subscribed;
 *   readings/s from the first publish to the last message handled (for the service: the last
 *   point appended to its file);
 * - backlog: the recording is queued in the contender's persistent session while it is offline,
 *   then drained: processing capacity with no publisher running (from the service's own
 *   "running" log time, or the raw subscriber's first message, to the last one).
 */
export async function runE2eBench(options: { quick: boolean }): Promise<E2eRow[]> {
  await stat(DIST_MAIN).catch(() => {
    throw new Error(`${DIST_MAIN} is missing: run \`npm run build\` first (npm run bench does)`);
  });
  const broker = await startMosquitto({ maxInflightMessages: 1000 });
  const dir = await mkdtemp(join(tmpdir(), 'convwatch-e2e-'));
  const devices = 8;
  const perDevice = options.quick ? 1000 : 6000;
  const n = devices * perDevice;
  const out: E2eRow[] = [];
  try {
    for (let round = 0; round < (options.quick ? 1 : 5); round++) {
      // Live, raw.
      {
        const id = `raw${round}`;
        const sub = rawSubscriber(broker.url, id, 'count', n);
        await sub.lineWith('ready');
        const pub = await publishFromChild(broker.url, `pub-${id}`, `${id}/{device}/t`, devices, perDevice);
        const r = JSON.parse(await sub.lineWith('"lastMs"', 600_000)) as { lastMs: number; received: number };
        out.push({ contender: RAW, readings: r.received, seconds: (r.lastMs - pub.startMs) / 1000, perSecond: r.received / ((r.lastMs - pub.startMs) / 1000) });
      }
      // Live, service.
      {
        const id = `svc${round}`;
        const { file, output } = await serviceConfigFile(broker.url, id, dir);
        const { child } = await startServiceChild(file);
        const pub = await publishFromChild(broker.url, `pub-${id}`, `${id}/{device}/t`, devices, perDevice);
        const endMs = await lastPointWrittenMs(output, n);
        out.push({ contender: SERVICE, readings: n, seconds: (endMs - pub.startMs) / 1000, perSecond: n / ((endMs - pub.startMs) / 1000) });
        await stopServiceChild(child);
      }
      // Backlog, raw.
      {
        const id = `rawq${round}`;
        await rawSubscriber(broker.url, id, 'register').exitCode();
        await publishFromChild(broker.url, `pub-${id}`, `${id}/{device}/t`, devices, perDevice);
        const sub = rawSubscriber(broker.url, id, 'count', n);
        const r = JSON.parse(await sub.lineWith('"lastMs"', 600_000)) as { firstMs: number; lastMs: number; received: number };
        out.push({ contender: RAW_DRAIN, readings: r.received, seconds: (r.lastMs - r.firstMs) / 1000, perSecond: r.received / ((r.lastMs - r.firstMs) / 1000) });
      }
      // Backlog, service.
      {
        const id = `svcq${round}`;
        const { file, output } = await serviceConfigFile(broker.url, id, dir);
        await stopServiceChild((await startServiceChild(file)).child);
        await publishFromChild(broker.url, `pub-${id}`, `${id}/{device}/t`, devices, perDevice);
        const { child, runningAtMs } = await startServiceChild(file);
        const endMs = await lastPointWrittenMs(output, n);
        out.push({ contender: SERVICE_DRAIN, readings: n, seconds: (endMs - runningAtMs) / 1000, perSecond: n / ((endMs - runningAtMs) / 1000) });
        await stopServiceChild(child);
      }
    }
  } finally {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
  // Latency: publish → alert at a fixed 2,000 readings/s, spikes injected on one device.
  const lat = await alertLatency(options.quick);
  out.push(...lat.rows);
  const memory = await serviceMemory(options.quick ? [1, 1000] : [1, 1000, 10_000]);
  for (const m of memory) out.push({ contender: `memory ${m.devices} devices: RSS MiB`, readings: m.devices, seconds: 0, perSecond: m.rssMiB });
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
  // The slope between the two largest runs: both have warmed up (compiled code, buffers).
  const first = memory[memory.length - 2] as (typeof memory)[number];
  const last = memory[memory.length - 1] as (typeof memory)[number];
  const perDeviceKB = ((last.rssMiB - first.rssMiB) * 2 ** 20) / Math.max(1, last.devices - first.devices) / 1000;
  console.log(`\n### memory of \`convwatch run\` (demo model) with N live devices, from its own /metrics\n`);
  console.log(markdownTable(['live devices', 'RSS MiB', 'V8 heap used MiB', 'external MiB'], memory.map((m) => [String(m.devices), m.rssMiB.toFixed(1), m.heapMiB.toFixed(1), m.externalMiB.toFixed(1)])));
  console.log(`\nRSS slope ${first.devices} → ${last.devices} devices: ${perDeviceKB.toFixed(1)} KB per live device; ${last.devices} devices: ${last.rssMiB.toFixed(0)} MiB (target < 400 MB)`);
  console.log(`\n### publish → alert latency at 2,000 readings/s (8 devices, ${lat.alerts} alerts): p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms, max ${lat.max.toFixed(1)} ms\n`);
  return out;
}

/**
 * Memory of the service as shipped, per live device: for each N, a fresh `convwatch run`
 * (`pipeline.maxDevices` = N) takes 4 readings of each of N devices, then its own /metrics gives
 * the RSS, V8 heap and external (ArrayBuffer) memory.
 */
async function serviceMemory(counts: readonly number[]): Promise<{ devices: number; rssMiB: number; heapMiB: number; externalMiB: number }[]> {
  const broker = await startMosquitto({ maxInflightMessages: 1000 });
  const dir = await mkdtemp(join(tmpdir(), 'convwatch-mem-'));
  const rows: { devices: number; rssMiB: number; heapMiB: number; externalMiB: number }[] = [];
  try {
    for (const devices of counts) {
      const id = `mem${devices}`;
      const output = join(dir, `${id}.lp`);
      const config = {
        mqtt: { url: broker.url, clientId: id, protocolVersion: 5 },
        subscriptions: [{ topic: `${id}/{device}/t`, codec: 'json-object' }],
        models: [{ name: 'demo', path: fileURLToPath(new URL('../models/demo/', import.meta.url)) }],
        output: { kind: 'line-protocol-file', path: output },
        state: { checkpointDir: join(dir, `ckpt-${id}`) },
        http: { listen: '127.0.0.1:0' },
        pipeline: { maxClockSkewMs: 0, maxDevices: Math.max(1, devices) },
      };
      await writeFile(join(dir, `${id}.json`), JSON.stringify(config));
      const { child, running } = await startServiceChild(join(dir, `${id}.json`));
      const http = (JSON.parse(running) as { http: string }).http;
      if (devices > 0) {
        await publishFromChild(broker.url, `pub-${id}`, `${id}/{device}/t`, devices, 4);
        await lastPointWrittenMs(output, devices * 4);
      }
      await new Promise((r) => setTimeout(r, 1000));
      const text = await (await fetch(`${http}/metrics`)).text();
      const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN) / 2 ** 20;
      rows.push({ devices, rssMiB: metric('process_resident_memory_bytes'), heapMiB: metric('nodejs_heap_size_used_bytes'), externalMiB: metric('nodejs_external_memory_bytes') });
      await stopServiceChild(child);
    }
  } finally {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
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
    const config = {
      mqtt: { url: broker.url, clientId: 'svc-lat', protocolVersion: 5 },
      subscriptions: [{ topic: 'lat/{device}/t', codec: 'json-object' }],
      models: [{ name: 'demo', path: fileURLToPath(new URL('../models/demo/', import.meta.url)) }],
      output: { kind: 'line-protocol-file', path: join(dir, 'points.lp') },
      state: { checkpointDir: join(dir, 'ckpt') },
      http: { enabled: false },
      alerts: { topic: 'lat-alerts/{device}', closeAfter: 1 },
      pipeline: { maxClockSkewMs: 0 },
    };
    const parsed = parseConfig(config, {}, { cwd: dir, hostname: 'bench' });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    await writeFile(join(dir, 'lat.json'), JSON.stringify(config));
    const { child } = await startServiceChild(join(dir, 'lat.json'));
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
    await stopServiceChild(child);
    const s = [...latencies].sort((a, b) => a - b);
    const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
    return { rows: [{ contender: 'publish→alert latency p99 ms', readings: s.length, seconds: q(0.99) / 1000, perSecond: 0 }], alerts: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1] ?? Number.NaN };
  } finally {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
