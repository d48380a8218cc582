import { envVariableFor } from './env-overrides.js';
import { describeExpected, listOptions, type OptionEntry } from './schema-introspection.js';

/**
 * The option reference of docs/configuration.md, generated from the schema: one row per option
 * with its type, default, unit and meaning. A test compares the document with this output, so
 * the reference cannot drift from the schema (regenerate with `UPDATE_CONFIG_DOCS=1 npx vitest
 * run test/config/config-reference.test.ts`).
 */
export function renderConfigReference(): string {
  const rows = listOptions().map((o) => `| ${cells(o).map(escapeCell).join(' | ')} |`);
  return ['| option | type | default | unit | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

function cells(o: OptionEntry): string[] {
  const n = o.node;
  const type = o.isSection ? (n.type === 'array' ? 'list of objects' : 'section') : describeExpected(n);
  return [`\`${o.path}\``, type, defaultOf(o), n.unit ?? '', n.description ?? ''];
}

function defaultOf(o: OptionEntry): string {
  const n = o.node;
  if (n.defaultText !== undefined) return n.defaultText;
  if (n.default !== undefined) {
    if (o.isSection && typeof n.default === 'object' && n.default !== null && Object.keys(n.default).length === 0) return '';
    return `\`${JSON.stringify(n.default)}\``;
  }
  if (o.isSection) return o.required ? 'required' : '';
  return o.required ? 'required' : 'not set';
}

/** Table-safe text: `|` escaped, and `<`/`>` outside code spans as entities (markdown would take `<n>` for HTML). */
function escapeCell(text: string): string {
  return text
    .replace(/\n/g, ' ')
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('`')
    .replace(/\|/g, '\\|');
}

/** The environment variable of an option path as listed in the reference (`mqtt.tls.ca` → `CONVWATCH_MQTT__TLS__CA`). */
export function envVariableOfOption(path: string): string {
  return envVariableFor(path.replace(/\[\]/g, '.0').split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)));
}
