import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/cli/run-command.js';
import { parseConfig } from '../../src/config/load-config.js';
import { loadModel } from '../../src/io/model-dir.js';
import { simulate } from '../../src/sim/sensor-simulator.js';
import { useMosquitto } from '../support/servers.js';

const MODEL_DIR = fileURLToPath(new URL('../../models/demo/', import.meta.url));

/**
 * One message per channel: a reading is complete only when its eighth message has arrived. The
 * service must hold the first seven unacknowledged while it takes in the rest (an ack that waited
 * for the reading would stall MQTT.js on the first message until the assembly timer gave up).
 */
describe('per-channel topics through a real Mosquitto', () => {
  const broker = useMosquitto();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convwatch-per-channel-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('assembles every reading from its channel messages, complete, and scores it as the whole-reading stream would', async () => {
    const rows = 300;
    const rec = simulate({ devices: ['mixer-1'], rows, anomalies: 'none' }, 21);
    const d = rec.devices[0]!;
    const C = rec.channels.length;
    const parsed = parseConfig(
      {
        mqtt: { url: broker().url, clientId: 'per-channel-it', protocolVersion: 5 },
        subscriptions: [{ topic: 'line/{device}/{channel}', codec: 'json-object' }],
        models: [{ name: 'demo', path: MODEL_DIR }],
        output: { kind: 'line-protocol-file', path: join(dir, 'points.lp') },
        state: { checkpointDir: join(dir, 'checkpoints') },
        http: { enabled: false },
        // The assembly timer is long: a reading that needed it would make this test time out.
        pipeline: { maxClockSkewMs: 0, assembleWaitMs: 60_000 },
      },
      {},
      { cwd: dir, hostname: 'test-host' },
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const run = await startRun(parsed.config, pino({ level: 'silent' }));
    try {
      const pub = await mqtt.connectAsync(broker().url, { clientId: 'per-channel-pub' });
      const sends: Promise<unknown>[] = [];
      for (let t = 0; t < rows; t++) {
        const time = new Date(d.timesMs[t]!).toISOString();
        rec.channels.forEach((c, i) => sends.push(pub.publishAsync(`line/mixer-1/${c}`, JSON.stringify({ time, v: d.values[t * C + i] }), { qos: 1 })));
      }
      await Promise.all(sends);
      await pub.endAsync();
      const end = Date.now() + 20_000;
      while (run.service.status().points.confirmed < rows && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(run.service.status()).toMatchObject({ received: rows * C, deadLetters: 0, points: { confirmed: rows } });
    } finally {
      await run.stop('test');
    }
    // Same scores as the offline stream over whole readings (the file keeps the encoder's digits).
    const detector = await loadModel(MODEL_DIR);
    const stream = detector.createStream();
    const expected = new Map<number, number>();
    for (let t = 0; t < rows; t++) {
      const r = stream.push(d.values.subarray(t * C, (t + 1) * C), d.timesMs[t]!);
      if (r.ready) expected.set(d.timesMs[t]!, r.score);
    }
    const lines = (await readFile(join(dir, 'points.lp'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(rows);
    let compared = 0;
    for (const line of lines) {
      const score = /[ ,]score=([^,\s]+)/.exec(line);
      const timeMs = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (score === null) continue;
      const e = expected.get(timeMs)!;
      expect(Math.abs(Number(score[1]) - e)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(e)));
      compared++;
    }
    expect(compared).toBe(expected.size);
    expect(compared).toBeGreaterThan(0);
  });
});
