import { configIssue, type ConfigIssue, type ConfigWarning } from './config-error.js';
import { closestName, normalizeName } from './did-you-mean.js';
import { CONFIG_JSON_SCHEMA, childNode, formatPath, listOptions, nodeAt, optionKeys, variantsOf, type ConfigPath, type SchemaNode } from './schema-introspection.js';
import { looksSecret, redactValue, REDACTED } from './secrets.js';

/**
 * Environment overrides: `CONVWATCH_<PATH>`, nesting with `__`, each key spelt as in the file or
 * in upper snake case (`CONVWATCH_MQTT__CLIENT_ID` sets `mqtt.clientId`), list entries by index
 * (`CONVWATCH_SUBSCRIPTIONS__0__TOPIC`). Values are read by the option's type: numbers, booleans
 * (`true/false/1/0/yes/no/on/off`), lists as JSON or comma-separated, objects as JSON.
 * Precedence: defaults < file < environment.
 */

/** Prefix of every configuration variable. */
export const ENV_PREFIX = 'CONVWATCH_';
/** Separator of nesting levels in a variable name. */
export const ENV_SEPARATOR = '__';

/** Short names for the options most often set from the environment (same precedence as their long names). */
export const ENV_ALIASES: Readonly<Record<string, ConfigPath>> = Object.freeze({
  CONVWATCH_MQTT_PASSWORD: ['mqtt', 'password'],
  CONVWATCH_INFLUX_TOKEN: ['influx', 'token'],
  CONVWATCH_PARTITION_INDEX: ['partition', 'index'],
  CONVWATCH_LOG_LEVEL: ['log', 'level'],
});

/** `CONVWATCH_` variables that belong to other tools (the test servers), never configuration. */
export const ENV_NOT_CONFIG: readonly string[] = Object.freeze(['CONVWATCH_MOSQUITTO_BIN', 'CONVWATCH_VICTORIA_METRICS_BIN']);

/** One override read from the environment. */
export interface EnvOverride {
  readonly variable: string;
  readonly path: ConfigPath;
  readonly value: unknown;
}

/** The environment variable that sets `path`: `['mqtt', 'clientId']` → `CONVWATCH_MQTT__CLIENT_ID`. */
export function envVariableFor(path: ConfigPath): string {
  return ENV_PREFIX + path.map((k) => (typeof k === 'number' ? String(k) : k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())).join(ENV_SEPARATOR);
}

/**
 * Reads the configuration variables of `env`. Unknown variables under a known section are
 * issues (with a suggestion); a variable that is a known option spelt with single underscores
 * (`CONVWATCH_MQTT_URL`) is an issue too; any other unknown `CONVWATCH_` variable is a warning.
 */
export function readEnvOverrides(env: Readonly<Record<string, string | undefined>>): { overrides: EnvOverride[]; issues: ConfigIssue[]; warnings: ConfigWarning[] } {
  const overrides: EnvOverride[] = [];
  const issues: ConfigIssue[] = [];
  const warnings: ConfigWarning[] = [];
  for (const variable of Object.keys(env).sort()) {
    const raw = env[variable];
    if (!variable.startsWith(ENV_PREFIX) || raw === undefined || ENV_NOT_CONFIG.includes(variable)) continue;
    const alias = ENV_ALIASES[variable];
    const located: Located = alias !== undefined ? { path: alias } : locate(variable);
    if ('unknown' in located) {
      if (located.unknown === 'warning') warnings.push({ path: '', message: located.message });
      else issues.push(configIssue(formatPath(located.path), looksSecret(variable) ? REDACTED : raw, located.message, variable, located.hint));
      continue;
    }
    const converted = convertEnvValue(raw, nodeAt(located.path));
    if (!converted.ok) {
      issues.push(configIssue(formatPath(located.path), redactValue(located.path, raw), converted.expected, variable));
      continue;
    }
    overrides.push({ variable, path: located.path, value: converted.value });
  }
  // Coarse overrides (a whole section as JSON) first, so finer ones refine them.
  overrides.sort((a, b) => a.path.length - b.path.length || (a.variable < b.variable ? -1 : 1));
  const first = new Map<string, EnvOverride>();
  for (const o of overrides) {
    const key = formatPath(o.path);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, o);
    else if (JSON.stringify(earlier.value) !== JSON.stringify(o.value)) {
      issues.push(configIssue(key, redactValue(o.path, o.value), `must be given once: ${earlier.variable} and ${o.variable} both set it, differently`, o.variable));
    }
  }
  return { overrides, issues, warnings };
}

