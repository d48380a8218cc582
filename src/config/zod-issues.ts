import type { z } from 'zod';
import { configIssue, type ConfigIssue } from './config-error.js';
import { closestName } from './did-you-mean.js';
import { describeExpected, formatPath, nodeAt, optionKeys, variantsAllowing, type ConfigPath } from './schema-introspection.js';
import { isSecretPath, looksSecret, REDACTED, redactValue } from './secrets.js';

/**
 * Turns zod's issues into {@link ConfigIssue}s that name the option, show the value found
 * (redacted where secret) and say what is expected, in words taken from the schema itself
 * (`an integer from 1 to 65535`, `one of "drop", "accept"`), so every option gets the same kind
 * of message without a hand-written one.
 *
 * @param input the configuration as given to the schema (values are looked up in it).
 * @param origins option path (as {@link formatPath} writes it) → environment variable that set it.
 */
export function issuesFromZod(issues: readonly z.core.$ZodIssue[], input: unknown, origins: ReadonlyMap<string, string>): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const seen = new Set<string>();
  const push = (issue: ConfigIssue): void => {
    const key = `${issue.path}\u0000${issue.expected}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(issue);
    }
  };
  for (const issue of issues) {
    const path = issue.path.filter((k): k is string | number => typeof k === 'string' || typeof k === 'number');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) push(unknownKeyIssue(path, key, valueAt(input, [...path, key]), origins));
      continue;
    }
    const value = valueAt(input, path);
    const origin = originOf(path, origins);
    let expected: string;
    if (issue.code === 'custom') {
      expected = issue.message;
    } else {
      const node = nodeAt(path);
      expected = node === null ? issue.message : `must be ${describeExpected(node)}`;
    }
    push(configIssue(formatPath(path), redactValue(path, value), expected, origin));
  }
  return out;
}

function unknownKeyIssue(parentPath: ConfigPath, key: string, value: unknown, origins: ReadonlyMap<string, string>): ConfigIssue {
  const path = [...parentPath, key];
  const parent = nodeAt(parentPath);
  const where = parentPath.length === 0 ? 'the configuration' : formatPath(parentPath);
  const keys = parent === null ? [] : optionKeys(parent);
  const onlyWhen = parent === null ? null : variantsAllowing(parent, key);
  const guess = onlyWhen === null ? closestName(key, keys) : null;
  const secret = looksSecret(key) || (guess !== null && isSecretPath([...parentPath, guess]));
  const shown = value === undefined ? undefined : secret ? REDACTED : redactValue(path, value);
  const origin = originOf(path, origins);
  if (onlyWhen !== null) {
    const discriminator = formatPath([...parentPath, onlyWhen.discriminator]);
    const values = onlyWhen.values.map((v) => JSON.stringify(v)).join(' or ');
    return configIssue(formatPath(path), shown, `is an option only when ${discriminator} is ${values}`, origin);
  }
  const options = `options of ${where}: ${keys.join(', ')}`;
  const hint = guess === null ? options : `did you mean ${formatPath([...parentPath, guess])}? (${options})`;
  return configIssue(formatPath(path), shown, `is not an option of ${where}`, origin, hint);
}

/** The value at `path` inside `root`, or undefined. */
export function valueAt(root: unknown, path: ConfigPath): unknown {
  let v = root;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

/** The environment variable that set `path` or one of its ancestors, if any. */
export function originOf(path: ConfigPath, origins: ReadonlyMap<string, string>): string | undefined {
  for (let n = path.length; n >= 1; n--) {
    const found = origins.get(formatPath(path.slice(0, n)));
    if (found !== undefined) return found;
  }
  return undefined;
}
