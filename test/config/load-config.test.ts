import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS } from '../../src/config/config-defaults.js';
import { ConfigError, formatConfigIssues } from '../../src/config/config-error.js';
import { loadConfig, parseConfig, tryLoadConfig } from '../../src/config/load-config.js';
import { configOf, createWorkspace, issueAt, issuesOf, minimal, type Workspace } from './config-workspace.js';

let ws: Workspace;
beforeEach(() => {
  ws = createWorkspace();
});
afterEach(() => ws.remove());

const opts = (): { cwd: string; hostname: string } => ({ cwd: ws.dir, hostname: 'gateway-1' });
const parse = (input: unknown, env: Record<string, string> = {}): ReturnType<typeof parseConfig> => parseConfig(input, env, opts());
const withSection = (section: string, value: unknown): Record<string, unknown> => ({ ...minimal(), [section]: value });

describe('defaults', () => {
  it('fills in every documented default (values written out by hand)', () => {
    const c = configOf(parse(minimal()));
    expect(c.mqtt).toMatchObject({
      url: 'mqtt://127.0.0.1:1883',
      clientId: 'convwatch-gateway-1',
      qos: 1,
      cleanSession: false,
      sessionExpirySeconds: 604_800,
      protocolVersion: 5,
      keepaliveSeconds: 30,
      reconnectPeriodMs: 1_000,
      connectTimeoutMs: 30_000,
      receiveMaximum: 1_000,
      tls: { rejectUnauthorized: true },
    });
    expect(c.mqtt.password).toBeUndefined();
    expect(c.subscriptions[0]).toEqual({ topic: 'sensors/{device}/telemetry', codec: 'json-object', maxPayloadBytes: 65_536, timestamp: { source: 'payload', format: 'auto' } });
    expect(c.models).toEqual([{ name: 'pump', path: `${ws.dir}/models/pump`, devices: ['*'] }]);
    expect(c.pipeline).toEqual({
      chunkLength: 1,
      maxChunkWaitMs: 0,
      maxBatch: 256,
      assembleWaitMs: 1_000,
      late: 'drop',
      duplicate: 'drop',
      onMissing: 'hold',
      maxClockSkewMs: 604_800_000,
      maxDevices: 10_000,
      idleEvictionMs: 3_600_000,
    });
    expect(c.output).toEqual({ kind: 'influx', measurement: 'anomaly' });
    expect(c.influx).toMatchObject({ url: 'http://127.0.0.1:8086', batchSize: 1_000, flushIntervalMs: 1_000, timeoutMs: 10_000, maxRetries: 5, retryInitialMs: 1_000, retryMaxMs: 60_000, maxBufferedPoints: 100_000 });
    expect(c.influx.spool).toEqual({ dir: `${ws.dir}/convwatch-state/spool`, maxBytes: 268_435_456, fsync: 'interval', fsyncIntervalMs: 1_000 });
    expect(c.alerts).toEqual({ enabled: true, topic: 'convwatch/alerts/{model}/{device}', qos: 1, retain: false, topChannels: 3 });
    expect(c.deadLetter).toEqual({ enabled: true, topic: 'convwatch/dead-letter/{reason}', qos: 1, maxPayloadBytes: 1_024 });
    expect(c.http).toEqual({ enabled: true, listen: { host: '127.0.0.1', port: 9464 }, metricsPath: '/metrics', metrics: true, health: true });
    expect(c.state).toEqual({ checkpointDir: `${ws.dir}/convwatch-state/checkpoints`, checkpointIntervalMs: 60_000, shutdownTimeoutMs: 30_000 });
    expect(c.partition).toEqual({ kind: 'none' });
    expect(c.embeddedBroker).toEqual({ enabled: false, listen: { host: '127.0.0.1', port: 1883 } });
    expect(c.log).toEqual({ level: 'info' });
  });

  it('exports the defaults as constants that agree with the loaded configuration', () => {
    const c = configOf(parse(minimal()));
    expect(CONFIG_DEFAULTS.mqtt.url).toBe(c.mqtt.url);
    expect(CONFIG_DEFAULTS.pipeline.maxClockSkewMs).toBe(c.pipeline.maxClockSkewMs);
    expect(CONFIG_DEFAULTS.influx.spool.maxBytes).toBe(c.influx.spool.maxBytes);
    expect(Object.isFrozen(CONFIG_DEFAULTS.influx.spool)).toBe(true);
  });

  it('returns a deeply frozen configuration', () => {
    const c = configOf(parse(minimal()));
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.subscriptions[0].timestamp)).toBe(true);
    expect(Object.isFrozen(c.models[0].devices)).toBe(true);
  });

  it('derives a stable client id from the host name and the instance id', () => {
    expect(configOf(parseConfig(minimal(), {}, { cwd: ws.dir, hostname: 'gw.local' })).mqtt.clientId).toBe('convwatch-gw.local');
    expect(configOf(parseConfig({ ...minimal(), instanceId: 'b' }, {}, { cwd: ws.dir, hostname: 'gw 7' })).mqtt.clientId).toBe('convwatch-gw-7-b');
    expect(configOf(parse({ ...minimal(), mqtt: { clientId: 'fixed' } })).mqtt.clientId).toBe('fixed');
  });

  it('times number-codec subscriptions by arrival and others by payload unless told', () => {
    const c = configOf(
      parse({
        ...minimal(),
        subscriptions: [
          { topic: 'a/{device}/{channel}', codec: 'number' },
          { topic: 'b/{device}', codec: 'csv', timestamp: { source: 'arrival' } },
          { topic: 'c/{device}', codec: 'json-object', timestamp: { source: 'payload', field: 'when', format: 'epoch-s' } },
        ],
      }),
    );
    expect(c.subscriptions.map((s) => s.timestamp)).toEqual([{ source: 'arrival' }, { source: 'arrival' }, { source: 'payload', field: 'when', format: 'epoch-s' }]);
  });
});

