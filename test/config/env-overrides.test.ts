import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/config/did-you-mean.js';
import { applyEnvOverrides, convertEnvValue, envVariableFor, readEnvOverrides } from '../../src/config/env-overrides.js';
import { nodeAt } from '../../src/config/schema-introspection.js';

describe('envVariableFor', () => {
  it.each([
    [['mqtt', 'url'], 'CONVWATCH_MQTT__URL'],
    [['mqtt', 'clientId'], 'CONVWATCH_MQTT__CLIENT_ID'],
    [['influx', 'spool', 'maxBytes'], 'CONVWATCH_INFLUX__SPOOL__MAX_BYTES'],
    [['subscriptions', 0, 'maxPayloadBytes'], 'CONVWATCH_SUBSCRIPTIONS__0__MAX_PAYLOAD_BYTES'],
  ] as const)('%j → %s', (path, name) => {
    expect(envVariableFor(path)).toBe(name);
  });

  it('reads back every name it writes', () => {
    for (const path of [['mqtt', 'clientId'], ['influx', 'spool', 'fsyncIntervalMs'], ['embeddedBroker', 'listen']]) {
      const r = readEnvOverrides({ [envVariableFor(path)]: '1' });
      expect(r.overrides.map((o) => o.path)).toEqual([path]);
    }
  });
});

describe('convertEnvValue', () => {
  const at = (...path: (string | number)[]) => nodeAt(path);
  it.each([
    [['mqtt', 'keepaliveSeconds'], ' 45 ', 45],
    [['mqtt', 'keepaliveSeconds'], '1_000', 1000],
    [['mqtt', 'keepaliveSeconds'], 'soon', 'soon'],
    [['mqtt', 'qos'], '0', 0],
    [['mqtt', 'cleanSession'], 'OFF', false],
    [['mqtt', 'cleanSession'], 'maybe', 'maybe'],
    [['mqtt', 'url'], ' mqtt://b ', ' mqtt://b '],
    [['partition', 'index'], '3', 3],
    [['partition', 'index'], 'hostname-ordinal', 'hostname-ordinal'],
    [['models', 0, 'devices'], 'a-*, b-?', ['a-*', 'b-?']],
    [['models', 0, 'devices'], '["x,y"]', ['x,y']],
    [['models', 0, 'devices'], '', []],
  ] as const)('%j from %j', (path, raw, value) => {
    expect(convertEnvValue(raw, at(...path))).toEqual({ ok: true, value });
  });

  it('needs JSON for sections and lists of objects', () => {
    expect(convertEnvValue('{"kind":"none"}', at('partition'))).toEqual({ ok: true, value: { kind: 'none' } });
    expect(convertEnvValue('none', at('partition'))).toEqual({ ok: false, expected: 'must be a JSON object in the environment' });
    expect(convertEnvValue('[1', at('subscriptions'))).toEqual({ ok: false, expected: 'must be a JSON list of objects in the environment' });
    expect(convertEnvValue('a,b', at('models'))).toEqual({ ok: false, expected: 'must be a JSON list of objects in the environment' });
    expect(convertEnvValue('[{"path":"m"}]', at('models'))).toEqual({ ok: true, value: [{ path: 'm' }] });
  });
});

describe('applyEnvOverrides', () => {
  it('does not modify the file content it is given', () => {
    const base = { mqtt: { qos: 1 } };
    const { merged } = applyEnvOverrides(base, readEnvOverrides({ CONVWATCH_MQTT__QOS: '0' }).overrides);
    expect(merged).toEqual({ mqtt: { qos: 0 } });
    expect(base).toEqual({ mqtt: { qos: 1 } });
  });

  it('applies a whole section before the single options inside it, whatever the names sort as', () => {
    const r = readEnvOverrides({ CONVWATCH_PIPELINE__LATE: 'accept', CONVWATCH_PIPELINE: '{"late":"drop","chunkLength":4}' });
    expect(applyEnvOverrides({}, r.overrides).merged).toEqual({ pipeline: { late: 'accept', chunkLength: 4 } });
  });

  it('finds an alias and its long name set differently even among other variables', () => {
    const r = readEnvOverrides({ CONVWATCH_LOG_LEVEL: 'debug', CONVWATCH_LOG__LEVEL: 'warn', CONVWATCH_MQTT__QOS: '1', CONVWATCH_HTTP__LISTEN: 'x:1' });
    expect(r.issues.map((i) => i.path)).toEqual(['log.level']);
    expect(readEnvOverrides({ CONVWATCH_LOG_LEVEL: 'debug', CONVWATCH_LOG__LEVEL: 'debug' }).issues).toEqual([]);
  });
});

describe('did you mean', () => {
  it.each([
    ['urll', ['url', 'clientId'], 'url'],
    ['client_id', ['url', 'clientId'], 'clientId'],
    ['CLIENTID', ['url', 'clientId'], 'clientId'],
    ['keepalive', ['keepaliveSeconds', 'qos'], 'keepaliveSeconds'],
    ['pipline', ['pipeline', 'partition'], 'pipeline'],
    ['colour', ['enabled', 'listen', 'metricsPath'], null],
    ['q', ['qos'], null],
  ] as const)('%s among %j → %s', (name, candidates, expected) => {
    expect(closestName(name, candidates)).toBe(expected);
  });

  it('counts edits by hand-checked examples', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('ab', 'ba')).toBe(1); // a transposition is one edit
    expect(editDistance('', 'abc')).toBe(3);
  });
});
