import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { tryLoadConfig } from '../../src/config/load-config.js';
import { listOptions } from '../../src/config/schema-introspection.js';
import { valueAt } from '../../src/config/zod-issues.js';
import { configOf } from './config-workspace.js';

// The shipped configuration files must load as they are, so they cannot rot.
const repo = resolve(import.meta.dirname, '../..');
const example = resolve(repo, 'config/convwatch.example.yaml');
const embedded = resolve(repo, 'config/default.yaml');
const load = (file: string): ReturnType<typeof tryLoadConfig> => tryLoadConfig(file, {}, { cwd: repo, hostname: 'gateway-1' });

describe('config/default.yaml (the embedded default of npm start)', () => {
  it('loads cleanly, without warnings', () => {
    const r = load(embedded);
    const c = configOf(r);
    expect(r.warnings).toEqual([]);
    expect(c.embeddedBroker.enabled).toBe(true);
    expect(c.output).toEqual({ kind: 'line-protocol-file', measurement: 'anomaly', path: resolve(repo, 'convwatch-state/points.lp') });
    expect(c.models).toEqual([{ name: 'demo', path: resolve(repo, 'models/demo'), devices: ['*'] }]);
    // A free port: the embedded default must not fail because 9464 is taken.
    expect(c.http.listen).toEqual({ host: '127.0.0.1', port: 0 });
  });
});

describe('config/convwatch.example.yaml', () => {
  it('loads cleanly; the only warning is the token it leaves to the environment', () => {
    const r = load(example);
    configOf(r);
    expect(r.warnings.map((w) => w.path)).toEqual(['influx.token']);
  });

  it('mentions every option of the schema (set or commented out)', () => {
    const text = readFileSync(example, 'utf8');
    const missing = listOptions()
      .map((o) => o.path.split('.').pop() ?? '')
      .filter((key) => !new RegExp(`^\\s*#?\\s*(- )?${key.replace('[]', '')}:`, 'm').test(text));
    expect(missing).toEqual([]);
  });

  it('shows the defaults for the options it sets, except where its comments say otherwise', () => {
    const raw: unknown = parseYaml(readFileSync(example, 'utf8'));
    // Set on purpose to other values than the defaults (each commented in the file).
    const deliberate = ['models[].name', 'models[].path', 'influx.spool.dir', 'state.checkpointDir'];
    const differing = listOptions()
      .filter((o) => !o.isSection && o.node.default !== undefined && !deliberate.includes(o.path))
      .filter((o) => {
        const value = valueAt(raw, o.path.split('.').flatMap((k) => (k.endsWith('[]') ? [k.slice(0, -2), 0] : [k])));
        return value !== undefined && JSON.stringify(value) !== JSON.stringify(o.node.default);
      })
      .map((o) => o.path);
    expect(differing).toEqual([]);
  });
});
