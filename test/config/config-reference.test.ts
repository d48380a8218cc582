import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envVariableOfOption, renderConfigReference } from '../../src/config/config-reference.js';
import { listOptions } from '../../src/config/schema-introspection.js';

const doc = resolve(import.meta.dirname, '../../docs/configuration.md');
const BEGIN = '<!-- options:begin -->';
const END = '<!-- options:end -->';

describe('docs/configuration.md', () => {
  it('holds the reference table generated from the schema', () => {
    const text = readFileSync(doc, 'utf8');
    const start = text.indexOf(BEGIN);
    const end = text.indexOf(END);
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    const generated = `${BEGIN}\n${renderConfigReference()}\n${END}`;
    if (process.env['UPDATE_CONFIG_DOCS'] === '1') writeFileSync(doc, text.slice(0, start) + generated + text.slice(end + END.length));
    else expect(text.slice(start, end + END.length)).toBe(generated);
  });
});

describe('renderConfigReference', () => {
  const table = renderConfigReference();
  const rows = table.split('\n').slice(2);

  it('has one row per option, each with a meaning', () => {
    expect(rows).toHaveLength(listOptions().length);
    for (const row of rows) {
      const cells = row.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
      expect(cells, row).toHaveLength(5);
      expect(cells[4], row).not.toBe('');
    }
  });

  it('shows type, default and unit as written by hand here', () => {
    expect(rows).toContain('| `mqtt.keepaliveSeconds` | an integer from 0 to 65535 | `30` | s | Keep-alive interval; 0 turns keep-alive off. |');
    expect(rows).toContain('| `mqtt.qos` | 0 or 1 | `1` |  | QoS of the subscriptions. 1 is at-least-once; 0 may lose messages. |');
    expect(rows.find((r) => r.startsWith('| `influx.spool.maxBytes` |'))).toContain('| `268435456` | bytes |');
    expect(rows.find((r) => r.startsWith('| `models[].path` |'))).toContain('| required |');
    expect(rows.find((r) => r.startsWith('| `mqtt.clientId` |'))).toContain('| convwatch-&lt;hostname&gt;[-&lt;instanceId&gt;] |');
  });

  it('names the environment variable of an option', () => {
    expect(envVariableOfOption('mqtt.tls.rejectUnauthorized')).toBe('CONVWATCH_MQTT__TLS__REJECT_UNAUTHORIZED');
    expect(envVariableOfOption('subscriptions[].maxPayloadBytes')).toBe('CONVWATCH_SUBSCRIPTIONS__0__MAX_PAYLOAD_BYTES');
  });
});
