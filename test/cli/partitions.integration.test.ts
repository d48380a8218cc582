import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun, type StartedRun } from '../../src/cli/run-command.js';
import { parseConfig } from '../../src/config/load-config.js';
import { devicePartition } from '../../src/config/partition.js';
import { replay, type ReplayRow } from '../../src/io/replay-publisher.js';
import { useMosquitto } from '../support/servers.js';

const MODEL_DIR = fileURLToPath(new URL('../../models/demo/', import.meta.url));
const DEVICES = Array.from({ length: 12 }, (_, i) => `pump-${i}`);
const READINGS = 30;

describe('scale-out with static hash partitions: two instances, one real Mosquitto', () => {
  const broker = useMosquitto();
  let dir: string;
  const runs: StartedRun[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convwatch-partitions-'));
  });
  afterAll(async () => {
    for (const r of runs) await r.stop('test');
    await rm(dir, { recursive: true, force: true });
  });

  it('scores every reading of every device exactly once, by the instance its id hashes to', async () => {
    for (const index of [0, 1]) {
      const r = parseConfig(
        {
          mqtt: { url: broker().url, clientId: `convwatch-part-${index}` },
          subscriptions: [{ topic: 'site/{device}/telemetry', codec: 'json-object' }],
          models: [{ name: 'demo', path: MODEL_DIR }],
          output: { kind: 'line-protocol-file', path: join(dir, `points-${index}.lp`) },
          state: { checkpointDir: join(dir, `ckpt-${index}`) },
          http: { enabled: false },
          pipeline: { maxClockSkewMs: 0 },
          partition: { kind: 'hash', count: 2, index },
        },
        {},
        { cwd: dir, hostname: `convwatch-${index}` },
      );
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      runs.push(await startRun(r.config, pino({ level: 'silent' })));
    }
    const rows: ReplayRow[] = [];
    for (let t = 0; t < READINGS; t++) for (const device of DEVICES) rows.push({ device, timeMs: Date.UTC(2026, 0, 1) + t * 1000, values: { temperature_c: 60, pressure_bar: 6, flow_m3h: 40, vibration_rms_mm_s: 2, motor_current_a: 18, speed_rpm: 1450, power_kw: 10, bearing_temp_c: 45 } });
    await replay(rows, { brokerUrl: broker().url, clientId: 'pub', topicTemplate: 'site/{device}/telemetry', qos: 1, pace: { kind: 'max' }, startNow: false, maxInFlight: 200, passes: 1, protocolVersion: 5 });
    const end = Date.now() + 20_000;
    const total = (): number => runs.reduce((s, r) => s + r.service.status().points.confirmed, 0);
    while (total() < rows.length && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(total()).toBe(rows.length);
    for (const [index, run] of runs.entries()) {
      const lines = (await readFile(join(dir, `points-${index}.lp`), 'utf8')).trim().split('\n');
      const perDevice = new Map<string, number>();
      for (const line of lines) {
        const device = /device=([^,\s]+)/.exec(line)![1]!;
        perDevice.set(device, (perDevice.get(device) ?? 0) + 1);
      }
      const mine = DEVICES.filter((d) => devicePartition(d, 2) === index);
      expect([...perDevice.keys()].sort()).toEqual(mine.sort());
      for (const d of mine) expect(perDevice.get(d)).toBe(READINGS);
      expect(run.service.status().otherPartition).toBe((DEVICES.length - mine.length) * READINGS);
    }
    // Both partitions got devices (the hash spreads 12 ids), so the test exercises both instances.
    expect(DEVICES.filter((d) => devicePartition(d, 2) === 0).length).toBeGreaterThan(0);
    expect(DEVICES.filter((d) => devicePartition(d, 2) === 1).length).toBeGreaterThan(0);
  });
});
