import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { replay } from '../../src/io/replay-publisher.js';
import { useMosquitto } from '../support/servers.js';

async function cli(...args: string[]): Promise<void> {
  const program = buildProgram().exitOverride();
  for (const c of program.commands) c.exitOverride();
  await program.parseAsync(['node', 'convwatch', ...args]);
}

describe('convwatch replay against a real Mosquitto', () => {
  const broker = useMosquitto();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convwatch-replay-'));
    process.env['CONVWATCH_LOG_LEVEL'] = 'silent';
    await cli('simulate', '--out', join(dir, 'rec.csv'), '--devices', '3', '--rows', '400', '--anomalies', 'none', '--seed', '5');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes every row as a JSON reading on its device topic, in order per device', async () => {
    const sub = await mqtt.connectAsync(broker().url, { clientId: 'replay-sub', clean: true });
    const got = new Map<string, { time: string; temperature_c: number }[]>();
    sub.on('message', (topic, payload) => {
      const device = topic.split('/')[1]!;
      if (!got.has(device)) got.set(device, []);
      got.get(device)!.push(JSON.parse(payload.toString()) as { time: string; temperature_c: number });
    });
    await sub.subscribeAsync('plant/+/data', { qos: 1 });
    await cli('replay', '--data', join(dir, 'rec.csv'), '--broker', broker().url, '--topic', 'plant/{device}/data', '--device-column', 'device', '--max-rate', '--max-in-flight', '50');
    const end = Date.now() + 10_000;
    while ([...got.values()].reduce((s, v) => s + v.length, 0) < 1200 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await sub.endAsync();
    expect([...got.keys()].sort()).toEqual(['device-0', 'device-1', 'device-2']);
    for (const readings of got.values()) {
      expect(readings).toHaveLength(400);
      const times = readings.map((r) => Date.parse(r.time));
      expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
      expect(Object.keys(readings[0]!)).toEqual(['time', 'temperature_c', 'pressure_bar', 'flow_m3h', 'vibration_rms_mm_s', 'motor_current_a', 'speed_rpm', 'power_kw', 'bearing_temp_c']);
    }
  });

  it('never has more publishes in flight than the window, and reports acknowledged counts', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ device: 'd', timeMs: i * 1000, values: { x: i } }));
    const summary = await replay(rows, { brokerUrl: broker().url, clientId: 'replay-window', topicTemplate: 't/{device}', qos: 1, pace: { kind: 'max' }, startNow: false, maxInFlight: 7, passes: 2, protocolVersion: 5 });
    expect(summary).toMatchObject({ published: 600, acknowledged: 600, failed: 0, total: 600, stoppedEarly: false });
  });

  it('rejects conflicting pacing flags', async () => {
    await expect(cli('replay', '--data', join(dir, 'rec.csv'), '--broker', broker().url, '--topic', 't/{device}', '--rate', '10', '--max-rate')).rejects.toThrow(/at most one of --speed, --rate, --max-rate/);
  });
});
