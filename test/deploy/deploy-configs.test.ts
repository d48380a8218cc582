import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig, type LoadConfigResult } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/resolve-config.js';
import { asArray, asRecord, at, interpolateDeep, mapPaths, parseEnvFile, readText, readYaml, REPO } from './deploy-files.js';

// The configurations shipped for containers and the gateway name paths of those machines
// (/app/models/demo, /var/lib/convwatch/...). Mapped onto this checkout and a temporary
// directory, they go through the project's real loader: schema, cross-section rules, file
// checks, environment variables, secrets. A configuration that would not start fails here.

const work = mkdtempSync(join(tmpdir(), 'convwatch-deploy-config-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const state = join(work, 'state');
const containerPaths = new Map([
  ['/app/', `${REPO}/`],
  ['/var/lib/convwatch', state],
]);

function configOf(r: LoadConfigResult): Config {
  if (!r.ok) throw new Error(`expected a valid configuration:\n${r.issues.map((i) => `  - ${i.message}`).join('\n')}`);
  return r.config;
}

/** The environment a compose service gets, with the values of .env.example. */
function composeEnvironment(service: string): Record<string, string> {
  const vars = parseEnvFile(readText('deploy/compose/.env.example'));
  const compose = interpolateDeep(readYaml('deploy/compose/docker-compose.yml'), vars);
  return Object.fromEntries(Object.entries(asRecord(at(compose, `services.${service}.environment`), service)).map(([k, v]) => [k, String(v)]));
}

describe('deploy/compose/convwatch/convwatch.yaml', () => {
  const env = composeEnvironment('convwatch');
  const load = (): LoadConfigResult => parseConfig(mapPaths(readYaml('deploy/compose/convwatch/convwatch.yaml'), containerPaths), env, { cwd: work, hostname: '3f2a9c1d7e4b' });

  it('loads with the environment compose gives the container, without warnings', () => {
    const r = load();
    const c = configOf(r);
    expect(r.warnings).toEqual([]);
    expect(c.mqtt.password).toBe(env['CONVWATCH_MQTT_PASSWORD']);
    expect(c.influx.token).toBe(env['CONVWATCH_INFLUX_TOKEN']);
    expect(c.influx.org).toBe(env['CONVWATCH_INFLUX__ORG']);
    expect(c.models).toEqual([{ name: 'demo', path: join(REPO, 'models/demo'), devices: ['*'] }]);
    expect(c.output).toEqual({ kind: 'influx', measurement: 'anomaly' });
  });

  it('keeps its MQTT client id whatever the container host name (the persistent session survives a re-create)', () => {
    const a = configOf(parseConfig(mapPaths(readYaml('deploy/compose/convwatch/convwatch.yaml'), containerPaths), env, { cwd: work, hostname: 'aaaa' }));
    const b = configOf(parseConfig(mapPaths(readYaml('deploy/compose/convwatch/convwatch.yaml'), containerPaths), env, { cwd: work, hostname: 'bbbb' }));
    expect(a.mqtt.clientId).toBe(b.mqtt.clientId);
  });

  it('refuses an empty bucket from the environment (the loader really reads the variables compose sets)', () => {
    const r = parseConfig(mapPaths(readYaml('deploy/compose/convwatch/convwatch.yaml'), containerPaths), { ...env, CONVWATCH_INFLUX__BUCKET: '' }, { cwd: work, hostname: 'x' });
    expect(r.ok).toBe(false);
  });
});

describe('deploy/k8s/convwatch.yaml', () => {
  const sts = readYaml('deploy/k8s/statefulset.yaml');
  const container = asRecord(asArray(at(sts, 'spec.template.spec.containers'), 'containers')[0], 'container');
  const secrets = parseEnvFile(readText('deploy/k8s/secrets.env.example'));
  // The container's environment, each secretKeyRef replaced by the example's placeholder.
  const env = Object.fromEntries(
    asArray(container['env'], 'env').map((e) => {
      const key = String(at(e, 'valueFrom.secretKeyRef.key') ?? '');
      return [String(at(e, 'name')), key === '' ? String(at(e, 'value')) : (secrets.get(key) ?? '')];
    }),
  );
  const load = (hostname: string): LoadConfigResult => parseConfig(mapPaths(readYaml('deploy/k8s/convwatch.yaml'), containerPaths), env, { cwd: work, hostname });
  const replicas = Number(at(sts, 'spec.replicas'));

  it('loads in every pod of the StatefulSet, each with its own partition index and client id', () => {
    const configs = Array.from({ length: replicas }, (_, i) => load(`convwatch-${i}`));
    for (const r of configs) expect(r.warnings).toEqual([]);
    const loaded = configs.map(configOf);
    expect(loaded.map((c) => c.partition)).toEqual(Array.from({ length: replicas }, (_, index) => ({ kind: 'hash', count: replicas, index })));
    expect(new Set(loaded.map((c) => c.mqtt.clientId)).size).toBe(replicas);
    expect(loaded[0]?.mqtt.clientId).toBe('convwatch-convwatch-0');
    expect(loaded[0]?.mqtt.password).toBe(secrets.get('mqtt-password'));
  });

  it('refuses a pod beyond partition.count (replicas raised without the config)', () => {
    const r = load(`convwatch-${replicas}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(['partition.index']);
  });
});

describe('deploy/systemd/convwatch.yaml', () => {
  const credentials = join(work, 'credentials');
  mkdirSync(credentials, { recursive: true });
  writeFileSync(join(credentials, 'mqtt-password'), 'mqtt-secret-from-credential\n');
  writeFileSync(join(credentials, 'influx-token'), 'influx-secret-from-credential\n');
  const gatewayPaths = new Map([
    ['/opt/convwatch/', `${REPO}/`],
    ['/var/lib/convwatch', state],
    ['/run/credentials/convwatch.service', credentials],
  ]);
  const env = Object.fromEntries(parseEnvFile(readText('deploy/systemd/convwatch.env.example')));

  it('loads with the credential files systemd provides and the example environment file', () => {
    const r = parseConfig(mapPaths(readYaml('deploy/systemd/convwatch.yaml'), gatewayPaths), env, { cwd: work, hostname: 'gateway-7' });
    const c = configOf(r);
    expect(r.warnings).toEqual([]);
    expect(c.mqtt.password).toBe('mqtt-secret-from-credential');
    expect(c.influx.token).toBe('influx-secret-from-credential');
    expect(c.mqtt.clientId).toBe('convwatch-gateway-7');
    expect(c.http.listen).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('fails when a credential is missing (LoadCredential= not set up)', () => {
    const r = parseConfig(mapPaths(readYaml('deploy/systemd/convwatch.yaml'), new Map([...gatewayPaths, ['/run/credentials/convwatch.service', join(work, 'nowhere')]])), env, { cwd: work, hostname: 'g' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path).sort()).toEqual(['influx.tokenFile', 'mqtt.passwordFile']);
  });
});

describe('one measurement everywhere', () => {
  it('every shipped configuration writes the measurement the dashboard and the alert rules query', () => {
    for (const file of ['deploy/compose/convwatch/convwatch.yaml', 'deploy/k8s/convwatch.yaml', 'deploy/systemd/convwatch.yaml']) {
      expect(at(readYaml(file), 'output.measurement'), file).toBe('anomaly');
    }
  });
});
