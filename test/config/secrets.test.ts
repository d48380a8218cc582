import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssues } from '../../src/config/config-error.js';
import { loadConfig, parseConfig, tryLoadConfig, type LoadConfigResult } from '../../src/config/load-config.js';
import { readSecretFile, redactConfig, REDACTED } from '../../src/config/secrets.js';
import { configOf, createWorkspace, issueAt, issuesOf, minimal, type Workspace } from './config-workspace.js';

// Distinctive, so that a leak anywhere is found by a plain substring search.
const SECRET = 'Zq9-SeCrEt-do-not-print-4417';
const NUMERIC_SECRET = 44170017;

let ws: Workspace;
beforeEach(() => {
  ws = createWorkspace();
});
afterEach(() => ws.remove());

const opts = (): { cwd: string; hostname: string } => ({ cwd: ws.dir, hostname: 'gw' });

/** Everything a user or a log could see of a result: issues, formatted text, warnings, redacted config. */
function visibleText(r: LoadConfigResult): string {
  const parts: string[] = [JSON.stringify(r.warnings)];
  if (r.ok) parts.push(JSON.stringify(redactConfig(r.config)));
  else parts.push(JSON.stringify(r.issues), formatConfigIssues(r.issues, r.source), new ConfigError(r.issues, r.source).message);
  return parts.join('\n');
}

function expectNoSecret(r: LoadConfigResult, ...secrets: string[]): void {
  const text = visibleText(r);
  for (const s of [SECRET, ...secrets]) expect(text).not.toContain(s);
}

