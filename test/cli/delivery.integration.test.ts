import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { simulate, type SimulatedRecording } from '../../src/sim/sensor-simulator.js';
import { useMosquitto, useVictoriaMetrics } from '../support/servers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ROWS = 1500;

async function waitFor<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = await get();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await get();
  }
  return last;
}

/**
 * Starts `convwatch run` as its own process and resolves once it logged that it runs. The
 * service runs in this very process (tsx as a loader, not tsx's CLI, which would put the service
 * in a grandchild that a SIGKILL of the child leaves running).
 */
function startServiceProcess(configFile: string, logs: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'run', '--config', configFile], { cwd: REPO, env: { ...process.env, CONVWATCH_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${logs.join('')}`)), 60_000);
    const onData = (b: Buffer): void => {
      logs.push(b.toString());
      if (b.toString().includes('convwatch running')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${logs.join('')}`));
    });
  });
}

describe('delivery guarantees of convwatch run (real Mosquitto, VictoriaMetrics, separate process)', () => {
  const broker = useMosquitto();
  const vm = useVictoriaMetrics();
  let dir: string;
  let rec: SimulatedRecording;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convwatch-delivery-'));
    rec = simulate({ devices: ['d-1', 'd-2'], rows: ROWS, anomalies: 'none' }, 17);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeConfig(name: string, measurement: string): Promise<string> {
    const file = join(dir, `${name}.yaml`);
    await writeFile(
      file,
      stringify({
        mqtt: { url: broker().url, clientId: `convwatch-${name}`, protocolVersion: 5, reconnectPeriodMs: 200 },
        subscriptions: [{ topic: `${name}/{device}/telemetry`, codec: 'json-object' }],
        models: [{ name: 'demo', path: join(REPO, 'models/demo') }],
        output: { kind: 'influx', measurement },
        influx: { url: vm().url, org: 'o', bucket: 'b', flushIntervalMs: 50, retryInitialMs: 100, retryMaxMs: 1000, spool: { dir: join(dir, `${name}-spool`) } },
        state: { checkpointDir: join(dir, `${name}-checkpoints`), checkpointIntervalMs: 1000 },
        http: { enabled: false },
        pipeline: { maxClockSkewMs: 0 },
      }),
    );
    return file;
  }

  async function publish(prefix: string, from: number, to: number): Promise<void> {
    const pub = await mqtt.connectAsync(broker().url, { clientId: `pub-${prefix}-${from}`, reconnectPeriod: 200 });
    const C = rec.channels.length;
    for (let t = from; t < to; t++) {
      for (const d of rec.devices) {
        const body: Record<string, number | string> = { time: new Date(d.timesMs[t]!).toISOString() };
        rec.channels.forEach((c, i) => (body[c] = d.values[t * C + i]!));
        await pub.publishAsync(`${prefix}/${d.id}/telemetry`, JSON.stringify(body), { qos: 1 });
      }
    }
    await pub.endAsync();
  }

  it('kill -9 in the middle of a stream, then a restart: every published reading is scored and written', async () => {
    const logs: string[] = [];
    const config = await writeConfig('k9', 'k9');
    let child = await startServiceProcess(config, logs);
    const publishing = publish('k9', 0, ROWS);
    await waitFor('some points', () => vm().countPoints('k9_threshold'), (n) => n > 300);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The kill fell in the middle of the stream: the publisher was not done.
    expect(await Promise.race([publishing.then(() => 'done'), new Promise((r) => setTimeout(() => r('publishing'), 0))])).toBe('publishing');
    await publishing; // the broker keeps queueing for the persistent session
    child = await startServiceProcess(config, logs);
    const n = await waitFor(`${2 * ROWS} points`, () => vm().countPoints('k9_threshold'), (x) => x >= 2 * ROWS);
    expect(n).toBe(2 * ROWS);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
  });

  it('SIGTERM drains: exit 0 only after every accepted reading is confirmed; the rest waits in the broker', async () => {
    const logs: string[] = [];
    const config = await writeConfig('term', 'term');
    let child = await startServiceProcess(config, logs);
    const publishing = publish('term', 0, 800);
    await waitFor('some points', () => vm().countPoints('term_threshold'), (n) => n > 200);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code, logs.join('')).toBe(0);
    // Counted right after the exit: what the service accepted is all confirmed, nothing in flight.
    const stopped = /"confirmed":(\d+)[^\n]*"msg":"stopped"/.exec(logs.join(''));
    expect(stopped, logs.join('')).not.toBeNull();
    const confirmed = Number(stopped![1]);
    expect(await vm().countPoints('term_threshold'), logs.join('')).toBe(confirmed);
    expect(logs.join('')).not.toMatch(/"unconfirmed":[1-9]/);
    // Readings published after intake stopped stayed queued in the broker for the session.
    await publishing;
    child = await startServiceProcess(config, logs);
    expect(await waitFor('1600 points', () => vm().countPoints('term_threshold'), (n) => n >= 1600)).toBe(1600);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  });

  it('a SIGTERM the moment the service reports it runs still drains it and exits 0', async () => {
    const logs: string[] = [];
    const child = await startServiceProcess(await writeConfig('early', 'early'), logs);
    child.kill('SIGTERM'); // no time for anything after the "convwatch running" line
    const code = await new Promise((r) => child.once('exit', r));
    expect(code, logs.join('')).toBe(0);
    expect(logs.join('')).toContain('"msg":"stopped"');
  });

  it('a broker restart mid-stream: the service reconnects, resubscribes and loses nothing', async () => {
    const logs: string[] = [];
    const config = await writeConfig('br', 'br');
    const child = await startServiceProcess(config, logs);
    await publish('br', 0, 300);
    await waitFor('600 points before the restart', () => vm().countPoints('br_threshold'), (n) => n === 600);
    await broker().restart();
    await publish('br', 300, 600);
    const n = await waitFor('1200 points', () => vm().countPoints('br_threshold'), (x) => x >= 1200);
    expect(n).toBe(1200);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  });

  it('the TSDB down mid-stream: points wait in the spool and all arrive after it is back', { timeout: 90_000 }, async () => {
    const logs: string[] = [];
    const config = await writeConfig('out', 'out');
    const child = await startServiceProcess(config, logs);
    await publish('out', 0, 200);
    await waitFor('400 points before the outage', () => vm().countPoints('out_threshold'), (n) => n === 400);
    // A graceful stop (VictoriaMetrics persists what it accepted; after SIGKILL it loses its own
    // recent in-memory data, which would hide what this test is about).
    process.kill(vm().pid()!, 'SIGTERM');
    await waitFor('the TSDB to stop', async () => vm().isRunning(), (r) => !r);
    await publish('out', 200, 600); // scored and spooled while the TSDB is away
    await new Promise((r) => setTimeout(r, 3000));
    await vm().restart();
    const n = await waitFor("1200 points", () => vm().countPoints("out_threshold"), (x) => x >= 1200).catch(async (e: Error) => {
      const series = await vm().exportSeries('out_threshold');
      const detail = series.map((x) => `${x.metric['device']}: ${x.values.length} points, first ${x.timestamps[0]} last ${x.timestamps[x.timestamps.length - 1]}`).join('; ');
      throw new Error(`${e.message}\n${detail}\n${logs.join('').split('\n').filter((l) => l.includes('sink') || l.includes('warn') || l.includes('error')).slice(-20).join('\n')}`);
    });
    expect(n).toBe(1200);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  });
});
