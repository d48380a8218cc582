import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { configOf, createWorkspace, minimal, type Workspace } from './config-workspace.js';

let ws: Workspace;
beforeEach(() => {
  ws = createWorkspace();
});
afterEach(() => ws.remove());

/** The warnings of a configuration that must be valid, as `path: message`. */
function warningsOf(input: Record<string, unknown>, env: Record<string, string> = {}): string[] {
  const r = parseConfig(input, env, { cwd: ws.dir, hostname: 'gw' });
  configOf(r);
  return r.warnings.map((w) => `${w.path}: ${w.message}`);
}

const base = (): Record<string, unknown> => ({ ...minimal(), influx: { org: 'o', bucket: 'b', token: 't' } });

describe('configWarnings', () => {
  it('says nothing about the defaults of a complete configuration', () => {
    expect(warningsOf(base())).toEqual([]);
  });

  it.each([
    [{ mqtt: { qos: 0 } }, 'mqtt.qos: QoS 0 subscriptions are at-most-once'],
    [{ mqtt: { cleanSession: true } }, 'mqtt.cleanSession: a clean session is discarded at every connect'],
    [{ mqtt: { sessionExpirySeconds: 0 } }, 'mqtt.sessionExpirySeconds: is 0: the broker discards the session at disconnect'],
    [{ mqtt: { tls: { rejectUnauthorized: false } } }, 'mqtt.tls.rejectUnauthorized: is false'],
    [{ mqtt: { protocolVersion: 4, receiveMaximum: 10 } }, 'mqtt.receiveMaximum: is an MQTT 5 setting'],
    [{ embeddedBroker: { enabled: true }, mqtt: { url: 'mqtt://elsewhere' } }, 'mqtt.url: is ignored: embeddedBroker.enabled is true'],
    [{ partition: { kind: 'shared', group: 'g' } }, 'partition.group: shared subscriptions on a round-robin broker (Mosquitto) split one device'],
    [{ partition: { kind: 'shared', group: 'g', warnRoundRobin: false }, mqtt: { protocolVersion: 4 } }, 'partition.kind: shared subscriptions are an MQTT 5 feature'],
    [{ partition: { kind: 'topics', filters: ['other/#'] } }, 'partition.filters[0]: other/# matches no subscription template'],
    [{ influx: { org: 'o', bucket: 'b' } }, 'influx.token: is not set'],
    [{ output: { kind: 'line-protocol-file', path: 'p.lp' }, influx: { url: 'http://x' } }, 'influx: is ignored: output.kind is "line-protocol-file"'],
  ])('%j', (override, expected) => {
    const warnings = warningsOf({ ...base(), ...override });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(expected);
  });

  it('warns about TLS files that a plain URL does not use', () => {
    ws.write('ca.pem', 'x');
    expect(warningsOf({ ...base(), mqtt: { tls: { ca: 'ca.pem' } } })).toEqual([expect.stringContaining('mqtt.tls: certificates are set but mqtt.url is not mqtts://')]);
    expect(warningsOf({ ...base(), mqtt: { url: 'mqtts://b', tls: { ca: 'ca.pem' } } })).toEqual([]);
  });

  it('warns about overlapping subscriptions and unreachable models', () => {
    ws.mkdir('models/fan');
    const warnings = warningsOf({
      ...base(),
      subscriptions: [
        { topic: 'sensors/{device}/telemetry', codec: 'json-object' },
        { topic: 'sensors/pump-{device}/{channel}', codec: 'number' },
      ],
      models: [{ path: 'models/pump', devices: ['*'] }, { path: 'models/fan', devices: ['fan-*'] }],
    });
    expect(warnings).toEqual([
      expect.stringContaining('subscriptions[1].topic: its filter sensors/+/+ overlaps subscriptions[0] (sensors/+/telemetry)'),
      expect.stringContaining('models[1]: is never used: models[0] already matches every device'),
    ]);
  });
});