describe('secrets never appear in errors, warnings or redacted output', () => {
  it('a password of the wrong type (a YAML number)', () => {
    const path = ws.write('c.yaml', `${JSON.stringify(minimal())}\n`.replace(/^\{/, `{"mqtt":{"password":${NUMERIC_SECRET}},`));
    const r = tryLoadConfig(path, {}, opts());
    issueAt(r, 'mqtt.password', `got ${REDACTED}`, 'must be a string');
    expectNoSecret(r, String(NUMERIC_SECRET));
  });

  it('a token of the wrong type', () => {
    const r = parseConfig({ ...minimal(), influx: { org: 'o', bucket: 'b', token: [SECRET] } }, {}, opts());
    issueAt(r, 'influx.token', `got ${REDACTED}`, 'must be a string');
    expectNoSecret(r);
  });

  it('a YAML syntax error on the password line', () => {
    const path = ws.write('c.yaml', `mqtt:\n  password: "${SECRET}\n  qos: 1\nmodels: [\n`);
    const r = tryLoadConfig(path, {}, opts());
    expect(issuesOf(r)[0].message).toContain('must be valid YAML or JSON');
    expectNoSecret(r);
  });

  it('a misspelt password option', () => {
    const r = parseConfig({ ...minimal(), mqtt: { pasword: SECRET }, influx: { org: 'o', bucket: 'b', tokn: SECRET } }, {}, opts());
    expect(issueAt(r, 'mqtt.pasword', `got ${REDACTED}`, 'is not an option of mqtt').hint).toContain('did you mean mqtt.password?');
    issueAt(r, 'influx.tokn', `got ${REDACTED}`, 'is not an option of influx');
    expectNoSecret(r);
  });

  it('password given twice, in the file and as a file', () => {
    const file = ws.write('pw.txt', SECRET);
    const r = parseConfig({ ...minimal(), mqtt: { password: SECRET, passwordFile: file } }, {}, opts());
    issueAt(r, 'mqtt.passwordFile', `got "${file}"`, 'must be left out when mqtt.password is set');
    expectNoSecret(r);
  });

  it('two environment variables setting the password differently', () => {
    const r = parseConfig(minimal(), { CONVWATCH_MQTT_PASSWORD: SECRET, CONVWATCH_MQTT__PASSWORD: `${SECRET}x` }, opts());
    issueAt(r, 'mqtt.password', `got ${REDACTED}`, 'must be given once');
    expectNoSecret(r);
  });

  it('a misspelt secret variable', () => {
    const r = parseConfig(minimal(), { CONVWATCH_MQTT__PASSWROD: SECRET }, opts());
    expect(issueAt(r, 'mqtt.passwrod', `got ${REDACTED}`, 'is not an option of mqtt').hint).toContain('CONVWATCH_MQTT__PASSWORD');
    expectNoSecret(r);
  });

  it('a password inside a URL', () => {
    const bad = parseConfig({ ...minimal(), mqtt: { url: `http://user:${SECRET}@broker` } }, {}, opts());
    issueAt(bad, 'mqtt.url', `got "http://user:${REDACTED}@broker"`, 'must be a URL with scheme');
    expectNoSecret(bad);
    const good = parseConfig({ ...minimal(), mqtt: { url: `mqtt://user:${SECRET}@broker:1883` } }, {}, opts());
    expect(configOf(good).mqtt.url).toBe(`mqtt://user:${SECRET}@broker:1883`);
    expect(good.warnings.map((w) => w.path)).toContain('mqtt.url');
    expect(redactConfig(configOf(good)).mqtt.url).toBe(`mqtt://user:${REDACTED}@broker:1883`);
    expectNoSecret(good);
  });

  it('secrets from the environment while something else is wrong', () => {
    const r = parseConfig({ ...minimal(), mqtt: { qos: 7 } }, { CONVWATCH_MQTT_PASSWORD: SECRET, CONVWATCH_INFLUX_TOKEN: SECRET }, opts());
    expect(issuesOf(r)).toHaveLength(1);
    expectNoSecret(r);
  });
});

describe('secret files', () => {
  it('reads and trims the secret, and redactConfig hides it without touching the configuration', () => {
    const pw = ws.write('secrets/mqtt', `  ${SECRET}\n`);
    const token = ws.write('secrets/influx', `${SECRET}-token\n`);
    const path = ws.write('c.yaml', JSON.stringify({ ...minimal(), mqtt: { username: 'svc', passwordFile: 'secrets/mqtt' }, influx: { org: 'o', bucket: 'b', tokenFile: token } }));
    const { config, warnings } = loadConfig(path, {}, opts());
    expect(config.mqtt.password).toBe(SECRET);
    expect(config.mqtt.passwordFile).toBe(pw);
    expect(config.influx.token).toBe(`${SECRET}-token`);
    const redacted = redactConfig(config);
    expect(redacted.mqtt.password).toBe(REDACTED);
    expect(redacted.influx.token).toBe(REDACTED);
    expect(redacted.mqtt.passwordFile).toBe(pw);
    expect(redacted.mqtt.username).toBe('svc');
    expect(JSON.stringify(redacted)).not.toContain(SECRET);
    expect(JSON.stringify(warnings)).not.toContain(SECRET);
    expect(config.mqtt.password).toBe(SECRET); // the original is unchanged
  });

  it('names the option and the file when a secret file cannot be used, never its content', () => {
    issueAt(parseConfig({ ...minimal(), mqtt: { passwordFile: 'missing.txt' } }, {}, opts()), 'mqtt.passwordFile', `got "${ws.dir}/missing.txt"`, 'ENOENT');
    ws.write('empty.txt', ' \n');
    issueAt(parseConfig({ ...minimal(), mqtt: { passwordFile: 'empty.txt' } }, {}, opts()), 'mqtt.passwordFile', `got "${ws.dir}/empty.txt"`, 'must name a file holding the secret (this one is empty)');
    ws.mkdir('dir');
    issueAt(parseConfig({ ...minimal(), influx: { org: 'o', bucket: 'b', tokenFile: 'dir' } }, {}, opts()), 'influx.tokenFile', `got "${ws.dir}/dir"`, 'must name a regular file');
    ws.write('big.txt', `${SECRET}\n`.repeat(3_000));
    const big = parseConfig({ ...minimal(), mqtt: { passwordFile: 'big.txt' } }, {}, opts());
    issueAt(big, 'mqtt.passwordFile', 'big.txt"', 'must name a file of at most 65536 bytes');
    expectNoSecret(big);
  });

  it('reports read errors by code only', () => {
    expect(readSecretFile(`${ws.dir}/none`)).toEqual({ ok: false, problem: 'must name a readable file (ENOENT: no such file or directory)' });
  });

  it('lets a secret from the environment replace the secret file of the file (environment wins as a whole)', () => {
    ws.write('pw', 'from-file');
    const path = ws.write('c.yaml', JSON.stringify({ ...minimal(), mqtt: { passwordFile: 'pw' } }));
    const c = configOf(tryLoadConfig(path, { CONVWATCH_MQTT_PASSWORD: SECRET }, opts()));
    expect(c.mqtt.password).toBe(SECRET);
    expect(c.mqtt.passwordFile).toBeUndefined();
    const file = ws.write('pw2', 'from-env-file');
    const c2 = configOf(tryLoadConfig(ws.write('d.yaml', JSON.stringify({ ...minimal(), mqtt: { password: 'in-file' } })), { CONVWATCH_MQTT__PASSWORD_FILE: file }, opts()));
    expect(c2.mqtt.password).toBe('from-env-file');
  });
});

describe('redactConfig', () => {
  it('also works on a configuration as written, including misspelt secret-like keys', () => {
    const input = { mqtt: { password: SECRET, url: `mqtts://u:${SECRET}@b`, pasword: SECRET }, influx: { token: SECRET, org: 'o' }, log: { level: 'info' } };
    const out = redactConfig(input);
    expect(out).toEqual({ mqtt: { password: REDACTED, url: `mqtts://u:${REDACTED}@b`, pasword: REDACTED }, influx: { token: REDACTED, org: 'o' }, log: { level: 'info' } });
    expect(input.mqtt.password).toBe(SECRET);
  });

  it('leaves unset secrets unset', () => {
    expect(redactConfig({ mqtt: { url: 'mqtt://b' } })).toEqual({ mqtt: { url: 'mqtt://b' } });
  });
});