type Located = { path: ConfigPath } | { unknown: 'warning' | 'issue'; path: ConfigPath; message: string; hint?: string };

function locate(variable: string): Located {
  const segments = variable.slice(ENV_PREFIX.length).split(ENV_SEPARATOR);
  const path: (string | number)[] = [];
  let node: SchemaNode | null = CONFIG_JSON_SCHEMA;
  for (const segment of segments) {
    if (node === null) break;
    if (segment === '') return { unknown: 'issue', path, message: `must not have an empty name level (${ENV_SEPARATOR} separates levels)` };
    const isList = variantsOf(node).some((v) => v.items !== undefined);
    if (isList) {
      if (!/^\d+$/.test(segment)) return { unknown: 'issue', path, message: `is a list: the level after it must be an entry index (0, 1, …), not ${JSON.stringify(segment)}` };
      path.push(Number(segment));
      node = childNode(node, 0);
      continue;
    }
    const keys = optionKeys(node);
    const key = keys.find((k) => normalizeName(k) === normalizeName(segment));
    if (key === undefined) return unknownVariable(variable, segment, path, keys);
    path.push(key);
    node = childNode(node, key);
  }
  return { path };
}

function unknownVariable(variable: string, segment: string, parent: ConfigPath, keys: readonly string[]): Located {
  if (parent.length === 0) {
    // A known option written with single underscores (CONVWATCH_MQTT_URL) is surely meant as one.
    const flat = normalizeName(variable.slice(ENV_PREFIX.length));
    const meant = listOptions().find((o) => !o.path.includes('[]') && normalizeName(o.path.replace(/\./g, '')) === flat);
    if (meant !== undefined) {
      const path = meant.path.split('.');
      return { unknown: 'issue', path, message: `is not set by ${variable}: nesting levels are separated by ${ENV_SEPARATOR}`, hint: `did you mean ${envVariableFor(path)}?` };
    }
    return { unknown: 'warning', path: [], message: `${variable} is not a configuration variable and is ignored (configuration variables are ${ENV_PREFIX}<SECTION>${ENV_SEPARATOR}<OPTION>)` };
  }
  const guess = closestName(segment, keys);
  const options = `options of ${formatPath(parent)}: ${keys.join(', ')}`;
  const hint = guess === null ? options : `did you mean ${envVariableFor([...parent, guess])}? (${options})`;
  return { unknown: 'issue', path: [...parent, segment.toLowerCase()], message: `is not an option of ${formatPath(parent)}`, hint };
}

const NUMBER = /^[+-]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/** Reads one variable's text as the option's type; text that does not fit is left for the schema to reject. */
export function convertEnvValue(raw: string, node: SchemaNode | null): { ok: true; value: unknown } | { ok: false; expected: string } {
  if (node === null) return { ok: true, value: raw };
  const variants = variantsOf(node);
  const text = raw.trim();
  if (variants.some((v) => v.properties !== undefined)) return parseJson(text, 'object');
  if (variants.some((v) => v.items !== undefined)) {
    const items = childNode(node, 0);
    if (items !== null && variantsOf(items).some((v) => v.properties !== undefined)) return parseJson(text, 'list of objects');
    if (text.startsWith('[')) return parseJson(text, 'list');
    const values = text === '' ? [] : text.split(',').map((part) => convertEnvValue(part.trim(), items));
    const bad = values.find((v) => !v.ok);
    return bad !== undefined ? bad : { ok: true, value: values.map((v) => (v.ok ? v.value : undefined)) };
  }
  const accepts = (type: string): boolean =>
    variants.some((v) => v.type === type || (v.enum ?? (v.const !== undefined ? [v.const] : [])).some((c) => typeof c === type));
  if ((accepts('number') || accepts('integer')) && NUMBER.test(text)) return { ok: true, value: Number(text.replace(/_/g, '')) };
  if (accepts('boolean')) {
    if (TRUE.includes(text.toLowerCase())) return { ok: true, value: true };
    if (FALSE.includes(text.toLowerCase())) return { ok: true, value: false };
  }
  return { ok: true, value: raw };
}

