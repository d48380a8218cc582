/**
 * Topic templates: MQTT topic names with `{name}` placeholders, e.g.
 * `plant/{site}/{device}/telemetry` or `sensors/dev-{device}/{channel}`.
 *
 * - A placeholder stands for one whole topic level or the middle of one (`dev-{device}`), never
 *   more than one level: values never contain `/`. At most one placeholder per level, each name
 *   at most once, names are identifiers (`[A-Za-z_][A-Za-z0-9_]*`), and a value is never empty.
 * - `+` and `#` are not allowed (the filter is derived: every level with a placeholder becomes
 *   `+`), and neither are `{`/`}` outside a placeholder or the NUL character.
 * - Subscription templates need `{device}`; `{channel}` is optional (one value per topic); every
 *   other placeholder becomes a tag of the device's points.
 */

/** Name of the placeholder that carries the device id. */
export const DEVICE_PLACEHOLDER = 'device';
/** Name of the placeholder that carries the channel name of a per-channel topic. */
export const CHANNEL_PLACEHOLDER = 'channel';
/** Placeholder names a subscription template may not use: they name fields of the points. */
export const RESERVED_TAG_NAMES: readonly string[] = Object.freeze(['model', 'kind', 'reason']);
/** Longest topic in UTF-8 bytes that MQTT allows. */
export const MAX_TOPIC_BYTES = 65_535;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One level of a template: a literal, or `prefix{name}suffix`. */
export interface TemplateLevel {
  /** The placeholder's name, or null for a literal level (then `prefix` is the whole level). */
  readonly name: string | null;
  readonly prefix: string;
  readonly suffix: string;
}

/** A template split into levels, syntax checked. */
export interface ParsedTopicTemplate {
  readonly template: string;
  readonly levels: readonly TemplateLevel[];
  /** Placeholder names in the order they appear. */
  readonly names: readonly string[];
}

/** A template that cannot be used. `problem` reads as the end of "topic template … ". */
export class TopicTemplateError extends Error {
  override readonly name = 'TopicTemplateError';

  constructor(
    readonly template: string,
    /** What is wrong, e.g. `must contain the {device} placeholder`. */
    readonly problem: string,
  ) {
    super(`topic template ${JSON.stringify(template)} ${problem}`);
  }
}

/**
 * Splits a template into levels and checks its syntax (not which names it uses).
 * @throws TopicTemplateError for an empty template, `+`/`#`, NUL, a stray or unclosed brace, a
 *   placeholder name that is not an identifier, two placeholders in one level, a repeated name,
 *   or more than {@link MAX_TOPIC_BYTES} bytes.
 */
export function parseTopicTemplate(template: string): ParsedTopicTemplate {
  const fail = (problem: string): never => {
    throw new TopicTemplateError(template, problem);
  };
  if (template.length === 0) fail('must not be empty');
  if (Buffer.byteLength(template, 'utf8') > MAX_TOPIC_BYTES) fail(`must be at most ${MAX_TOPIC_BYTES} bytes long`);
  if (template.includes('\u0000')) fail('must not contain the NUL character');
  if (template.includes('+') || template.includes('#')) {
    fail('must not contain the MQTT wildcards + or # (placeholders become + in the subscription filter)');
  }
  const names: string[] = [];
  const levels = template.split('/').map((level): TemplateLevel => {
    const open = level.indexOf('{');
    const close = level.indexOf('}');
    if (open < 0) {
      if (close >= 0) fail(`has a "}" without "{" in level ${JSON.stringify(level)}`);
      return { name: null, prefix: level, suffix: '' };
    }
    if (close < 0) fail(`has an unclosed "{" in level ${JSON.stringify(level)}`);
    if (close < open) fail(`has a "}" without "{" in level ${JSON.stringify(level)}`);
    const name = level.slice(open + 1, close);
    const suffix = level.slice(close + 1);
    if (name.includes('{')) fail(`has a "{" inside a placeholder in level ${JSON.stringify(level)}`);
    if (suffix.includes('{') || suffix.includes('}')) fail(`has more than one placeholder (or a stray brace) in level ${JSON.stringify(level)}; a level holds at most one`);
    if (!NAME.test(name)) fail(`has a placeholder {${name}} whose name is not an identifier (letters, digits, _; not starting with a digit)`);
    if (names.includes(name)) fail(`uses the placeholder {${name}} twice`);
    names.push(name);
    return { name, prefix: level.slice(0, open), suffix };
  });
  return { template, levels, names };
}

/**
 * The MQTT subscription filter of a parsed template: each level with a placeholder becomes `+`.
 * `sensors/dev-{device}/{channel}` → `sensors/+/+`.
 */
export function topicFilterOf(parsed: ParsedTopicTemplate): string {
  return parsed.levels.map((l) => (l.name === null ? l.prefix : '+')).join('/');
}

/** What a subscription template found in a topic. Same shape as `TopicMatch` of src/stream/types.ts. */
export interface TopicTemplateMatch {
  readonly device: string;
  /** Present only when the template has `{channel}`. */
  readonly channel?: string;
  /** Every placeholder other than device and channel. */
  readonly tags: Readonly<Record<string, string>>;
}

