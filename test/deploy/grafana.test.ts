import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/cli/run-command.js';
import { parseConfig } from '../../src/config/load-config.js';
import { fillTopic } from '../../src/io/alert-message.js';
import { simulate } from '../../src/sim/sensor-simulator.js';
import { waitFor } from '../support/wait-for.js';
import { asArray, asRecord, at, mapPaths, readText, readYaml, REPO } from './deploy-files.js';

// The dashboard and the alert rules must query what the service really writes. Rather than a
// list typed here, the names come from the service itself: the compose configuration is run
// (embedded broker, line-protocol file instead of InfluxDB), a device is fed past its warm-up,
// and the points it wrote are read back.

interface Written {
  measurements: Set<string>;
  tags: Set<string>;
  fields: Set<string>;
}

const COMPOSE_CONFIG = 'deploy/compose/convwatch/convwatch.yaml';
const dashboard = asRecord(JSON.parse(readText('deploy/grafana/dashboards/convwatch.json')), 'dashboard');
const alerting = readYaml('deploy/grafana/provisioning/alerting/convwatch-alerts.yaml');
const datasources = asArray(readYaml('deploy/grafana/provisioning/datasources/influxdb.yaml')['datasources'], 'datasources');
const rules = asArray(alerting['groups'], 'groups').flatMap((g) => asArray(at(g, 'rules'), 'rules').map((r) => asRecord(r, 'rule')));
const panels = asArray(dashboard['panels'], 'panels').map((p) => asRecord(p, 'panel'));
const variables = asArray(at(dashboard, 'templating.list'), 'templating').map((v) => asRecord(v, 'variable'));

/** Every Flux query of the dashboard (panels and variables) and of the alert rules, with where it is. */
const queries: { where: string; flux: string }[] = [
  ...panels.flatMap((p) => asArray(p['targets'], 'targets').map((t) => ({ where: `panel "${String(p['title'])}"`, flux: String(at(t, 'query')) }))),
  ...variables.map((v) => ({ where: `variable ${String(v['name'])}`, flux: String(v['query']) })),
  ...rules.flatMap((r) => asArray(r['data'], 'data').filter((d) => at(d, 'datasourceUid') !== '__expr__').map((d) => ({ where: `rule ${String(r['uid'])}`, flux: String(at(d, 'model.query')) }))),
];

/** Names a Flux query refers to. */
function references(flux: string): { measurements: string[]; fields: string[]; fieldRegexes: RegExp[]; tags: string[] } {
  const all = (re: RegExp): string[] => [...flux.matchAll(re)].map((m) => m[1] ?? '');
  const columnLists = all(/(?:columns|rowKey):\s*\[([^\]]*)\]/g).flatMap((list) => [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? ''));
  return {
    measurements: all(/r\._measurement\s*==\s*"([^"]*)"/g),
    fields: all(/r\._field\s*==\s*"([^"]*)"/g),
    fieldRegexes: all(/r\._field\s*=~\s*\/((?:[^/\\]|\\.)*)\//g).map((s) => new RegExp(s)),
    // r.<tag> in predicates, grouping and kept columns, tagValues(tag: ...); _columns are Flux's own.
    tags: [...all(/\br\.([A-Za-z][A-Za-z0-9_]*)/g), ...all(/tag:\s*"([^"]+)"/g), ...columnLists].filter((t) => !t.startsWith('_') && !['score', 'threshold', 'anomaly', 'ready'].includes(t)),
  };
}

/** The measurements, tag keys and field keys of line-protocol text (escapes not needed here). */
function readLineProtocol(text: string): Written {
  const out: Written = { measurements: new Set(), tags: new Set(), fields: new Set() };
  for (const line of text.split('\n').filter((l) => l !== '')) {
    const [series = '', fields = ''] = line.split(' ');
    const [measurement = '', ...tags] = series.split(',');
    out.measurements.add(measurement);
    for (const t of tags) out.tags.add(t.split('=')[0] ?? '');
    for (const f of fields.split(',')) out.fields.add(f.split('=')[0] ?? '');
  }
  return out;
}

