import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { configIssue, type ConfigIssue } from './config-error.js';
import { deepFreeze, type DeepReadonly } from './deep-freeze.js';
import type { ParsedConfig } from './config-schema.js';
import { defaultClientId, hostnameOrdinal } from './partition.js';
import type { FsPathKind } from './schema-parts.js';
import { formatPath, visitOptions, type ConfigPath } from './schema-introspection.js';
import { errorCode, readSecretFile } from './secrets.js';
import { HOSTNAME_ORDINAL } from './service-schema.js';
import { originOf } from './zod-issues.js';

type Parsed = ParsedConfig;

/** The `partition` section with a hash index resolved to a number. */
export type PartitionOptions = Exclude<Parsed['partition'], { kind: 'hash' }> | (Omit<Extract<Parsed['partition'], { kind: 'hash' }>, 'index'> & { index: number });

/**
 * The configuration of `convwatch run`, ready to use: validated, defaults applied, every path
 * absolute and checked, secrets read from their files (into `mqtt.password` / `influx.token`),
 * `mqtt.clientId` and `partition.index` resolved. Deeply frozen. Log it only through
 * `redactConfig()`.
 */
export type Config = DeepReadonly<
  Omit<Parsed, 'mqtt' | 'partition'> & {
    mqtt: Omit<Parsed['mqtt'], 'clientId'> & { clientId: string };
    partition: PartitionOptions;
  }
>;

/** What resolving needs from the machine. */
export interface ResolveContext {
  /** Relative paths that did not come from the file (defaults, environment) resolve against this. */
  readonly cwd: string;
  /** The host name, for the default client id and `partition.index: hostname-ordinal`. */
  readonly hostname: string;
  /** Option path → environment variable that set it (for error messages). */
  readonly origins: ReadonlyMap<string, string>;
}

/**
 * Finishes a parsed configuration on this machine: file-system checks and secret files, host
 * name defaults. Touches no network.
 */
export function resolveConfig(parsed: ParsedConfig, context: ResolveContext): { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] } {
  const config = structuredClone(parsed);
  const issues: ConfigIssue[] = [];
  const fail = (path: ConfigPath, value: unknown, expected: string): void => {
    issues.push(configIssue(formatPath(path), value, expected, originOf(path, context.origins)));
  };
  const secrets: { path: ConfigPath; value: string }[] = [];
  const paths: { path: ConfigPath; value: string }[] = [];
  visitOptions(config, (path, node, value) => {
    if (node.fsPath === undefined || typeof value !== 'string') return;
    const absolute = isAbsolute(value) ? value : resolve(context.cwd, value);
    paths.push({ path, value: absolute });
    const problem = fileProblem(node.fsPath, absolute);
    if (problem !== null) {
      fail(path, absolute, problem);
      return;
    }
    if (node.fsPath === 'secret-file' && node.secretFor !== undefined) {
      const read = readSecretFile(absolute);
      if (read.ok) secrets.push({ path: [...path.slice(0, -1), node.secretFor], value: read.secret });
      else fail(path, absolute, read.problem);
    }
  });
  for (const p of [...paths, ...secrets]) setAt(config, p.path, p.value);

  const clientId = config.mqtt.clientId ?? defaultClientId(context.hostname, config.instanceId);
  let partition: PartitionOptions;
  if (config.partition.kind === 'hash') {
    const { index: given, ...rest } = config.partition;
    let index = typeof given === 'number' ? given : (hostnameOrdinal(context.hostname) ?? -1);
    if (given === HOSTNAME_ORDINAL && index < 0) {
      fail(['partition', 'index'], given, `needs a host name ending in -<number> (a StatefulSet pod name); the host name ${JSON.stringify(context.hostname)} has none`);
      index = 0;
    } else if (index >= rest.count) {
      fail(['partition', 'index'], given, `must be less than partition.count (${rest.count}); the host name ${JSON.stringify(context.hostname)} gives ${index}`);
    }
    partition = { ...rest, index };
  } else {
    partition = config.partition;
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, config: deepFreeze({ ...config, mqtt: { ...config.mqtt, clientId }, partition }) };
}

/** What is wrong with the path of an option of the given kind (see `FsPathKind`), or null. */
function fileProblem(kind: FsPathKind, path: string): string | null {
  let stats: ReturnType<typeof statSync> | undefined;
  try {
    stats = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && (kind === 'output-dir' || kind === 'output-file')) return null;
    const what = kind === 'input-dir' ? 'an existing directory' : kind === 'output-dir' ? 'a directory' : kind === 'output-file' ? 'a file' : 'an existing, readable file';
    return `must name ${what} (${errorCode(e)})`;
  }
  switch (kind) {
    case 'input-dir':
      return stats.isDirectory() ? null : 'must name an existing directory (this is not a directory)';
    case 'output-dir':
      return stats.isDirectory() ? null : 'must name a directory, created when missing (this exists and is not a directory)';
    case 'output-file':
      return stats.isFile() ? null : 'must name a file, created when missing (this exists and is not a regular file)';
    default:
      if (!stats.isFile()) return 'must name a regular file (this is not one)';
      try {
        accessSync(path, constants.R_OK);
        return null;
      } catch (e) {
        return `must name a readable file (${errorCode(e)})`;
      }
  }
}

function setAt(root: object, path: ConfigPath, value: unknown): void {
  let container = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) container = container[key] as Record<string | number, unknown>;
  container[path[path.length - 1]] = value;
}