/** A compiled subscription template. Immutable; share it freely. */
export interface CompiledTopicTemplate {
  readonly template: string;
  /** The MQTT filter to subscribe to (without any `$share/…` prefix). */
  readonly filter: string;
  /** All placeholder names, in order. */
  readonly names: readonly string[];
  /** Placeholder names that become tags (all but device and channel), in order. */
  readonly tagNames: readonly string[];
  /** Whether the template has `{channel}` (one value per topic). */
  readonly hasChannel: boolean;
  /**
   * The device, channel and tags of `topic`, or null when the topic does not fit the template
   * (level count, a literal part, or an empty value). Agrees with MQTT filter semantics: a topic
   * that starts with `$` never matches a template whose first level has a placeholder.
   */
  match(topic: string): TopicTemplateMatch | null;
}

/**
 * Compiles a subscription template: it must have `{device}`; `{channel}` is optional; other
 * placeholders become tags and may not be one of {@link RESERVED_TAG_NAMES}.
 * @throws TopicTemplateError naming the template and the problem.
 */
export function compileTopicTemplate(template: string): CompiledTopicTemplate {
  const parsed = parseTopicTemplate(template);
  if (!parsed.names.includes(DEVICE_PLACEHOLDER)) throw new TopicTemplateError(template, 'must contain the {device} placeholder');
  const reserved = parsed.names.find((n) => RESERVED_TAG_NAMES.includes(n));
  if (reserved !== undefined) {
    throw new TopicTemplateError(template, `uses {${reserved}}, a reserved name (${RESERVED_TAG_NAMES.join(', ')} name fields of the output); rename the placeholder`);
  }
  const levels = parsed.levels;
  const tagNames = parsed.names.filter((n) => n !== DEVICE_PLACEHOLDER && n !== CHANNEL_PLACEHOLDER);
  const hasChannel = parsed.names.includes(CHANNEL_PLACEHOLDER);
  const firstIsWildcard = levels[0].name !== null;
  const match = (topic: string): TopicTemplateMatch | null => {
    if (firstIsWildcard && topic.startsWith('$')) return null;
    const parts = topic.split('/');
    if (parts.length !== levels.length) return null;
    let device = '';
    let channel: string | undefined;
    const tags: Record<string, string> = {};
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i];
      const part = parts[i];
      if (level.name === null) {
        if (part !== level.prefix) return null;
        continue;
      }
      if (part.length <= level.prefix.length + level.suffix.length || !part.startsWith(level.prefix) || !part.endsWith(level.suffix)) return null;
      const value = part.slice(level.prefix.length, part.length - level.suffix.length);
      if (level.name === DEVICE_PLACEHOLDER) device = value;
      else if (level.name === CHANNEL_PLACEHOLDER) channel = value;
      else tags[level.name] = value;
    }
    return channel === undefined ? { device, tags } : { device, channel, tags };
  };
  return { template, filter: topicFilterOf(parsed), names: parsed.names, tagNames, hasChannel, match };
}

/** A compiled output template (alerts, dead letters). */
export interface TopicRenderer {
  readonly template: string;
  readonly names: readonly string[];
  /**
   * The topic with every placeholder replaced by its value.
   * @throws TopicTemplateError when a value is missing, empty, or contains `/`, `+`, `#` or NUL.
   */
  render(values: Readonly<Record<string, string>>): string;
}

/**
 * Compiles a template for publishing: only the names in `allowed` may appear.
 * @throws TopicTemplateError for bad syntax or a name not in `allowed`.
 */
export function compileTopicRenderer(template: string, allowed: readonly string[]): TopicRenderer {
  const parsed = parseTopicTemplate(template);
  const stranger = parsed.names.find((n) => !allowed.includes(n));
  if (stranger !== undefined) {
    throw new TopicTemplateError(template, `uses {${stranger}}; the placeholders allowed here are ${allowed.map((n) => `{${n}}`).join(', ')}`);
  }
  const render = (values: Readonly<Record<string, string>>): string =>
    parsed.levels
      .map((level) => {
        if (level.name === null) return level.prefix;
        const value = Object.prototype.hasOwnProperty.call(values, level.name) ? values[level.name] : undefined;
        if (value === undefined || value.length === 0 || /[/+#\u0000]/.test(value)) {
          throw new TopicTemplateError(template, `cannot take ${value === undefined ? 'no value' : JSON.stringify(value)} for {${level.name}} (a non-empty string without /, +, # or NUL)`);
        }
        return level.prefix + value + level.suffix;
      })
      .join('/');
  return { template, names: parsed.names, render };
}

/**
 * Whether some topic matches both MQTT filters (`+` one level, `#` the rest, including none).
 * Used to warn about subscriptions that overlap (a broker may deliver such a message twice).
 */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; ; i++) {
    if (i < x.length && x[i] === '#') return true;
    if (i < y.length && y[i] === '#') return true;
    if (i >= x.length || i >= y.length) return x.length === y.length;
    if (x[i] !== '+' && y[i] !== '+' && x[i] !== y[i]) return false;
  }
}

/**
 * Checks an MQTT topic filter: non-empty, `#` only as the whole last level, `+` only as a whole
 * level, no NUL. Returns what is wrong, or null.
 */
export function topicFilterProblem(filter: string): string | null {
  if (filter.length === 0) return 'must not be empty';
  if (filter.includes('\u0000')) return 'must not contain the NUL character';
  if (Buffer.byteLength(filter, 'utf8') > MAX_TOPIC_BYTES) return `must be at most ${MAX_TOPIC_BYTES} bytes long`;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return 'may use # only as the whole last level';
    if (level.includes('+') && level !== '+') return 'may use + only as a whole level';
  }
  return null;
}
