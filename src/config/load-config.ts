import { readFileSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError, configIssue, type ConfigIssue, type ConfigWarning } from './config-error.js';
import { configSchema } from './config-schema.js';
import { configWarnings } from './config-warnings.js';
import { applyEnvOverrides, readEnvOverrides } from './env-overrides.js';
import { resolveConfig, type Config } from './resolve-config.js';
import { formatPath, variantsOf, visitOptions, type ConfigPath } from './schema-introspection.js';
import { errorCode } from './secrets.js';
import { issuesFromZod } from './zod-issues.js';

/** Largest configuration file read. */
export const MAX_CONFIG_FILE_BYTES = 1_048_576;

/** The process's environment, or a stand-in for tests. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** What loading needs from the machine besides the file and the environment. */
export interface LoadConfigOptions {
  /** Relative paths not from the file (defaults, environment) resolve against this. Default: `process.cwd()`. */
  readonly cwd?: string;
  /** The host name (default client id, `partition.index: hostname-ordinal`). Default: `os.hostname()`. */
  readonly hostname?: string;
}

/** A loaded configuration, or every problem found. Warnings come either way. */
export type LoadConfigResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: readonly ConfigWarning[] }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[]; readonly warnings: readonly ConfigWarning[]; readonly source: string | null };

/**
 * Loads the configuration of `convwatch run`: defaults < file (YAML or JSON) < environment
 * (`CONVWATCH_…`, see env-overrides.ts). Validates every option, checks the files and
 * directories it names, reads secret files, and resolves relative paths (those from the file
 * against the file's directory, all others against `options.cwd`). Never touches the network.
 *
 * @param path the configuration file, or null for defaults and environment only.
 * @returns the configuration and the warnings to log.
 * @throws ConfigError listing every problem, each naming the option, the value (secrets
 *   redacted) and what is expected.
 */
export function loadConfig(path: string | null, env: Environment = process.env, options: LoadConfigOptions = {}): { config: Config; warnings: readonly ConfigWarning[] } {
  const r = tryLoadConfig(path, env, options);
  if (!r.ok) throw new ConfigError(r.issues, r.source);
  return { config: r.config, warnings: r.warnings };
}

/** {@link loadConfig} with the problems returned as data instead of thrown. Never throws for a bad configuration. */
export function tryLoadConfig(path: string | null, env: Environment = process.env, options: LoadConfigOptions = {}): LoadConfigResult {
  if (path === null) return parseConfig({}, env, options);
  const cwd = options.cwd ?? process.cwd();
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  const read = readConfigFile(file);
  if (!read.ok) return { ok: false, issues: [read.issue], warnings: [], source: path };
  const r = finish(read.value, dirname(file), env, cwd, options);
  return r.ok ? r : { ...r, source: path };
}

/**
 * Validates an in-memory configuration (as a file would hold it) with the same rules, the
 * environment overrides of `env` (none by default) and the same file checks; relative paths
 * resolve against `options.cwd`. For tests and for callers that build a configuration.
 */
export function parseConfig(input: unknown, env: Environment = {}, options: LoadConfigOptions = {}): LoadConfigResult {
  const cwd = options.cwd ?? process.cwd();
  return finish(input, cwd, env, cwd, options);
}

function finish(input: unknown, baseDir: string, env: Environment, cwd: string, options: LoadConfigOptions): LoadConfigResult {
  if (input === null || input === undefined) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, issues: [configIssue('', input, 'must be a mapping of sections (mqtt, subscriptions, models, …)')], warnings: [], source: null };
  }
  const fromFile = withAbsolutePaths(input as Record<string, unknown>, baseDir);
  const fromEnv = readEnvOverrides(env);
  const applied = applyEnvOverrides(fromFile, fromEnv.overrides);
  const origins = new Map(fromEnv.overrides.map((o) => [formatPath(o.path), o.variable] as const));
  const issues = [...fromEnv.issues, ...applied.issues];
  const parsed = configSchema.safeParse(applied.merged);
  if (!parsed.success) issues.push(...issuesFromZod(parsed.error.issues, applied.merged, origins));
  if (!parsed.success || issues.length > 0) return { ok: false, issues, warnings: fromEnv.warnings, source: null };
  const resolved = resolveConfig(parsed.data, { cwd, hostname: options.hostname ?? osHostname(), origins });
  if (!resolved.ok) return { ok: false, issues: resolved.issues, warnings: fromEnv.warnings, source: null };
  return { ok: true, config: resolved.config, warnings: [...fromEnv.warnings, ...configWarnings(resolved.config, applied.merged)] };
}

/**
 * A copy of the file's content with every relative path option resolved against `baseDir`, and
 * empty sections (`tls:` with every option commented out, which YAML reads as null) dropped so
 * that their defaults apply.
 */
function withAbsolutePaths(input: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const out = structuredClone(input);
  const found: { path: ConfigPath; value: string | undefined }[] = [];
  visitOptions(out, (path, node, value) => {
    if (node.fsPath !== undefined && typeof value === 'string' && value !== '' && !isAbsolute(value)) found.push({ path, value: resolve(baseDir, value) });
    if (value === null && path.length > 0 && variantsOf(node).some((v) => v.properties !== undefined)) found.push({ path, value: undefined });
  });
  for (const { path, value } of found) {
    let container = out as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) container = container[key] as Record<string | number, unknown>;
    if (value === undefined) delete container[path[path.length - 1]];
    else container[path[path.length - 1]] = value;
  }
  return out;
}

/** Reads and parses a configuration file (YAML 1.2, which includes JSON). */
function readConfigFile(file: string): { ok: true; value: unknown } | { ok: false; issue: ConfigIssue } {
  const bad = (expected: string): { ok: false; issue: ConfigIssue } => ({ ok: false, issue: configIssue('', file, expected) });
  let text: string;
  try {
    const s = statSync(file);
    if (!s.isFile()) return bad('must be a regular file');
    if (s.size > MAX_CONFIG_FILE_BYTES) return bad(`must be a file of at most ${MAX_CONFIG_FILE_BYTES} bytes (this one has ${s.size})`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return bad(`must be a readable file (${errorCode(e)})`);
  }
  try {
    // prettyErrors off: the pretty form quotes the offending line, which may hold a secret.
    return { ok: true, value: parseYaml(text, { prettyErrors: false, uniqueKeys: true }) };
  } catch (e) {
    if (!(e instanceof YAMLParseError)) throw e;
    const at = lineAndColumn(text, e.pos[0]);
    return bad(`must be valid YAML or JSON: ${e.message.replace(/\s+/g, ' ')} at line ${at.line}, column ${at.column}`);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
