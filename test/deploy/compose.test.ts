import { existsSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileTopicTemplate } from '../../src/config/topic-template.js';
import { fillTopic } from '../../src/io/alert-message.js';
import { asArray, asRecord, at, interpolateDeep, parseEnvFile, readText, readYaml, REPO } from './deploy-files.js';

const COMPOSE_DIR = 'deploy/compose';
const envExample = parseEnvFile(readText(`${COMPOSE_DIR}/.env.example`));
const compose = asRecord(interpolateDeep(readYaml(`${COMPOSE_DIR}/docker-compose.yml`), envExample), 'compose');
const services = asRecord(compose['services'], 'services');
const serviceNames = Object.keys(services);
const service = (name: string): Record<string, unknown> => asRecord(services[name], `services.${name}`);
const declaredVolumes = Object.keys(asRecord(compose['volumes'], 'volumes'));
const convwatchConfig = readYaml(`${COMPOSE_DIR}/convwatch/convwatch.yaml`);

/** Short-syntax volume entries `source:target[:mode]` of a service. */
function mounts(name: string): { source: string; target: string; readOnly: boolean }[] {
  return asArray(service(name)['volumes'], `${name}.volumes`).map((v) => {
    const [source = '', target = '', mode] = String(v).split(':');
    return { source, target, readOnly: mode === 'ro' };
  });
}
const isBind = (source: string): boolean => source.startsWith('.') || source.startsWith('/');

/** The services built from the project's Dockerfile (they inherit its HEALTHCHECK). */
const builtFromDockerfile = serviceNames.filter((n) => at(service(n), 'build.dockerfile') === 'deploy/docker/Dockerfile');

/** Every `scheme://host:port` in a string. */
function urlHosts(text: string): string[] {
  return [...text.matchAll(/\b(?:mqtts?|wss?|https?):\/\/(?:[^@/\s]*@)?([A-Za-z0-9_.-]+)(?::\d+)?/g)].map((m) => m[1] ?? '');
}

/** MQTT filter matching (+ one level, # the rest), for checking the ACL against real topics. */
function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** The ACL file as user → [access, filter][]. */
function readAcl(text: string): Map<string, [string, string][]> {
  const acl = new Map<string, [string, string][]>();
  let user = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const u = /^user\s+(\S+)$/.exec(line);
    if (u !== null) {
      user = u[1] ?? '';
      continue;
    }
    const t = /^topic\s+(read|write|readwrite)\s+(\S+)$/.exec(line);
    if (t === null) throw new Error(`acl: cannot read ${line}`);
    acl.set(user, [...(acl.get(user) ?? []), [t[1] ?? '', t[2] ?? '']]);
  }
  return acl;
}
const allows = (acl: Map<string, [string, string][]>, user: string, access: 'read' | 'write', topic: string): boolean =>
  (acl.get(user) ?? []).some(([a, f]) => (a === access || a === 'readwrite') && filterMatches(f, topic));

/** The value of a `--name=value` argument of a service's command. */
function arg(name: string, flag: string): string {
  const found = asArray(service(name)['command'], `${name}.command`).map(String).find((a) => a.startsWith(`--${flag}=`));
  if (found === undefined) throw new Error(`${name}: no --${flag}=`);
  return found.slice(flag.length + 3);
}