describe('Grafana queries against the points the service writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convwatch-deploy-grafana-'));
  const pointsFile = join(dir, 'points.lp');
  let written: Written;
  const channels = (JSON.parse(readFileSync(join(REPO, 'models/demo/model.json'), 'utf8')) as { channels: string[] }).channels;

  beforeAll(async () => {
    const composeConfig = asRecord(mapPaths(readYaml(COMPOSE_CONFIG), new Map([['/app/', `${REPO}/`], ['/var/lib/convwatch', dir]])), 'config');
    const { influx: _influx, ...rest } = composeConfig;
    const r = parseConfig(
      {
        ...rest,
        embeddedBroker: { enabled: true, listen: '127.0.0.1:0' },
        output: { kind: 'line-protocol-file', measurement: at(composeConfig, 'output.measurement'), path: pointsFile },
        http: { enabled: false },
        pipeline: { ...asRecord(composeConfig['pipeline'], 'pipeline'), maxClockSkewMs: 0 },
        log: { level: 'silent' },
      },
      {},
      { cwd: dir, hostname: 'grafana-test' },
    );
    if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('\n'));
    const run = await startRun(r.config, pino({ level: 'silent' }));
    try {
      // The replayer's topic, as the compose stack publishes it.
      const compose = readYaml('deploy/compose/docker-compose.yml');
      const topicArg = asArray(at(compose, 'services.replayer.command'), 'command').map(String).find((a) => a.startsWith('--topic=')) ?? '';
      const rows = 140;
      const rec = simulate({ devices: ['machine-1'], rows, anomalies: 'none' }, 7);
      const device = rec.devices[0];
      if (device === undefined) throw new Error('no simulated device');
      const client = await mqtt.connectAsync(run.config.mqtt.url, { clientId: 'deploy-grafana-test', protocolVersion: 4 });
      for (let t = 0; t < rows; t++) {
        const body: Record<string, number | string> = { time: new Date(device.timesMs[t] ?? 0).toISOString() };
        rec.channels.forEach((c, i) => (body[c] = device.values[t * rec.channels.length + i] ?? 0));
        await client.publishAsync(fillTopic(topicArg.slice('--topic='.length), { device: device.id }), JSON.stringify(body), { qos: 1 });
      }
      await client.endAsync();
      await waitFor(() => existsSync(pointsFile) && readFileSync(pointsFile, 'utf8').split('\n').filter((l) => l !== '').length === rows, {
        what: `${rows} points`,
        timeoutMs: 20_000,
      });
    } finally {
      await run.stop('test done');
    }
    written = readLineProtocol(readFileSync(pointsFile, 'utf8'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('derives the names from a real run: measurement, tags device/model/topic placeholders, fields incl. one contrib_ per channel', () => {
    expect([...written.measurements]).toEqual(['anomaly']);
    expect([...written.tags].sort()).toEqual(['device', 'model', 'site']);
    expect([...written.fields].sort()).toEqual(['anomaly', 'ready', 'score', 'threshold', ...channels.map((c) => `contrib_${c}`)].sort());
  });

  it('finds the queries to check', () => {
    expect(queries.length).toBeGreaterThanOrEqual(12);
    for (const q of queries) expect(q.flux, q.where).toMatch(/from\(bucket:|schema\.tagValues\(/);
  });

  it.each(queries.map((q) => [q.where, q.flux] as const))('%s queries only what is written', (where, flux) => {
    const refs = references(flux);
    expect(refs.measurements.length, `${where} does not filter on _measurement`).toBeGreaterThan(0);
    for (const m of refs.measurements) expect(written.measurements, where).toContain(m);
    for (const f of refs.fields) expect(written.fields, where).toContain(f);
    for (const re of refs.fieldRegexes) expect([...written.fields].some((f) => re.test(f)), `${where}: ${String(re)} matches no written field`).toBe(true);
    for (const t of refs.tags) expect(written.tags, `${where}: tag ${t}`).toContain(t);
  });

  it('shows every kind of field the service writes: score, threshold, anomaly, ready and the attributions', () => {
    const shown = queries.filter((q) => q.where.startsWith('panel')).map((q) => references(q.flux));
    const fields = new Set(shown.flatMap((r) => r.fields));
    for (const f of ['score', 'threshold', 'anomaly', 'ready']) expect(fields).toContain(f);
    const contrib = [...written.fields].filter((f) => f.startsWith('contrib_'));
    expect(contrib.every((f) => shown.some((r) => r.fieldRegexes.some((re) => re.test(f))))).toBe(true);
  });
});

describe('Grafana provisioning cross-references', () => {
  const uids = datasources.map((d) => at(d, 'uid'));

  it('panels, variables and alert queries use the provisioned datasource', () => {
    const used = [...panels.flatMap((p) => [at(p, 'datasource.uid'), ...asArray(p['targets'], 't').map((t) => at(t, 'datasource.uid'))]), ...variables.map((v) => at(v, 'datasource.uid'))];
    for (const u of used) expect(uids).toContain(u);
    for (const r of rules) for (const d of asArray(r['data'], 'data')) expect([...uids, '__expr__']).toContain(at(d, 'datasourceUid'));
    expect(at(datasources[0], 'jsonData.version')).toBe('Flux');
  });

  it('uses only template variables the dashboard defines', () => {
    const names = variables.map((v) => String(v['name']));
    const used = new Set(queries.flatMap((q) => [...q.flux.matchAll(/\$\{([A-Za-z_]+)(?::[a-z]+)?\}/g)].map((m) => m[1] ?? '')));
    expect(used.size).toBeGreaterThan(0);
    for (const u of used) expect(names).toContain(u);
    for (const p of panels.filter((x) => x['repeat'] !== undefined)) expect(names).toContain(p['repeat']);
  });

  it('alerts per device when the anomaly flag is above 0', () => {
    const rule = rules.find((r) => r['uid'] === 'convwatch-anomaly-open');
    const data = asArray(rule?.['data'], 'data');
    const query = String(at(data.find((d) => at(d, 'refId') === 'A'), 'model.query'));
    expect(references(query).fields).toEqual(['anomaly']);
    expect(query).toMatch(/group\(columns: \[[^\]]*"device"/);
    const condition = data.find((d) => at(d, 'refId') === rule?.['condition']);
    expect(at(condition, 'model.type')).toBe('threshold');
    expect(at(condition, 'model.conditions')).toEqual([{ evaluator: { type: 'gt', params: [0] } }]);
    // The chain condition → reduce → query holds together.
    const reduce = data.find((d) => at(d, 'refId') === at(condition, 'model.expression'));
    expect(at(reduce, 'model.expression')).toBe('A');
  });

  it('the dashboard provider loads the folder compose mounts the dashboards into', () => {
    const provider = asArray(readYaml('deploy/grafana/provisioning/dashboards/convwatch.yaml')['providers'], 'providers')[0];
    const grafanaVolumes = asArray(at(readYaml('deploy/compose/docker-compose.yml'), 'services.grafana.volumes'), 'volumes').map(String);
    expect(grafanaVolumes).toContain(`../grafana/dashboards:${String(at(provider, 'options.path'))}:ro`);
  });
});
