import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../support/find-executable.js';
import { canConnect, freePort, LOOPBACK_HOST } from '../support/free-port.js';
import { spawnManaged, type ManagedProcess } from '../support/managed-process.js';
import { MOSQUITTO_EXECUTABLE } from '../support/mosquitto.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { waitUntilReady } from '../support/wait-until-ready.js';
import { REPO } from './deploy-files.js';

// The compose stack's Mosquitto setup, run for real (no Docker): the init script writes the
// password file with mosquitto_passwd, and the broker runs deploy/compose/mosquitto/mosquitto.conf
// with only the container paths and the ports rewritten. Checks authentication, the ACL, the
// health-check listener, and that a persistent session keeps more than Mosquitto's default
// 1,000 queued messages across a broker restart.

const DIR = join(REPO, 'deploy/compose/mosquitto');
const PASSWORDS = { convwatch: 'cw-3b1f0e9a', replayer: 'rp-77c2d410' };
const TOPIC = 'plant/north/machine-1/telemetry';
const QUEUED = 1500;

describe('deploy/compose/mosquitto with a real Mosquitto', () => {
  let dir: TempDir;
  let broker: ManagedProcess | undefined;
  let port = 0;
  let healthPort = 0;
  const url = (): string => `mqtt://${LOOPBACK_HOST}:${port}`;
  const binary = findExecutable(MOSQUITTO_EXECUTABLE);
  const passwdBinary = findExecutable({ ...MOSQUITTO_EXECUTABLE, name: 'mosquitto_passwd', envVar: 'CONVWATCH_MOSQUITTO_PASSWD_BIN' });

  async function start(): Promise<void> {
    const proc = spawnManaged({ name: 'mosquitto', command: binary, args: ['-c', join(dir.path, 'mosquitto.conf')], cwd: dir.path });
    await waitUntilReady(proc, async () => /mosquitto version \S+ running/.test(proc.logs()) && (await canConnect(port)), `to accept connections on ${port}`, 15_000);
    broker = proc;
  }

  const connect = (options: mqtt.IClientOptions, at = url()): Promise<MqttClient> =>
    mqtt.connectAsync(at, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...options });

  beforeAll(async () => {
    dir = await createTempDir('convwatch-deploy-mosquitto-');
    // The init script, as the mosquitto-init service runs it (owner: this user instead of 1883).
    execFileSync('sh', [join(DIR, 'init-passwords.sh')], {
      env: {
        PATH: `${dirname(passwdBinary)}:/usr/bin:/bin`,
        MQTT_CONVWATCH_PASSWORD: PASSWORDS.convwatch,
        MQTT_REPLAYER_PASSWORD: PASSWORDS.replayer,
        MOSQUITTO_PASSWD_FILE: join(dir.path, 'auth-passwd'),
        MOSQUITTO_UID: String(process.getuid?.() ?? 0),
      },
      stdio: 'pipe',
    });
    writeFileSync(join(dir.path, 'acl'), readFileSync(join(DIR, 'acl')));
    writeFileSync(join(dir.path, 'acl-healthcheck'), readFileSync(join(DIR, 'acl-healthcheck')));
    port = await freePort();
    healthPort = await freePort();
    const conf = readFileSync(join(DIR, 'mosquitto.conf'), 'utf8')
      .replace(/^listener 1883$/m, `listener ${port} ${LOOPBACK_HOST}`)
      .replace(/^listener 1880 127\.0\.0\.1$/m, `listener ${healthPort} ${LOOPBACK_HOST}`)
      .replace('/mosquitto/auth/passwd', join(dir.path, 'auth-passwd'))
      .replace('/mosquitto/config/acl-healthcheck', join(dir.path, 'acl-healthcheck'))
      .replace('/mosquitto/config/acl', join(dir.path, 'acl'))
      .replace('/mosquitto/data/', `${dir.path}/`);
    expect(conf).not.toContain('/mosquitto/');
    // As root, Mosquitto would switch to the mosquitto user, which cannot read our temp dir.
    writeFileSync(join(dir.path, 'mosquitto.conf'), process.getuid?.() === 0 ? `${conf}\nuser root\n` : conf);
    await start();
  });
  afterAll(async () => {
    await broker?.stop();
    await dir?.remove();
  });

  it('the init script writes salted hashes, readable by the owner only', () => {
    const file = join(dir.path, 'auth-passwd');
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter((l) => l !== '').map((l) => l.split(':')[0])).toEqual(['convwatch', 'replayer']);
    expect(text).not.toContain(PASSWORDS.convwatch);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses anonymous clients and wrong passwords on the published listener', async () => {
    await expect(connect({ clientId: 'anon' })).rejects.toThrow(/[Nn]ot authori[sz]ed|Bad User Name or Password/);
    await expect(connect({ clientId: 'bad', username: 'replayer', password: 'wrong' })).rejects.toThrow(/[Nn]ot authori[sz]ed|Bad User Name or Password/);
  });

  it('lets the replayer publish readings that convwatch reads, and nothing else', async () => {
    const cw = await connect({ clientId: 'cw-acl', username: 'convwatch', password: PASSWORDS.convwatch });
    const pub = await connect({ clientId: 'rp-acl', username: 'replayer', password: PASSWORDS.replayer });
    const got: string[] = [];
    cw.on('message', (_t, p) => got.push(p.toString()));
    await cw.subscribeAsync('plant/+/+/telemetry', { qos: 1 });
    // MQTT 5: the broker refuses in the PUBACK (convwatch may not publish readings). Then an
    // allowed reading: once it is in, the refused one would have been delivered too.
    await expect(cw.publishAsync(TOPIC, 'forged-by-convwatch', { qos: 1 })).rejects.toThrow(/Not authorized/);
    await expect(pub.publishAsync('convwatch/alerts/demo/machine-1', 'forged-by-replayer', { qos: 1 })).rejects.toThrow(/Not authorized/);
    await pub.publishAsync(TOPIC, 'reading', { qos: 1 });
    await waitFor(() => got.length > 0, { what: 'the reading' });
    expect(got).toEqual(['reading']);
    await cw.endAsync();
    await pub.endAsync();
  });

  it('answers the health check on the loopback listener without credentials', async () => {
    const probe = await connect({ clientId: 'health', protocolVersion: 4 }, `mqtt://${LOOPBACK_HOST}:${healthPort}`);
    const got: string[] = [];
    probe.on('message', (t) => got.push(t));
    await probe.subscribeAsync('$SYS/broker/uptime', { qos: 0 });
    await waitFor(() => got.length > 0, { what: '$SYS/broker/uptime' });
    expect(got[0]).toBe('$SYS/broker/uptime');
    await probe.endAsync();
  });

  it(`keeps ${QUEUED} readings (more than the default limit of 1000) for an offline convwatch, across a broker restart`, async () => {
    const session = { clientId: 'convwatch-compose', username: 'convwatch', password: PASSWORDS.convwatch, clean: false, properties: { sessionExpiryInterval: 3600 } };
    const first = await connect(session);
    await first.subscribeAsync('plant/+/+/telemetry', { qos: 1 });
    await first.endAsync();

    const pub = await connect({ clientId: 'rp-queue', username: 'replayer', password: PASSWORDS.replayer });
    for (let i = 0; i < QUEUED; i++) await pub.publishAsync(TOPIC, String(i), { qos: 1 });
    await pub.endAsync();

    // A clean stop saves the database (persistence on the volume in compose).
    await broker?.stop();
    await start();

    const received = new Set<string>();
    const back = mqtt.connect(url(), { ...session, protocolVersion: 5, reconnectPeriod: 0 });
    back.on('message', (_t, p) => received.add(p.toString()));
    try {
      await waitFor(() => received.size === QUEUED, { what: `${QUEUED} queued readings`, timeoutMs: 20_000, progress: () => `${received.size} received` });
      expect(received.has('0') && received.has(String(QUEUED - 1))).toBe(true);
    } finally {
      await back.endAsync();
    }
  });
});