describe('deploy/compose/docker-compose.yml', () => {
  it('has the services of the working system', () => {
    expect(serviceNames.sort()).toEqual(['convwatch', 'grafana', 'influxdb', 'mosquitto', 'mosquitto-init', 'recording', 'replayer']);
    expect(builtFromDockerfile.sort()).toEqual(['convwatch', 'recording', 'replayer']);
  });

  it('interpolates with the variables of .env.example (every required variable is defined there)', () => {
    // interpolateDeep above threw if any ${VAR:?} were missing; check a value went through.
    expect(at(service('convwatch'), 'environment.CONVWATCH_INFLUX_TOKEN')).toBe(envExample.get('INFLUX_TOKEN'));
    expect(at(service('influxdb'), 'environment.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN')).toBe(envExample.get('INFLUX_TOKEN'));
  });

  it('depends only on services that exist, with conditions they can meet', () => {
    for (const name of serviceNames) {
      const deps = asRecord(service(name)['depends_on'] ?? {}, `${name}.depends_on`);
      for (const [dep, spec] of Object.entries(deps)) {
        expect(serviceNames, `${name} depends on ${dep}`).toContain(dep);
        const condition = at(spec, 'condition');
        if (condition === 'service_healthy') {
          const hasCheck = at(service(dep), 'healthcheck.test') !== undefined || (builtFromDockerfile.includes(dep) && at(service(dep), 'healthcheck.disable') !== true);
          expect(hasCheck, `${name} waits for ${dep} to be healthy, which has no health check`).toBe(true);
        } else {
          expect(condition, `${name} → ${dep}`).toBe('service_completed_successfully');
          expect(service(dep)['restart'], `${dep} must be one-shot`).toBe('no');
        }
      }
    }
  });

  it('reaches other services only by names that exist (URLs in environment, commands and the convwatch config)', () => {
    const texts = serviceNames.flatMap((n) => [JSON.stringify(service(n)['environment'] ?? {}), JSON.stringify(service(n)['command'] ?? [])]);
    texts.push(String(at(convwatchConfig, 'mqtt.url')), String(at(convwatchConfig, 'influx.url')));
    const hosts = new Set(texts.flatMap(urlHosts).filter((h) => h !== '127.0.0.1' && h !== 'localhost'));
    expect([...hosts].sort()).toEqual(['influxdb', 'mosquitto']);
    for (const h of hosts) expect(serviceNames).toContain(h);
  });

  it('declares every named volume it mounts, mounts every one it declares, and binds files that exist', () => {
    const used = new Set<string>();
    for (const name of serviceNames) {
      for (const m of mounts(name)) {
        if (isBind(m.source)) expect(existsSync(resolve(REPO, COMPOSE_DIR, m.source)), `${name}: ${m.source}`).toBe(true);
        else {
          expect(declaredVolumes, `${name} mounts ${m.source}`).toContain(m.source);
          used.add(m.source);
        }
      }
    }
    expect([...used].sort()).toEqual([...declaredVolumes].sort());
  });

  it('publishes ports on the loopback interface only', () => {
    const ports = serviceNames.flatMap((n) => asArray(service(n)['ports'], n).map(String));
    expect(ports.length).toBeGreaterThan(0);
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('gives convwatch longer to stop than its drain timeout, and mounts its config where the command reads it', () => {
    const grace = /^(\d+)s$/.exec(String(service('convwatch')['stop_grace_period']));
    expect(grace).not.toBeNull();
    expect(Number(grace?.[1]) * 1000).toBeGreaterThan(Number(at(convwatchConfig, 'state.shutdownTimeoutMs')) + 5000);
    const command = asArray(service('convwatch')['command'], 'command').map(String);
    const configPath = command[command.indexOf('--config') + 1];
    expect(mounts('convwatch')).toContainEqual({ source: './convwatch/convwatch.yaml', target: configPath, readOnly: true });
    // State paths of the config live on the state volume.
    const stateMount = mounts('convwatch').find((m) => m.source === 'convwatch-state');
    for (const p of [at(convwatchConfig, 'influx.spool.dir'), at(convwatchConfig, 'state.checkpointDir')]) expect(String(p).startsWith(`${stateMount?.target}/`)).toBe(true);
  });

  it('feeds the replayer the file the recording step writes, on the same volume', () => {
    const out = arg('recording', 'out');
    const data = arg('replayer', 'data');
    const writer = mounts('recording').find((m) => out.startsWith(`${m.target}/`));
    const reader = mounts('replayer').find((m) => data.startsWith(`${m.target}/`));
    expect(writer?.source).toBe('recording');
    expect(reader?.source).toBe('recording');
    expect(posix.relative(writer?.target ?? '', out)).toBe(posix.relative(reader?.target ?? '', data));
    expect(at(service('replayer'), 'depends_on.recording.condition')).toBe('service_completed_successfully');
  });
});

describe('Mosquitto configuration of the compose stack', () => {
  const conf = readText(`${COMPOSE_DIR}/mosquitto/mosquitto.conf`);
  const option = (key: string): string[] => [...conf.matchAll(new RegExp(`^${key}\\s+(.+)$`, 'gm'))].map((m) => (m[1] ?? '').trim());
  const brokerMounts = mounts('mosquitto');
  const mounted = (path: string): boolean => brokerMounts.some((m) => path === m.target || path.startsWith(`${m.target.replace(/\/$/, '')}/`));

  it('raises max_queued_messages far above the silent-drop default of 1000', () => {
    expect(Number(option('max_queued_messages')[0])).toBeGreaterThanOrEqual(100_000);
  });

  it('persists to a volume, and requires a password on the published listener', () => {
    expect(option('persistence')).toEqual(['true']);
    const location = option('persistence_location')[0] ?? '';
    expect(location.endsWith('/')).toBe(true);
    expect(brokerMounts.find((m) => m.target === location.replace(/\/$/, ''))?.source).toBe('mosquitto-data');
    const publicListener = conf.split(/^listener /m).find((block) => block.startsWith('1883'));
    expect(publicListener).toMatch(/^allow_anonymous false$/m);
    expect(publicListener).toMatch(/^password_file /m);
    for (const file of [...option('password_file'), ...option('acl_file')]) expect(mounted(file), file).toBe(true);
  });

  it('creates the users convwatch and the replayer log in as, and the ACL lets them do their jobs', () => {
    const init = readText(`${COMPOSE_DIR}/mosquitto/init-passwords.sh`);
    const users = [...init.matchAll(/mosquitto_passwd (?:-c )?-b "\$tmp" (\S+) /g)].map((m) => m[1]);
    expect(users).toEqual(['convwatch', 'replayer']);
    expect(users).toContain(at(convwatchConfig, 'mqtt.username'));
    expect(/^mqtt:\/\/([^:]+):/.exec(arg('replayer', 'broker'))?.[1]).toBe('replayer');

    const acl = readAcl(readText(`${COMPOSE_DIR}/mosquitto/acl`));
    const published = fillTopic(arg('replayer', 'topic'), { device: 'machine-1' });
    expect(allows(acl, 'replayer', 'write', published)).toBe(true);
    const template = String(at(convwatchConfig, 'subscriptions.0.topic'));
    expect(compileTopicTemplate(template).match(published)).not.toBeNull();
    expect(allows(acl, 'convwatch', 'read', published)).toBe(true);
    expect(allows(acl, 'convwatch', 'write', fillTopic(String(at(convwatchConfig, 'alerts.topic')), { model: 'demo', device: 'machine-1' }))).toBe(true);
    expect(allows(acl, 'convwatch', 'write', 'convwatch/dead-letter/invalid-json')).toBe(true);
    // Least privilege: the replayer cannot forge alerts, convwatch cannot forge readings.
    expect(allows(acl, 'replayer', 'write', 'convwatch/alerts/demo/machine-1')).toBe(false);
    expect(allows(acl, 'convwatch', 'write', published)).toBe(false);
  });

  it('has a health check on the loopback listener, which may read its uptime topic', () => {
    const test = asArray(at(service('mosquitto'), 'healthcheck.test'), 'healthcheck').map(String);
    const port = test[test.indexOf('-p') + 1];
    const topic = test[test.indexOf('-t') + 1] ?? '';
    expect(conf).toMatch(new RegExp(`^listener ${port} 127\\.0\\.0\\.1$`, 'm'));
    expect(readAcl(readText(`${COMPOSE_DIR}/mosquitto/acl-healthcheck`)).get('')).toEqual([['read', topic]]);
  });
});
