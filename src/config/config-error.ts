/**
 * Configuration problems as data (zod's habit): where, the value found, what was expected; and
 * a formatter for humans. Values of secret options arrive here already replaced by
 * `[redacted]` (see secrets.ts): nothing in this file ever sees a secret.
 */

/** One problem with one option. */
export interface ConfigIssue {
  /** The option, e.g. `mqtt.url` or `subscriptions[0].topic`; `''` for the file as a whole. */
  readonly path: string;
  /** The value found there (`[redacted]` for secrets); undefined when the option is missing. */
  readonly value: unknown;
  /** What the option must be, as the end of a sentence about it: `must be 0 or 1`. */
  readonly expected: string;
  /** The whole problem in one line: option, expected, value found, and where it came from. */
  readonly message: string;
  /** The environment variable the value came from, when it came from one. */
  readonly origin?: string;
  /** A suggestion, e.g. `did you mean mqtt.url?`. */
  readonly hint?: string;
}

/** Something that works but is probably not what was meant, or weakens a guarantee. */
export interface ConfigWarning {
  /** The option concerned, as in {@link ConfigIssue.path}. */
  readonly path: string;
  readonly message: string;
}

/** Builds a {@link ConfigIssue} and its message. */
export function configIssue(path: string, value: unknown, expected: string, origin?: string, hint?: string): ConfigIssue {
  const subject = path === '' ? 'the configuration' : path;
  const from = origin === undefined ? '' : ` (from ${origin})`;
  const tail = hint === undefined ? '' : `; ${hint}`;
  const message = value === undefined ? `${subject} is missing${from}: it ${expected}${tail}` : `${subject} ${expected}, got ${formatConfigValue(value)}${from}${tail}`;
  return { path, value, expected, message, ...(origin === undefined ? {} : { origin }), ...(hint === undefined ? {} : { hint }) };
}

/** A value as shown in messages: strings quoted, `[redacted]` bare, long values cut at 120 characters. */
export function formatConfigValue(value: unknown): string {
  if (value === REDACTED_TEXT) return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** The text that replaces secrets. */
export const REDACTED_TEXT = '[redacted]';

/**
 * All issues as one text for a terminal or a log line:
 * `invalid configuration (<source>): 2 problems\n  - mqtt.qos must be 0 or 1, got 2\n  - …`.
 */
export function formatConfigIssues(issues: readonly ConfigIssue[], source: string | null = null): string {
  const where = source === null ? '' : ` (${source})`;
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return [`invalid configuration${where}: ${count}`, ...issues.map((i) => `  - ${i.message}`)].join('\n');
}

/** A configuration that cannot be used. `issues` holds every problem found. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly issues: readonly ConfigIssue[],
    /** The configuration file, or null when there was none. */
    readonly source: string | null,
  ) {
    super(formatConfigIssues(issues, source));
  }
}
