import { readFileSync, statSync } from 'node:fs';
import { REDACTED_TEXT } from './config-error.js';
import { redactUrl } from './network-address.js';
import { CONFIG_JSON_SCHEMA, childNode, nodeAt, variantFor, type ConfigPath, type SchemaNode } from './schema-introspection.js';

/**
 * Secrets: options the schema marks `secret` (mqtt.password, influx.token), the files they can be
 * read from, and redaction. Secrets never reach an error message, a warning or a log line: every
 * value shown goes through {@link redactValue} or {@link redactConfig}.
 */

/** What replaces a secret in anything printed. */
export const REDACTED = REDACTED_TEXT;
/** Largest secret file read; a larger one is surely the wrong file. */
export const MAX_SECRET_FILE_BYTES = 65_536;

/** Whether the option at `path` holds a secret. */
export function isSecretPath(path: ConfigPath): boolean {
  return nodeAt(path)?.secret === true;
}

/**
 * Whether an option name that is not in the schema looks like it could hold a secret (a
 * misspelt `pasword:`): its value is then not shown either.
 */
export function looksSecret(name: string): boolean {
  return /pas+w|pwd|secret|token|tok[ea]?n|cred|auth|key/i.test(name);
}

/**
 * A value as it may be shown: `[redacted]` at a secret option (unless absent), any URL password
 * inside a string replaced; everything else as is.
 */
export function redactValue(path: ConfigPath, value: unknown): unknown {
  if (value === undefined) return undefined;
  if (isSecretPath(path)) return REDACTED;
  return redactDeep(value, nodeAt(path));
}

/**
 * A copy of `config` (a whole configuration, loaded or as written) that is safe to log: every
 * secret option that is set becomes `[redacted]`, and passwords inside URLs too. The input is
 * not modified.
 */
export function redactConfig<T>(config: T): T {
  return redactDeep(config, CONFIG_JSON_SCHEMA) as T;
}

function redactDeep(value: unknown, node: SchemaNode | null): unknown {
  if (node?.secret === true && value !== undefined) return REDACTED;
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) {
    const items = node === null ? null : childNode(node, 0);
    return value.map((v) => redactDeep(v, items));
  }
  if (typeof value === 'object' && value !== null) {
    const variant = node === null ? null : (variantFor(node, value) ?? node);
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const childSchema = variant === null ? null : childNode(variant, key);
      out[key] = childSchema === null && looksSecret(key) && variant !== null ? REDACTED : redactDeep(child, childSchema);
    }
    return out;
  }
  return value;
}

/**
 * Reads a secret from a file: UTF-8, surrounding white space trimmed (the trailing newline of
 * `echo secret > file`). The problem, when there is one, says what is wrong with the file (the
 * caller names the option and the path) and never quotes its content.
 */
export function readSecretFile(file: string): { ok: true; secret: string } | { ok: false; problem: string } {
  try {
    const s = statSync(file);
    if (!s.isFile()) return { ok: false, problem: 'must name a regular file (this is not one)' };
    if (s.size > MAX_SECRET_FILE_BYTES) return { ok: false, problem: `must name a file of at most ${MAX_SECRET_FILE_BYTES} bytes (this one has ${s.size})` };
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length === 0) return { ok: false, problem: 'must name a file holding the secret (this one is empty)' };
    return { ok: true, secret };
  } catch (e) {
    return { ok: false, problem: `must name a readable file (${errorCode(e)})` };
  }
}

/** The errno code of a file-system error (`ENOENT`, `EACCES`, …): never the error text, which could quote content. */
export function errorCode(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? describeCode(code) : 'unknown error';
}

function describeCode(code: string): string {
  const known: Record<string, string> = {
    ENOENT: 'ENOENT: no such file or directory',
    EACCES: 'EACCES: permission denied',
    EISDIR: 'EISDIR: is a directory',
    ENOTDIR: 'ENOTDIR: a parent is not a directory',
    ELOOP: 'ELOOP: too many symbolic links',
  };
  return known[code] ?? code;
}