function parseJson(text: string, kind: 'object' | 'list' | 'list of objects'): { ok: true; value: unknown } | { ok: false; expected: string } {
  const expected =
    kind === 'object'
      ? 'must be a JSON object in the environment'
      : kind === 'list'
        ? 'must be a JSON list or comma-separated values in the environment'
        : 'must be a JSON list of objects in the environment';
  try {
    const value: unknown = JSON.parse(text);
    const fits = kind === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value) : Array.isArray(value);
    return fits ? { ok: true, value } : { ok: false, expected };
  } catch {
    return { ok: false, expected };
  }
}

/**
 * Applies overrides to a copy of `base` (the file's content, or `{}`). A secret set from the
 * environment replaces the file's secret file and the other way round (`mqtt.password` from the
 * environment drops `mqtt.passwordFile` of the file): the environment wins as a whole.
 */
export function applyEnvOverrides(base: Readonly<Record<string, unknown>>, overrides: readonly EnvOverride[]): { merged: Record<string, unknown>; issues: ConfigIssue[] } {
  const merged = structuredClone(base) as Record<string, unknown>;
  const issues: ConfigIssue[] = [];
  const setPaths = new Set(overrides.map((o) => formatPath(o.path)));
  for (const o of overrides) {
    const problem = setAt(merged, o.path, o.value);
    if (problem !== null) {
      issues.push(configIssue(formatPath(o.path), redactValue(o.path, o.value), problem, o.variable));
      continue;
    }
    const sibling = secretSibling(o.path);
    if (sibling !== null && !setPaths.has(formatPath(sibling))) deleteAt(merged, sibling);
  }
  return { merged, issues };
}

/** For a secret or its file option: the other one (`mqtt.password` ↔ `mqtt.passwordFile`). */
function secretSibling(path: ConfigPath): ConfigPath | null {
  const node = nodeAt(path);
  const parentPath = path.slice(0, -1);
  const parent = nodeAt(parentPath);
  if (node === null || parent === null) return null;
  if (node.fsPath === 'secret-file' && node.secretFor !== undefined) return [...parentPath, node.secretFor];
  if (node.secret === true) {
    const key = optionKeys(parent).find((k) => childNode(parent, k)?.secretFor === path[path.length - 1]);
    return key === undefined ? null : [...parentPath, key];
  }
  return null;
}

function setAt(root: Record<string, unknown>, path: ConfigPath, value: unknown): string | null {
  let container: Record<string, unknown> | unknown[] = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    const last = i === path.length - 1;
    if (Array.isArray(container)) {
      const index = key as number;
      if (index > container.length) return `cannot be set: the list has ${container.length} entries, so the next new index is ${container.length}`;
    }
    const holder = container as Record<string | number, unknown>;
    if (last) {
      holder[key] = value;
      return null;
    }
    const next = holder[key];
    if (typeof next !== 'object' || next === null) holder[key] = typeof path[i + 1] === 'number' ? [] : {};
    container = holder[key] as Record<string, unknown> | unknown[];
  }
  return null;
}

function deleteAt(root: Record<string, unknown>, path: ConfigPath): void {
  let container: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (typeof container !== 'object' || container === null) return;
    container = (container as Record<string | number, unknown>)[key];
  }
  if (typeof container === 'object' && container !== null) delete (container as Record<string | number, unknown>)[path[path.length - 1]];
}