describe('precedence: defaults < file < environment', () => {
  const keepalive = (file: Record<string, unknown> | null, env: Record<string, string>): number => {
    const path = ws.write('c.yaml', JSON.stringify({ ...minimal(), ...(file ?? {}) }));
    return configOf(tryLoadConfig(path, env, opts())).mqtt.keepaliveSeconds;
  };

  it.each([
    ['default only', null, {}, 30],
    ['file over default', { mqtt: { keepaliveSeconds: 45 } }, {}, 45],
    ['environment over default', null, { CONVWATCH_MQTT__KEEPALIVE_SECONDS: '60' }, 60],
    ['environment over file', { mqtt: { keepaliveSeconds: 45 } }, { CONVWATCH_MQTT__KEEPALIVE_SECONDS: '60' }, 60],
    ['camelCase spelling in the environment', { mqtt: { keepaliveSeconds: 45 } }, { CONVWATCH_MQTT__KEEPALIVESECONDS: '61' }, 61],
  ])('%s', (_, file, env, expected) => {
    expect(keepalive(file, env)).toBe(expected);
  });

  it('keeps the other options of a section the environment touches', () => {
    const path = ws.write('c.yaml', JSON.stringify({ ...minimal(), mqtt: { keepaliveSeconds: 45, username: 'u' } }));
    const c = configOf(tryLoadConfig(path, { CONVWATCH_MQTT__QOS: '0' }, opts()));
    expect([c.mqtt.keepaliveSeconds, c.mqtt.username, c.mqtt.qos]).toEqual([45, 'u', 0]);
  });

  it('reads environment values by the option type', () => {
    const c = configOf(
      parse(minimal(), {
        CONVWATCH_MQTT__CLEAN_SESSION: 'yes',
        CONVWATCH_MQTT__PROTOCOL_VERSION: '4',
        CONVWATCH_PIPELINE__MAX_CLOCK_SKEW_MS: '60_000',
        CONVWATCH_PIPELINE__LATE: 'accept',
        CONVWATCH_MODELS__0__DEVICES: 'pump-*, fan-?',
        CONVWATCH_HTTP__LISTEN: '127.0.0.1:0',
        CONVWATCH_OUTPUT: '{"kind":"line-protocol-file","path":"out/points.lp"}',
      }),
    );
    expect(c.mqtt.cleanSession).toBe(true);
    expect(c.mqtt.protocolVersion).toBe(4);
    expect(c.pipeline.maxClockSkewMs).toBe(60_000);
    expect(c.pipeline.late).toBe('accept');
    expect(c.models[0].devices).toEqual(['pump-*', 'fan-?']);
    expect(c.http.listen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(c.output).toEqual({ kind: 'line-protocol-file', measurement: 'anomaly', path: `${ws.dir}/out/points.lp` });
  });

  it('builds lists from indexed variables and accepts the short aliases', () => {
    const c = configOf(
      parseConfig(
        {},
        {
          CONVWATCH_SUBSCRIPTIONS__0__TOPIC: 'x/{device}',
          CONVWATCH_SUBSCRIPTIONS__0__CODEC: 'csv',
          CONVWATCH_MODELS: '[{"path":"models/pump","devices":["*"]}]',
          CONVWATCH_INFLUX__ORG: 'o',
          CONVWATCH_INFLUX__BUCKET: 'b',
          CONVWATCH_INFLUX_TOKEN: 'tok',
          CONVWATCH_LOG_LEVEL: 'debug',
          CONVWATCH_PARTITION: '{"kind":"hash","count":3,"index":0}',
          CONVWATCH_PARTITION_INDEX: '2',
        },
        opts(),
      ),
    );
    expect(c.subscriptions[0].topic).toBe('x/{device}');
    expect(c.influx.token).toBe('tok');
    expect(c.log.level).toBe('debug');
    expect(c.partition).toEqual({ kind: 'hash', count: 3, index: 2 });
  });

  it('resolves relative paths of the file against its directory, and those of the environment against the working directory', () => {
    ws.mkdir('etc/models/pump');
    const path = ws.write('etc/convwatch.yaml', JSON.stringify({ ...minimal(), state: { checkpointDir: 'ckpt' } }));
    const c = configOf(tryLoadConfig(path, { CONVWATCH_INFLUX__SPOOL__DIR: 'spool' }, opts()));
    expect(c.models[0].path).toBe(`${ws.dir}/etc/models/pump`);
    expect(c.state.checkpointDir).toBe(`${ws.dir}/etc/ckpt`);
    expect(c.influx.spool.dir).toBe(`${ws.dir}/spool`);
  });

  it('loads JSON files like YAML files', () => {
    const json = ws.write('c.json', JSON.stringify({ ...minimal(), pipeline: { chunkLength: 4 } }));
    const yaml = ws.write('c.yaml', 'subscriptions:\n  - topic: sensors/{device}/telemetry\n    codec: json-object\nmodels:\n  - path: models/pump\ninflux: { org: acme, bucket: sensors }\npipeline:\n  chunkLength: 4\n');
    expect(configOf(tryLoadConfig(json, {}, opts()))).toEqual(configOf(tryLoadConfig(yaml, {}, opts())));
  });

  it('takes a section whose options are all commented out as empty', () => {
    const path = ws.write('c.yaml', 'subscriptions:\n  - topic: s/{device}\n    codec: csv\nmodels:\n  - path: models/pump\ninflux: { org: o, bucket: b }\nmqtt:\n  tls:\n    # ca: ca.pem\nhttp:\n  # listen: 0.0.0.0:9464\npartition:\n');
    const c = configOf(tryLoadConfig(path, {}, opts()));
    expect(c.mqtt.tls).toEqual({ rejectUnauthorized: true });
    expect(c.http.listen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(c.partition).toEqual({ kind: 'none' });
  });

  it('gives narrowed types for the unions', () => {
    const c = configOf(parse({ ...minimal(), output: { kind: 'line-protocol-file', path: 'p.lp' }, partition: { kind: 'hash', count: 2, index: 1 } }));
    const path: string = c.output.kind === 'line-protocol-file' ? c.output.path : '';
    const index: number = c.partition.kind === 'hash' ? c.partition.index : -1;
    const format = c.subscriptions[0].timestamp.source === 'payload' ? c.subscriptions[0].timestamp.format : 'none';
    expect([path, index, format]).toEqual([`${ws.dir}/p.lp`, 1, 'auto']);
  });

  it('loads from defaults and environment alone when there is no file', () => {
    const r = tryLoadConfig(null, { CONVWATCH_SUBSCRIPTIONS: '[{"topic":"s/{device}","codec":"csv"}]', CONVWATCH_MODELS: '[{"path":"models/pump"}]', CONVWATCH_OUTPUT__KIND: 'line-protocol-file', CONVWATCH_OUTPUT__PATH: 'points.lp' }, opts());
    expect(configOf(r).output).toEqual({ kind: 'line-protocol-file', measurement: 'anomaly', path: `${ws.dir}/points.lp` });
  });
});

describe('errors name the option, the value and what is expected', () => {
  it.each([
    ['mqtt', { qos: 2 }, 'mqtt.qos', 'got 2', 'must be 0 or 1'],
    ['mqtt', { keepaliveSeconds: 'soon' }, 'mqtt.keepaliveSeconds', 'got "soon"', 'must be an integer from 0 to 65535'],
    ['mqtt', { keepaliveSeconds: 70_000 }, 'mqtt.keepaliveSeconds', 'got 70000', 'must be an integer from 0 to 65535'],
    ['mqtt', { keepaliveSeconds: 1.5 }, 'mqtt.keepaliveSeconds', 'got 1.5', 'must be an integer'],
    ['mqtt', { url: 'http://broker:1883' }, 'mqtt.url', 'got "http://broker:1883"', 'must be a URL with scheme mqtt://, mqtts://, ws://, wss://'],
    ['mqtt', { url: 'broker:1883' }, 'mqtt.url', 'got "broker:1883"', 'must be a URL with scheme'],
    ['mqtt', { cleanSession: 'no' }, 'mqtt.cleanSession', 'got "no"', 'must be true or false'],
    ['pipeline', { late: 'keep' }, 'pipeline.late', 'got "keep"', 'must be "drop" or "accept"'],
    ['pipeline', { onMissing: 'guess' }, 'pipeline.onMissing', 'got "guess"', 'must be one of "hold", "skip", "dead-letter"'],
    ['pipeline', { chunkLength: 0 }, 'pipeline.chunkLength', 'got 0', 'must be an integer from 1 to 4096'],
    ['output', { kind: 'kafka' }, 'output.kind', 'got "kafka"', 'must be "influx" or "line-protocol-file"'],
    ['output', { kind: 'influx', measurement: '_x' }, 'output.measurement', 'got "_x"', 'must be a measurement name'],
    ['influx', { org: 'o', bucket: 'b', url: 'mqtt://x' }, 'influx.url', 'got "mqtt://x"', 'must be a URL with scheme http://, https://'],
    ['influx', { org: 'o', bucket: 'b', retryInitialMs: 5_000, retryMaxMs: 1_000 }, 'influx.retryMaxMs', 'got 1000', 'must be at least retryInitialMs (5000)'],
    ['influx', { org: 'o', bucket: 'b', spool: { fsync: 'sometimes' } }, 'influx.spool.fsync', 'got "sometimes"', 'must be one of "never", "interval", "always"'],
    ['http', { listen: '9464' }, 'http.listen', 'got "9464"', 'must be host:port'],
    ['http', { listen: '127.0.0.1:70000' }, 'http.listen', 'got "127.0.0.1:70000"', 'must be host:port'],
    ['http', { metricsPath: 'metrics' }, 'http.metricsPath', 'got "metrics"', 'must be a URL path starting with /'],
    ['deadLetter', { topic: 'dl/{device}' }, 'deadLetter.topic', 'got "dl/{device}"', 'the placeholders allowed here are {reason}'],
    ['alerts', { topic: 'alerts/{device}/{site}' }, 'alerts.topic', 'got "alerts/{device}/{site}"', 'may use only {device}, {model}, {kind}'],
    ['partition', { kind: 'hash', count: 2, index: 2 }, 'partition.index', 'got 2', 'must be less than partition.count (2)'],
    ['partition', { kind: 'hash', count: 2, index: 'first' }, 'partition.index', 'got "first"', 'must be an integer from 0 to 1023 or "hostname-ordinal"'],
    ['partition', { kind: 'topics', filters: ['a/#/b'] }, 'partition.filters[0]', 'got "a/#/b"', 'may use # only as the whole last level'],
    ['partition', { kind: 'shared', group: 'a/b' }, 'partition.group', 'got "a/b"', 'must be a non-empty name without /'],
    ['log', { level: 'verbose' }, 'log.level', 'got "verbose"', 'must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent"'],
    ['instanceId', 'a b', 'instanceId', 'got "a b"', 'must be a name of letters'],
  ])('%s %j', (section, value, path, shown, expected) => {
    issueAt(parse(withSection(section, value)), path, shown, expected);
  });

  it.each([
    [{ topic: 'sensors/+/{device}', codec: 'csv' }, 'subscriptions[0].topic', 'must not contain the MQTT wildcards + or #'],
    [{ topic: 'sensors/{id}', codec: 'csv' }, 'subscriptions[0].topic', 'must contain the {device} placeholder'],
    [{ topic: 'sensors/{device}', codec: 'number' }, 'subscriptions[0].topic', 'must contain {channel} with the number codec'],
    [{ topic: 'sensors/{device}/{channel}', codec: 'csv' }, 'subscriptions[0].topic', 'must not contain {channel} with the csv codec'],
    [{ topic: 'sensors/{device}/{channel}', codec: 'json-array' }, 'subscriptions[0].topic', 'must not contain {channel} with the json-array codec'],
    [{ topic: 's/{device}/{channel}', codec: 'number', timestamp: { source: 'payload' } }, 'subscriptions[0].timestamp.source', 'must be "arrival" with the number codec'],
    [{ topic: 's/{device}', codec: 'csv', timestamp: { source: 'payload', field: 't' } }, 'subscriptions[0].timestamp.field', 'must be left out with the csv codec'],
    [{ topic: 's/{device}', codec: 'csv', timestamp: { source: 'payload', format: 'unix' } }, 'subscriptions[0].timestamp.format', 'must be one of "auto", "iso", "epoch-ms", "epoch-s"'],
    [{ topic: 's/{device}', codec: 'csv', timestamp: { source: 'clock' } }, 'subscriptions[0].timestamp.source', 'must be "arrival" or "payload"'],
    [{ topic: 's/{device}', codec: 'json' }, 'subscriptions[0].codec', 'must be one of "json-object", "json-array", "csv", "number"'],
  ])('subscription %j', (subscription, path, expected) => {
    const r = parse({ ...minimal(), subscriptions: [subscription] });
    const issue = issuesOf(r).find((i) => i.path === path);
    expect(issue?.message).toContain(expected);
    expect(issue?.message.startsWith(path)).toBe(true);
    expect(issue?.message).toMatch(/got /);
  });

  it('says which required options are missing', () => {
    const r = parse({ models: [{}], influx: {} });
    issueAt(r, 'subscriptions', 'is missing', 'must be a list of objects (at least 1)');
    issueAt(r, 'models[0].path', 'is missing', 'must be a non-empty string');
    // Checks that span sections run once every option is valid on its own.
    expect(issuesOf(r).map((i) => i.path)).toEqual(['subscriptions', 'models[0].path']);
    const later = parse({ ...minimal(), influx: {} });
    issueAt(later, 'influx.org', 'is missing', 'must be set when output.kind is "influx"');
    issueAt(later, 'influx.bucket', 'is missing', 'must be set when output.kind is "influx"');
    const codec = issueAt(parse({ ...minimal(), subscriptions: [{ topic: 'a/{device}' }] }), 'subscriptions[0].codec', 'is missing', 'must be one of "json-object"');
    expect(codec.value).toBeUndefined();
  });

  it('rejects unknown keys, with a suggestion when one is close', () => {
    const r = parse({ ...minimal(), mqtt: { urll: 'mqtt://x' }, pipline: {} });
    const mqtt = issueAt(r, 'mqtt.urll', 'got "mqtt://x"', 'is not an option of mqtt');
    expect(mqtt.hint).toContain('did you mean mqtt.url?');
    const top = issueAt(r, 'pipline', 'got {}', 'is not an option of the configuration');
    expect(top.hint).toContain('did you mean pipeline?');
    const far = issueAt(parse({ ...minimal(), http: { colour: 'blue' } }), 'http.colour', 'got "blue"', 'is not an option of http');
    expect(far.hint).toBe('options of http: enabled, listen, metricsPath, metrics, health');
  });

  it('says when an option belongs to another kind of a section', () => {
    issueAt(parse(withSection('partition', { kind: 'none', index: 3 })), 'partition.index', 'got 3', 'is an option only when partition.kind is "hash"');
    issueAt(parse({ ...minimal(), output: { kind: 'influx', path: 'x.lp' } }), 'output.path', 'got "x.lp"', 'is an option only when output.kind is "line-protocol-file"');
  });

  it('checks options that span sections', () => {
    issueAt(parse(withSection('mqtt', { tls: { cert: 'c.pem' } })), 'mqtt.tls.key', 'is missing', 'must be set together with mqtt.tls.cert');
    issueAt(parse(withSection('mqtt', { protocolVersion: 4, password: 'pw' })), 'mqtt.username', 'is missing', 'must be set when a password is given with protocolVersion 4');
    issueAt(parse({ ...minimal(), models: [{ path: 'models/pump' }, { name: 'pump', path: 'models/pump', devices: ['x'] }] }), 'models[1].name', 'got "pump"', 'must be unique; models[0] already has the name "pump"');
    issueAt(parse({ ...minimal(), models: [{ path: 'models/pump' }, { path: 'models/pump', devices: ['x'] }] }), 'models[1].name', 'is missing', 'must be set: the default, the directory name "pump", is already the name of models[0]');
    ws.mkdir('models/my pump');
    issueAt(parse({ ...minimal(), models: [{ path: 'models/my pump' }] }), 'models[0].name', 'is missing', 'must be set: the directory name "my pump"');
    issueAt(parse({ ...minimal(), models: [{ path: 'models/pump', devices: ['pump-[1]'] }] }), 'models[0].devices[0]', 'got "pump-[1]"', 'must not contain "["');
  });

  it('allows alert placeholders that every subscription template has', () => {
    const subscriptions = [
      { topic: 'plant/{site}/{line}/{device}', codec: 'json-object' },
      { topic: 'plant/{site}/x/{device}/{channel}', codec: 'number' },
    ];
    expect(configOf(parse({ ...minimal(), subscriptions, alerts: { topic: 'alerts/{site}/{device}/{kind}' } })).alerts.topic).toBe('alerts/{site}/{device}/{kind}');
    issueAt(parse({ ...minimal(), subscriptions, alerts: { topic: 'alerts/{line}/{device}' } }), 'alerts.topic', 'got "alerts/{line}/{device}"', '{line} is not one of them');
  });

  it('reports every problem at once', () => {
    const r = parse({ ...minimal(), mqtt: { qos: 5, keepaliveSeconds: -1 }, pipeline: { late: 'x' } });
    expect(issuesOf(r).map((i) => i.path)).toEqual(['mqtt.qos', 'mqtt.keepaliveSeconds', 'pipeline.late']);
  });
});

describe('environment errors', () => {
  it('names the variable a bad value came from', () => {
    const i = issueAt(parse(minimal(), { CONVWATCH_MQTT__QOS: 'two' }), 'mqtt.qos', 'got "two"', 'must be 0 or 1');
    expect(i.origin).toBe('CONVWATCH_MQTT__QOS');
    expect(i.message).toContain('(from CONVWATCH_MQTT__QOS)');
  });

  it('refuses unknown options under a known section, suggesting the right variable', () => {
    const i = issueAt(parse(minimal(), { CONVWATCH_MQTT__KEEPALIVE: '5' }), 'mqtt.keepalive', 'got "5"', 'is not an option of mqtt');
    expect(i.hint).toContain('did you mean CONVWATCH_MQTT__KEEPALIVE_SECONDS?');
  });

  it('catches single underscores where __ was meant', () => {
    const i = issueAt(parse(minimal(), { CONVWATCH_MQTT_URL: 'mqtt://b' }), 'mqtt.url', 'got "mqtt://b"', 'is not set by CONVWATCH_MQTT_URL');
    expect(i.hint).toBe('did you mean CONVWATCH_MQTT__URL?');
  });

  it('only warns about unknown variables outside every section, and ignores the test servers\' variables', () => {
    const r = parse(minimal(), { CONVWATCH_SOMETHING: 'x', CONVWATCH_MOSQUITTO_BIN: '/usr/sbin/mosquitto', PATH: '/bin' });
    expect(r.ok).toBe(true);
    expect(r.warnings.filter((w) => w.path === '').map((w) => w.message)).toEqual([expect.stringContaining('CONVWATCH_SOMETHING is not a configuration variable')]);
  });

  it('refuses an alias and its long name set to different values', () => {
    issueAt(parse(minimal(), { CONVWATCH_LOG_LEVEL: 'debug', CONVWATCH_LOG__LEVEL: 'warn' }), 'log.level', 'got "warn"', 'must be given once: CONVWATCH_LOG_LEVEL and CONVWATCH_LOG__LEVEL');
  });

  it('refuses malformed JSON and list indexes that skip entries', () => {
    issueAt(parse(minimal(), { CONVWATCH_PARTITION: '{kind: none}' }), 'partition', 'got "{kind: none}"', 'must be a JSON object');
    issueAt(parse(minimal(), { CONVWATCH_MODELS__3__PATH: 'x' }), 'models[3].path', 'got "x"', 'the list has 1 entries, so the next new index is 1');
    issueAt(parse(minimal(), { CONVWATCH_MODELS__X: 'x' }), 'models', 'got "x"', 'is a list: the level after it must be an entry index');
  });
});

describe('the machine: files, directories, host name', () => {
  it('checks that model directories exist', () => {
    issueAt(parse({ ...minimal(), models: [{ path: 'models/nope' }] }), 'models[0].path', `got "${ws.dir}/models/nope"`, 'must name an existing directory (ENOENT');
    ws.write('models/file', 'x');
    issueAt(parse({ ...minimal(), models: [{ path: 'models/file' }] }), 'models[0].path', 'models/file"', 'must name an existing directory (this is not a directory)');
  });

  it('checks TLS files at load', () => {
    issueAt(parse(withSection('mqtt', { url: 'mqtts://b', tls: { ca: 'ca.pem' } })), 'mqtt.tls.ca', `got "${ws.dir}/ca.pem"`, 'must name an existing, readable file (ENOENT');
    ws.mkdir('certs');
    issueAt(parse(withSection('mqtt', { url: 'mqtts://b', tls: { ca: 'certs' } })), 'mqtt.tls.ca', 'certs"', 'must name a regular file');
    ws.write('ca.pem', 'PEM');
    expect(configOf(parse(withSection('mqtt', { url: 'mqtts://b', tls: { ca: 'ca.pem' } }))).mqtt.tls.ca).toBe(`${ws.dir}/ca.pem`);
  });

  it('checks that output paths are of the right kind when they exist', () => {
    ws.mkdir('out.lp');
    issueAt(parse({ ...minimal(), output: { kind: 'line-protocol-file', path: 'out.lp' } }), 'output.path', 'out.lp"', 'must name a file, created when missing');
    ws.write('spool', 'x');
    issueAt(parse(withSection('influx', { org: 'o', bucket: 'b', spool: { dir: 'spool' } })), 'influx.spool.dir', 'spool"', 'must name a directory, created when missing');
  });

  it('takes the partition index from a StatefulSet host name', () => {
    const input = withSection('partition', { kind: 'hash', count: 4, index: 'hostname-ordinal' });
    expect(configOf(parseConfig(input, {}, { cwd: ws.dir, hostname: 'convwatch-3.convwatch.prod.svc' })).partition).toEqual({ kind: 'hash', count: 4, index: 3 });
    issueAt(parseConfig(input, {}, { cwd: ws.dir, hostname: 'convwatch' }), 'partition.index', 'got "hostname-ordinal"', 'needs a host name ending in -<number>');
    issueAt(parseConfig(input, {}, { cwd: ws.dir, hostname: 'convwatch-4' }), 'partition.index', 'got "hostname-ordinal"', 'must be less than partition.count (4); the host name "convwatch-4" gives 4');
  });
});

describe('the file', () => {
  it('reports a missing file, invalid YAML with its position, and a file that is not a mapping', () => {
    const missing = tryLoadConfig(`${ws.dir}/nope.yaml`, {}, opts());
    expect(issuesOf(missing)[0].message).toBe(`the configuration must be a readable file (ENOENT: no such file or directory), got "${ws.dir}/nope.yaml"`);
    const bad = ws.write('bad.yaml', 'mqtt:\n  url: mqtt://x\n  qos: [1\n');
    expect(issuesOf(tryLoadConfig(bad, {}, opts()))[0].message).toMatch(/must be valid YAML or JSON: .* at line \d+, column \d+/);
    const dup = ws.write('dup.yaml', 'log: {}\nlog: {}\n');
    expect(issuesOf(tryLoadConfig(dup, {}, opts()))[0].message).toContain('Map keys must be unique at line 2, column 1');
    const list = ws.write('list.yaml', '- a\n- b\n');
    expect(issuesOf(tryLoadConfig(list, {}, opts()))[0].message).toBe('the configuration must be a mapping of sections (mqtt, subscriptions, models, …), got ["a","b"]');
  });

  it('throws a ConfigError from loadConfig with the same issues tryLoadConfig returns, and formats them', () => {
    const path = ws.write('c.yaml', JSON.stringify({ ...minimal(), mqtt: { qos: 3 } }));
    const tried = tryLoadConfig(path, {}, opts());
    let thrown: unknown;
    try {
      loadConfig(path, {}, opts());
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.issues).toEqual(issuesOf(tried));
    expect(error.source).toBe(path);
    expect(error.message).toBe(`invalid configuration (${path}): 1 problem\n  - mqtt.qos must be 0 or 1, got 3`);
    expect(formatConfigIssues([...issuesOf(tried), ...issuesOf(tried)])).toBe('invalid configuration: 2 problems\n  - mqtt.qos must be 0 or 1, got 3\n  - mqtt.qos must be 0 or 1, got 3');
  });

  it('returns the warnings with a loaded configuration', () => {
    const path = ws.write('c.yaml', JSON.stringify(withSection('mqtt', { qos: 0 })));
    const { warnings } = loadConfig(path, {}, opts());
    expect(warnings).toEqual([expect.objectContaining({ path: 'mqtt.qos' }), expect.objectContaining({ path: 'influx.token' })]);
  });
});
