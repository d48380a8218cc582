import { z } from 'zod';
import { configSchema } from './config-schema.js';
import { deepFreeze } from './deep-freeze.js';
import type { FsPathKind } from './schema-parts.js';

/**
 * The configuration schema seen as JSON Schema (zod's `toJSONSchema`, input side), with the
 * option metadata of schema-parts.ts. Environment overrides, error messages, redaction, path
 * checks and docs/configuration.md all read the schema through this file, so none of them keeps
 * its own list of options.
 */

/** One node of the JSON Schema, with the fields this project reads. */
export interface SchemaNode {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly items?: SchemaNode;
  readonly oneOf?: readonly SchemaNode[];
  readonly anyOf?: readonly SchemaNode[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly minItems?: number;
  readonly description?: string;
  readonly unit?: string;
  readonly defaultText?: string;
  readonly secret?: boolean;
  readonly fsPath?: FsPathKind;
  readonly secretFor?: string;
}

/** A path into the configuration: keys and list indexes. */
export type ConfigPath = readonly (string | number)[];

/** The whole configuration schema as JSON Schema. Deeply frozen. */
export const CONFIG_JSON_SCHEMA: SchemaNode = deepFreeze(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as SchemaNode) as SchemaNode;

/** The variants of a union node, or the node itself. */
export function variantsOf(node: SchemaNode): readonly SchemaNode[] {
  return node.oneOf ?? node.anyOf ?? [node];
}

/** The option names of an object node (for a union of objects: of every variant), in schema order. */
export function optionKeys(node: SchemaNode): string[] {
  const keys: string[] = [];
  for (const v of variantsOf(node)) for (const k of Object.keys(v.properties ?? {})) if (!keys.includes(k)) keys.push(k);
  return keys;
}

/**
 * The node of `key` under `node`: an object's property (looked up in every union variant, the
 * variants' nodes merged into a union), or a list's items for a numeric key. Null when there is
 * no such option.
 */
export function childNode(node: SchemaNode, key: string | number): SchemaNode | null {
  if (typeof key === 'number') {
    const lists = variantsOf(node).filter((v) => v.items !== undefined);
    return lists.length > 0 ? (lists[0].items ?? null) : null;
  }
  const found = variantsOf(node)
    .map((v) => (v.properties !== undefined && Object.prototype.hasOwnProperty.call(v.properties, key) ? v.properties[key] : undefined))
    .filter((n): n is SchemaNode => n !== undefined);
  if (found.length === 0) return null;
  if (found.length === 1) return found[0];
  // The discriminator of a union: merge its constants into one enum.
  if (found.every((n) => n.const !== undefined)) {
    const description = found.map((n) => n.description ?? '').filter((t) => t !== '').join(' ');
    return { ...found[0], const: undefined, enum: found.map((n) => n.const), description };
  }
  return found[0];
}

/** The node at `path` from the root, or null. */
export function nodeAt(path: ConfigPath, root: SchemaNode = CONFIG_JSON_SCHEMA): SchemaNode | null {
  let node: SchemaNode | null = root;
  for (const key of path) {
    if (node === null) return null;
    node = childNode(node, key);
  }
  return node;
}

/** The variant of a union node that fits `value` (by its discriminating constant), or null. */
export function variantFor(node: SchemaNode, value: unknown): SchemaNode | null {
  if (node.oneOf === undefined && node.anyOf === undefined) return node;
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  for (const v of variantsOf(node)) {
    const consts = Object.entries(v.properties ?? {}).filter(([, p]) => p.const !== undefined);
    if (consts.length > 0 && consts.every(([k, p]) => record[k] === p.const)) return v;
  }
  return null;
}

/**
 * For a key that exists only in some variants of a union: the discriminator's name and the
 * values that allow the key (`partition.index` → `kind` in `["hash"]`). Null otherwise.
 */
export function variantsAllowing(node: SchemaNode, key: string): { discriminator: string; values: unknown[] } | null {
  const variants = variantsOf(node);
  if (variants.length < 2) return null;
  const discriminator = Object.keys(variants[0].properties ?? {}).find((k) => variants.every((v) => v.properties?.[k]?.const !== undefined));
  if (discriminator === undefined) return null;
  const values = variants.filter((v) => v.properties?.[key] !== undefined).map((v) => v.properties?.[discriminator]?.const);
  return values.length > 0 && values.length < variants.length ? { discriminator, values } : null;
}

const SAFE = Number.MAX_SAFE_INTEGER;

/** What a node accepts, in words: `an integer from 1 to 65535`, `one of "drop", "accept"`, `0 or 1`, …. */
export function describeExpected(node: SchemaNode): string {
  const choices = node.enum ?? (node.const !== undefined ? [node.const] : undefined);
  if (choices !== undefined) {
    const shown = choices.map((c) => JSON.stringify(c));
    return shown.length === 1 ? shown[0] : shown.length === 2 ? `${shown[0]} or ${shown[1]}` : `one of ${shown.join(', ')}`;
  }
  if (node.oneOf !== undefined || node.anyOf !== undefined) {
    const parts = variantsOf(node).map(describeExpected);
    return parts.every((p) => p === 'an object') ? 'an object' : parts.join(' or ');
  }
  switch (node.type) {
    case 'integer':
    case 'number': {
      const what = node.type === 'integer' ? 'an integer' : 'a number';
      const lo = node.minimum !== undefined && Math.abs(node.minimum) < SAFE ? node.minimum : undefined;
      const hi = node.maximum !== undefined && Math.abs(node.maximum) < SAFE ? node.maximum : undefined;
      if (lo !== undefined && hi !== undefined) return `${what} from ${lo} to ${hi}`;
      if (lo !== undefined) return `${what} ≥ ${lo}`;
      if (hi !== undefined) return `${what} ≤ ${hi}`;
      return what;
    }
    case 'boolean':
      return 'true or false';
    case 'string':
      return node.minLength !== undefined && node.minLength > 0 ? 'a non-empty string' : 'a string';
    case 'array': {
      const items = node.items;
      const of = items === undefined ? '' : items.type === 'string' ? ' of strings' : variantsOf(items).some((v) => v.properties !== undefined) ? ' of objects' : '';
      const least = node.minItems !== undefined && node.minItems > 0 ? ` (at least ${node.minItems})` : '';
      return `a list${of}${least}`;
    }
    case 'object':
      return 'an object';
    default:
      return 'a value';
  }
}

/** One documented option: its path (list items as `[]`) and node. */
export interface OptionEntry {
  /** e.g. `mqtt.tls.ca`, `subscriptions[].timestamp.format`. */
  readonly path: string;
  readonly node: SchemaNode;
  /** Whether it is an object or list whose own options are listed after it. */
  readonly isSection: boolean;
  /** Whether it must be given (in the union variants that have it). */
  readonly required: boolean;
}

/** Every option in schema order, sections before their options; union variants' options merged. */
export function listOptions(root: SchemaNode = CONFIG_JSON_SCHEMA): OptionEntry[] {
  const out: OptionEntry[] = [];
  const isRequired = (parent: SchemaNode, key: string): boolean => variantsOf(parent).some((v) => v.required?.includes(key) === true);
  const visit = (node: SchemaNode, path: string, required: boolean): void => {
    const objectLike = variantsOf(node).some((v) => v.properties !== undefined);
    const items = node.items;
    const listOfObjects = items !== undefined && variantsOf(items).some((v) => v.properties !== undefined);
    if (path !== '') out.push({ path, node, isSection: objectLike || listOfObjects, required });
    if (objectLike) for (const key of optionKeys(node)) visit(childNode(node, key) ?? {}, path === '' ? key : `${path}.${key}`, isRequired(node, key));
    else if (items !== undefined && listOfObjects) {
      for (const key of optionKeys(items)) visit(childNode(items, key) ?? {}, `${path}[].${key}`, isRequired(items, key));
    }
  };
  visit(root, '', true);
  return out;
}

/**
 * Calls `fn` for every value of `value` that sits at an option with metadata, walking the value
 * and the schema together (list items and the matching union variant included).
 */
export function visitOptions(value: unknown, fn: (path: ConfigPath, node: SchemaNode, value: unknown) => void, root: SchemaNode = CONFIG_JSON_SCHEMA): void {
  const walk = (v: unknown, node: SchemaNode, path: (string | number)[]): void => {
    fn(path, node, v);
    if (Array.isArray(v)) {
      const items = childNode(node, 0);
      if (items !== null) v.forEach((item, i) => walk(item, items, [...path, i]));
    } else if (typeof v === 'object' && v !== null) {
      const variant = variantFor(node, v) ?? node;
      for (const [key, child] of Object.entries(v)) {
        const childSchema = childNode(variant, key);
        if (childSchema !== null) walk(child, childSchema, [...path, key]);
      }
    }
  };
  walk(value, root, []);
}

/** `subscriptions[0].topic` from `['subscriptions', 0, 'topic']`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? key : `.${key}`;
  return out;
}
