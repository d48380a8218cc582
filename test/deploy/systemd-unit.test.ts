import { describe, expect, it } from 'vitest';
import { at, parseEnvFile, parseUnitFile, readText, readYaml, unitValues } from './deploy-files.js';
import { expectedRssMiB, quantityMiB } from './memory-sizing.js';

const UNIT = 'deploy/systemd/convwatch.service';
const unit = parseUnitFile(readText(UNIT), UNIT);
const one = (section: string, key: string): string => {
  const values = unitValues(unit, section, key);
  if (values.length !== 1) throw new Error(`${section}.${key}: expected one value, found ${values.length}`);
  return values[0] ?? '';
};
const config = readYaml('deploy/systemd/convwatch.yaml');

/** A systemd time span (`60`, `60s`, `1min 30s`, `500ms`) in milliseconds. */
function timeSpanMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, sec: 1000, min: 60_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const part of text.trim().split(/\s+/)) {
    const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(part);
    if (m === null) throw new Error(`not a time span: ${text}`);
    const factor = units[m[2] === '' ? 's' : (m[2] ?? '')];
    if (factor === undefined) throw new Error(`unknown unit in ${text}`);
    total += Number(m[1]) * factor;
  }
  return total;
}

describe('the unit parser', () => {
  it('keeps repeated keys in order, joins continuations, and refuses stray lines', () => {
    const parsed = parseUnitFile('[Service]\n# c\nA=1\nA=2 \\\n  3\n; c\n', 't');
    expect(parsed.map((e) => [e.key, e.value])).toEqual([
      ['A', '1'],
      ['A', '2 3'],
    ]);
    expect(() => parseUnitFile('A=1\n', 't')).toThrow(/outside any section/);
    expect(() => parseUnitFile('[Service]\nnot a key\n', 't')).toThrow(/t:2/);
  });
});

describe('deploy/systemd/convwatch.service', () => {
  it('has the three sections and starts after the network is up', () => {
    expect([...new Set(unit.map((e) => e.section))]).toEqual(['Unit', 'Service', 'Install']);
    expect(one('Unit', 'Description')).not.toBe('');
    expect(one('Unit', 'After')).toMatch(/\bnetwork-online\.target\b/);
    expect(one('Unit', 'Wants')).toMatch(/\bnetwork-online\.target\b/);
    expect(one('Install', 'WantedBy')).toBe('multi-user.target');
  });

  it('runs `convwatch run --config` of the installed build as a dedicated user', () => {
    expect(one('Service', 'ExecStart')).toMatch(/^\/usr\/bin\/node \/opt\/convwatch\/dist\/cli\/main\.js run --config \/etc\/convwatch\/convwatch\.yaml$/);
    expect(one('Service', 'User')).toBe('convwatch');
    expect(one('Service', 'Group')).toBe('convwatch');
  });

  it('restarts on failure and stops after the drain timeout, not before', () => {
    expect(one('Service', 'Restart')).toBe('on-failure');
    expect(one('Service', 'KillSignal')).toBe('SIGTERM');
    const shutdownMs = Number(at(config, 'state.shutdownTimeoutMs'));
    expect(shutdownMs).toBeGreaterThan(0);
    expect(timeSpanMs(one('Service', 'TimeoutStopSec'))).toBeGreaterThan(shutdownMs + 10_000);
  });

  it('keeps state in its StateDirectory, writable under ProtectSystem=strict, where the config puts it', () => {
    const stateDir = `/var/lib/${one('Service', 'StateDirectory')}`;
    expect(one('Service', 'WorkingDirectory')).toBe(stateDir);
    expect(unitValues(unit, 'Service', 'ReadWritePaths').flatMap((v) => v.split(/\s+/))).toContain(stateDir);
    for (const p of [at(config, 'influx.spool.dir'), at(config, 'state.checkpointDir')]) expect(String(p).startsWith(`${stateDir}/`), String(p)).toBe(true);
  });

  it('is hardened', () => {
    expect(one('Service', 'NoNewPrivileges')).toBe('yes');
    expect(one('Service', 'ProtectSystem')).toBe('strict');
    expect(one('Service', 'ProtectHome')).toBe('yes');
    expect(one('Service', 'PrivateTmp')).toBe('yes');
    expect(one('Service', 'CapabilityBoundingSet')).toBe('');
    expect(one('Service', 'RestrictAddressFamilies').split(/\s+/).sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_UNIX']);
    // V8's JIT and WebAssembly need writable-then-executable memory.
    expect(unitValues(unit, 'Service', 'MemoryDenyWriteExecute')).toEqual([]);
  });

  it('loads each secret as a credential, at the path the config reads it from', () => {
    const credentials = unitValues(unit, 'Service', 'LoadCredential').map((v) => v.split(':')[0]);
    expect(credentials).toEqual(['mqtt-password', 'influx-token']);
    const dir = '/run/credentials/convwatch.service';
    expect(at(config, 'mqtt.passwordFile')).toBe(`${dir}/mqtt-password`);
    expect(at(config, 'influx.tokenFile')).toBe(`${dir}/influx-token`);
    expect(unitValues(unit, 'Service', 'EnvironmentFile')).toEqual(['-/etc/convwatch/convwatch.env']);
  });

  it('caps memory above what its configuration needs (measured figures)', () => {
    const need = expectedRssMiB(Number(at(config, 'pipeline.maxDevices')), Number(at(config, 'influx.maxBufferedPoints')));
    const high = quantityMiB(one('Service', 'MemoryHigh'), 'systemd');
    const max = quantityMiB(one('Service', 'MemoryMax'), 'systemd');
    expect(high).toBeGreaterThanOrEqual(need * 1.5);
    expect(max).toBeGreaterThan(high);
  });
});

describe('deploy/systemd/convwatch.env.example', () => {
  it('sets only CONVWATCH_ variables, and no secret', () => {
    const env = parseEnvFile(readText('deploy/systemd/convwatch.env.example'));
    expect(env.size).toBeGreaterThan(0);
    for (const [key, value] of env) {
      expect(key).toMatch(/^CONVWATCH_/);
      expect(key).not.toMatch(/PASSWORD|TOKEN/);
      expect(value).not.toBe('');
    }
  });
});
